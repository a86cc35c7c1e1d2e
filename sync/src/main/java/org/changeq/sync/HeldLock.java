package org.changeq.sync;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.util.Optional;
import org.changeq.pipeline.state.StateDirectory;

/**
 * A kernel lock on a whole state file and the channel that holds it: closing releases both. The kernel releases the
 * lock when the process dies. Not thread-safe.
 */
record HeldLock(FileChannel channel, FileLock lock) implements AutoCloseable {

    /**
     * The file's exclusive lock without waiting; empty while another process holds it, or this JVM does (the kernel's
     * locks belong to the process, so Java refuses a second one in it instead).
     */
    static Optional<HeldLock> tryExclusive(Path file) throws IOException {
        FileChannel channel = StateDirectory.openLock(file);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        if (lock == null) {
            channel.close();
            return Optional.empty();
        }
        return Optional.of(new HeldLock(channel, lock));
    }

    /** The shared lock on the file {@code channel} has open, waiting for an exclusive holder; closes it on failure. */
    static HeldLock shared(FileChannel channel) throws IOException {
        try {
            return new HeldLock(channel, channel.lock(0, Long.MAX_VALUE, true));
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
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
