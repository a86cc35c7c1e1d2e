package org.changeq.tracker;

import org.changeq.pipeline.ExitCodeException;

/**
 * The tracker could not start: a root is unusable, the queue or state directory cannot be written,
 * another tracker holds the queue, or the kernel refused an inotify instance. The message names the path
 * and the fix; {@link #exitCode()} is the matching {@link org.changeq.pipeline.ExitCodes} value.
 */
public final class TrackerStartException extends ExitCodeException {
    private static final long serialVersionUID = 1L;

    TrackerStartException(int exitCode, String message, Throwable cause) {
        super(exitCode, message, cause);
    }
}
