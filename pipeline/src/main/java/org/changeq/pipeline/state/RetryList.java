package org.changeq.pipeline.state;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import org.changeq.pipeline.ByteStrings;

/**
 * The paths rsync failed to send for a route, kept in {@code <state>/retry/ROUTE} so that the route's cursor can
 * move past the records that named them: every later run sends them again together with its new changes, until
 * they transfer or no longer exist at the source. The one codec of that file. Immutable.
 *
 * <p>Format, version 3: the line {@code changeq-retry 3 complete} ({@code overflowed} instead of {@code complete}
 * when more than {@value #LIMIT} paths failed: the list then holds the first {@value #LIMIT} and the route's next
 * run is full), then for each path two NUL-terminated fields: {@code KIND MILLIS PATH}, with PATH the raw bytes
 * relative to the root and MILLIS the time the path first failed; and rsync's message for it (escaped text, may be
 * empty). Written through {@link StateDirectory} with fsync, before the cursor moves. Version 3 added the kind
 * {@link Kind#DELETION}, version 2 the kind {@link Kind#CONTENT}; older files are read as they are.
 *
 * @param entries    the failed paths, each once
 * @param overflowed more paths failed than the list holds
 */
public record RetryList(List<Entry> entries, boolean overflowed) {

    /** Past this many failed paths the route's next run is full instead. */
    public static final int LIMIT = 10_000;
    public static final RetryList EMPTY = new RetryList(List.of(), false);
    static final int FORMAT_VERSION = 3;
    private static final int OLDEST_READABLE_VERSION = 1;
    private static final String MAGIC = "changeq-retry";
    private static final String COMPLETE = "complete";
    private static final String OVERFLOWED = "overflowed";

    public RetryList {
        entries = List.copyOf(entries);
    }

    /** How a failed path is sent again. */
    public enum Kind {
        /** The path itself (recursively if it is a directory, as a listed path is): a file or link. */
        FILE('f'),
        /** Only a directory's own attributes (times, mode): its contents are listed on their own. */
        DIRECTORY('d'),
        /** A directory missing at the destination, and so everything in it. */
        SUBTREE('s'),
        /** A file whose content was written: compared by content, as rsync's quick check may call it unchanged. */
        CONTENT('c'),
        /** A path gone from the source that rsync failed to delete at the destination: offered as a deletion again. */
        DELETION('x');

        private final char letter;

        Kind(char letter) {
            this.letter = letter;
        }

        /** Whether the path is a directory. */
        public boolean directory() {
            return this == DIRECTORY || this == SUBTREE;
        }

        static Kind of(int letter, Path source) {
            for (Kind kind : values()) {
                if (kind.letter == letter) {
                    return kind;
                }
            }
            throw malformed(source, "unknown kind '" + (char) letter + "'");
        }
    }

    /**
     * One failed path.
     *
     * @param path              raw bytes relative to the root; empty for the root itself
     * @param firstFailedMillis when a run first failed to send it
     * @param reason            rsync's message that names it (escaped), or empty when none did
     */
    public record Entry(byte[] path, Kind kind, long firstFailedMillis, String reason) {

        public Entry {
            if (ByteStrings.indexOf(path, (byte) 0, 0) >= 0) {
                throw new IllegalArgumentException("a path holds no NUL byte");
            }
            if (reason.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("a reason holds no NUL character");
            }
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Entry that && Arrays.equals(path, that.path) && kind == that.kind
                    && firstFailedMillis == that.firstFailedMillis && reason.equals(that.reason);
        }

        @Override
        public int hashCode() {
            return Objects.hash(Arrays.hashCode(path), kind, firstFailedMillis, reason);
        }

        @Override
        public String toString() {
            return kind + " " + ByteStrings.escape(path) + " since " + firstFailedMillis + ": " + reason;
        }
    }

    public boolean isEmpty() {
        return entries.isEmpty() && !overflowed;
    }

