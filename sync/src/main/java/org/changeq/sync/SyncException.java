package org.changeq.sync;

import java.util.Optional;
import org.changeq.pipeline.ExitCodeException;

/**
 * A run could not start or could not finish its bookkeeping: the route is busy, the root or the
 * queue is unavailable, the state directory is unwritable. The message says what and what to do.
 * Declared where it is thrown, although unchecked, so that each caller sees which runs may be refused.
 * {@link RouteSync} attaches the run's {@link SyncReport} before it lets one escape, for its summary line.
 */
public final class SyncException extends ExitCodeException {
    private static final long serialVersionUID = 1L;

    private transient SyncReport report;
    private boolean logged;

    SyncException(int exitCode, String message, Throwable cause) {
        super(exitCode, message, cause);
    }

    SyncException(int exitCode, String message) {
        this(exitCode, message, null);
    }

    /** The run as far as it got; empty when it was refused before a route's run began (its lock, its queue). */
    public Optional<SyncReport> report() {
        return Optional.ofNullable(report);
    }

    /** Whether the run logged the message already, as an ERROR: it is not to be shown again. */
    public boolean logged() {
        return logged;
    }

    void markLogged() {
        logged = true;
    }

    SyncException withReport(SyncReport run) {
        if (report == null) {
            report = run;
        }
        return this;
    }
}
