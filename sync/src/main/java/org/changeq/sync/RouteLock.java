package org.changeq.sync;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.state.LockHolder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The exclusive lock of one route: {@code FileChannel.tryLock} on {@code <state>/locks/<route>.lock}.
 * The kernel releases it when the process dies, so a crashed run never blocks the next one. Who holds it is
 * looked up with {@link org.changeq.pipeline.state.LockHolder}, never by taking it.
 * Not thread-safe; held by the run (or the follower) that acquired it until {@link #close}.
 */
final class RouteLock implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RouteLock.class);
    private static final Duration POLL = Duration.ofMillis(200);

    private final Path file;
    private final HeldLock held;

    private RouteLock(Path file, HeldLock held) {
        this.file = file;
        this.held = held;
    }

    Path file() {
        return file;
    }

    /** Takes the lock without waiting. */
    static RouteLock acquire(Path lockFile, String route) throws IOException, SyncException {
        RouteLock lock = tryAcquire(lockFile);
        if (lock == null) {
            throw busy(lockFile, route, Duration.ZERO);
        }
        return lock;
    }

    /**
     * Takes the lock, waiting up to {@code wait} for its holder (a verify, a run started by hand) to let go; not for a
     * follower, which holds {@code followerLock} too and never lets go. The kernel's lock has no timed wait, so this
     * polls it; a holder that dies releases it with its process.
     *
     * @throws SyncException {@code ALREADY_RUNNING} when it is still held after {@code wait}; 143 or 130 when SIGTERM
     *                       or SIGINT came while it waited (systemctl stop must not wait for a verify to end)
     */
    static RouteLock acquire(Path lockFile, Path followerLock, String route, Duration wait) throws IOException,
            SyncException, InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        boolean told = false;
        while (true) {
            RouteLock lock = tryAcquire(lockFile);
            if (lock != null) {
                if (told) {
                    LOG.info("route '{}': its lock is free; the run starts", route);
                }
                return lock;
            }
            LockHolder follower = LockHolder.of(followerLock);
            if (follower.held()) {
                throw new SyncException(ExitCodes.ALREADY_RUNNING, "route '" + route + "' is followed by changeq-sync follow"
                        + follower.pid().stream().filter(pid -> pid > 0).mapToObj(pid -> " (process " + pid + ")")
                        .findFirst().orElse("") + ", which holds its lock " + lockFile + " for as long as it follows;"
                        + " this run does nothing");
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw busy(lockFile, route, wait);
            }
            if (!told) {
                LockHolder holder = LockHolder.of(lockFile);
                LOG.info("route '{}': its lock {} is held{}; waiting up to {} s for it", route, lockFile,
                        holder.pid().isPresent() && holder.pid().getAsLong() > 0 ? " by process " + holder.pid().getAsLong()
                                : "", wait.toSeconds());
                told = true;
            }
            Optional<String> signal = StopSignals.await(Duration.ofNanos(Math.min(POLL.toNanos(), left)));
            if (signal.isPresent()) {
                throw new SyncException(StopSignals.exitCode(signal.get()), "route '" + route + "': stopped by "
                        + signal.get() + " while waiting for its lock; nothing was done");
            }
        }
    }

    /** The lock, or null when another process (or another run inside this JVM) holds it. */
    private static RouteLock tryAcquire(Path lockFile) throws IOException {
        return HeldLock.tryExclusive(lockFile).map(held -> new RouteLock(lockFile, held)).orElse(null);
    }

    private static SyncException busy(Path lockFile, String route, Duration waited) {
        return new SyncException(ExitCodes.ALREADY_RUNNING, "route '" + route + "' is already being synced (lock " + lockFile
                + " is held" + (waited.isZero() ? "" : " after waiting " + waited.toSeconds() + " s") + "); this run"
                + " does nothing. If no changeq-sync is running, the lock is stale only if the file system does not"
                + " support locks");
    }

    @Override
    public void close() throws IOException {
        held.close();
    }
}
