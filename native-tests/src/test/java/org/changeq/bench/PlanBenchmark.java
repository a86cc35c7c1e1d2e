package org.changeq.bench;

import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.pipeline.config.TestConfigs;
import org.changeq.pipeline.manifest.ChronicleSettings;
import org.changeq.pipeline.manifest.ClaimBoard;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.manifest.ManifestWriter;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.manifest.WriterLock;
import org.changeq.pipeline.plan.ChangeScan;
import org.changeq.pipeline.plan.PendingChanges;
import org.changeq.pipeline.state.HeldDeletions;
import org.changeq.pipeline.state.RetryList;

/**
 * Measures planning a large backlog, by hand (not a test; see bench/ for the scripts):
 * {@code PlanBenchmark write DIR RECORDS UNIQUE} writes the queue, a config with route {@code bench}
 * for changeq-queue, and the same paths as a newline file; {@code PlanBenchmark plan DIR} reads,
 * filters, dedupes and writes the --from0 list, printing the time and the process's peak RSS.
 * Run each in its own JVM.
 */
public final class PlanBenchmark {

    private PlanBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        ChronicleSettings.apply();
        Path dir = Path.of(args[1]);
        if (args[0].equals("write")) {
            write(dir, Integer.parseInt(args[2]), Integer.parseInt(args[3]));
        } else {
            plan(dir);
        }
    }

    private static byte[] path(int i, int unique) {
        int n = i % unique;
        return String.format("srv/photos/%04d/album-%03d/IMG_%07d.jpg", n % 2000, n % 97, n)
                .getBytes(StandardCharsets.UTF_8);
    }

    private static void write(Path dir, int records, int unique) throws Exception {
        Files.createDirectories(dir.resolve("tree"));
        Files.writeString(dir.resolve("changeq.yaml"), String.join("\n",
                "queue: " + dir.resolve("queue"),
                "state: " + dir.resolve("state"),
                "roots:",
                "  nfs: {path: " + dir.resolve("tree") + "}",
                "routes:",
                "  bench: {root: nfs, dest: " + dir.resolve("dest") + "/, exclude: [\"*.tmp\"], backlog-threshold: 5000000}",
                ""));
        // A claim above everything: the writer keeps every repeat, so the queue holds all records.
        new ClaimBoard(dir.resolve("state")).publish("benchmark", Long.MAX_VALUE, java.util.Optional.empty());
        try (OutputStream text = new BufferedOutputStream(Files.newOutputStream(dir.resolve("paths.txt")), 1 << 16);
             ManifestWriter writer = ManifestWriter.start(
                     WriterLock.acquire(dir.resolve("queue"), dir.resolve("state")), 1 << 21,
                     ManifestWriter.WRITER_THREADS, Throwable::printStackTrace)) {
            for (int i = 0; i < records; i++) {
                byte[] path = path(i, unique);
                writer.publish(RecordType.CHANGE, "nfs", false, path);
                text.write(path);
                text.write('\n');
            }
        }
    }

    private static void plan(Path dir) throws Exception {
        RouteConfig route = TestConfigs.route("{root: nfs, dest: /dst, exclude: [\"*.tmp\"], backlog-threshold: 5000000}");
        long start = System.nanoTime();
        ChangeScan.Result result;
        PendingChanges.Lists lists;
        try (ManifestReader reader = ManifestReader.open(dir.resolve("queue"))) {
            result = ChangeScan.scan(reader, route, ManifestReader.NO_INDEX, reader.lastIndex(),
                    ChangeScan.Collect.UNTIL_FULL, RetryList.EMPTY, HeldDeletions.EMPTY);
            lists = result.pending().orElseThrow().writeLists(dir.resolve("files.list"), dir.resolve("dirs.list"), dir.resolve("content.list"), false);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        String peak = Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("VmHWM")).findFirst().orElse("?");
        System.out.printf("records=%d unique-paths=%d listed=%d seconds=%.2f %s%n", result.backlog(),
                result.pending().orElseThrow().distinctPaths(), lists.files(), seconds, peak.replaceAll("\\s+", " "));
    }
}
