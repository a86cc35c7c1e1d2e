package org.changeq.pipeline.manifest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.PermissionDenied;
import org.changeq.pipeline.state.LockHolder;
import org.changeq.pipeline.state.StateDirectory;

/**
 * The queue's one-writer lock: an exclusive lock on {@value #FILE_NAME} inside the queue directory (Chronicle
 * ignores the file), taken before the appender exists and held until the writer has closed the queue. Whatever
 * state directory a process names, a second writer on the same queue is refused. The file holds the holder's
 * pid. Acquiring it also binds the queue to its state directory ({@link QueueIdentity}).
 *
 * <p>The lock is a POSIX record lock, released by the kernel when the holder dies. Such locks belong to the
 * process and closing any descriptor of the file drops them, so this process never opens the file a second
 * time while it holds the lock. Thread-safe.
 */
public final class WriterLock implements AutoCloseable {

    public static final String FILE_NAME = "changeq-writer.lock";
    /** Queue directories (real paths) whose lock this process holds. */
    private static final Set<Path> HELD_HERE = ConcurrentHashMap.newKeySet();

    private final Path queueDirectory;
    private final Path key;
    private final FileChannel channel;
    private final FileLock lock;
    private final QueueIdentity identity;
    private boolean released;

    private WriterLock(Path queueDirectory, Path key, FileChannel channel, FileLock lock, QueueIdentity identity) {
        this.queueDirectory = queueDirectory;
        this.key = key;
        this.channel = channel;
        this.lock = lock;
        this.identity = identity;
    }

