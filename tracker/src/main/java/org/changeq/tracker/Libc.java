package org.changeq.tracker;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongConsumer;
import jnr.constants.platform.Errno;
import jnr.constants.platform.OpenFlags;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Platform;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;
import jnr.ffi.types.u_int64_t;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.mount.MountTable;

/**
 * The only doorway to libc: one inotify instance, the eventfds that wake its reader (to stop, to reload), directory
 * listing, and the {@code sd_notify} datagram ({@link #sendDatagram}) both services send. Every call is checked here, errno
 * is read right after the call on the same thread, {@code EINTR} is retried, and failures leave as {@link NativeCallException} (abort),
 * {@link PathUnavailableException} (ignore) or {@link WatchLimitException} (degrade), all with one message
 * format. No file descriptor, watch descriptor, mask bit or errno is visible outside this class: watches are
 * opaque keys and events arrive decoded as {@link EventKind}s.
 *
 * <p><b>Threading.</b> Confined to the reader thread, except {@link #wake()} and {@link #requestReload()}, which any
 * thread may call until {@link #close()}, and the static {@link #sendDatagram}. {@link #awaitEvents} blocks in {@code poll(2)}; nothing else blocks.
 */
final class Libc implements DirectoryWatches, AutoCloseable {

    /** The libc functions, as jnr-ffi binds them. */
    public interface Functions {
        int inotify_init1(int flags);

        int inotify_add_watch(int fd, Pointer path, int mask);

        int inotify_rm_watch(int fd, int wd);

        int eventfd(int initialValue, int flags);

        @ssize_t long read(int fd, Pointer buffer, @size_t long count);

        @ssize_t long write(int fd, @In byte[] buffer, @size_t long count);

        int poll(Pointer fds, @u_int64_t long count, int timeoutMillis);

        int open(Pointer path, int flags);

        @ssize_t long getdents64(int fd, Pointer buffer, @size_t long count);

        int fstatat(int directoryFd, Pointer path, Pointer stat, int flags);

        int statx(int directoryFd, Pointer path, int flags, int mask, Pointer statx);

        int close(int fd);

        int socket(int domain, int type, int protocol);

        @ssize_t long sendto(int fd, @In byte[] buffer, @size_t long length, int flags, @In byte[] address, int addressLength);
    }

    private static final Functions C = LibraryLoader.create(Functions.class).load("c");
    static final Runtime RUNTIME = Runtime.getRuntime(C);

    // <sys/inotify.h>
    private static final int IN_MODIFY = 0x2;
    private static final int IN_ATTRIB = 0x4;
    private static final int IN_CLOSE_WRITE = 0x8;
    private static final int IN_MOVED_FROM = 0x40;
    private static final int IN_MOVED_TO = 0x80;
    private static final int IN_CREATE = 0x100;
    private static final int IN_DELETE = 0x200;
    private static final int IN_DELETE_SELF = 0x400;
    private static final int IN_MOVE_SELF = 0x800;
    private static final int IN_UNMOUNT = 0x2000;
    private static final int IN_Q_OVERFLOW = 0x4000;
    private static final int IN_IGNORED = 0x8000;
    private static final int IN_ONLYDIR = 0x0100_0000;
    private static final int IN_DONT_FOLLOW = 0x0200_0000;
    private static final int IN_EXCL_UNLINK = 0x0400_0000;
    private static final int IN_ISDIR = 0x4000_0000;
    private static final int IN_NONBLOCK = OpenFlags.O_NONBLOCK.intValue();
    private static final int IN_CLOEXEC = OpenFlags.O_CLOEXEC.intValue();
    private static final int EFD_NONBLOCK = IN_NONBLOCK;
    private static final int EFD_CLOEXEC = IN_CLOEXEC;

    /**
     * What changes content or metadata, and what moves or removes entries. Never open, access or
     * close-nowrite: reads are not changes, and they would flood the queue. Symlinks are watched as entries,
     * never followed; events for unlinked-but-open files are not wanted.
     */
    private static final int WATCH_MASK = IN_CREATE | IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_MOVED_FROM
            | IN_MOVED_TO | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK;

