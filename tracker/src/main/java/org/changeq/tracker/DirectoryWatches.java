package org.changeq.tracker;

import org.changeq.pipeline.mount.MountTable;

/**
 * What the watch logic needs from the kernel: watch a directory, stop watching it, list it, and the mount table.
 * Implemented by {@link Libc}; confined to the reader thread.
 */
interface DirectoryWatches {

    /**
     * Watches one directory (not following symlinks) for the changes the tracker records.
     *
     * @param absolutePath raw bytes, no trailing NUL
     * @return the watch key events for this directory will carry; the same key if it is already watched
     * @throws PathUnavailableException gone, not a directory, not readable, or a path too long
     * @throws WatchLimitException      {@code fs.inotify.max_user_watches} reached
     * @throws NativeCallException      anything else
     */
    int addWatch(byte[] absolutePath);

    /** Stops watching; a watch the kernel already dropped is no error. */
    void removeWatch(int watch);

    /**
     * Lists a directory's entries except {@code .} and {@code ..}, without following symlinks.
     *
     * @param directoriesOnly skip everything that is not a directory (cheaper: no name is copied)
     * @throws PathUnavailableException gone, not a directory, not readable
     * @throws NativeCallException      anything else
     */
    void list(byte[] absolutePath, boolean directoriesOnly, DirectoryEntrySink sink);

    /**
     * Lists every entry but {@code .} and {@code ..} with its status-change time ({@code st_ctime}, from an
     * {@code lstat} of each entry): what the catch-up scan after a restart compares. Entries that vanish
     * between the listing and their {@code lstat} are skipped.
     *
     * @throws PathUnavailableException gone, not a directory, not readable
     * @throws NativeCallException      anything else
     */
    void listWithChangeTimes(byte[] absolutePath, TimedEntrySink sink);

    /** The status-change time of a path ({@code lstat}), in milliseconds since the epoch; -1 if it is gone. */
    long changeTimeMillis(byte[] absolutePath);

    /**
     * What is at a path now, without following a final symlink: one {@code statx}.
     *
     * @return null when nothing is there
     * @throws PathUnavailableException a parent is not searchable by this user, or the path is too long
     * @throws NativeCallException      anything else
     */
    FileIdentity identify(byte[] absolutePath);

    /**
     * The mount table now: inotify reports no file system mounted over a watched directory, so what is mounted
     * below a root is compared with this.
     *
     * @throws NativeCallException it cannot be read
     */
    MountTable mountTable();

    /** Receives directory entries. The name is a fresh array the sink may keep. */
    @FunctionalInterface
    interface DirectoryEntrySink {
        void onEntry(byte[] name, boolean directory);
    }

    /** Receives directory entries with their status-change time in milliseconds (-1 where not asked for). */
    @FunctionalInterface
    interface TimedEntrySink {
        void onEntry(byte[] name, boolean directory, long changeTimeMillis);
    }
}
