package org.changeq.pipeline.state;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Who holds the exclusive lock on a lock file, as the kernel's table of locks ({@code /proc/locks}) says, found
 * without taking the lock and without opening the file. Asking by taking a lock (even a shared one) would make
 * the holder-to-be fail for that instant: a {@code changeq-queue stat} would make a sync run starting at the same
 * moment exit 7. Opening the file would be as bad inside the holder's own process: closing any descriptor of a
 * file drops the process's POSIX locks on it.
 *
 * @param status whether the lock is held, free, or that this cannot be told
 * @param pid    the holder's process as this process's pid namespace sees it; empty when the lock is not held, or
 *               the kernel does not name a process (an open file description's lock, or a holder outside this
 *               namespace)
 * @param reason why the status is {@link Status#UNKNOWN}; empty otherwise
 */
public record LockHolder(Status status, OptionalLong pid, String reason) {

    private static final Path PROC_LOCKS = Path.of("/proc/locks");
    /**
     * A granted exclusive lock: {@code 4: POSIX  ADVISORY  WRITE PID MAJOR:MINOR:INODE START END}, device numbers
     * in hex. Java's {@code FileChannel} takes POSIX record locks; {@code flock(1)} and an open file description's
     * lock ({@code OFDLCK}, pid -1) count as well. A waiter's line reads {@code 4: -> POSIX ...} and does not match;
     * a shared ({@code READ}) lock is a reader's, not a holder's.
     */
    private static final Pattern GRANTED_WRITE_LOCK = Pattern.compile(
            "^\\d+: (?:POSIX|OFDLCK|FLOCK) +ADVISORY +WRITE +(-?\\d+) +([0-9a-f]+):([0-9a-f]+):(\\d+) ",
            Pattern.MULTILINE);

    public enum Status { FREE, HELD, UNKNOWN }

    public static final LockHolder FREE = new LockHolder(Status.FREE, OptionalLong.empty(), "");

    public boolean held() {
        return status == Status.HELD;
    }

    /** The holder of {@code lockFile}'s lock now; {@link #FREE} when the file does not exist. Any process, any user. */
    public static LockHolder of(Path lockFile) {
        Map<String, Object> identity;
        try {
            identity = Files.readAttributes(lockFile, "unix:dev,ino", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return FREE; // no run ever took it
        } catch (IOException | UnsupportedOperationException e) {
            return unknown("cannot examine " + lockFile + " (" + e + ")");
        }
        byte[] table;
        try {
            table = Files.readAllBytes(PROC_LOCKS);
        } catch (IOException e) {
            return unknown("cannot read " + PROC_LOCKS + " (" + e + "); changeq needs /proc mounted to see whether "
                    + "a process holds " + lockFile);
        }
        long device = (Long) identity.get("dev");
        long inode = (Long) identity.get("ino");
        boolean undecided = false;
        for (Lock lock : exclusiveLocks(table)) {
            if (lock.inode() != inode) {
                continue;
            }
            if (lock.isOn(device)) {
                return held(lock.pid());
            }
            // The table names the device of the file system's superblock, while stat names a btrfs subvolume's (or
            // an overlay's) own, and btrfs subvolumes repeat inode numbers: the lock is this file's only if its
            // holder has this very file open. Calling it free without knowing could declare a live run dead.
            Optional<Boolean> holds = hasOpen(lock.pid(), lockFile);
            if (holds.orElse(false)) {
                return held(lock.pid());
            }
            undecided |= holds.isEmpty();
        }
        return undecided ? unknown("a lock on inode " + inode + " is held on another device than the one stat reports "
                + "for " + lockFile + " (a btrfs subvolume or an overlay file system names devices differently), by a "
                + "process whose open files this user may not see; it may be this file's") : FREE;
    }

    /** A granted exclusive lock in the kernel's table. */
    record Lock(long pid, long major, long minor, long inode) {
        /** Whether the lock is on {@code device} (as stat reports it; glibc's major() and minor()). */
        boolean isOn(long device) {
            return major == (((device >>> 8) & 0xfff) | ((device >>> 32) & ~0xfffL))
                    && minor == ((device & 0xff) | ((device >>> 12) & ~0xffL));
        }
    }

    /** The granted exclusive locks in {@code table}, the content of /proc/locks. */
    static List<Lock> exclusiveLocks(byte[] table) {
        List<Lock> locks = new ArrayList<>();
        Matcher line = GRANTED_WRITE_LOCK.matcher(new String(table, StandardCharsets.US_ASCII));
        while (line.find()) {
            locks.add(new Lock(Long.parseLong(line.group(1)), Long.parseLong(line.group(2), 16),
                    Long.parseLong(line.group(3), 16), Long.parseLong(line.group(4))));
        }
        return locks;
    }

    /** Whether process {@code pid} has {@code file} open; empty when its descriptors cannot be seen. */
    private static Optional<Boolean> hasOpen(long pid, Path file) {
        if (pid <= 0) {
            return Optional.empty();
        }
        try (DirectoryStream<Path> descriptors = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path descriptor : descriptors) {
                try {
                    if (Files.isSameFile(descriptor, file)) {
                        return Optional.of(true);
                    }
                } catch (IOException closedMeanwhile) {
                    // A descriptor closed since the listing, or one that names no file (a socket, a pipe).
                }
            }
            return Optional.of(false);
        } catch (IOException notVisible) {
            return Optional.empty();
        }
    }

    private static LockHolder held(long pid) {
        return new LockHolder(Status.HELD, pid > 0 ? OptionalLong.of(pid) : OptionalLong.empty(), "");
    }

    private static LockHolder unknown(String reason) {
        return new LockHolder(Status.UNKNOWN, OptionalLong.empty(), reason);
    }
}
