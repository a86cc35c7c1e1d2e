package org.changeq.nativetests.faults;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.inspect.QueueMain;
import org.changeq.sync.SyncReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code changeq-queue stat} says of the real tracker in its own JVM, running and after kill -9, and of the
 * route's runs as the real sync recorded them; and that its backlog counts what {@code paths} lists.
 */
class StatTrackerStatusTest {

    @TempDir
    Path temp;

    private static String queueTool(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = QueueMain.run(args, new PrintStream(out, true), new PrintStream(err, true, UTF_8));
        assertEquals(ExitCodes.OK, exit, String.join(" ", args) + ": " + err.toString(UTF_8));
        return out.toString(UTF_8);
    }

    @Test
    void statTellsTheTrackerRunningAndKilledByItsLockAndTheRoutesLastRun() throws Exception {
        try (FaultBench bench = FaultBench.create(temp)) {
            bench.workload.createFiles("early", 20, () -> { });
            Files.writeString(bench.root.resolve("old.txt"), "old");
            long pid = bench.startTracker().pid();
            bench.awaitTrackerWatching();
            SyncReport first = bench.sync();
            assertEquals("full", first.mode(), first.summaryLine());
            Files.writeString(bench.root.resolve("new.txt"), "new");
            Files.delete(bench.root.resolve("old.txt"));
            bench.awaitRecorded();
            String config = bench.configFile().toString();

            String running = queueTool("stat", "--config", config);
            assertTrue(running.matches("(?s).*\ntracker      running \\(pid " + pid + "\\) since [^\n]+\n.*"), running);
            assertTrue(running.matches("(?s).*\n  last run     [^\n]+, full, exit 0, \\d+ file\\(s\\), \\d+\\.\\d s\n"
                    + "  last success [^\n]+, full, exit 0, .*"), running);
            List<String> json = queueTool("stat", "--json", "--config", config).lines().toList();
            JsonNode route = new ObjectMapper().readTree(json.get(1));
            long listed = queueTool("paths", "--config", config, "--route", FaultBench.ROUTE).lines().count();
            assertEquals(listed, route.get("pending_paths").asLong(), "stat counts what paths lists: " + route);
            assertEquals(1, route.get("pending_deletions").asLong(), "the route propagates deletes: " + route);
            assertEquals(0, route.get("deletions_not_propagated").asLong(), route.toString());
            assertEquals(first.exitCode(), route.get("last_run").get("exit_code").asInt(), route.toString());

            bench.killTracker();
            String killed = queueTool("stat", "--config", config);
            System.out.println("  stat while the tracker runs:\n" + running + "  stat after kill -9:\n" + killed);
            assertTrue(killed.matches("(?s).*\ntracker      NOT running \\(last seen pid " + pid + ", started [^\n]+, "
                    + "stopped without a STOP record after its last record at [^\n]+; its next start catches up\\)\n.*"),
                    killed);
            assertTrue(killed.contains("(pid " + pid + ", not running: no root is watched now)"), killed);
            assertFalse(killed.contains("running since"), killed);
            JsonNode queue = new ObjectMapper().readTree(queueTool("stat", "--json", "--config", config).lines()
                    .findFirst().orElseThrow());
            assertEquals("stopped-unclean", queue.get("tracker").asText(), queue.toString());
            assertEquals(pid, queue.get("tracker_pid").asLong(), queue.toString());
            assertFalse(queue.get("tracker_roots").get("tracker_running").asBoolean(), queue.toString());
        }
    }
}
