package org.changeq.tracker;

/** Receives inotify events in kernel order, on the thread that reads them. */
interface InotifyEventSink {

    /**
     * @param watch     the key of the watched directory the event was reported on ({@link #NO_WATCH} for
     *                  {@link EventKind#OVERFLOW})
     * @param directory whether the subject is a directory
     * @param cookie    pairs a {@link EventKind#MOVED_FROM} with its {@link EventKind#MOVED_TO}; 0 otherwise
     * @param name      the entry's name as raw bytes; empty when the event concerns the watched directory itself.
     *                  The sink may keep it.
     */
    void onEvent(int watch, EventKind kind, boolean directory, int cookie, byte[] name);

    /** Called after the events of one {@code read(2)}: everything delivered since happened before it returned. */
    default void onReadEnd() {
    }

    int NO_WATCH = -1;
}
