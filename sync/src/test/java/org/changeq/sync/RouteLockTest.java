package org.changeq.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.state.LockHolder;
import org.changeq.pipeline.state.RunProgressFile;
import org.changeq.pipeline.state.RunProgressFile.Snapshot;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.testing.Poll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A route's lock against those who only look at it: changeq-queue stat, a dry run. */
class RouteLockTest {

    private static final long PID = ProcessHandle.current().pid();
    private static final Snapshot RUNNING = new Snapshot(PID, 1, 2, "full sync", true, 0, 0, 0, -1, -1, false,
            new byte[0]);

    @TempDir
    Path state;

    private Path lockFile() {
        return new StateLayout(state).routeLock("mirror");
    }

    private Path followerLock() {
        return new StateLayout(state).followerLock("mirror");
    }

    @Test
    void aRunStartsWhileAStatusReaderInspectsTheRouteOverAndOver() throws Exception {
        Path lockFile = lockFile();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong probes = new AtomicLong();
        AtomicReference<Throwable> readerFailed = new AtomicReference<>();
        Thread reader = new Thread(() -> {
            try {
                while (!stop.get()) {
                    RunProgressFile.isLive(RUNNING, lockFile);
                    probes.incrementAndGet();
                }
            } catch (Exception | Error e) {
                readerFailed.set(e);
            }
        }, "status-reader");
        reader.start();
        int runs = 0;
        try {
            // Both sides go on until each has met the other many times, however the threads are scheduled.
            while (runs < 2_000 || probes.get() < 2_000) {
                try (RouteLock lock = RouteLock.acquire(lockFile, "mirror")) {
                    runs++;
                }
                assertTrue(readerFailed.get() == null, () -> "the reader failed: " + readerFailed.get());
            }
        } finally {
            stop.set(true);
            reader.join();
        }
        assertEquals(null, readerFailed.get());
    }

    @Test
    void aRunStartsWhileAStatusReaderInAnotherProcessInspectsTheRouteOverAndOver() throws Exception {
        Path lockFile = lockFile();
        Files.createDirectories(lockFile.getParent());
        Process reader = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), StatusReaderMain.class.getName(), lockFile.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(reader.getInputStream(), UTF_8))) {
            assertEquals("probing", out.readLine());
            for (int run = 0; run < 5_000; run++) {
                try (RouteLock lock = RouteLock.acquire(lockFile, "mirror")) {
                    assertEquals(lockFile, lock.file());
                }
            }
            reader.getOutputStream().close();
            assertTrue(Long.parseLong(out.readLine()) > 1, "the reader asked while the runs started");
        } finally {
            reader.getOutputStream().close();
            assertTrue(reader.waitFor(60, TimeUnit.SECONDS), "the reader did not stop");
        }
    }

    @Test
    void inspectingTheRouteFromTheRunsOwnProcessLeavesItsLockHeld() throws Exception {
        try (RouteLock lock = RouteLock.acquire(lockFile(), "mirror")) {
            assertTrue(RunProgressFile.isLive(RUNNING, lockFile()));
            assertEquals(OptionalLong.of(PID), LockHolder.of(lockFile()).pid(),
                    "the kernel must still list this process as the lock's holder");
        }
        assertEquals(LockHolder.FREE, LockHolder.of(lockFile()));
    }

    @Test
    void aRunThatMayWaitStartsOnceTheHolderLetsGo() throws Exception {
        Path lockFile = lockFile();
        AtomicReference<Object> waited = new AtomicReference<>();
        Thread waiter;
        try (RouteLock verify = RouteLock.acquire(lockFile, "mirror")) {
            waiter = new Thread(() -> {
                try (RouteLock run = RouteLock.acquire(lockFile, followerLock(), "mirror", Duration.ofMinutes(5))) {
                    waited.set(run.file());
                } catch (Exception e) {
                    waited.set(e);
                }
            }, "waiting-run");
            waiter.start();
            Poll.until(Duration.ofSeconds(30), "the run to wait for the lock",
                    () -> waiter.getState() == Thread.State.TIMED_WAITING);
            assertEquals(null, waited.get(), "the run did not start while the lock was held");
        }
        waiter.join(TimeUnit.SECONDS.toMillis(30));
        assertEquals(lockFile, waited.get(), "the run took the lock once it was let go");
    }

    @Test
    void aRunThatMayWaitGivesUpAfterItsWaitWithExit7() throws Exception {
        Path lockFile = lockFile();
        try (RouteLock verify = RouteLock.acquire(lockFile, "mirror")) {
            SyncException busy = assertThrows(SyncException.class,
                    () -> RouteLock.acquire(lockFile, followerLock(), "mirror", Duration.ofSeconds(1)));
            assertEquals(ExitCodes.ALREADY_RUNNING, busy.exitCode());
            assertTrue(busy.getMessage().contains("is held after waiting 1 s"), busy.getMessage());
        }
    }

    @Test
    void aRunThatMayWaitGivesUpAtOnceOnAFollowerWhichNeverLetsGo() throws Exception {
        try (RouteLock route = RouteLock.acquire(lockFile(), "mirror");
             RouteLock follower = RouteLock.acquire(followerLock(), "mirror")) {
            long started = System.nanoTime();
            SyncException busy = assertThrows(SyncException.class,
                    () -> RouteLock.acquire(lockFile(), followerLock(), "mirror", Duration.ofHours(1)));
            assertEquals(ExitCodes.ALREADY_RUNNING, busy.exitCode());
            assertTrue(busy.getMessage().contains("is followed by changeq-sync follow (process " + PID + ")"),
                    busy.getMessage());
            assertTrue(System.nanoTime() - started < Duration.ofMinutes(1).toNanos(), "gave up without waiting its hour");
        }
    }
}
