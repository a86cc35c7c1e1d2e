package org.changeq.nativetests.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import org.changeq.nativetests.sync.ChildJvm;
import org.changeq.nativetests.sync.Trees;
import org.changeq.pipeline.inspect.QueueMain;
import org.changeq.tracker.TrackerMain;
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
            assertSaysTheDiskIsFull(bench, ChildJvm.command(QueueMain.class, List.of("stat", "--config",
                    bench.configFile().toString())), "queue-stat");
            assertSaysTheDiskIsFull(bench, ChildJvm.command(TrackerMain.class, List.of("--config",
                    bench.configFile().toString())), "tracker-while-full");

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

    /**
     * While the queue's disk is still full, a program that opens the queue exits {@link ExitCodes#QUEUE_WRITE_FAILED}
     * with one sentence saying so, not a stack trace.
     */
    private static void assertSaysTheDiskIsFull(FaultBench bench, ProcessBuilder program, String name)
            throws IOException, InterruptedException {
        Path err = bench.directory.resolve(name + ".err");
        Process process = program.redirectOutput(bench.directory.resolve(name + ".out").toFile())
                .redirectError(err.toFile()).start();
        assertTrue(process.waitFor(FaultBench.TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS), name);
        String stderr = Files.readString(err);
        assertEquals(ExitCodes.QUEUE_WRITE_FAILED, process.exitValue(), name + ": " + stderr);
        assertTrue(stderr.contains("is full"), name + ": " + stderr);
        assertFalse(stderr.contains("InternalError") || stderr.contains("\tat "), name + ": " + stderr);
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
