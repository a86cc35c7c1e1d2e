package org.changeq.tracker;

/**
 * What the watch logic needs from the kernel: watch a directory, stop watching it, list it.
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

    /** Receives directory entries. The name is a fresh array the sink may keep. */
    @FunctionalInterface
    interface DirectoryEntrySink {
        void onEntry(byte[] name, boolean directory);
    }
}
