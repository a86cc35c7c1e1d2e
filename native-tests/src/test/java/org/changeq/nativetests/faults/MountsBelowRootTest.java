package org.changeq.nativetests.faults;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.changeq.nativetests.sync.TestMount;
import org.changeq.nativetests.sync.Trees;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.sync.SyncException;
import org.changeq.sync.SyncRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

/**
 * File systems mounted and unmounted below a root while the real tracker runs: the tracker records the change and
 * watches what is visible now, and no run deletes at the destination below a mount point whose file system is not
 * the one the route synced until the operator accepts it. Needs root (mount); skipped without it.
 */
class MountsBelowRootTest {

    @TempDir
    Path temp;

    private final List<TestMount> mounts = new ArrayList<>();

    @AfterEach
    void unmount() throws IOException, InterruptedException {
        for (TestMount mount : mounts) {
            mount.close();
        }
    }

    private static List<SyncRequest> normalAndForcedFull() {
        return List.of(SyncRequest.of(FaultBench.ROUTE), SyncRequest.of(FaultBench.ROUTE).withFull());
    }

    private static long filesIn(Path directory) throws IOException {
        try (Stream<Path> paths = Files.walk(directory)) {
            return paths.filter(Files::isRegularFile).count();
        }
    }

    private static void awaitNewOverflow(FaultBench bench, long overflowsBefore) throws InterruptedException {
        bench.awaitRecord("a new OVERFLOW", record -> record.type() == RecordType.OVERFLOW
                && bench.count(RecordType.OVERFLOW) > overflowsBefore);
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "the file systems mounted below it are not the ones")
    void aFileSystemUnmountedBelowTheRootKeepsEveryDestinationFileBelowItsMountPointUntilItIsBack() throws Exception {
        try (FaultBench bench = FaultBench.create(temp.resolve("bench"))) {
            Path media = bench.root.resolve("media");
            TestMount disk = TestMount.ext4OrSkip(temp.resolve("media.img"), media);
            mounts.add(disk);
            for (int i = 0; i < 20; i++) {
                Trees.write(media, "photo-" + i, "photo " + i);
            }
            for (int i = 0; i < 60; i++) {
                Trees.write(bench.root, "bulk/f" + i, "file " + i);
            }
            bench.startTracker();
            bench.awaitTrackerWatching();
            assertEquals(ExitCodes.OK, bench.sync().exitCode());
            Path destMedia = bench.daemon.moduleDirectory().resolve("media");
            assertEquals(20, filesIn(destMedia));

            long overflows = bench.count(RecordType.OVERFLOW);
            disk.unmount();
            // The tracker makes the next run full: with --delete, it would remove what is no longer visible.
            awaitNewOverflow(bench, overflows);
            for (SyncRequest request : normalAndForcedFull()) {
                SyncException refused = assertThrows(SyncException.class, () -> bench.sync(request));
                assertEquals(ExitCodes.ROOT_UNAVAILABLE, refused.exitCode());
                String message = refused.getMessage();
                assertTrue(message.contains(media + " had /dev/loop") && message.contains("(ext4, /) mounted, and is now"
                        + " a directory of the file system above it") && message.contains("Fix: mount " + media)
                        && message.contains("--accept-root-change"), message);
                assertEquals(20, filesIn(destMedia), "the destination keeps every file below the mount point");
            }

            disk.mountAgain();
            assertEquals(ExitCodes.OK, bench.sync().exitCode());
            assertEquals(ExitCodes.OK, bench.sync(SyncRequest.of(FaultBench.ROUTE).withFull()).exitCode());
            bench.assertDestinationEqualsSource();
        }
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "mounted over it, and was a directory of")
    @ExpectLog(level = Level.WARN, logger = "CopyGuard", contains = "accepted by --accept-root-change")
    void aFileSystemMountedOverADirectoryIsWatchedAndDeletesNothingOfTheHiddenCopyUntilAccepted() throws Exception {
        try (FaultBench bench = FaultBench.create(temp.resolve("bench"))) {
            Path photos = bench.root.resolve("photos");
            for (int i = 0; i < 3; i++) {
                Trees.write(photos, "hidden-" + i, "hidden " + i);
            }
            for (int i = 0; i < 40; i++) {
                Trees.write(bench.root, "bulk/f" + i, "file " + i);
            }
            bench.startTracker();
            bench.awaitTrackerWatching();
            assertEquals(ExitCodes.OK, bench.sync().exitCode());
            Path destPhotos = bench.daemon.moduleDirectory().resolve("photos");

            long overflows = bench.count(RecordType.OVERFLOW);
            mounts.add(TestMount.tmpfsOrSkip(photos));
            awaitNewOverflow(bench, overflows);
            // Written once the tracker recorded the change: its watches are on the new file system by then.
            Files.writeString(photos.resolve("on-the-new-mount"), "new");
            bench.awaitRecord("a CHANGE of photos/on-the-new-mount", record -> record.type() == RecordType.CHANGE
                    && new String(record.path(), UTF_8).equals("photos/on-the-new-mount"));

            for (SyncRequest request : normalAndForcedFull()) {
                SyncException refused = assertThrows(SyncException.class, () -> bench.sync(request));
                assertEquals(ExitCodes.ROOT_UNAVAILABLE, refused.exitCode());
                String message = refused.getMessage();
                assertTrue(message.contains(photos + " has changeq-test (tmpfs, /) mounted over it")
                        && message.contains("Fix: unmount " + photos) && message.contains("--accept-root-change"), message);
                assertEquals(3, filesIn(destPhotos), "the hidden directory's copy is kept");
            }

            assertEquals(ExitCodes.OK, bench.sync(SyncRequest.of(FaultBench.ROUTE).acceptingRootChange()).exitCode());
            assertTrue(Files.isRegularFile(destPhotos.resolve("on-the-new-mount")));
            bench.assertDestinationEqualsSource();
            assertEquals(ExitCodes.OK, bench.sync().exitCode(), "the new file system is the route's from now on");
        }
    }
}
