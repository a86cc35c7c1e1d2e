package org.changeq.pipeline;

import java.nio.file.AccessDeniedException;
import java.util.Optional;

/**
 * A file or directory of changeq's queue or state that this user may not open, said as the fix:
 * {@link ExitCodes#QUEUE_UNAVAILABLE}. Under the units those directories belong to the changeq user, so a command run
 * by hand as someone else meets this first.
 */
public final class PermissionDenied extends ExitCodeException {
    private static final long serialVersionUID = 1L;

    /** What to do, after the path. */
    public static final String FIX = "permission denied; run as root or as the changeq user";

    private PermissionDenied(String message, Throwable cause) {
        super(ExitCodes.QUEUE_UNAVAILABLE, message, cause);
    }

    /**
     * The first {@link AccessDeniedException} among {@code failure} and its causes, as one sentence naming its path;
     * empty when the failure is another.
     */
    public static Optional<PermissionDenied> in(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof AccessDeniedException denied) {
                return Optional.of(new PermissionDenied(denied.getFile() + ": " + FIX, failure));
            }
        }
        return Optional.empty();
    }

    /** The sentence of {@link #in} for {@code failure}, or {@code otherwise} when the failure is another. */
    public static String sentenceOr(Throwable failure, String otherwise) {
        return in(failure).map(Throwable::getMessage).orElse(otherwise);
    }
}
