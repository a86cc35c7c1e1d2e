package org.changeq.tracker;

/**
 * The kernel refused another inotify watch ({@code ENOSPC}): {@code fs.inotify.max_user_watches} is
 * lower than the number of directories to watch. The tracker keeps running with partial coverage and
 * records an OVERFLOW for the affected root; the message says which limit to raise.
 */
final class WatchLimitException extends NativeCallException {
    private static final long serialVersionUID = 1L;

    WatchLimitException(String message) {
        super(message, false);
    }
}
