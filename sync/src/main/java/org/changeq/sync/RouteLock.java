package org.changeq.sync;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.state.StateDirectory;

/**
 * The exclusive lock of one route: {@code FileChannel.tryLock} on {@code <state>/locks/<route>.lock}.
 * The kernel releases it when the process dies, so a crashed run never blocks the next one.
 * Not thread-safe; held by the run (or the follower) that acquired it until {@link #close}.
 */
final class RouteLock implements AutoCloseable {

    private static final Path PROC_LOCKS = Path.of("/proc/locks");
    /**
     * A granted lock in /proc/locks: {@code 4: POSIX  ADVISORY  WRITE PID MAJOR:MINOR:INODE START END} (device in hex;
     * an open file description's lock, {@code OFDLCK}, has the pid -1).
     */
    private static final Pattern PROC_LOCKS_LINE = Pattern.compile(
            "^\\d+: (?:POSIX|OFDLCK) +ADVISORY +WRITE +(-?\\d+) +([0-9a-f]+):([0-9a-f]+):(\\d+) ", Pattern.MULTILINE);

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

    /**
     * The process holding the lock (-1 when the kernel does not say), read from the kernel's table of locks without
     * taking it: a dry run must neither wait for a follower nor make a timer run starting at the same moment exit 7.
     * Empty when none holds it, or when the lock file cannot be examined (it does not exist, or its file system names
     * its device differently there).
     */
    static OptionalLong holder(Path lockFile) {
        long inode;
        long device;
        String table;
        try {
            inode = (Long) Files.getAttribute(lockFile, "unix:ino", LinkOption.NOFOLLOW_LINKS);
            device = (Long) Files.getAttribute(lockFile, "unix:dev", LinkOption.NOFOLLOW_LINKS);
            table = new String(Files.readAllBytes(PROC_LOCKS), StandardCharsets.US_ASCII);
        } catch (IOException | UnsupportedOperationException e) {
            // No lock file (no run ever took it), or nothing to examine it with: nothing to say.
            return OptionalLong.empty();
        }
        // glibc's major() and minor() of st_dev.
        long major = ((device >>> 8) & 0xfff) | ((device >>> 32) & ~0xfffL);
        long minor = (device & 0xff) | ((device >>> 12) & ~0xffL);
        Matcher line = PROC_LOCKS_LINE.matcher(table);
        while (line.find()) {
            if (Long.parseLong(line.group(4)) == inode && Long.parseLong(line.group(2), 16) == major
                    && Long.parseLong(line.group(3), 16) == minor) {
                return OptionalLong.of(Long.parseLong(line.group(1)));
            }
        }
        return OptionalLong.empty();
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