    /** Decoding order: a merged event reports its kinds in the order they can happen. */
    private static final int[] KIND_BITS = {IN_CREATE, IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE, IN_MOVED_FROM,
            IN_MOVED_TO, IN_DELETE, IN_DELETE_SELF, IN_MOVE_SELF, IN_UNMOUNT, IN_IGNORED};
    private static final EventKind[] KINDS = {EventKind.CREATE, EventKind.MODIFY, EventKind.ATTRIB,
            EventKind.CLOSE_WRITE, EventKind.MOVED_FROM, EventKind.MOVED_TO, EventKind.DELETE, EventKind.DELETE_SELF,
            EventKind.MOVE_SELF, EventKind.UNMOUNT, EventKind.IGNORED};

    /** {@code struct inotify_event} without its name: wd, mask, cookie, len. */
    static final int EVENT_HEADER_SIZE = 16;
    /** Large enough for hundreds of events per read, and always for one with a NAME_MAX name. */
    private static final int EVENT_BUFFER_SIZE = 64 * 1024;
    /** Bounds one {@link #awaitEvents} so a wake-up is seen even under a constant event stream. */
    private static final int MAX_READS_PER_WAIT = 64;

    // <dirent.h>, <fcntl.h>, <poll.h>, <sys/stat.h>
    private static final int DIRENT_RECLEN_OFFSET = 16;
    private static final int DIRENT_TYPE_OFFSET = 18;
    private static final int DIRENT_NAME_OFFSET = 19;
    private static final byte DT_UNKNOWN = 0;
    private static final byte DT_DIR = 4;
    private static final int DIRECTORY_BUFFER_SIZE = 64 * 1024;
    private static final int OPEN_DIRECTORY_FLAGS = OpenFlags.O_RDONLY.intValue() | OpenFlags.O_DIRECTORY.intValue()
            | OpenFlags.O_NOFOLLOW.intValue() | OpenFlags.O_CLOEXEC.intValue();
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final int S_IFMT = 0xf000;
    private static final int S_IFDIR = 0x4000;
    private static final int STAT_BUFFER_SIZE = 256;
    private static final boolean X86_64 = Platform.getNativePlatform().getCPU() == Platform.CPU.X86_64;
    /** {@code st_mode}'s offset in {@code struct stat}: x86_64 keeps {@code st_nlink} before it as a long. */
    private static final int STAT_MODE_OFFSET = X86_64 ? 24 : 16;
    /** {@code st_ctim} (tv_sec, then tv_nsec) in {@code struct stat}: x86_64, or the generic layout (arm64). */
    private static final int STAT_CTIME_OFFSET = X86_64 ? 104 : 96;
    private static final int AT_FDCWD = -100;
    // <linux/stat.h>: struct statx has one layout on every architecture.
    private static final int STATX_TYPE = 0x1;
    private static final int STATX_INO = 0x100;
    private static final int STATX_MNT_ID = 0x1000;
    private static final int STATX_MASK_OFFSET = 0;
    private static final int STATX_MODE_OFFSET = 28;
    private static final int STATX_INO_OFFSET = 32;
    private static final int STATX_DEV_MAJOR_OFFSET = 136;
    private static final int STATX_DEV_MINOR_OFFSET = 140;
    private static final int STATX_MNT_ID_OFFSET = 144;
    private static final short POLLIN = 0x1;
    private static final short POLLPRI = 0x2;
    private static final short POLLERR = 0x8;
    private static final int POLLED_FDS = 4;
    private static final int POLLFD_SIZE = 8;
    private static final int POLLFD_REVENTS_OFFSET = 6;
    // <sys/socket.h>
    static final short AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int MSG_NOSIGNAL = 0x4000;

    private static final int EINTR = Errno.EINTR.intValue();
    private static final int EAGAIN = Errno.EAGAIN.intValue();
    private static final int EINVAL = Errno.EINVAL.intValue();

