import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.manifest.QueueRecord;
import org.changeq.pipeline.manifest.RecordType;

/**
 * Follows what a tool records during one bench run and tells when every expected path is covered.
 * Compiled by bench/run.sh against the distribution's lib/; not part of the Maven build.
 *
 * <pre>
 *   Probe queue QUEUE_DIR EXPECTED TIMEOUT_S         changeq: records appended after the probe started
 *   Probe file  OUTPUT ROOT EXPECTED TIMEOUT_S       inotifywait: NUL-separated absolute paths
 * </pre>
 * EXPECTED holds NUL-separated paths relative to the root. The probe prints "ready" once it follows the
 * tail, then reads "END &lt;epoch-ns&gt;" from stdin (the workload's end). A changeq SUBTREE record covers its
 * descendants (DESIGN invariant 2); an inotifywait line has no event type, so any recorded ancestor
 * covers. It prints one line of key=value figures when everything is covered and nothing new arrived for
 * the settle time, or at END + TIMEOUT_S. Paths are decoded as ISO-8859-1, which maps every byte to one
 * char and back, so comparisons are byte-exact.
 */
public final class Probe {

    private static final long SETTLE_NANOS = 500_000_000L;

    private final Set<String> expected = new HashSet<>();
    private final Set<String> remaining = new HashSet<>();
    private final Map<String, List<String>> descendants = new HashMap<>();
    private final Set<String> recorded = new HashSet<>();
    private long records;
    private long overflows;
    private long completeNanos = -1;
    private volatile long endNanos = -1;

    private Probe(Path expectedFile) throws IOException {
        byte[] all = Files.readAllBytes(expectedFile);
        int start = 0;
        for (int i = 0; i < all.length; i++) {
            if (all[i] == 0) {
                String path = new String(all, start, i - start, StandardCharsets.ISO_8859_1);
                expected.add(path);
                remaining.add(path);
                for (int slash = path.lastIndexOf('/'); ; slash = path.lastIndexOf('/', slash - 1)) {
                    String ancestor = slash < 0 ? "" : path.substring(0, slash);
                    descendants.computeIfAbsent(ancestor, k -> new ArrayList<>()).add(path);
                    if (slash < 0) {
                        break;
                    }
                }
                start = i + 1;
            }
        }
    }

    private void record(String path, boolean coversDescendants) {
        records++;
        recorded.add(path);
        boolean changed = remaining.remove(path);
        if (coversDescendants) {
            List<String> below = descendants.get(path);
            if (below != null) {
                for (String descendant : below) {
                    changed |= remaining.remove(descendant);
                }
            }
        }
        if (changed && remaining.isEmpty() && completeNanos < 0) {
            completeNanos = epochNanos();
        }
    }

    private static long epochNanos() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    private interface Source {
        /** Reads what arrived; returns whether anything did. */
        boolean poll() throws IOException;
    }

    private void follow(Source source, long timeoutNanos) throws IOException {
        Thread stdin = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII))) {
                for (String line; (line = in.readLine()) != null; ) {
                    if (line.startsWith("END ")) {
                        endNanos = Long.parseLong(line.substring(4).trim());
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, "probe-stdin");
        stdin.setDaemon(true);
        stdin.start();
        System.out.println("ready");
        System.out.flush();
        long lastArrival = System.nanoTime();
        while (true) {
            if (source.poll()) {
                lastArrival = System.nanoTime();
                continue;
            }
            long end = endNanos;
            if (end > 0) {
                boolean settled = completeNanos > 0 && System.nanoTime() - lastArrival > SETTLE_NANOS;
                if (settled || epochNanos() > end + timeoutNanos) {
                    break;
                }
            }
            LockSupport.parkNanos(1_000_000);
        }
        Set<String> extra = new HashSet<>(recorded);
        extra.removeAll(expected);
        long latency = completeNanos < 0 ? -1 : Math.max(0, completeNanos - endNanos);
        System.out.printf("latency_ms=%.1f missing=%d extra=%d records=%d overflows=%d%n",
                latency < 0 ? -1.0 : latency / 1e6, remaining.size(), extra.size(), records, overflows);
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("queue")) {
            Probe probe = new Probe(Path.of(args[2]));
            try (ManifestReader reader = ManifestReader.open(Path.of(args[1]))) {
                long[] last = {reader.lastIndex()};
                probe.follow(() -> {
                    long before = last[0];
                    last[0] = reader.read(last[0], Long.MAX_VALUE, (index, record) -> {
                        probe.visit(record);
                        return true;
                    });
                    return last[0] != before;
                }, Long.parseLong(args[3]) * 1_000_000_000L);
            }
        } else {
            Probe probe = new Probe(Path.of(args[3]));
            String prefix = args[2].endsWith("/") ? args[2] : args[2] + "/";
            try (FileChannel channel = FileChannel.open(Path.of(args[1]))) {
                long[] position = {channel.size()};
                ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
                ByteArrayOutputStream partial = new ByteArrayOutputStream();
                probe.follow(() -> {
                    buffer.clear();
                    int n = channel.read(buffer, position[0]);
                    if (n <= 0) {
                        return false;
                    }
                    position[0] += n;
                    byte[] bytes = buffer.array();
                    int start = 0;
                    for (int i = 0; i < n; i++) {
                        if (bytes[i] == 0) {
                            partial.write(bytes, start, i - start);
                            String path = partial.toString(StandardCharsets.ISO_8859_1);
                            partial.reset();
                            // --format '%w%f%0' ends each entry with NUL and then a newline.
                            if (path.startsWith("\n")) {
                                path = path.substring(1);
                            }
                            if (path.startsWith(prefix)) {
                                String relative = path.substring(prefix.length());
                                // An event on the root itself (the tool listing it) says nothing about its content.
                                probe.record(relative, !relative.isEmpty());
                            } else if (path.equals(args[2])) {
                                probe.record("", true);
                            } else {
                                probe.overflows++;
                            }
                            start = i + 1;
                        }
                    }
                    partial.write(bytes, start, n - start);
                    return true;
                }, Long.parseLong(args[4]) * 1_000_000_000L);
            }
        }
    }

    private void visit(QueueRecord record) {
        if (record.type() == RecordType.OVERFLOW) {
            overflows++;
        } else if (record.type().carriesPath()) {
            record(new String(record.path(), StandardCharsets.ISO_8859_1), record.type() == RecordType.SUBTREE);
        }
    }
}
