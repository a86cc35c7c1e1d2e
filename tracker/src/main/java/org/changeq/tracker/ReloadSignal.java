package org.changeq.tracker;

import sun.misc.Signal;

/**
 * SIGHUP as a request to reload the configuration ({@code ExecReload=kill -HUP $MAINPID}), instead of the JVM's
 * default for it, which is to exit. The JVM runs the handler on a thread of its own ("SIGHUP handler") that only
 * passes the request to the tracker, whose reader thread does the reload between two reads of inotify. A SIGHUP that
 * comes before the tracker exists is kept and delivered once it does.
 *
 * <p>Thread-safe.
 */
final class ReloadSignal {

    private Tracker tracker;
    private boolean pending;

    private ReloadSignal() {
    }

    /** Handles SIGHUP from now on in this process. */
    static ReloadSignal install() {
        ReloadSignal reloads = new ReloadSignal();
        Signal.handle(new Signal("HUP"), signal -> reloads.received());
        return reloads;
    }

    /** From now on SIGHUP reloads {@code started}; a SIGHUP received before reloads it at once. */
    synchronized void deliverTo(Tracker started) {
        tracker = started;
        if (pending) {
            pending = false;
            started.requestReload();
        }
    }

    private synchronized void received() {
        if (tracker != null) {
            tracker.requestReload();
        } else {
            pending = true;
        }
    }
}
