package org.changeq.nativetests.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.changeq.nativetests.sync.Trees;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.testing.Poll;
import org.changeq.sync.SyncReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Directories the tracker knows it does not watch, for the watch limit or because it may not read them, are a gap
 * until they are covered: an OVERFLOW when found and after each retry, and no watermark past the moment the root
 * became incomplete, so that a restart in between catches up on what changed in them.
 */
class CoverageGapTest {

    /** How long a scenario lets pass after its writes: beyond the catch-up scan's safety margin of 2 s. */
    private static final long PAST_THE_CATCH_UP_MARGIN_MILLIS = 2_500;

    @TempDir
    Path temp;

    @Test
    void changesInDirectoriesTheWatchLimitLeftUnwatchedArriveAfterARestartWithEnoughWatches() throws Exception {
        try (FaultBench bench = FaultBench.create(temp)) {
            List<Path> directories = new ArrayList<>();
            for (int i = 1; i <= 20; i++) {
                directories.add(Files.createDirectories(bench.root.resolve(String.format("d%02d", i))));
            }
            // 12 watches for 21 directories: nine stay unwatched.
            bench.startTrackerWithWatchLimit(12);
            bench.awaitTrackerWatching();
            bench.awaitRecord("an OVERFLOW for the directories the limit refused",
                    record -> record.type() == RecordType.OVERFLOW);
            assertTrue(bench.trackerLogText().contains("raise user.max_inotify_watches (current 12) of the user "
                    + "namespace"), "the limit that was hit is named: " + bench.trackerLogText());
            assertEquals("full", bench.sync().mode(), "the route's first run");

            for (Path directory : directories) {
                Files.writeString(directory.resolve("new.txt"), "NEW");
            }
            // Scenario time, not a wait for the tracker: the restart comes well after the writes, as an admin's
            // restart after raising the limit does, and before the next retry (60 s).
            Thread.sleep(PAST_THE_CATCH_UP_MARGIN_MILLIS);
            // A change in a watched directory, which lets the watermark move on (file times share one clock).
            Path tick = Files.writeString(bench.root.resolve("tick.txt"), "tick");
            bench.awaitRecorded();
            Path watermark = new StateLayout(bench.state).trackerWatermark().path();
            Poll.until(FaultBench.TIMEOUT, "a watermark stored after the change in a watched directory", () ->
                    Files.getLastModifiedTime(watermark).compareTo(Files.getLastModifiedTime(tick)) >= 0);
            bench.stopTracker();

            bench.startTracker();
            bench.awaitTrackerWatching();
            SyncReport afterRestart = bench.sync();
            bench.assertDestinationEqualsSource();
            System.out.println("  after the restart: " + afterRestart.summaryLine());
            bench.stopTracker();
        }
    }

    @Test
    void aDirectoryTheTrackerMayNotReadIsAnOverflowAndItsChangesArrive() throws Exception {
        try (FaultBench bench = FaultBench.create(temp)) {
            Path denied = Files.createDirectories(bench.root.resolve("fuse-mount"));
            Files.writeString(denied.resolve("old.txt"), "old");
            Trees.run(List.of("chown", "-R", "nobody:nogroup", denied.toString()), 0);
            Files.setPosixFilePermissions(denied, PosixFilePermissions.fromString("rwx------"));

            bench.startTrackerWithoutReadingOthersFiles();
            bench.awaitTrackerWatching();
            bench.awaitRecord("an OVERFLOW for the directory the tracker may not read",
                    record -> record.type() == RecordType.OVERFLOW);
            assertTrue(bench.trackerLogText().contains("fuse-mount) failed: EACCES"), bench.trackerLogText());
            assertTrue(bench.trackerLogText().contains("covered only by full syncs"), bench.trackerLogText());
            assertEquals("full", bench.sync().mode(), "the route's first run");

            Files.writeString(denied.resolve("new.txt"), "important");
            Thread.sleep(PAST_THE_CATCH_UP_MARGIN_MILLIS);
            bench.awaitRecorded();
            bench.stopTracker();
            bench.startTrackerWithoutReadingOthersFiles();
            bench.awaitTrackerWatching();
            bench.awaitRecorded();

            SyncReport afterRestart = bench.sync();
            assertEquals("full", afterRestart.mode(), "only a full sync knows what changed in it: "
                    + afterRestart.summaryLine());
            bench.assertDestinationEqualsSource();
            bench.stopTracker();
            assertTrue(Pattern.compile("stopped; \\d+ records appended, [1-9]\\d* overflows recorded")
                    .matcher(bench.trackerLogText()).find(), "the summary counts the OVERFLOW it recorded: "
                    + bench.trackerLogText());
        }
    }
}
