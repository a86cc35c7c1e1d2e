package org.changeq.pipeline.state;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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
    void theTableGivesTheGrantedExclusiveLocksOnTheirDevicesWhateverTheDevicesNumbers() {
        String table = """
                1: POSIX  ADVISORY  WRITE 4711 103:03:77 0 EOF
                1: -> POSIX  ADVISORY  WRITE 4712 103:03:88 0 EOF
                2: POSIX  ADVISORY  READ 4713 103:03:88 0 EOF
                3: FLOCK  ADVISORY  WRITE 4714 00:1234:88 0 EOF
                4: OFDLCK ADVISORY  WRITE -1 103:03:99 0 EOF
                5: POSIX  ADVISORY  WRITE 0 103:03:100 0 3
                """;
        List<LockHolder.Lock> locks = LockHolder.exclusiveLocks(table.getBytes(US_ASCII));
        assertEquals(List.of(new LockHolder.Lock(4711, 0x103, 3, 77), new LockHolder.Lock(4714, 0, 0x1234, 88),
                new LockHolder.Lock(-1, 0x103, 3, 99), new LockHolder.Lock(0, 0x103, 3, 100)), locks,
                "neither a waiter nor a reader's shared lock");
        assertTrue(locks.get(0).isOn(makedev(0x103, 3)));
        assertFalse(locks.get(0).isOn(makedev(0x103, 4)));
        assertFalse(locks.get(0).isOn(makedev(0x3, 0x103)));
        assertTrue(locks.get(1).isOn(makedev(0, 0x1234)), "an anonymous device's minor above 255");
    }

    /** glibc's makedev(): how stat encodes a device, which {@link LockHolder.Lock#isOn} decodes. */
    private static long makedev(long major, long minor) {
        return ((major & 0xfffff000L) << 32) | ((major & 0xfffL) << 8) | ((minor & 0xffffff00L) << 12)
                | (minor & 0xffL);
    }
}
