package org.changeq.pipeline.state;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The deletions a route's max-delete held back, kept in {@code <state>/deletions/ROUTE.held} so that the route's
 * cursor can move past the records that named them while they wait for consent ({@code --allow-deletes}): every run
 * that deletes offers them again, and one that may delete them does; a path that exists at the source again is sent
 * instead. The one codec of that file. Immutable.
 *
 * <p>Format, version 1: the line {@code changeq-held-deletions 1 MILLIS}, MILLIS the time the oldest of them was
 * first held, then each path as raw bytes relative to the root, NUL-terminated. Written through {@link StateDirectory}
 * with fsync, before the cursor moves.
 *
 * @param paths      raw bytes relative to the root, each once
 * @param sinceMillis when the oldest of them was first held; meaningless for an empty list
 */
public record HeldDeletions(List<byte[]> paths, long sinceMillis) {

    public static final HeldDeletions EMPTY = new HeldDeletions(List.of(), 0);
    static final int FORMAT_VERSION = 1;
    private static final String MAGIC = "changeq-held-deletions";

    public HeldDeletions {
        paths = paths.stream().map(path -> {
            for (byte b : path) {
                if (b == 0) {
                    throw new IllegalArgumentException("a path holds no NUL byte");
                }
            }
            return path.clone();
        }).toList();
    }

    public boolean isEmpty() {
        return paths.isEmpty();
    }

    /** The stored list; {@link #EMPTY} when the file does not exist. */
    public static HeldDeletions read(Path file) throws IOException {
        try {
            return decode(StateDirectory.read(file), file);
        } catch (NoSuchFileException e) {
            return EMPTY;
        }
    }

    /** Replaces the stored list atomically and durably; an empty list removes the file. */
    public void write(Path file) throws IOException {
        if (isEmpty()) {
            // Losing this removal in a crash only offers deletions that were made once more: rsync finds nothing.
            StateDirectory.deleteIfExists(file);
        } else {
            StateDirectory.replace(file, encode(), true);
        }
    }

    byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 + paths.size() * 32);
        out.writeBytes((MAGIC + " " + FORMAT_VERSION + " " + sinceMillis + "\n").getBytes(StandardCharsets.US_ASCII));
        for (byte[] path : paths) {
            out.writeBytes(path);
            out.write(0);
        }
        return out.toByteArray();
    }

    static HeldDeletions decode(byte[] bytes, Path source) {
        int newline = 0;
        while (newline < bytes.length && bytes[newline] != '\n') {
            newline++;
        }
        String header = new String(bytes, 0, newline, StandardCharsets.US_ASCII);
        String[] fields = header.split(" ");
        if (newline == bytes.length || fields.length != 3 || !fields[0].equals(MAGIC)) {
            throw malformed(source, "not a changeq held-deletions file (first line '" + header + "')");
        }
        if (!fields[1].equals(String.valueOf(FORMAT_VERSION))) {
            throw new IllegalStateException(source + " has held-deletions format version " + fields[1]
                    + "; this build reads version " + FORMAT_VERSION);
        }
        long since;
        try {
            since = Long.parseLong(fields[2]);
        } catch (NumberFormatException e) {
            throw malformed(source, "its time '" + fields[2] + "' is not a number");
        }
        List<byte[]> paths = new ArrayList<>();
        int start = newline + 1;
        for (int i = start; i < bytes.length; i++) {
            if (bytes[i] == 0) {
                paths.add(Arrays.copyOfRange(bytes, start, i));
                start = i + 1;
            }
        }
        if (start != bytes.length) {
            throw malformed(source, "the last path is cut off");
        }
        return new HeldDeletions(paths, since);
    }

    private static IllegalStateException malformed(Path source, String what) {
        return new IllegalStateException(source + " is malformed: " + what + "; move it away: the route's next full sync"
                + " finds the deletions again and asks for consent");
    }
}