    private static final byte[] NO_NAME = new byte[0];
    private static final byte[] WAKE_INCREMENT = {1, 0, 0, 0, 0, 0, 0, 0};

    private final int inotifyFd;
    private final int wakeFd;
    /** Counts reload requests not yet taken by {@link #awaitEvents}: SIGHUP's way into the poll loop. */
    private final int reloadFd;
    /** Open only to be polled: proc(5) reports a change of the mount table as POLLPRI on it. */
    private final int mountTableFd;
    private final Pointer eventBuffer = Memory.allocateDirect(RUNTIME, EVENT_BUFFER_SIZE);
    private final Pointer directoryBuffer = Memory.allocateDirect(RUNTIME, DIRECTORY_BUFFER_SIZE);
    private final Pointer statBuffer = Memory.allocateDirect(RUNTIME, STAT_BUFFER_SIZE);
    private final Pointer pollFds = Memory.allocateDirect(RUNTIME, POLLED_FDS * POLLFD_SIZE);
    private Pointer pathBuffer = Memory.allocateDirect(RUNTIME, 4096);
    private int pathBufferSize = 4096;
    private boolean closed;

    /** What ended an {@link #awaitEvents} call. */
    enum Wake {
        /** Events were read and delivered. */
        EVENTS,
        /** The timeout passed with nothing to read. */
        TIMEOUT,
        /** {@link #wake()} was called: stop reading (events readable at that moment were delivered first). */
        WOKEN,
        /**
         * Something was mounted or unmounted since the last wait (events readable at that moment were delivered
         * first): inotify reports no file system mounted over a watched directory.
         */
        MOUNTS_CHANGED,
        /**
         * {@link #requestReload()} was called since the last wait (events readable at that moment were delivered
         * first); a mount table change in the same wait is not reported apart.
         */
        RELOAD
    }

    private Libc(int inotifyFd, int wakeFd, int mountTableFd, int reloadFd) {
        this.inotifyFd = inotifyFd;
        this.wakeFd = wakeFd;
        this.mountTableFd = mountTableFd;
        this.reloadFd = reloadFd;
        pollFds.putInt(0, inotifyFd);
        pollFds.putShort(4, POLLIN);
        pollFds.putInt(POLLFD_SIZE, wakeFd);
        pollFds.putShort(POLLFD_SIZE + 4, POLLIN);
        pollFds.putInt(2 * POLLFD_SIZE, mountTableFd);
        pollFds.putShort(2 * POLLFD_SIZE + 4, POLLPRI);
        pollFds.putInt(3 * POLLFD_SIZE, reloadFd);
        pollFds.putShort(3 * POLLFD_SIZE + 4, POLLIN);
    }

    /**
     * Creates the inotify instance (non-blocking, close-on-exec) and the wake-up and reload eventfds.
     *
     * @throws NativeCallException e.g. {@code EMFILE} when {@code fs.inotify.max_user_instances} is reached
     */
    static Libc open() {
        int inotifyFd = C.inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (inotifyFd < 0) {
            int errno = errno();
            throw new NativeCallException(failure("inotify_init1", null, errno, errno == Errno.EMFILE.intValue()
                    ? "raise fs.inotify.max_user_instances (current " + kernelLimit("max_user_instances")
                    + ") or stop other inotify users of this user" : hint(errno)));
        }
        int wakeFd = C.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (wakeFd < 0) {
            int errno = errno();
            C.close(inotifyFd);
            throw new NativeCallException(failure("eventfd", null, errno, hint(errno)));
        }
        byte[] mountInfo = MountTable.PROC_SELF_MOUNTINFO.toString().getBytes(StandardCharsets.US_ASCII);
        Pointer mountInfoPath = Memory.allocateDirect(RUNTIME, mountInfo.length + 1);
        mountInfoPath.put(0, mountInfo, 0, mountInfo.length);
        mountInfoPath.putByte(mountInfo.length, (byte) 0);
        int mountTableFd;
        do {
            mountTableFd = C.open(mountInfoPath, OpenFlags.O_RDONLY.intValue() | OpenFlags.O_CLOEXEC.intValue());
        } while (mountTableFd < 0 && errno() == EINTR);
        if (mountTableFd < 0) {
            int errno = errno();
            C.close(inotifyFd);
            C.close(wakeFd);
            throw new NativeCallException(failure("open", mountInfo, errno, "the tracker needs /proc mounted"));
        }
        int reloadFd = C.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (reloadFd < 0) {
            int errno = errno();
            C.close(inotifyFd);
            C.close(wakeFd);
            C.close(mountTableFd);
            throw new NativeCallException(failure("eventfd", null, errno, hint(errno)));
        }
        return new Libc(inotifyFd, wakeFd, mountTableFd, reloadFd);
    }

