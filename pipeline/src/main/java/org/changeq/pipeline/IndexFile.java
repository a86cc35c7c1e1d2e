package org.changeq.pipeline;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * The codec and atomic store for small state files that hold one queue index: a route's committed
 * cursor and its published claim. Format, one line, versioned:
 * <pre>changeq-&lt;kind&gt; 1 &lt;index&gt;</pre>
 * Writes go through {@link AtomicFiles} with fsync: a crash leaves the old value or the new one,
 * never a torn file.
 */
public final class IndexFile {

    static final int FORMAT_VERSION = 1;

    private final Path file;
    private final String kind;

    public IndexFile(Path file, String kind) {
        this.file = file;
        this.kind = kind;
    }

    public Path path() {
        return file;
    }

    static String encode(String kind, long index) {
        return "changeq-" + kind + " " + FORMAT_VERSION + " " + index + "\n";
    }

    static long decode(String kind, String text, Path source) {
        String[] fields = text.strip().split(" ");
        if (fields.length != 3 || !fields[0].equals("changeq-" + kind)) {
            throw new IllegalStateException(source + " is not a changeq " + kind + " file (content: '"
                    + text.strip() + "'); move it away to start over");
        }
        if (!fields[1].equals(String.valueOf(FORMAT_VERSION))) {
            throw new IllegalStateException(source + " has " + kind + " format version " + fields[1]
                    + "; this build reads version " + FORMAT_VERSION);
        }
        try {
            return Long.parseLong(fields[2]);
        } catch (NumberFormatException e) {
            throw new IllegalStateException(source + " holds a malformed index '" + fields[2]
                    + "'; move it away to start over", e);
        }
    }

    /** The stored index, or empty when the file does not exist. */
    public OptionalLong read() throws IOException {
        try {
            return OptionalLong.of(decode(kind, Files.readString(file, StandardCharsets.US_ASCII), file));
        } catch (NoSuchFileException e) {
            return OptionalLong.empty();
        }
    }

    /** Replaces the stored index atomically and durably. */
    public void write(long index) throws IOException {
        AtomicFiles.replace(file, encode(kind, index).getBytes(StandardCharsets.US_ASCII), true);
    }

    /**
     * Replaces the stored index atomically, without fsync: cheap enough to repeat every second. After a power
     * cut the file may hold an older value, or be empty.
     */
    public void writeUnsynced(long index) throws IOException {
        AtomicFiles.replace(file, encode(kind, index).getBytes(StandardCharsets.US_ASCII), false);
    }
}
