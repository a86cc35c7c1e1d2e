package org.changeq.pipeline.state;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.changeq.pipeline.state.LockHolder.Status;
import org.changeq.pipeline.testing.Poll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The holder of a lock as /proc/locks tells it, against real locks of this process and of another one. */
class LockHolderTest {

    private static final long PID = ProcessHandle.current().pid();

    @TempDir
    Path dir;

    @Test
    void aFileChannelsLockIsFoundWithThisProcessAsItsHolderAndASharedOneIsNot() throws Exception {
        Path lockFile = dir.resolve("locks").resolve("route.lock");
        assertEquals(LockHolder.FREE, LockHolder.of(lockFile), "no lock file: no holder");
        try (FileChannel channel = StateDirectory.openLock(lockFile)) {
            assertEquals(LockHolder.FREE, LockHolder.of(lockFile));
            try (FileLock exclusive = channel.lock()) {
                assertEquals(new LockHolder(Status.HELD, OptionalLong.of(PID), ""), LockHolder.of(lockFile));
                assertTrue(exclusive.isValid());
            }
            assertEquals(LockHolder.FREE, LockHolder.of(lockFile));
            try (FileLock shared = channel.lock(0, Long.MAX_VALUE, true)) {
                assertEquals(LockHolder.FREE, LockHolder.of(lockFile), "a reader's shared lock holds nothing");
            }
        }
    }

    @Test
    void anotherProcesssFlockIsFoundWithItsPid() throws Exception {
        Path lockFile = dir.resolve("other.lock");
        Files.createFile(lockFile);
        // flock(1) keeps the lock while cat waits for its input, which closing stdin ends.
        Process holder = new ProcessBuilder("flock", "--exclusive", lockFile.toString(), "cat")
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            Poll.until(Duration.ofSeconds(20), "flock to take " + lockFile, () -> LockHolder.of(lockFile).held());
            assertEquals(OptionalLong.of(holder.pid()), LockHolder.of(lockFile).pid());
        } finally {
            holder.getOutputStream().close();
            assertTrue(holder.waitFor(20, TimeUnit.SECONDS));
        }
        assertEquals(LockHolder.FREE, LockHolder.of(lockFile));
    }

    @Test
    void theTableIsMatchedByDeviceAndInodeWhateverTheDevicesNumbers() {
        long nvme = makedev(259, 3);
        long anonymous = makedev(0, 0x1234);
        String table = """
                1: POSIX  ADVISORY  WRITE 4711 103:03:77 0 EOF
                1: -> POSIX  ADVISORY  WRITE 4712 103:03:88 0 EOF
                2: POSIX  ADVISORY  READ 4713 103:03:88 0 EOF
                3: FLOCK  ADVISORY  WRITE 4714 00:1234:88 0 EOF
                4: OFDLCK ADVISORY  WRITE -1 103:03:99 0 EOF
                5: POSIX  ADVISORY  WRITE 0 103:03:100 0 EOF
                """;
        assertEquals(new LockHolder(Status.HELD, OptionalLong.of(4711), ""), in(table, nvme, 77));
        assertEquals(LockHolder.FREE, in(table, makedev(259, 4), 66), "no lock on that inode anywhere");
        assertEquals(new LockHolder(Status.HELD, OptionalLong.of(4714), ""), in(table, anonymous, 88));
        assertEquals(new LockHolder(Status.HELD, OptionalLong.empty(), ""), in(table, nvme, 99),
                "an open file description's lock names no process");
        assertEquals(new LockHolder(Status.HELD, OptionalLong.empty(), ""), in(table, nvme, 100),
                "a holder outside this pid namespace");
        assertEquals(Status.UNKNOWN, in(table, makedev(0, 0x33), 77).status(),
                "the same inode locked on another device may be this file seen through a btrfs subvolume");
    }

    private static LockHolder in(String table, long device, long inode) {
        return LockHolder.in(table.getBytes(US_ASCII), device, inode);
    }

    /** glibc's makedev(): how stat encodes a device, which {@link LockHolder} decodes. */
    private static long makedev(long major, long minor) {
        return ((major & 0xfffff000L) << 32) | ((major & 0xfffL) << 8) | ((minor & 0xffffff00L) << 12)
                | (minor & 0xffL);
    }
}
