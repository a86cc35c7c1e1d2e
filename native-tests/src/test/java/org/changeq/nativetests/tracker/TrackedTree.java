package org.changeq.nativetests.tracker;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.ConfigException;
import org.changeq.pipeline.config.ConfigLoader;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.manifest.QueueRecord;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.testing.Poll;
import org.changeq.tracker.Tracker;

/**
 * A root under a temporary directory watched by a real {@link Tracker} writing a real queue, and the
 * records read back from that queue. Paths are handled as bytes; helpers turn them into {@link Path}s
 * through {@code file:} URIs so any byte sequence works.
 */
final class TrackedTree implements AutoCloseable {

    static final String ROOT_NAME = ConfigLoader.QUICK_ROOT_NAME;
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    final Path root;
    final Path queue;
    final Path state;
    final Tracker tracker;
    private final List<QueueRecord> records = new ArrayList<>();
    private long lastIndex = ManifestReader.NO_INDEX;
    private ManifestReader reader;

    private TrackedTree(Path root, Path queue, Path state, Tracker tracker) {
        this.root = root;
        this.queue = queue;
        this.state = state;
        this.tracker = tracker;
    }

    /** The quick-mode config the command line would build, with the given exclude patterns. */
    static ChangeqConfig config(Path temp, String... excludes) {
        try {
            return ConfigLoader.quick(temp.resolve("root"), temp.resolve("queue"), temp.resolve("state"),
                    List.of(excludes));
        } catch (ConfigException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /**
     * Starts a tracker on {@code temp/root} (created if missing) and awaits readiness. The kernel queue size is
     * fixed when the tracker's inotify instance is created, from a machine-wide setting other tests may lower for
     * a while: the start waits until it is back to a normal value, so only the overflow test sees overflows.
     */
    static TrackedTree start(Path temp, String... excludes) throws IOException, InterruptedException {
        return start(config(temp, excludes), true);
    }

    /** Starts a tracker with whatever kernel queue size is set now. */
    static TrackedTree startWithCurrentQueueLimit(Path temp) throws IOException, InterruptedException {
        return start(config(temp), false);
    }

    private static TrackedTree start(ChangeqConfig config, boolean normalQueueLimit)
            throws IOException, InterruptedException {
        Path root = config.root(ROOT_NAME).path();
        Files.createDirectories(root);
        while (true) {
            if (normalQueueLimit) {
                awaitNormalQueueLimit();
            }
            Tracker tracker = Tracker.start(config);
            if (normalQueueLimit && maxQueuedEvents() < NORMAL_MAX_QUEUED_EVENTS) {
                tracker.close();
                continue;
            }
            assertTrue(tracker.awaitReady(TIMEOUT), "the tracker did not get ready");
            return new TrackedTree(root, config.queue(), config.state(), tracker);
        }
    }

    static final Path MAX_QUEUED_EVENTS = Path.of("/proc/sys/fs/inotify/max_queued_events");
    /** Far below the kernel's default (16384), far above what the tests produce between two reads. */
    private static final long NORMAL_MAX_QUEUED_EVENTS = 4096;

    static long maxQueuedEvents() {
        try {
            return Long.parseLong(readProcFile(MAX_QUEUED_EVENTS));
        } catch (IOException e) {
            return Long.MAX_VALUE;
        }
    }

    /** Files.readString reads "16384" from procfs as "1" here (size 0, then EOF after a one-byte read). */
    static String readProcFile(Path file) throws IOException {
        try (var reader = Files.newBufferedReader(file)) {
            String line = reader.readLine();
            return line == null ? "" : line.trim();
        }
    }

    static void awaitNormalQueueLimit() {
        awaitCondition(() -> "fs.inotify.max_queued_events to be at least " + NORMAL_MAX_QUEUED_EVENTS + " again (it is "
                + maxQueuedEvents() + "; another process lowered it)",
                () -> maxQueuedEvents() >= NORMAL_MAX_QUEUED_EVENTS);
    }

    /** Every record appended so far, in queue order. */
    List<QueueRecord> records() {
        if (reader == null) {
            reader = ManifestReader.open(queue);
        }
        lastIndex = reader.read(lastIndex, Long.MAX_VALUE, (index, record) -> records.add(record));
        return records;
    }

    /** Waits until a record matches, failing after {@link #TIMEOUT} with the records seen. */
    QueueRecord await(String what, Predicate<QueueRecord> condition) {
        QueueRecord[] found = new QueueRecord[1];
        awaitCondition(() -> "a record: " + what + "; records: " + records(), () -> {
            for (QueueRecord record : records()) {
                if (condition.test(record)) {
                    found[0] = record;
                    return true;
                }
            }
            return false;
        });
        return found[0];
    }

    QueueRecord await(RecordType type, String path) {
        return await(type + " " + path, record -> record.type() == type && text(record.path()).equals(path));
    }

    /** Polls {@code condition} until it holds or {@link #TIMEOUT} passes. */
    static void awaitCondition(Supplier<String> description, BooleanSupplier condition) {
        try {
            Poll.until(TIMEOUT, description, condition::getAsBoolean);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + description.get(), e);
        }
    }

    /** A path below the root from raw bytes (relative, '/'-separated). */
    Path path(byte[] relative) {
        byte[] rootBytes = root.toString().getBytes(ISO_8859_1);
        byte[] absolute = new byte[rootBytes.length + 1 + relative.length];
        System.arraycopy(rootBytes, 0, absolute, 0, rootBytes.length);
        absolute[rootBytes.length] = '/';
        System.arraycopy(relative, 0, absolute, rootBytes.length + 1, relative.length);
        return fromBytes(absolute);
    }

    Path path(String relative) {
        return path(relative.getBytes(ISO_8859_1));
    }

    /** A {@link Path} for any absolute byte sequence: {@code %XX} escapes in a {@code file:} URI round-trip exactly. */
    static Path fromBytes(byte[] absolute) {
        StringBuilder uri = new StringBuilder("file://");
        for (byte b : absolute) {
            int c = b & 0xff;
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '/' || c == '.'
                    || c == '_' || c == '-') {
                uri.append((char) c);
            } else {
                uri.append('%').append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xf, 16));
            }
        }
        return Path.of(URI.create(uri.toString()));
    }

    /** Bytes as a Latin-1 string: one char per byte, so comparisons are byte-exact. */
    static String text(byte[] bytes) {
        return new String(bytes, ISO_8859_1);
    }

    @Override
    public void close() {
        tracker.close();
        if (reader != null) {
            reader.close();
        }
    }
}
