package org.changeq.pipeline;

/**
 * A failure a program ends on, with its exit code from {@link ExitCodes}; the message names the path or
 * value and the fix.
 */
public abstract class ExitCodeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int exitCode;

    protected ExitCodeException(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
