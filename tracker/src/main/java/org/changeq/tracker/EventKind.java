package org.changeq.tracker;

/** What an inotify event reports, decoded from its mask bits by {@link Libc}. */
enum EventKind {
    CREATE,
    MODIFY,
    ATTRIB,
    CLOSE_WRITE,
    MOVED_FROM,
    MOVED_TO,
    DELETE,
    /** The watched directory itself was deleted. */
    DELETE_SELF,
    /** The watched directory itself was moved. */
    MOVE_SELF,
    /** The file system holding the watched directory was unmounted. */
    UNMOUNT,
    /** The watch is gone (removed, or its directory deleted or unmounted); no more events will carry it. */
    IGNORED,
    /** The kernel's event queue overflowed: events were lost, for any watch. */
    OVERFLOW
}
