package org.changeq.pipeline.manifest;

import org.changeq.pipeline.ExitCodeException;
import org.changeq.pipeline.ExitCodes;

/**
 * A writer may not open the queue: another writer holds it, or it belongs to another state directory, or its
 * lock cannot be taken. The message names the paths and the fix; {@link #exitCode()} is the matching
 * {@link ExitCodes} value.
 */
public final class QueueRefusedException extends ExitCodeException {
    private static final long serialVersionUID = 1L;

    QueueRefusedException(int exitCode, String message, Throwable cause) {
        super(exitCode, message, cause);
    }
}
