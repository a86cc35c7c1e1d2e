package org.changeq.pipeline.state;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The files a route's runs overwrote, deleted or renamed away at its destination without explicit consent, kept in
 * {@code <state>/changes/ROUTE.ledger} so that the route's {@code max-change} bounds them over its
 * {@code max-change-window}, not per run: a follower that sends a mass rewrite in many small runs meets the same limit
 * as one run would. The one codec of that file. Immutable.
 *
 * <p>Format, version 1: the line {@code changeq-changes 1}, then one line {@code MILLIS OVERWRITTEN DELETED RENAMED}
 * per run that changed files, oldest first. A run writes its line (with fsync) before rsync may change anything, with
 * the counts of its dry run, so that a crash between the changes and the cursor's commit still counts them.
 *
 * @param runs the changing runs still inside the window, oldest first
 */
public record ChangeLedger(List<Run> runs) {

    public static final ChangeLedger EMPTY = new ChangeLedger(List.of());
    static final int FORMAT_VERSION = 1;
    private static final String MAGIC = "changeq-changes";

    public ChangeLedger {
        runs = List.copyOf(runs);
    }

    /** What one run changed (or was about to) at {@code millis}, by kind. */
    public record Run(long millis, long overwritten, long deleted, long renamed) {
        public Run {
            if (overwritten < 0 || deleted < 0 || renamed < 0) {
                throw new IllegalArgumentException("a run changes 0 or more paths of each kind, got " + overwritten + " "
                        + deleted + " " + renamed);
            }
        }

        long total() {
            return overwritten + deleted + renamed;
        }
    }

    /** The runs of the last {@code window} before {@code nowMillis}; older ones no longer count. */
    public ChangeLedger within(Duration window, long nowMillis) {
        long since = nowMillis - window.toMillis();
        return new ChangeLedger(runs.stream().filter(run -> run.millis() > since).toList());
    }

    /** The paths changed by the runs in this ledger. */
    public long total() {
        return runs.stream().mapToLong(Run::total).sum();
    }

    /** The paths deleted or renamed away by the runs in this ledger: the destination held them before. */
    public long removed() {
        return runs.stream().mapToLong(run -> run.deleted() + run.renamed()).sum();
    }

    /** This ledger with one more run. */
    public ChangeLedger plus(Run run) {
        List<Run> more = new ArrayList<>(runs);
        more.add(run);
        return new ChangeLedger(more);
    }

    /** The stored ledger; {@link #EMPTY} when the file does not exist. */
    public static ChangeLedger read(Path file) throws IOException {
        try {
            return decode(StateDirectory.read(file), file);
        } catch (NoSuchFileException e) {
            return EMPTY;
        }
    }

    /** Replaces the stored ledger atomically and durably. */
    public void write(Path file) throws IOException {
        StateDirectory.replace(file, encode(), true);
    }

    byte[] encode() {
        StringBuilder text = new StringBuilder(MAGIC + " " + FORMAT_VERSION + "\n");
        for (Run run : runs) {
            text.append(run.millis()).append(' ').append(run.overwritten()).append(' ').append(run.deleted()).append(' ')
                    .append(run.renamed()).append('\n');
        }
        return text.toString().getBytes(StandardCharsets.US_ASCII);
    }

    static ChangeLedger decode(byte[] bytes, Path source) {
        List<String> lines = new String(bytes, StandardCharsets.US_ASCII).lines().toList();
        if (lines.isEmpty() || !lines.get(0).startsWith(MAGIC + " ")) {
            throw malformed(source, "not a changeq change ledger (first line '" + (lines.isEmpty() ? "" : lines.get(0)) + "')");
        }
        if (!lines.get(0).equals(MAGIC + " " + FORMAT_VERSION)) {
            throw new IllegalStateException(source + " has change ledger format " + lines.get(0).substring(MAGIC.length() + 1)
                    + "; this build reads version " + FORMAT_VERSION);
        }
        List<Run> runs = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] fields = line.split(" ");
            try {
                if (fields.length != 4) {
                    throw new NumberFormatException();
                }
                runs.add(new Run(Long.parseLong(fields[0]), Long.parseLong(fields[1]), Long.parseLong(fields[2]),
                        Long.parseLong(fields[3])));
            } catch (IllegalArgumentException e) {
                throw malformed(source, "the line '" + line + "' is not 'MILLIS OVERWRITTEN DELETED RENAMED'");
            }
        }
        return new ChangeLedger(runs);
    }

    private static IllegalStateException malformed(Path source, String what) {
        return new IllegalStateException(source + " is malformed: " + what + "; the route's recent changes are not known"
                + " any more: move it away (the route's max-change then counts from now)");
    }
}
