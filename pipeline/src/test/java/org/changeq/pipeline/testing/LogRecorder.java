package org.changeq.pipeline.testing;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;

/**
 * Keeps every WARN and ERROR logged, from any thread, until {@link StrayThreadsAndLogsExtension} takes them for the
 * test that ran meanwhile. Each module's {@code logback-test.xml} attaches it to the root logger.
 *
 * <p><b>Threading.</b> Any thread may log and drain; the events live in one static list because logback, not the
 * test, makes the instance.
 */
public final class LogRecorder extends AppenderBase<ILoggingEvent> {

    private static final List<ILoggingEvent> EVENTS = new ArrayList<>();
    private static volatile boolean attached;

    @Override
    public void start() {
        super.start();
        attached = true;
    }

    @Override
    protected void append(ILoggingEvent event) {
        if (event.getLevel().isGreaterOrEqual(Level.WARN)) {
            // The message is formatted now, with its arguments as they are, not when a test reads it.
            event.prepareForDeferredProcessing();
            synchronized (EVENTS) {
                EVENTS.add(event);
            }
        }
    }

    /** Whether the logging configuration started a recorder: without one, no unexpected message would be noticed. */
    static boolean attached() {
        return attached;
    }

    /** The events recorded since the last call, oldest first. */
    static List<ILoggingEvent> drain() {
        synchronized (EVENTS) {
            List<ILoggingEvent> taken = List.copyOf(EVENTS);
            EVENTS.clear();
            return taken;
        }
    }
}
