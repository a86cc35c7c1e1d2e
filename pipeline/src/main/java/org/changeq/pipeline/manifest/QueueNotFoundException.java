package org.changeq.pipeline.manifest;

/**
 * The queue directory is missing, is not a changeq queue, or belongs to another state directory. The message says
 * which and what to do.
 */
public final class QueueNotFoundException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public QueueNotFoundException(String message) {
        super(message);
    }
}
