package org.changeq.sync;

import java.time.Duration;
import java.util.Optional;
import org.changeq.pipeline.ExitCodes;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Which signal asked this process to stop (SIGTERM from systemd, SIGINT from Ctrl-C), so that a run stopped by it is
 * reported as stopped rather than as a failure of rsync. The JVM's own handler still runs after the signal is noted:
 * the process exits as before (130 or 143 for a one-shot run, a follower through its shutdown hook).
 *
 * <p>A terminal's Ctrl-C and systemd's stop reach rsync, a member of the same process group and cgroup, as well: it
 * may exit (20) before the JVM's handler thread has run, hence {@link #await}.
 *
 * <p>Thread-safe.
 */
final class StopSignals {

    private static final Object LOCK = new Object();
    private static String received;
    private static boolean installed;

    private StopSignals() {
    }

    /** Notes SIGTERM and SIGINT from now on in this process; idempotent. */
    static void install() {
        synchronized (LOCK) {
            if (installed) {
                return;
            }
            installed = true;
        }
        for (String name : new String[] {"TERM", "INT"}) {
            Signal signal = new Signal(name);
            SignalHandler[] previous = new SignalHandler[1];
            try {
                previous[0] = Signal.handle(signal, caught -> {
                    note("SIG" + caught.getName());
                    SignalHandler next = previous[0];
                    if (next != null && next != SignalHandler.SIG_DFL && next != SignalHandler.SIG_IGN) {
                        next.handle(caught);
                    } else if (next == SignalHandler.SIG_DFL) {
                        System.exit(128 + caught.getNumber());
                    }
                });
            } catch (IllegalArgumentException | IllegalStateException notHandled) {
                // -Xrs, or a signal the JVM keeps for itself: a stop then reads as rsync's failure, as before.
            }
        }
    }

    private static void note(String signal) {
        synchronized (LOCK) {
            if (received == null) {
                received = signal;
            }
            LOCK.notifyAll();
        }
    }

    /** The first stop signal this process received: {@code SIGTERM} or {@code SIGINT}. */
    static Optional<String> received() {
        synchronized (LOCK) {
            return Optional.ofNullable(received);
        }
    }

    /** Waits up to {@code timeout} for a stop signal; returns it, or empty when none came. */
    static Optional<String> await(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (LOCK) {
            while (received == null) {
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return Optional.empty();
                }
                LOCK.wait(Math.max(1, remaining / 1_000_000));
            }
            return Optional.of(received);
        }
    }

    /** The exit code the JVM ends with after {@code signal}. */
    static int exitCode(String signal) {
        return signal.equals("SIGINT") ? ExitCodes.INTERRUPTED : ExitCodes.TERMINATED;
    }
}
