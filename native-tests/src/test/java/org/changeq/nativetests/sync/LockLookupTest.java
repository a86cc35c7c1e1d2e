package org.changeq.nativetests.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.manifest.QueueRefusedException;
import org.changeq.pipeline.manifest.WriterLock;
import org.changeq.pipeline.state.LockHolder;
import org.changeq.pipeline.state.RunProgressFile;
import org.changeq.pipeline.state.StateDirectory;
import org.changeq.pipeline.testing.Poll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who holds a lock on btrfs, where /proc/locks names the file system's device and stat each subvolume's own, and
 * every subvolume numbers its inodes from the same start.
 */
class LockLookupTest {

    @TempDir
    Path tmp;

    @Test
    void onBtrfsTheHolderIsFoundAndALockOnTheSameInodeInAnotherSubvolumeIsNotTakenForIt() throws Exception {
        try (TestMount top = TestMount.btrfsOrSkip(tmp.resolve("btrfs.img"), tmp.resolve("btrfs"))) {
            for (String subvolume : List.of("@a", "@b")) {
                Trees.run(List.of("btrfs", "subvolume", "create", top.point().resolve(subvolume).toString()), 0);
            }
            Path held = top.point().resolve("@a").resolve("route.lock");
            Path other = top.point().resolve("@b").resolve("route.lock");
            Files.createFile(held);
            Files.createFile(other);
            assertEquals(Files.getAttribute(held, "unix:ino"), Files.getAttribute(other, "unix:ino"),
                    "the first file of each subvolume has the same inode number");

            Process holder = new ProcessBuilder("flock", "--exclusive", held.toString(), "cat")
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            try {
                Poll.until(Duration.ofSeconds(20), "flock to take " + held, () -> LockHolder.of(held).held());
                assertEquals(OptionalLong.of(holder.pid()), LockHolder.of(held).pid());
                assertEquals(LockHolder.FREE, LockHolder.of(other));
            } finally {
                holder.getOutputStream().close();
                assertTrue(holder.waitFor(20, TimeUnit.SECONDS));
            }
            assertEquals(LockHolder.FREE, LockHolder.of(held));

            long pid = ProcessHandle.current().pid();
            RunProgressFile.Snapshot running = new RunProgressFile.Snapshot(pid, 1, 2, "full sync", true, 0, 0, 0, -1,
                    -1, false, new byte[0]);
            try (FileChannel channel = StateDirectory.openLock(other); FileLock lock = channel.lock()) {
                assertTrue(RunProgressFile.isLive(running, other));
                assertEquals(OptionalLong.of(pid), LockHolder.of(other).pid());
                assertEquals(LockHolder.FREE, LockHolder.of(held));
            }
        }
    }

    @Test
    void onBtrfsALockWhoseHolderCannotBeSeenIsUnknownNeverFree() throws Exception {
        try (TestMount top = TestMount.btrfsOrSkip(tmp.resolve("btrfs.img"), tmp.resolve("btrfs"))) {
            Trees.run(List.of("btrfs", "subvolume", "create", top.point().resolve("@q").toString()), 0);
            Path queue = Files.createDirectories(top.point().resolve("@q").resolve("queue"));
            Path lockFile = queue.resolve(WriterLock.FILE_NAME);
            long pid = ProcessHandle.current().pid();
            Files.writeString(lockFile, pid + "\n");
            // An open file description's lock: the kernel names no process, so none can be asked what it has open.
            try (ForeignLock holder = ForeignLock.hold(lockFile, ForeignLock.Kind.OPEN_FILE_DESCRIPTION)) {
                assertEquals(LockHolder.Status.UNKNOWN, LockHolder.of(lockFile).status());
                RunProgressFile.Snapshot running = new RunProgressFile.Snapshot(pid, 1, 2, "full sync", true, 0, 0, 0,
                        -1, -1, false, new byte[0]);
                assertTrue(RunProgressFile.isLive(running, lockFile), "a living run is not called dead");
                WriterLock.Holder tracker = WriterLock.holder(queue);
                assertEquals(new WriterLock.Holder(true, OptionalLong.of(pid), tracker.uncertain()), tracker,
                        "presumed from the pid the lock file names");
                assertTrue(tracker.uncertain().isPresent());
                QueueRefusedException refused = assertThrows(QueueRefusedException.class,
                        () -> WriterLock.isHeld(queue));
                assertEquals(ExitCodes.QUEUE_UNAVAILABLE, refused.exitCode());
                assertTrue(refused.getMessage().startsWith("cannot tell whether a changeq-tracker writes the queue "
                        + queue + ": a lock on inode "), refused.getMessage());
            }
            assertEquals(LockHolder.FREE, LockHolder.of(lockFile));
        }
    }
}
