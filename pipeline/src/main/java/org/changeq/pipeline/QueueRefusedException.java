package org.changeq.pipeline;

/**
 * A writer may not open the queue: another writer holds it, or it belongs to another state directory, or its
 * lock cannot be taken. The message names the paths and the fix; {@link #exitCode()} is the matching
 * {@link ExitCodes} value.
 */
public final class QueueRefusedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int exitCode;

    QueueRefusedException(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
