package org.changeq.sync;

import org.changeq.pipeline.ExitCodeException;

/**
 * A run could not start or could not finish its bookkeeping: the route is busy, the root or the
 * queue is unavailable, the state directory is unwritable. The message says what and what to do.
 * Declared where it is thrown, although unchecked, so that each caller sees which runs may be refused.
 */
public final class SyncException extends ExitCodeException {
    private static final long serialVersionUID = 1L;

    SyncException(int exitCode, String message, Throwable cause) {
        super(exitCode, message, cause);
    }

    SyncException(int exitCode, String message) {
        this(exitCode, message, null);
    }
}
