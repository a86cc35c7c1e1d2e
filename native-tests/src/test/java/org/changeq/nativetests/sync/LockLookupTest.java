package org.changeq.nativetests.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
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
}
