package org.changeq.sync;

/**
 * A run could not start or could not finish its bookkeeping: the route is busy, the root or the
 * queue is unavailable, the state directory is unwritable. The message says what and what to do;
 * {@link #exitCode()} is the program's exit code from {@code ExitCodes}.
 */
public final class SyncException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int exitCode;

    SyncException(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    SyncException(int exitCode, String message) {
        this(exitCode, message, null);
    }

    public int exitCode() {
        return exitCode;
    }
}
