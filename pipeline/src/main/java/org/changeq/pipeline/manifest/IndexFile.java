package org.changeq.pipeline.manifest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import org.changeq.pipeline.state.StateDirectory;

/**
 * The codec and atomic store for small state files that hold one queue index: a route's committed
 * cursor and its published claim. Format, one line, versioned:
 * <pre>changeq-&lt;kind&gt; 1 &lt;index&gt;</pre>
 * or, for an index that belongs to a queue with an identity ({@link QueueIdentity}):
 * <pre>changeq-&lt;kind&gt; 2 &lt;index&gt; &lt;queue id&gt;</pre>
 * Writes go through {@link StateDirectory} with fsync: a crash leaves the old value or the new one,
 * never a torn file.
 */
public final class IndexFile {

    static final int FORMAT_VERSION = 1;
    static final int WITH_QUEUE_VERSION = 2;

    /** A stored index, and the identity of the queue it indexes when the file names one. */
    public record Entry(long index, Optional<UUID> queue) {
    }

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

    static String encode(String kind, long index, UUID queue) {
        return "changeq-" + kind + " " + WITH_QUEUE_VERSION + " " + index + " " + queue + "\n";
    }

    static long decode(String kind, String text, Path source) {
        return decodeEntry(kind, text, source).index();
    }

    static Entry decodeEntry(String kind, String text, Path source) {
        String[] fields = text.strip().split(" ");
        if (fields.length < 3 || !fields[0].equals("changeq-" + kind)) {
            throw new IllegalStateException(source + " is not a changeq " + kind + " file (content: '"
                    + text.strip() + "'); move it away to start over");
        }
        boolean withQueue = fields[1].equals(String.valueOf(WITH_QUEUE_VERSION));
        if (!withQueue && !fields[1].equals(String.valueOf(FORMAT_VERSION))
                || fields.length != (withQueue ? 4 : 3)) {
            throw new IllegalStateException(source + " has " + kind + " format version " + fields[1] + " with "
                    + fields.length + " fields; this build reads versions " + FORMAT_VERSION + " and " + WITH_QUEUE_VERSION);
        }
        try {
            return new Entry(Long.parseLong(fields[2]), withQueue ? Optional.of(UUID.fromString(fields[3])) : Optional.empty());
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(source + " holds a malformed index or queue id ('" + text.strip()
                    + "'); move it away to start over", e);
        }
    }

    /** The stored index, or empty when the file does not exist. */
    public OptionalLong read() throws IOException {
        Optional<Entry> entry = readEntry();
        return entry.isPresent() ? OptionalLong.of(entry.get().index()) : OptionalLong.empty();
    }

    /** The stored index with the queue it belongs to, or empty when the file does not exist. */
    public Optional<Entry> readEntry() throws IOException {
        try {
            return Optional.of(decodeEntry(kind, new String(StateDirectory.read(file), StandardCharsets.US_ASCII), file));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** Replaces the stored index atomically and durably, naming the queue it indexes when that has an identity. */
    public void write(long index, Optional<UUID> queue) throws IOException {
        String text = queue.isPresent() ? encode(kind, index, queue.get()) : encode(kind, index);
        StateDirectory.replace(file, text.getBytes(StandardCharsets.US_ASCII), true);
    }

    /** Replaces the stored index atomically and durably. */
    public void write(long index) throws IOException {
        StateDirectory.replace(file, encode(kind, index).getBytes(StandardCharsets.US_ASCII), true);
    }

    /**
     * Replaces the stored index atomically, without fsync: cheap enough to repeat every second. After a power
     * cut the file may hold an older value, or be empty.
     */
    public void writeUnsynced(long index) throws IOException {
        StateDirectory.replace(file, encode(kind, index).getBytes(StandardCharsets.US_ASCII), false);
    }
}
