package org.changeq.tracker;

/**
 * A libc call failed in a way the tracker cannot work around: the tracker stops. The message names
 * the call, the path, the error and the fix, in one format:
 * {@code inotify_add_watch(/srv/photos) failed: ENOSPC (No space left on device); raise ...}.
 */
public class NativeCallException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NativeCallException(String message) {
        super(message);
    }

    NativeCallException(String message, boolean withStackTrace) {
        super(message, null, false, withStackTrace);
    }
}