    /** When the path waiting longest first failed; empty when none waits. */
    public OptionalLong oldestFailureMillis() {
        return entries.stream().mapToLong(Entry::firstFailedMillis).min();
    }

    /** The stored list; {@link #EMPTY} when the file does not exist. */
    public static RetryList read(Path file) throws IOException {
        try {
            return decode(StateDirectory.read(file), file);
        } catch (NoSuchFileException e) {
            return EMPTY;
        }
    }

    /** Replaces the stored list atomically and durably; an empty list removes the file. */
    public void write(Path file) throws IOException {
        if (isEmpty()) {
            // Losing this removal in a crash only sends the old paths once more.
            StateDirectory.deleteIfExists(file);
        } else {
            StateDirectory.replace(file, encode(), true);
        }
    }

    byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 + entries.size() * 64);
        out.writeBytes(ascii(MAGIC + " " + FORMAT_VERSION + " " + (overflowed ? OVERFLOWED : COMPLETE) + "\n"));
        for (Entry entry : entries) {
            out.writeBytes(ascii(entry.kind.letter + " " + entry.firstFailedMillis + " "));
            out.writeBytes(entry.path);
            out.write(0);
            out.writeBytes(entry.reason.getBytes(StandardCharsets.UTF_8));
            out.write(0);
        }
        return out.toByteArray();
    }

    static RetryList decode(byte[] bytes, Path source) {
        int newline = ByteStrings.indexOf(bytes, (byte) '\n', 0);
        String header = new String(bytes, 0, Math.max(newline, 0), StandardCharsets.US_ASCII);
        String[] fields = header.split(" ");
        if (newline < 0 || fields.length != 3 || !fields[0].equals(MAGIC)) {
            throw malformed(source, "not a changeq retry file (first line '" + header + "')");
        }
        if (!readableVersion(fields[1])) {
            throw new IllegalStateException(source + " has retry format version " + fields[1] + "; this build reads versions "
                    + OLDEST_READABLE_VERSION + " to " + FORMAT_VERSION);
        }
        if (!fields[2].equals(COMPLETE) && !fields[2].equals(OVERFLOWED)) {
            throw malformed(source, "unknown state '" + fields[2] + "'");
        }
        List<Entry> entries = new ArrayList<>();
        int at = newline + 1;
        while (at < bytes.length) {
            int pathEnd = ByteStrings.indexOf(bytes, (byte) 0, at);
            int reasonEnd = pathEnd < 0 ? -1 : ByteStrings.indexOf(bytes, (byte) 0, pathEnd + 1);
            if (reasonEnd < 0) {
                throw malformed(source, "the last entry is cut off");
            }
            int firstSpace = at + 1;
            int secondSpace = ByteStrings.indexOf(bytes, (byte) ' ', firstSpace + 1);
            if (bytes[firstSpace] != ' ' || secondSpace < 0 || secondSpace > pathEnd) {
                throw malformed(source, "an entry does not start with 'KIND MILLIS '");
            }
            long millis;
            try {
                millis = Long.parseLong(new String(bytes, firstSpace + 1, secondSpace - firstSpace - 1, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                throw malformed(source, "an entry's time is not a number");
            }
            entries.add(new Entry(Arrays.copyOfRange(bytes, secondSpace + 1, pathEnd), Kind.of(bytes[at], source), millis,
                    new String(bytes, pathEnd + 1, reasonEnd - pathEnd - 1, StandardCharsets.UTF_8)));
            at = reasonEnd + 1;
        }
        return new RetryList(entries, fields[2].equals(OVERFLOWED));
    }

    private static boolean readableVersion(String field) {
        for (int version = OLDEST_READABLE_VERSION; version <= FORMAT_VERSION; version++) {
            if (field.equals(String.valueOf(version))) {
                return true;
            }
        }
        return false;
    }

    private static IllegalStateException malformed(Path source, String what) {
        return new IllegalStateException(source + " is malformed: " + what + "; the paths in it are not known any more:"
                + " move it away and run changeq-sync --full for the route, which sends everything again");
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
