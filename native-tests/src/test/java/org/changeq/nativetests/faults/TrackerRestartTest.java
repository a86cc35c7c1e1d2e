package org.changeq.nativetests.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.changeq.nativetests.sync.Trees;
import org.changeq.pipeline.manifest.QueueRecord;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.testing.Poll;
import org.changeq.sync.SyncReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault 1: the tracker is killed with SIGKILL in the middle of a workload, more changes are made while it is
 * down (new files, same-size rewrites, renamed directories, a directory moved in whose files keep old times), and
 * it is started again. Its catch-up scan and RESCAN let the next sync be incremental, not full.
 */
class TrackerRestartTest {

    private static final int FILES = 10_000;

    @TempDir
    Path temp;

    @Test
    void killedMidWorkloadThenRestartedCatchesUpWithoutAFullSync() throws Exception {
        System.out.println("fault: tracker killed with SIGKILL mid-workload (" + FILES + " files, sized down from "
                + "production trees to keep the suite fast), changed while down, restarted");
        try (FaultBench bench = FaultBench.create(temp)) {
            Path staged = Workload.stage(bench.outside, 20);
            List<Path> early = bench.workload.createFiles("early", 500, () -> { });
            bench.startTracker();
            bench.awaitTrackerWatching();
            assertEquals("full", bench.sync().mode(), "the route's first run is full");

            int[] directoriesWritten = {0};
            List<Path> during = bench.workload.createFiles("during", FILES, () -> {
                if (++directoriesWritten[0] == FILES / 200) {
                    try {
                        bench.killTracker();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
            });
            assertTrue(!bench.tracker().isAlive(), "the tracker was killed half-way");
            long recordsBeforeRestart = bench.records().size();

            int modified = bench.workload.modify(early, 7);
            List<Path> renamed = bench.workload.rename(List.of(during.get(1), early.get(2)));
            bench.workload.moveIn(staged, "early/moved-in");
            bench.workload.createFiles("while-down", 300, () -> { });

            long restart = System.nanoTime();
            bench.startTracker();
            bench.awaitTrackerWatching();
            long caughtUp = System.nanoTime();
            // RESCAN can reach the queue a moment before the reader thread logs the scan's summary.
            Poll.until(Duration.ofSeconds(30), "the catch-up summary in the tracker's log",
                    () -> bench.trackerLogText().contains("catch-up scan done"));
            String scanLine = bench.trackerLogText().lines().filter(line -> line.contains("catch-up scan done"))
                    .findFirst().orElseThrow();
            List<QueueRecord> scan = bench.records().subList((int) recordsBeforeRestart, bench.records().size());
            long subtrees = scan.stream().filter(record -> record.type() == RecordType.SUBTREE).count();
            long changes = scan.stream().filter(record -> record.type() == RecordType.CHANGE).count();
            Path movedIn = bench.root.resolve("early/moved-in");
            assertTrue(scan.stream().anyMatch(record -> record.type() == RecordType.SUBTREE
                    && movedIn.startsWith(Trees.path(bench.root, record.path()))),
                    "the directory moved in while down (its files keep old times) is sent whole, or an ancestor is: "
                            + scan);

            SyncReport report = bench.sync();
            long synced = System.nanoTime();
            assertEquals("incremental", report.mode(), report.summaryLine());
            assertTrue(report.summaryLine().contains("mode=incremental"), report.summaryLine());

            // A directory the destination had, renamed while down, leaves its old name there until the next full
            // sync (with --delete): nothing recorded the deletion. Everything the source holds is there.
            Path staleOldName = bench.daemon.moduleDirectory().resolve("early/d0002");
            assertTrue(Files.isDirectory(staleOldName), "the old name of a directory renamed while down stays");
            Trees.run(List.of("rm", "-r", staleOldName.toString()), 0);
            bench.assertDestinationEqualsSource();

            bench.workload.modify(renamed, 3);
            bench.awaitRecorded();
            SyncReport after = bench.sync();
            assertEquals("incremental", after.mode(), "the tracker watches again: " + after.summaryLine());
            bench.assertDestinationEqualsSource();
            bench.stopTracker();

            System.out.printf("  catch-up after restart: %d CHANGE and %d SUBTREE records (%d files rewritten, "
                            + "%d directories renamed, 1 moved in, 300 created while down); restart to RESCAN %d ms, "
                            + "incremental sync %d ms, %s%n  tracker: %s%n", changes, subtrees, modified / 7, renamed.size(),
                    (caughtUp - restart) / 1_000_000, (synced - caughtUp) / 1_000_000, report.summaryLine(),
                    scanLine.substring(scanLine.indexOf("catch-up")));
        } catch (UncheckedIOException e) {
            throw new IOException(e);
        }
    }
}
