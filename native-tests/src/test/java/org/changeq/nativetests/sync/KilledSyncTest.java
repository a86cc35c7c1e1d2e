package org.changeq.nativetests.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.changeq.nativetests.faults.Workload;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.RecordType;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.sync.SyncException;
import org.changeq.sync.SyncMain;
import org.changeq.sync.SyncReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of changeq-sync (SyncMain in its own JVM) in the middle of rsync, twice in a row: the cursor never passes
 * unsent records and the rerun converges, nasty names included.
 */
class KilledSyncTest {

    @TempDir
    Path tmp;

    @Test
    void runsKilledTwiceInARowKeepTheirCursorAndTheRerunConverges() throws Exception {
        System.out.println("fault: changeq-sync killed with SIGKILL during rsync, twice in a row");
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Path dest = tmp.resolve("dest");
        ChangeqConfig fast = bench.config(SyncBench.Route.of("r", dest.toString()));
        Trees.write(bench.root, "small", "s");
        bench.sync(fast, "r");
        OptionalLong committed = bench.cursor("r");

        byte[] big = new byte[3 << 20];
        new Random(7).nextBytes(big);
        Files.write(bench.root.resolve("big"), big);
        new Workload(bench.root).createFiles("batch", 200, () -> { });
        bench.record(writer -> {
            writer.publish(RecordType.CHANGE, SyncBench.ROOT, false, "big".getBytes(StandardCharsets.UTF_8));
            writer.publish(RecordType.SUBTREE, SyncBench.ROOT, true, "batch".getBytes(StandardCharsets.UTF_8));
        });

        // The child reads the config file, which now slows its rsync down; this JVM keeps the fast config.
        bench.config(SyncBench.Route.of("r", dest.toString()).rsyncArgs("-rlt", "--bwlimit=1000"));
        for (int kill = 1; kill <= 2; kill++) {
            Process child = ChildJvm.start(SyncMain.class, List.of("--config", bench.configFile().toString(), "--route",
                    "r"), tmp.resolve("child-" + kill + ".out"), tmp.resolve("child-" + kill + ".err"));
            try {
                Poll.until(Duration.ofSeconds(20), "the child's rsync writing big", () -> Trees.list(dest).stream()
                        .anyMatch(entry -> entry.startsWith("f .big.")));
                SyncException refused = assertThrows(SyncException.class, () -> bench.sync(fast, "r"),
                        "a second process must not run the same route");
                assertEquals(ExitCodes.ALREADY_RUNNING, refused.exitCode());
            } finally {
                child.destroyForcibly();
                child.waitFor(20, TimeUnit.SECONDS);
            }
            assertEquals(committed, bench.cursor("r"), "killed run " + kill + " committed nothing");
            Poll.until(Duration.ofSeconds(20), "the orphaned rsync to die with its parent",
                    () -> rsyncProcessesWriting(dest).isEmpty());
            // rsync removes its temporary file when its parent's pipe closes; the next run starts from scratch.
            Poll.until(Duration.ofSeconds(20), "rsync's temporary file to go", () -> Trees.list(dest).stream()
                    .noneMatch(entry -> entry.startsWith("f .big.")));
        }

        long started = System.nanoTime();
        SyncReport rerun = bench.sync(fast, "r");
        System.out.println("  rerun after two kills: " + rerun.summaryLine() + ", " + (System.nanoTime() - started) / 1_000_000 + " ms");
        assertEquals(ExitCodes.OK, rerun.exitCode());
        assertEquals("incremental", rerun.mode());
        assertEquals(OptionalLong.of(bench.queueEnd()), bench.cursor("r"));
        Trees.assertSameTree(bench.root, dest);
    }

    /** rsync processes whose command line names the destination. */
    private static List<Long> rsyncProcessesWriting(Path dest) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().command().map(c -> c.endsWith("/rsync")).orElse(false))
                .filter(p -> cmdline(p.pid()).contains(dest.toString()))
                .map(ProcessHandle::pid)
                .toList();
    }

    private static String cmdline(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8);
        } catch (IOException gone) {
            return "";
        }
    }
}
