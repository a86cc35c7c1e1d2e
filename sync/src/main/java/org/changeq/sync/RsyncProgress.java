package org.changeq.sync;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Hears what one rsync pass reports while it runs: the lines of {@code --info=progress2} and the {@code
 * --itemize-changes} lines. rsync 3.2.7 rewrites its progress line with carriage returns, a few times a second while a
 * file is sent and once per file checked, and ends it with a newline when a file is done:
 * <pre>
 *       2,129,920  23%    1.98MB/s    0:00:03
 *       3,000,000  33%    2.10MB/s    0:00:01 (xfr#1, to-chk=53/55)
 *               0   0%    0.00kB/s    0:00:00 (xfr#0, ir-chk=1000/1201)
 * </pre>
 * the bytes sent so far by the pass, then (after each file) how many files it sent and how many of the paths it knows
 * it has still to check: {@code ir-chk} while the file list is still being built (incremental recursion), {@code
 * to-chk} once it is complete. It prints nothing before it has a first file to check: then it is building the file
 * list. The itemized line of a file comes before its transfer.
 *
 * <p>Called on the {@code changeq-rsync-stdout} thread of the pass.
 */
interface RsyncProgress {

    /** Hears nothing. */
    RsyncProgress NONE = new RsyncProgress() {
        @Override
        public void reported(Figures figures) {
        }

        @Override
        public void itemized(byte[] line) {
        }
    };

    /** One progress line: bytes sent; the files sent and the paths still to check, when the line tells them. */
    record Figures(long bytes, long files, long toCheck, long known, boolean listComplete) {
        static final long UNKNOWN = -1;

        private static final Pattern LINE = Pattern.compile("^\\s*([\\d,]+)\\s+\\d+%\\s+\\S+/s\\s+\\S+"
                + "(?:\\s+\\(xfr#(\\d+), (ir|to)-chk=(\\d+)/(\\d+)\\))?\\s*$");

        /** The figures of a progress line of rsync's stdout; empty for any other line. */
        static Optional<Figures> parse(String line) {
            Matcher matcher = LINE.matcher(line);
            if (!matcher.matches()) {
                return Optional.empty();
            }
            long bytes = Long.parseLong(matcher.group(1).replace(",", ""));
            if (matcher.group(2) == null) {
                return Optional.of(new Figures(bytes, Figures.UNKNOWN, Figures.UNKNOWN, Figures.UNKNOWN, false));
            }
            return Optional.of(new Figures(bytes, Long.parseLong(matcher.group(2)), Long.parseLong(matcher.group(4)),
                    Long.parseLong(matcher.group(5)), matcher.group(3).equals("to")));
        }

        boolean countsFiles() {
            return files != UNKNOWN;
        }
    }

    void reported(Figures figures);

    /** An {@code --itemize-changes} line, raw: {@code %i %n}, eleven letters, a space, the name as rsync escapes it. */
    void itemized(byte[] line);
}