    /** A limit from {@code /proc/sys/fs/inotify/}, or -1 if it cannot be read. */
    static long kernelLimit(String name) {
        return readLimit(Path.of("/proc/sys/fs/inotify", name));
    }

    /**
     * The inotify watch limit this process runs into, by its sysctl name. The kernel charges each watch to the
     * user in the process's user namespace and in every namespace above it, up to the host's, each with its own
     * limit: {@code fs.inotify.max_user_watches} is the host's, {@code user.max_inotify_watches} the one of the
     * namespace the process runs in (the same value outside a container). The lower one is named; a namespace
     * between the two is not visible from here.
     *
     * @param value the limit, or -1 if it cannot be read
     */
    record WatchLimit(String sysctl, long value) {

        /** For tests without a kernel: no warning as the watches grow. */
        static final WatchLimit UNKNOWN = new WatchLimit("fs.inotify.max_user_watches", -1);

        static WatchLimit current() {
            long host = kernelLimit("max_user_watches");
            long namespace = readLimit(Path.of("/proc/sys/user/max_inotify_watches"));
            if (namespace >= 0 && (host < 0 || namespace < host)) {
                return new WatchLimit("user.max_inotify_watches", namespace);
            }
            return new WatchLimit("fs.inotify.max_user_watches", host);
        }

        /** What to do when it is reached. */
        String fix() {
            return sysctl.startsWith("user.")
                    ? "raise user.max_inotify_watches (current " + value + ") of the user namespace the tracker runs in"
                    + " (the host's fs.inotify.max_user_watches is " + kernelLimit("max_user_watches") + ")"
                    : "raise fs.inotify.max_user_watches (current " + value + ")";
        }
    }

