package org.changeq.nativetests.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.sync.SyncReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

/**
 * Fault 6: the rsync daemon is down for three sync runs while changes go on. Each run fails with
 * DESTINATION_UNREACHABLE and keeps its cursor; when the daemon is back one incremental run catches up.
 */
class DestinationOutageTest {

    @TempDir
    Path temp;

    @Test
    @ExpectLog(level = Level.WARN, logger = "RsyncRunner")
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "rsync exited with 10")
    void threeFailedRunsThenOneRunCatchesUp() throws Exception {
        System.out.println("fault: rsync daemon down for three sync runs, 3 x 1,000 files changed meanwhile");
        try (FaultBench bench = FaultBench.create(temp)) {
            List<Path> base = bench.workload.createFiles("base", 1_000, () -> { });
            bench.startTracker();
            bench.awaitTrackerWatching();
            assertEquals("full", bench.sync().mode(), "first run");
            OptionalLong cursor = bench.cursor();

            bench.daemon.stop();
            for (int run = 1; run <= 3; run++) {
                bench.workload.createFiles("outage-" + run, 1_000, () -> { });
                bench.workload.modify(base, 5 + run);
                bench.awaitRecorded();
                SyncReport failed = bench.sync();
                assertEquals(ExitCodes.DESTINATION_UNREACHABLE, failed.exitCode(), failed.summaryLine());
                assertEquals(cursor, bench.cursor(), "a failed run keeps the cursor");
            }

            bench.daemon.start();
            long started = System.nanoTime();
            SyncReport caughtUp = bench.sync();
            long millis = (System.nanoTime() - started) / 1_000_000;
            assertEquals("incremental", caughtUp.mode(), caughtUp.summaryLine());
            assertEquals(OptionalLong.of(bench.queueEnd()), bench.cursor(), "the cursor reaches the queue's end");
            bench.assertDestinationEqualsSource();
            bench.stopTracker();
            System.out.println("  one run after the outage caught up in " + millis + " ms");
        }
    }
}
