package org.changeq.nativetests.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.changeq.nativetests.sync.Trees;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.testing.Poll;
import org.changeq.sync.SyncReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault 3: the kernel's inotify queue overflows in two bursts: the tracker is stopped with SIGSTOP while a burst
 * larger than its queue is written, then continued (fs.inotify.max_queued_events is lowered to 64 for the
 * tracker's instance where it is writable, so the bursts stay small). Every overflow is an OVERFLOW record; the route does exactly one full sync for all of
 * them, and the run after it is incremental again.
 */
class OverflowTest {

    private static final long SMALL_QUEUE = 64;

    @TempDir
    Path temp;

    @Test
    void anyNumberOfOverflowsCostsOneFullSync() throws Exception {
        try (FaultBench bench = FaultBench.create(temp)) {
            long queueSize = bench.startTrackerWithSmallInotifyQueue(SMALL_QUEUE);
            // Each rewrite is two events (modify, close-write), in directories watched before the burst (a directory
            // created while the tracker is stopped has no watch yet, so it would queue no events): more than the queue holds.
            int burstFiles = (int) (queueSize / 2 + 100);
            List<Path> directories = bench.workload.createFiles("base", burstFiles, () -> { });
            bench.awaitRecorded();
            System.out.println("fault: kernel inotify queue overflow (queue " + queueSize + " events), two bursts "
                    + "rewriting " + burstFiles + " files while the tracker is stopped with SIGSTOP");
            assertEquals("full", bench.sync().mode(), "first run");

            long started = System.nanoTime();
            burstWhileStopped(bench, directories);
            bench.awaitRecord("an OVERFLOW after the first burst", record -> record.type() == RecordType.OVERFLOW);
            long afterFirst = bench.count(RecordType.OVERFLOW);
            burstWhileStopped(bench, directories);
            bench.awaitRecord("another OVERFLOW after the second burst",
                    record -> record.type() == RecordType.OVERFLOW && bench.count(RecordType.OVERFLOW) > afterFirst);
            bench.awaitRecorded();
            long overflows = bench.count(RecordType.OVERFLOW);
            assertTrue(bench.tracker().isAlive(), "the tracker keeps running after overflows");
            long logged = bench.trackerLogText().lines().filter(line -> line.contains("fs.inotify.max_queued_events")).count();
            assertTrue(logged >= 1 && logged < overflows + 1, logged + " log lines for " + overflows + " overflows");

            SyncReport full = bench.sync();
            long recovered = System.nanoTime();
            assertEquals("full", full.mode(), full.summaryLine());
            assertEquals("overflow", full.reason(), full.summaryLine());
            bench.assertDestinationEqualsSource();

            long overflowsCovered = bench.count(RecordType.OVERFLOW);
            bench.workload.createFiles("after", 100, () -> { });
            bench.awaitRecorded();
            SyncReport next = bench.sync();
            // The queue is small on purpose: on a busy machine even these 100 files can overflow it again, and that
            // new loss, not the ones the full sync covered, would make this run full.
            if (bench.count(RecordType.OVERFLOW) == overflowsCovered) {
                assertEquals("incremental", next.mode(), "one full sync covers every overflow before it: " + next.summaryLine());
            }
            bench.assertDestinationEqualsSource();
            bench.stopTracker();
            System.out.printf("  %d OVERFLOW records, %d log lines naming fs.inotify.max_queued_events, one full sync; "
                    + "bursts to equal destination %d ms%n", overflows, logged, (recovered - started) / 1_000_000);
        }
    }

    /** Rewrites the files of {@code directories} while the tracker is stopped with SIGSTOP, then continues it. */
    static void burstWhileStopped(FaultBench bench, List<Path> directories) throws Exception {
        long pid = bench.tracker().pid();
        Trees.run(List.of("kill", "-STOP", Long.toString(pid)), 0);
        try {
            Poll.until(FaultBench.TIMEOUT, "the tracker to be stopped", () -> processState(pid) == 'T');
            bench.workload.modify(directories, 1);
        } finally {
            Trees.run(List.of("kill", "-CONT", Long.toString(pid)), 0);
        }
    }

    /** The state letter of {@code /proc/PID/stat} (R, S, T, ...). */
    private static char processState(long pid) throws java.io.IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        return stat.charAt(stat.lastIndexOf(')') + 2);
    }
}
