package org.changeq.nativetests.faults;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.changeq.nativetests.sync.Trees;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.testing.Poll;
import org.changeq.sync.SyncReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault 4: fs.inotify.max_user_watches runs out while the tracker runs (lowered to what this user already uses, so
 * the next directories cannot be watched). The tracker keeps running, records OVERFLOW, logs the limit to raise;
 * the next sync is full. Once the limit is back and deleted directories free watches, it watches the rest.
 */
class WatchLimitTest {

    @TempDir
    Path temp;

    @Test
    void runningOutOfWatchesKeepsTheTrackerRunningAndCostsFullSyncsUntilWatchesAreBack() throws Exception {
        System.out.println("fault: fs.inotify.max_user_watches reached while running (1,000 files in new directories)");
        try (FaultBench bench = FaultBench.create(temp)) {
            bench.workload.createFiles("base", 1_000, () -> { });
            bench.startTracker();
            bench.awaitTrackerWatching();
            assertEquals("full", bench.sync().mode(), "first run");

            List<Path> unwatched;
            long started;
            try (Sysctl watches = Sysctl.writableOrSkip("fs.inotify.max_user_watches", 8192)) {
                long used = watchesOfThisUser();
                watches.set(used);
                started = System.nanoTime();
                unwatched = bench.workload.createFiles("new", 1_000, () -> { });
                bench.awaitRecord("an OVERFLOW for the directories the limit refused",
                        record -> record.type() == RecordType.OVERFLOW);
                System.out.println("  max_user_watches lowered from " + watches.originalValue() + " to " + used
                        + " (in use) for " + (System.nanoTime() - started) / 1_000_000 + " ms");
            }
            assertTrue(bench.tracker().isAlive(), "the tracker keeps running");
            String log = bench.trackerLogText();
            assertTrue(log.contains("raise fs.inotify.max_user_watches") && log.contains("needed about"), log);

            bench.workload.modify(unwatched, 2);
            bench.awaitRecorded();
            SyncReport full = bench.sync();
            assertEquals("full", full.mode(), full.summaryLine());
            assertEquals("overflow", full.reason(), full.summaryLine());
            bench.assertDestinationEqualsSource();
            long recovered = System.nanoTime();

            // Deleting a directory frees a watch: the tracker tries the unwatched directories again, and now that
            // the limit is back, watches all of them.
            Trees.run(List.of("rm", "-r", bench.root.resolve("base/d0000").toString()), 0);
            Poll.until(FaultBench.TIMEOUT, "the tracker to watch every directory again; log: " + bench.trackerLogText(),
                    () -> bench.trackerLogText().contains("every directory is watched again"));
            Path late = unwatched.get(unwatched.size() - 1).resolve("late");
            Files.writeString(late, "after the retry");
            bench.awaitRecord("a CHANGE of a file in a directory watched by the retry", record ->
                    record.type() == RecordType.CHANGE && new String(record.path(), UTF_8).endsWith("/late"));
            SyncReport afterRetry = bench.sync();
            assertEquals("full", afterRetry.mode(), "changes until the retry were not recorded: "
                    + afterRetry.summaryLine());
            bench.assertDestinationEqualsSource();

            bench.workload.modify(unwatched, 3);
            bench.awaitRecorded();
            SyncReport incremental = bench.sync();
            assertEquals("incremental", incremental.mode(), incremental.summaryLine());
            bench.assertDestinationEqualsSource();
            bench.stopTracker();
            System.out.println("  limit reached to equal destination (full sync): " + (recovered - started) / 1_000_000
                    + " ms; after the retry, syncs are incremental again");
        }
    }

    /** inotify watches held by processes of this user (the limit is per user): the {@code inotify wd:} lines of fdinfo. */
    private static long watchesOfThisUser() throws IOException {
        int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        long watches = 0;
        try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
            for (Path process : processes.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
                try (Stream<Path> descriptors = Files.list(process.resolve("fdinfo"))) {
                    if ((Integer) Files.getAttribute(process, "unix:uid") != uid) {
                        continue;
                    }
                    for (Path descriptor : descriptors.toList()) {
                        try (Stream<String> lines = Files.lines(descriptor)) {
                            watches += lines.filter(line -> line.startsWith("inotify wd:")).count();
                        } catch (IOException | java.io.UncheckedIOException gone) {
                            // the descriptor closed meanwhile
                        }
                    }
                } catch (IOException | java.io.UncheckedIOException gone) {
                    // the process exited meanwhile, or is not ours to read
                }
            }
        }
        return watches;
    }
}
