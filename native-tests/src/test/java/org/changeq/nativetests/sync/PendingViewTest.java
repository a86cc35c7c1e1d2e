package org.changeq.nativetests.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.inspect.QueueMain;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.testing.Poll;
import org.changeq.sync.RouteSync;
import org.changeq.sync.SyncRequest;
import org.changeq.tracker.Tracker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * changeq-queue against the queue of a running tracker: it shows exactly what the route's next
 * incremental run sends (byte-exact, nasty names included), and it changes nothing and blocks
 * nothing while the tracker keeps appending.
 */
class PendingViewTest {

    @TempDir
    Path tmp;

    private static final List<byte[]> NAMES = List.of(
            "#hash".getBytes(UTF_8), ";semi".getBytes(UTF_8), "-dash".getBytes(UTF_8),
            "new\nline".getBytes(UTF_8), "cr\rname".getBytes(UTF_8), "sp ace".getBytes(UTF_8),
            "[br*?]".getBytes(UTF_8), new byte[] {'b', 'a', 'd', (byte) 0xff, (byte) 0xfe},
            "dir/inner file".getBytes(UTF_8));

    private record Run(int exit, byte[] out, String err) {
    }

    private static Run queueTool(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = QueueMain.run(args, new PrintStream(out, true), new PrintStream(err, true, UTF_8));
        return new Run(exit, out.toByteArray(), err.toString(UTF_8));
    }

    /** NUL-terminated entries, with the sync list's "./" prefix removed. */
    private static Set<String> entries(byte[] nulSeparated) {
        Set<String> entries = new HashSet<>();
        int start = 0;
        for (int i = 0; i < nulSeparated.length; i++) {
            if (nulSeparated[i] == 0) {
                int from = nulSeparated[start] == '.' && i - start > 1 && nulSeparated[start + 1] == '/' ? start + 2 : start;
                // ISO-8859-1 maps every byte to one char, so the comparison stays byte-exact.
                entries.add(new String(Arrays.copyOfRange(nulSeparated, from, i), java.nio.charset.StandardCharsets.ISO_8859_1));
                start = i + 1;
            }
        }
        return entries;
    }

    private static Map<String, Long> snapshot(Path directory) throws IOException {
        Map<String, Long> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(directory)) {
            for (Path file : walk.filter(Files::isRegularFile).toList()) {
                files.put(directory.relativize(file).toString(), Files.getLastModifiedTime(file).toMillis());
            }
        }
        return files;
    }

    private static long recordsIn(Path queue) {
        try (ManifestReader reader = ManifestReader.open(queue)) {
            long[] count = {0};
            reader.read(ManifestReader.NO_INDEX, Long.MAX_VALUE, (index, record) -> {
                count[0]++;
                return true;
            });
            return count[0];
        }
    }

    @Test
    void pathsOfARunningTrackersQueueEqualWhatTheSyncsDryRunSends() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", tmp.resolve("dest") + "/"));
        String configFile = bench.configFile().toString();
        try (Tracker tracker = Tracker.start(config)) {
            assertTrue(tracker.awaitReady(Duration.ofSeconds(60)), "tracker ready");
            assertEquals(0, bench.sync(config, "r").exitCode(), "first, full sync");
            for (byte[] name : NAMES) {
                Trees.write(bench.root, name, "content");
            }
            Poll.until(Duration.ofSeconds(30), "every name recorded", () -> {
                Run paths = queueTool("paths", "-0", "--config", configFile, "--route", "r");
                return entries(paths.out()).containsAll(expectedNames());
            });

            Map<String, Long> stateBefore = snapshot(config.state());
            long recordsBefore = recordsIn(config.queue());
            Run paths = queueTool("paths", "-0", "--config", configFile, "--route", "r");
            assertEquals(ExitCodes.OK, paths.exit(), paths.err());
            for (String[] args : List.of(new String[] {"stat"}, new String[] {"stat", "--json"},
                    new String[] {"tail", "-n", "5"}, new String[] {"dump", "--route", "r", "--pending"},
                    new String[] {"top"})) {
                List<String> command = new ArrayList<>(List.of(args));
                command.addAll(List.of("--config", configFile));
                Run run = queueTool(command.toArray(String[]::new));
                assertEquals(ExitCodes.OK, run.exit(), command + ": " + run.err());
            }
            assertEquals(stateBefore, snapshot(config.state()), "changeq-queue wrote to the state directory");
            assertEquals(recordsBefore, recordsIn(config.queue()), "changeq-queue appended to the queue");

            // The dry run prints its lists' entries, escaped; it keeps no list in the state directory.
            ByteArrayOutputStream plan = new ByteArrayOutputStream();
            assertEquals(0, RouteSync.run(config, SyncRequest.of("r").withDryRun(), Clock.systemDefaultZone(),
                    new PrintStream(plan, true, UTF_8)).exitCode(), "dry run");
            Set<String> dryRun = plan.toString(UTF_8).lines().filter(line -> line.startsWith("  ./"))
                    .map(line -> line.substring("  ./".length())).collect(Collectors.toSet());
            Set<String> pending = entries(paths.out()).stream()
                    .map(entry -> ByteStrings.escape(entry.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)))
                    .collect(Collectors.toSet());
            assertEquals(pending, dryRun, "changeq-queue paths -0 and changeq-sync --dry-run differ");

            // The tracker kept going while the tool read its queue.
            Trees.write(bench.root, "after", "x");
            Poll.until(Duration.ofSeconds(30), "a change after the tool ran is recorded", () -> entries(
                    queueTool("paths", "-0", "--config", configFile, "--route", "r").out()).contains("after"));
        }
    }

    private static Set<String> expectedNames() {
        Set<String> names = new HashSet<>();
        for (byte[] name : NAMES) {
            names.add(new String(name, java.nio.charset.StandardCharsets.ISO_8859_1));
        }
        return names;
    }
}
