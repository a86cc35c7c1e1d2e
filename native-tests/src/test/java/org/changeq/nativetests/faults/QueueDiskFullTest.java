package org.changeq.nativetests.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import org.changeq.nativetests.sync.Trees;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.pipeline.testing.Poll;
import org.changeq.sync.SyncReport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

/**
 * Fault 5: the queue's file system fills up (a small tmpfs mounted for the queue). The tracker logs the failed
 * append and exits with QUEUE_WRITE_FAILED, as systemd would see it; started again once space is freed, its
 * catch-up scan covers what it could not record and the next sync is incremental.
 */
// Chronicle's disk-space check runs in the background and may or may not come round while the disk is full.
@ExpectLog(level = Level.ERROR, logger = "DiskSpaceMonitor", contains = "is almost full")
class QueueDiskFullTest {

    @TempDir
    Path temp;

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "no changeq-tracker holds the queue")
    void aFullQueueDiskStopsTheTrackerAndTheRestartCatchesUp() throws Exception {
        System.out.println("fault: queue on a 4 MiB tmpfs that fills up; 3,000 files changed meanwhile");
        Path mount = Files.createDirectories(temp.resolve("queue-fs"));
        mountSmallTmpfsOrSkip(mount);
        try (FaultBench bench = FaultBench.withQueue(temp.resolve("bench"), mount.resolve("queue"))) {
            bench.workload.createFiles("base", 500, () -> { });
            bench.startTracker();
            bench.awaitTrackerWatching();
            assertEquals("full", bench.sync().mode(), "first run");
            OptionalLong cursor = bench.cursor();

            Path filler = mount.resolve("filler");
            fill(filler, Files.getFileStore(mount).getUsableSpace() - 16 * 1024);
            long started = System.nanoTime();
            bench.workload.createFiles("while-full", 3_000, () -> { });
            Process tracker = bench.tracker();
            Poll.until(FaultBench.TIMEOUT, "the tracker to exit on the full queue disk; log: " + bench.trackerLogText(),
                    () -> !tracker.isAlive());
            assertEquals(ExitCodes.QUEUE_WRITE_FAILED, tracker.exitValue(), bench.trackerLogText());
            assertTrue(bench.trackerLogText().contains("cannot append to the manifest queue"), bench.trackerLogText());
            SyncReport meanwhile = bench.sync();
            System.out.println("  sync while the tracker is down: " + meanwhile.summaryLine());

            Files.delete(filler);
            bench.startTracker();
            bench.awaitTrackerWatching();
            SyncReport report = bench.sync();
            long millis = (System.nanoTime() - started) / 1_000_000;
            assertEquals("incremental", report.mode(), "the RESCAN heals the gap: " + report.summaryLine());
            assertTrue(bench.cursor().getAsLong() > cursor.getAsLong());
            bench.assertDestinationEqualsSource();
            bench.stopTracker();
            System.out.println("  disk full to equal destination (restart, catch-up, incremental sync): " + millis + " ms");
        } finally {
            Trees.run(List.of("umount", "-l", mount.toString()), -1);
        }
    }

    private static void mountSmallTmpfsOrSkip(Path mount) throws IOException, InterruptedException {
        Process process = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mount.toString())
                .redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes());
        if (process.waitFor() != 0) {
            String reason = "cannot mount a tmpfs for the queue (needs root and mount rights): " + out.strip();
            System.out.println("  skipped: " + reason);
            Assumptions.abort(reason);
        }
    }

    private static void fill(Path file, long bytes) throws IOException {
        byte[] block = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long written = 0; written < bytes; written += block.length) {
                out.write(block, 0, (int) Math.min(block.length, bytes - written));
            }
        }
    }
}