    private static long readLimit(Path file) {
        // Not Files.readString: procfs reports size 0, and after the one-byte probe read that size invites, some
        // kernels answer EOF, so "16384" would read as "1". A buffered reader asks for a full buffer at once.
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII)) {
            String line = reader.readLine();
            return line == null ? -1 : Long.parseLong(line.trim());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    @Override
    public int addWatch(byte[] absolutePath) {
        Pointer path = cString(absolutePath);
        while (true) {
            int watch = C.inotify_add_watch(inotifyFd, path, WATCH_MASK);
            if (watch >= 0) {
                return watch;
            }
            int errno = errno();
            if (errno != EINTR) {
                throw classify("inotify_add_watch", absolutePath, errno);
            }
        }
    }

    @Override
    public void removeWatch(int watch) {
        if (C.inotify_rm_watch(inotifyFd, watch) < 0) {
            int errno = errno();
            // EINVAL: the kernel already dropped the watch (its directory was deleted or unmounted).
            if (errno != EINVAL) {
                throw new NativeCallException(failure("inotify_rm_watch", null, errno, hint(errno)));
            }
        }
    }

    /**
     * Waits until events are readable, {@link #wake()} or {@link #requestReload()} is called, the mount table changes,
     * or the timeout passes,
     * and delivers every event readable now to {@code sink}, in kernel order.
     *
     * @param timeoutMillis -1 waits without a timeout
     * @param gatherNanos   once events are readable, how long to let more arrive before reading, so that one
     *                      read takes a burst's events together instead of a few at a time
     * @param onDrained     told, when a read found the kernel's event queue empty, the wall time (milliseconds
     *                      since the epoch) taken just before that read: every event queued before it has been
     *                      delivered to {@code sink}
     */
    Wake awaitEvents(int timeoutMillis, long gatherNanos, InotifyEventSink sink, LongConsumer onDrained) {
        int ready;
        do {
            ready = C.poll(pollFds, POLLED_FDS, timeoutMillis);
        } while (ready < 0 && errno() == EINTR);
        if (ready < 0) {
            throw new NativeCallException(failure("poll", null, errno(), hint(errno())));
        }
        if (ready == 0) {
            return Wake.TIMEOUT;
        }
        if (pollFds.getShort(POLLFD_REVENTS_OFFSET) != 0) {
            if (gatherNanos > 0) {
                LockSupport.parkNanos(gatherNanos);
            }
            readEvents(sink, onDrained);
        }
        if (pollFds.getShort(POLLFD_SIZE + POLLFD_REVENTS_OFFSET) != 0) {
            return Wake.WOKEN;
        }
        if (pollFds.getShort(3 * POLLFD_SIZE + POLLFD_REVENTS_OFFSET) != 0) {
            // Reading an eventfd returns its counter and resets it: requests that came together are one reload.
            long read;
            do {
                read = C.read(reloadFd, eventBuffer, WAKE_INCREMENT.length);
            } while (read < 0 && errno() == EINTR);
            return Wake.RELOAD;
        }
        // The kernel reports a change once per open file and wait: the next poll waits for the next change.
        return (pollFds.getShort(2 * POLLFD_SIZE + POLLFD_REVENTS_OFFSET) & (POLLPRI | POLLERR)) != 0
                ? Wake.MOUNTS_CHANGED : Wake.EVENTS;
    }

    /**
     * The mount table now, read from {@code /proc/self/mountinfo} as bytes.
     *
     * @throws NativeCallException it cannot be read
     */
    @Override
    public MountTable mountTable() {
        try {
            return MountTable.read();
        } catch (IOException e) {
            throw new NativeCallException("reading " + MountTable.PROC_SELF_MOUNTINFO + " failed: " + e.getMessage()
                    + "; the tracker needs /proc mounted");
        }
    }

    /** @return whether the kernel's queue was found empty (false: the reads per wait ran out first) */
    private boolean readEvents(InotifyEventSink sink, LongConsumer onDrained) {
        for (int reads = 0; reads < MAX_READS_PER_WAIT; reads++) {
            long beforeMillis = System.currentTimeMillis();
            long length = C.read(inotifyFd, eventBuffer, EVENT_BUFFER_SIZE);
            if (length > 0) {
                parseEvents(eventBuffer, (int) length, sink);
                sink.onReadEnd();
                continue;
            }
            int errno = length < 0 ? errno() : 0;
            if (errno == EINTR) {
                continue;
            }
            if (length == 0 || errno == EAGAIN) {
                onDrained.accept(beforeMillis);
                return true;
            }
            throw new NativeCallException(failure("read", null, errno, hint(errno)));
        }
        return false;
    }

    /**
     * Reads what the kernel has queued, without waiting, until its queue is empty or {@code maxBuffers} full
     * buffers were read (events keep coming). Reader thread only.
     *
     * @return whether the queue was found empty
     */
    boolean drainEvents(InotifyEventSink sink, LongConsumer onDrained, int maxBuffers) {
        for (int rounds = 0; rounds * MAX_READS_PER_WAIT < maxBuffers; rounds++) {
            if (readEvents(sink, onDrained)) {
                return true;
            }
        }
        return false;
    }

    /** Decodes the {@code struct inotify_event}s in {@code buffer[0, length)}, in order. */
    static void parseEvents(Pointer buffer, int length, InotifyEventSink sink) {
        int offset = 0;
        while (offset + EVENT_HEADER_SIZE <= length) {
            int watch = buffer.getInt(offset);
            int mask = buffer.getInt(offset + 4);
            int cookie = buffer.getInt(offset + 8);
            int nameLength = buffer.getInt(offset + 12);
            byte[] name = nameLength == 0 ? NO_NAME : cStringAt(buffer, offset + EVENT_HEADER_SIZE, nameLength);
            offset += EVENT_HEADER_SIZE + nameLength;
            if ((mask & IN_Q_OVERFLOW) != 0) {
                sink.onEvent(InotifyEventSink.NO_WATCH, EventKind.OVERFLOW, false, 0, NO_NAME);
                continue;
            }
            boolean directory = (mask & IN_ISDIR) != 0;
            for (int i = 0; i < KIND_BITS.length; i++) {
                if ((mask & KIND_BITS[i]) != 0) {
                    sink.onEvent(watch, KINDS[i], directory, cookie, name);
                }
            }
        }
    }

    /** Reads the NUL-terminated (and NUL-padded) bytes at {@code offset}, at most {@code maxLength}. */
    private static byte[] cStringAt(Pointer buffer, long offset, int maxLength) {
        int length = buffer.indexOf(offset, (byte) 0, maxLength);
        byte[] bytes = new byte[length < 0 ? maxLength : length];
        buffer.get(offset, bytes, 0, bytes.length);
        return bytes;
    }

    @Override
    public void list(byte[] absolutePath, boolean directoriesOnly, DirectoryEntrySink sink) {
        list(absolutePath, directoriesOnly, (name, directory, changeTimeMillis) -> sink.onEntry(name, directory), false);
    }

    @Override
    public void listWithChangeTimes(byte[] absolutePath, TimedEntrySink sink) {
        list(absolutePath, false, sink, true);
    }

    @Override
    public long changeTimeMillis(byte[] absolutePath) {
        Pointer path = cString(absolutePath);
        return statAt(AT_FDCWD, path, absolutePath) ? changeTimeMillisOfLastStat() : -1;
    }

    @Override
    public FileIdentity identify(byte[] absolutePath) {
        Pointer path = cString(absolutePath);
        while (true) {
            if (C.statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_INO | STATX_MNT_ID, statBuffer) == 0) {
                // Kernels before 5.8 do not report the mount ID; the device and inode still tell most replacements.
                long mountId = (statBuffer.getInt(STATX_MASK_OFFSET) & STATX_MNT_ID) != 0
                        ? statBuffer.getLong(STATX_MNT_ID_OFFSET) : 0;
                long device = (statBuffer.getInt(STATX_DEV_MAJOR_OFFSET) & 0xffffffffL) << 32
                        | statBuffer.getInt(STATX_DEV_MINOR_OFFSET) & 0xffffffffL;
                return new FileIdentity(device, statBuffer.getLong(STATX_INO_OFFSET), mountId,
                        (statBuffer.getShort(STATX_MODE_OFFSET) & S_IFMT) == S_IFDIR);
            }
            int errno = errno();
            if (errno != EINTR) {
                NativeCallException failure = classify("statx", absolutePath, errno);
                if (failure instanceof PathUnavailableException unavailable
                        && unavailable.reason() == PathUnavailableException.Reason.GONE) {
                    return null;
                }
                throw failure;
            }
        }
    }

    private void list(byte[] absolutePath, boolean directoriesOnly, TimedEntrySink sink, boolean timed) {
        int fd = openDirectory(absolutePath);
        try {
            while (true) {
                long length = C.getdents64(fd, directoryBuffer, DIRECTORY_BUFFER_SIZE);
                if (length == 0) {
                    return;
                }
                if (length < 0) {
                    int errno = errno();
                    if (errno != EINTR) {
                        throw classify("getdents64", absolutePath, errno);
                    }
                    continue;
                }
                deliverEntries(fd, (int) length, directoriesOnly, sink, timed);
            }
        } finally {
            C.close(fd);
        }
    }

    private int openDirectory(byte[] absolutePath) {
        Pointer path = cString(absolutePath);
        while (true) {
            int fd = C.open(path, OPEN_DIRECTORY_FLAGS);
            if (fd >= 0) {
                return fd;
            }
            int errno = errno();
            if (errno != EINTR) {
                throw classify("open", absolutePath, errno);
            }
        }
    }

    /** Walks the {@code struct linux_dirent64} records in the directory buffer. */
    private void deliverEntries(int directoryFd, int length, boolean directoriesOnly, TimedEntrySink sink,
                                boolean timed) {
        int offset = 0;
        while (offset < length) {
            int recordLength = directoryBuffer.getShort(offset + DIRENT_RECLEN_OFFSET) & 0xffff;
            byte type = directoryBuffer.getByte(offset + DIRENT_TYPE_OFFSET);
            int nameOffset = offset + DIRENT_NAME_OFFSET;
            offset += recordLength;
            if (directoriesOnly && type != DT_DIR && type != DT_UNKNOWN || isDotOrDotDot(nameOffset)) {
                continue;
            }
            byte[] name = cStringAt(directoryBuffer, nameOffset, recordLength - DIRENT_NAME_OFFSET);
            boolean directory;
            long changeTimeMillis = -1;
            if (type == DT_UNKNOWN || timed) {
                // Some file systems (older XFS, some FUSE) leave d_type unset: ask the inode.
                if (!statAt(directoryFd, cString(name), name)) {
                    continue;
                }
                directory = (statBuffer.getInt(STAT_MODE_OFFSET) & S_IFMT) == S_IFDIR;
                changeTimeMillis = changeTimeMillisOfLastStat();
                if (directoriesOnly && !directory) {
                    continue;
                }
            } else {
                directory = type == DT_DIR;
            }
            sink.onEntry(name, directory, changeTimeMillis);
        }
    }

    private boolean isDotOrDotDot(int nameOffset) {
        if (directoryBuffer.getByte(nameOffset) != '.') {
            return false;
        }
        byte second = directoryBuffer.getByte(nameOffset + 1);
        return second == 0 || second == '.' && directoryBuffer.getByte(nameOffset + 2) == 0;
    }

    /**
     * {@code fstatat} without following symlinks (an {@code lstat} when {@code directoryFd} is {@code AT_FDCWD})
     * into the stat buffer; false if the entry vanished or is not ours to read.
     */
    private boolean statAt(int directoryFd, Pointer path, byte[] shownPath) {
        while (true) {
            if (C.fstatat(directoryFd, path, statBuffer, AT_SYMLINK_NOFOLLOW) == 0) {
                return true;
            }
            int errno = errno();
            if (errno != EINTR) {
                NativeCallException failure = classify("fstatat", shownPath, errno);
                if (failure instanceof PathUnavailableException) {
                    return false;
                }
                throw failure;
            }
        }
    }

    private long changeTimeMillisOfLastStat() {
        return statBuffer.getLong(STAT_CTIME_OFFSET) * 1000 + statBuffer.getLong(STAT_CTIME_OFFSET + 8) / 1_000_000;
    }

    /** Makes {@link #awaitEvents} return {@link Wake#WOKEN}, now and on every later call. Any thread. */
    void wake() {
        long written;
        do {
            written = C.write(wakeFd, WAKE_INCREMENT, WAKE_INCREMENT.length);
        } while (written < 0 && errno() == EINTR);
        // EAGAIN means the counter is already far from zero: the reader is woken either way.
    }

    /**
     * Makes the next {@link #awaitEvents} return {@link Wake#RELOAD}, once however often it was called meanwhile. Any
     * thread, including the JVM's signal handler thread, until {@link #close()}.
     */
    void requestReload() {
        long written;
        do {
            written = C.write(reloadFd, WAKE_INCREMENT, WAKE_INCREMENT.length);
        } while (written < 0 && errno() == EINTR);
        // EAGAIN means the counter is already far from zero: a reload is pending either way.
    }

    /** Releases the inotify instance (dropping all its watches) and the eventfds. Once the reader has stopped. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            C.close(inotifyFd);
            C.close(wakeFd);
            C.close(mountTableFd);
            C.close(reloadFd);
        }
    }

    /**
     * Sends one datagram to the {@code AF_UNIX} socket {@code address} (a {@code struct sockaddr_un} exactly as long
     * as its path), from a socket of its own so that concurrent senders never interleave. May block briefly while the
     * receiver's queue is full. Any thread may call it; it needs no inotify instance.
     *
     * @param shownAddress the address as the messages name it
     * @throws NativeCallException naming {@code socket} or {@code sendto}, the address and the error
     */
    static void sendDatagram(byte[] address, String shownAddress, byte[] payload) {
        int fd = C.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new NativeCallException(failure("socket", null, errno(), ""), false);
        }
        try {
            long sent;
            int errno;
            do {
                sent = C.sendto(fd, payload, payload.length, MSG_NOSIGNAL, address, address.length);
                errno = sent < 0 ? errno() : 0;
            } while (sent < 0 && errno == EINTR);
            if (sent < 0) {
                throw new NativeCallException(failure("sendto", shownAddress.getBytes(StandardCharsets.UTF_8), errno, ""),
                        false);
            }
        } finally {
            C.close(fd);
        }
    }

    private Pointer cString(byte[] bytes) {
        if (bytes.length + 1 > pathBufferSize) {
            pathBufferSize = Integer.highestOneBit(bytes.length + 1) << 1;
            pathBuffer = Memory.allocateDirect(RUNTIME, pathBufferSize);
        }
        pathBuffer.put(0, bytes, 0, bytes.length);
        pathBuffer.putByte(bytes.length, (byte) 0);
        return pathBuffer;
    }

    private static int errno() {
        return LastError.getLastError(RUNTIME);
    }

    /** The one place errno is classified into ignore, degrade and abort. */
    private static NativeCallException classify(String call, byte[] path, int errno) {
        Errno error = Errno.valueOf(errno);
        String message = failure(call, path, errno, call.equals("inotify_add_watch") && error == Errno.ENOSPC
                ? WatchLimit.current().fix()
                : hint(errno));
        switch (error) {
            case ENOENT, ENOTDIR, ELOOP:
                return new PathUnavailableException(message, PathUnavailableException.Reason.GONE);
            case EACCES, EPERM:
                return new PathUnavailableException(message, PathUnavailableException.Reason.DENIED);
            case ENAMETOOLONG:
                return new PathUnavailableException(message, PathUnavailableException.Reason.NAME_TOO_LONG);
            case ENOSPC:
                if (call.equals("inotify_add_watch")) {
                    return new WatchLimitException(message);
                }
                return new NativeCallException(message);
            default:
                return new NativeCallException(message);
        }
    }

    /** The one message format: {@code call(path) failed: ENAME (description); fix}. */
    static String failure(String call, byte[] path, int errno, String fix) {
        Errno error = Errno.valueOf(errno);
        String described = error == Errno.__UNKNOWN_CONSTANT__
                ? "errno " + errno : error.name() + " (" + error.description() + ")";
        return call + "(" + (path == null ? "" : ByteStrings.escape(path)) + ") failed: " + described
                + (fix.isEmpty() ? "" : "; " + fix);
    }

    private static String hint(int errno) {
        Errno error = Errno.valueOf(errno);
        if (error == Errno.__UNKNOWN_CONSTANT__) {
            return "unexpected; the tracker stops so that a restart can record the gap";
        }
        return switch (error) {
            case ENOENT, ENOTDIR, ELOOP -> "it was removed or replaced while being watched; nothing to do";
            case EACCES, EPERM -> "grant the tracker's user read and search permission, or exclude it";
            case ENAMETOOLONG -> "the path is longer than the kernel's PATH_MAX; shorten it or exclude it";
            case EMFILE, ENFILE -> "raise the open-file limit (LimitNOFILE= in the unit)";
            case ENOMEM -> "the kernel is out of memory for inotify; free memory or lower the number of watches";
            default -> "unexpected; the tracker stops so that a restart can record the gap";
        };
    }
}
