package org.changeq.sync;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.state.StateDirectory;

/**
 * The exclusive lock of one route: {@code FileChannel.tryLock} on {@code <state>/locks/<route>.lock}.
 * The kernel releases it when the process dies, so a crashed run never blocks the next one. Who holds it is
 * looked up with {@link org.changeq.pipeline.state.LockHolder}, never by taking it.
 * Not thread-safe; held by the run (or the follower) that acquired it until {@link #close}.
 */
final class RouteLock implements AutoCloseable {

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private RouteLock(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    Path file() {
        return file;
    }

    /** Takes the lock without waiting. */
    static RouteLock acquire(Path lockFile, String route) throws IOException, SyncException {
        FileChannel channel = StateDirectory.openLock(lockFile);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held by another run inside this JVM
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            channel.close();
            throw new SyncException(ExitCodes.ALREADY_RUNNING, "route '" + route + "' is already being synced (lock " + lockFile
                    + " is held); this run does nothing. If no changeq-sync is running, the lock is stale only "
                    + "if the file system does not support locks");
        }
        return new RouteLock(lockFile, channel, lock);
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
