package org.changeq.tracker;

/**
 * The tracker could not start: a root is unusable, the queue or state directory cannot be written,
 * another tracker holds the queue, or the kernel refused an inotify instance. The message names the path
 * and the fix; {@link #exitCode()} is the matching {@link org.changeq.pipeline.ExitCodes} value.
 */
public final class TrackerStartException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int exitCode;

    TrackerStartException(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