    /**
     * Creates the queue directory if needed, takes its writer lock, and binds the queue to {@code stateDirectory}:
     * a queue without an identity gets one naming it.
     *
     * @throws QueueRefusedException with {@link ExitCodes#ALREADY_RUNNING} when another writer holds the queue;
     *                               with {@link ExitCodes#QUEUE_UNAVAILABLE} when the queue belongs to another
     *                               state directory, or the directory or lock file cannot be created
     */
    public static WriterLock acquire(Path queueDirectory, Path stateDirectory) {
        Path key;
        try {
            StateDirectory.createDirectories(queueDirectory);
            key = queueDirectory.toRealPath();
        } catch (IOException e) {
            throw new QueueRefusedException(ExitCodes.QUEUE_UNAVAILABLE, "cannot create the queue directory "
                    + queueDirectory + ": " + PermissionDenied.sentenceOr(e,
                    e + "; check that its parent exists and is writable by this user"), e);
        }
        Path lockFile = queueDirectory.resolve(FILE_NAME);
        if (!HELD_HERE.add(key)) {
            throw alreadyRunning(queueDirectory, lockFile, " (pid " + ProcessHandle.current().pid() + ", this one)");
        }
        FileChannel channel = null;
        try {
            channel = StateDirectory.openLock(lockFile);
            FileLock lock = tryLock(channel);
            if (lock == null) {
                throw alreadyRunning(queueDirectory, lockFile, holder(channel));
            }
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n")
                    .getBytes(StandardCharsets.US_ASCII)), 0);
            return new WriterLock(queueDirectory, key, channel, lock, bind(queueDirectory, stateDirectory));
        } catch (IOException | RuntimeException e) {
            HELD_HERE.remove(key);
            closeQuietly(channel);
            if (e instanceof QueueRefusedException refused) {
                throw refused;
            }
            throw new QueueRefusedException(ExitCodes.QUEUE_UNAVAILABLE, "cannot take the writer lock "
                    + lockFile + ": " + PermissionDenied.sentenceOr(e,
                    e + "; check that the queue directory is writable by this user"), e);
        }
    }

    /**
     * Whether a live writer holds the queue's lock, looked up without taking it ({@link LockHolder}): a tracker
     * starting at that instant must not find it taken. Any thread, any process, any user.
     *
     * @return false also when the queue has no lock file (no writer of this version ever ran on it)
     * @throws QueueRefusedException with {@link ExitCodes#QUEUE_UNAVAILABLE} when it cannot be told ({@link
     *                               Holder#uncertain}): a sync that believed a stopped tracker alive would trust a
     *                               queue nobody fills
     */
    public static boolean isHeld(Path queueDirectory) throws IOException {
        Holder holder = holder(queueDirectory);
        if (holder.uncertain().isPresent()) {
            throw new QueueRefusedException(ExitCodes.QUEUE_UNAVAILABLE, "cannot tell whether a changeq-tracker "
                    + "writes the queue " + queueDirectory + ": " + holder.uncertain().get(), null);
        }
        return holder.held();
    }

    /**
     * Who writes the queue: whether a live writer holds the lock and its pid, as the kernel names it, or else the
     * one the lock file names, which is the last holder's after it ended.
     *
     * @param held      whether a writer holds the lock; when the kernel's table cannot tell, a presumption: that
     *                  the process the lock file names is alive (its pid may have been reused)
     * @param pid       empty when no writer of this version ever ran on the queue, or neither the kernel nor the
     *                  file names one
     * @param uncertain why {@code held} is a presumption; empty when the kernel's table told
     */
    public record Holder(boolean held, OptionalLong pid, Optional<String> uncertain) {
    }

    /** {@link Holder} of the queue's lock now. Any thread, any process; needs only read access. */
    public static Holder holder(Path queueDirectory) throws IOException {
        try {
            if (HELD_HERE.contains(queueDirectory.toRealPath())) {
                return new Holder(true, OptionalLong.of(ProcessHandle.current().pid()), Optional.empty());
            }
        } catch (NoSuchFileException e) {
            return new Holder(false, OptionalLong.empty(), Optional.empty());
        }
        Path lockFile = queueDirectory.resolve(FILE_NAME);
        LockHolder lookup = LockHolder.of(lockFile);
        OptionalLong pid = lookup.pid().isPresent() ? lookup.pid() : recordedPid(lockFile);
        if (lookup.status() == LockHolder.Status.UNKNOWN) {
            boolean alive = pid.isPresent() && ProcessHandle.of(pid.getAsLong()).map(ProcessHandle::isAlive)
                    .orElse(false);
            return new Holder(alive, pid, Optional.of(lookup.reason()));
        }
        return new Holder(lookup.held(), pid, Optional.empty());
    }

    public Path queueDirectory() {
        return queueDirectory;
    }

    /** The queue's identity, naming the state directory it was acquired for. */
    public QueueIdentity identity() {
        return identity;
    }

    /** Releases the lock. Call only after the queue is closed. Idempotent. */
    @Override
    public synchronized void close() {
        if (released) {
            return;
        }
        released = true;
        try {
            lock.release();
        } catch (IOException e) {
            // Closing the channel below releases it as well.
        }
        closeQuietly(channel);
        HELD_HERE.remove(key);
    }

    private static QueueIdentity bind(Path queueDirectory, Path stateDirectory) throws IOException {
        Optional<QueueIdentity> existing = QueueIdentity.read(queueDirectory);
        if (existing.isPresent()) {
            if (!existing.get().belongsTo(stateDirectory)) {
                throw new QueueRefusedException(ExitCodes.QUEUE_UNAVAILABLE,
                        existing.get().mismatch(queueDirectory, stateDirectory), null);
            }
            return existing.get();
        }
        QueueIdentity created = new QueueIdentity(UUID.randomUUID(), stateDirectory);
        created.write(queueDirectory);
        return created;
    }

    private static FileLock tryLock(FileChannel channel) throws IOException {
        try {
            return channel.tryLock();
        } catch (OverlappingFileLockException e) {
            return null;
        }
    }

    private static QueueRefusedException alreadyRunning(Path queueDirectory, Path lockFile, String holder) {
        return new QueueRefusedException(ExitCodes.ALREADY_RUNNING, "another changeq-tracker" + holder
                + " is writing to the queue " + queueDirectory + " (it holds " + lockFile
                + "); stop it first: one writer per queue", null);
    }

    private static OptionalLong recordedPid(Path lockFile) throws IOException {
        try (FileChannel channel = StateDirectory.openForReading(lockFile)) {
            return recordedPid(channel);
        } catch (NoSuchFileException e) {
            return OptionalLong.empty();
        }
    }

    private static String holder(FileChannel channel) {
        OptionalLong pid = recordedPid(channel);
        return pid.isPresent() ? " (pid " + pid.getAsLong() + ")" : "";
    }

    /** The pid the lock file holds; empty when it holds none (a writer that has just taken the lock). */
    private static OptionalLong recordedPid(FileChannel channel) {
        try {
            ByteBuffer buffer = ByteBuffer.allocate(32);
            int length = channel.read(buffer, 0);
            String pid = length > 0 ? new String(buffer.array(), 0, length, StandardCharsets.US_ASCII).trim() : "";
            return !pid.isEmpty() && pid.length() < 19 && pid.chars().allMatch(Character::isDigit)
                    ? OptionalLong.of(Long.parseLong(pid)) : OptionalLong.empty();
        } catch (IOException e) {
            return OptionalLong.empty();
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                // Nothing is held through a channel that failed to close.
            }
        }
    }
}
