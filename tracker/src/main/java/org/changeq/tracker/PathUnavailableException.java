package org.changeq.tracker;

/**
 * A directory could not be watched or listed because it went away, is not a directory (any more), is
 * not readable by the tracker, or its path is too long for the kernel. Expected during walks that race
 * with other processes, so it carries no stack trace; the caller decides whether the reason is worth a log
 * line or a loss marker.
 */
final class PathUnavailableException extends NativeCallException {
    private static final long serialVersionUID = 1L;

    enum Reason {
        /** Deleted, renamed or replaced by a non-directory since it was seen: nothing to watch. */
        GONE,
        /** Not readable by the tracker's user: not ours to back up. */
        DENIED,
        /** Longer than the kernel's PATH_MAX: changes below it cannot be watched. */
        NAME_TOO_LONG
    }

    private final Reason reason;

    PathUnavailableException(String message, Reason reason) {
        super(message, false);
        this.reason = reason;
    }

    Reason reason() {
        return reason;
    }
}
