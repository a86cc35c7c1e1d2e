package org.changeq.tracker;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells systemd the service's state through the {@code sd_notify} protocol: one datagram of
 * newline-separated assignments ({@code READY=1}, {@code STATUS=...}, {@code WATCHDOG=1},
 * {@code STOPPING=1}) sent to the {@code AF_UNIX} socket named by {@code $NOTIFY_SOCKET}.
 *
 * <p>Java's {@code DatagramChannel} cannot use {@code AF_UNIX}, so the datagram goes through
 * {@link Libc}, the one binding of libc, as inotify does. Both services use it: the tracker and the
 * sync's follow mode. libc is always there; libsystemd is not (containers, minimal hosts), and the
 * protocol is one {@code sendto}. Path sockets and abstract ones ({@code @name}) are supported.
 *
 * <p>Without {@code $NOTIFY_SOCKET} (not started by systemd, or not {@code Type=notify}) every
 * method does nothing, so callers never check.
 *
 * <p>Threads: every method may be called from any thread. Each message is sent on a socket of
 * its own, so concurrent messages never interleave. A send may block briefly while systemd's
 * receive queue is full, as {@code sd_notify(3)} does; dropping a {@code READY=1} would get the
 * service killed at its start timeout.
 *
 * <p>Errors: sending never throws. The first failure is logged as a warning naming the socket
 * and the errno; later ones only at debug level, so a missing socket cannot flood the journal.
 * Because the unit uses {@code NotifyAccess=main}, messages must come from this process, which
 * the launchers guarantee by exec-ing into the JVM.
 */
public final class SystemdNotifier {
    public static final String NOTIFY_SOCKET = "NOTIFY_SOCKET";
    public static final String WATCHDOG_USEC = "WATCHDOG_USEC";
    public static final String WATCHDOG_PID = "WATCHDOG_PID";

    private static final Logger log = LoggerFactory.getLogger(SystemdNotifier.class);

    /** {@code sizeof(((struct sockaddr_un *) 0)->sun_path)} on Linux. */
    private static final int SUN_PATH_SIZE = 108;
    private static final int SUN_PATH_OFFSET = Short.BYTES;

    private static final SystemdNotifier DISABLED = new SystemdNotifier(null, null, null);

    private final String socketName;
    private final byte[] socketAddress;
    private final Duration watchdogInterval;
    private final AtomicBoolean failureLogged = new AtomicBoolean();

    private SystemdNotifier(String socketName, byte[] socketAddress, Duration watchdogInterval) {
        this.socketName = socketName;
        this.socketAddress = socketAddress;
        this.watchdogInterval = watchdogInterval;
    }

    /** The notifier for this process, from its environment; a no-op one outside systemd. */
    public static SystemdNotifier fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /** As {@link #fromEnvironment()}, from the given variables (tests cannot change the real ones). */
    public static SystemdNotifier fromEnvironment(Map<String, String> environment) {
        String socket = environment.get(NOTIFY_SOCKET);
        if (socket == null || socket.isEmpty()) {
            return DISABLED;
        }
        byte[] address;
        try {
            address = socketAddress(socket);
        } catch (IllegalArgumentException e) {
            log.warn("{}; systemd will not hear from this service", e.getMessage());
            return DISABLED;
        }
        return new SystemdNotifier(socket, address, watchdogInterval(environment).orElse(null));
    }

    /**
     * The service's readiness: {@code READY=1} with a status line. For the tracker, once every root
     * is watched, so that {@code systemctl start} returns when changes are being recorded; for a
     * follower, once it holds its route and follows the queue.
     */
    public void ready(String status) {
        send("READY=1\nSTATUS=" + oneLine(status));
    }

    /** A free-form status line, shown by {@code systemctl status}. */
    public void status(String status) {
        send("STATUS=" + oneLine(status));
    }

    /**
     * A watchdog keep-alive ({@code WATCHDOG=1}). Call it every half {@link #watchdogInterval()}
     * from a thread that stops when the service hangs, starting before any long start-up work.
     */
    public void watchdog() {
        send("WATCHDOG=1");
    }

    /**
     * The service began to reload its configuration ({@code RELOADING=1}, with the {@code CLOCK_MONOTONIC} time systemd
     * asks for); {@link #ready} says when it is done, whether the new configuration was taken or refused.
     */
    public void reloading() {
        // System.nanoTime() reads CLOCK_MONOTONIC on Linux.
        send("RELOADING=1\nMONOTONIC_USEC=" + System.nanoTime() / 1_000);
    }

    /** The service began a clean shutdown ({@code STOPPING=1}). */
    public void stopping() {
        send("STOPPING=1");
    }

    /**
     * The unit's {@code WatchdogSec=}, when systemd expects {@link #watchdog()} calls from this
     * process ({@code $WATCHDOG_USEC} set, and {@code $WATCHDOG_PID}, when set, naming this
     * process); ping at half of it. Empty otherwise.
     */
    public Optional<Duration> watchdogInterval() {
        return Optional.ofNullable(watchdogInterval);
    }

    private static Optional<Duration> watchdogInterval(Map<String, String> environment) {
        String micros = environment.get(WATCHDOG_USEC);
        if (micros == null) {
            return Optional.empty();
        }
        String pid = environment.get(WATCHDOG_PID);
        try {
            if (pid != null && Long.parseLong(pid.trim()) != ProcessHandle.current().pid()) {
                return Optional.empty();
            }
            long value = Long.parseLong(micros.trim());
            if (value <= 0) {
                throw new NumberFormatException("not positive");
            }
            return Optional.of(Duration.ofNanos(Math.multiplyExact(value, 1000L)));
        } catch (NumberFormatException | ArithmeticException e) {
            log.warn("ignoring the watchdog: {}='{}', {}='{}' are not a positive number of microseconds and a pid",
                    WATCHDOG_USEC, micros, WATCHDOG_PID, pid);
            return Optional.empty();
        }
    }

    /** A newline would end the STATUS assignment and start another one. */
    private static String oneLine(String status) {
        return status.replace('\n', ' ');
    }

    /**
     * The {@code struct sockaddr_un} for {@code $NOTIFY_SOCKET}, exactly as long as the address:
     * a path with its terminating NUL, or for {@code @name} a leading NUL and the name without one
     * (in the abstract namespace every byte of the length is part of the name).
     */
    static byte[] socketAddress(String notifySocket) {
        boolean isAbstract = notifySocket.startsWith("@");
        if (!isAbstract && !notifySocket.startsWith("/")) {
            throw new IllegalArgumentException(NOTIFY_SOCKET + "='" + notifySocket
                    + "' is neither an absolute path nor an abstract @name; only AF_UNIX sockets are supported");
        }
        // The JVM decoded the environment with the file-name charset; encoding with it gives the bytes back.
        byte[] name = notifySocket.getBytes(fileNameCharset());
        int pathLength = isAbstract ? name.length : name.length + 1;
        if (pathLength > SUN_PATH_SIZE) {
            throw new IllegalArgumentException(NOTIFY_SOCKET + "='" + notifySocket + "' is longer than the "
                    + SUN_PATH_SIZE + " bytes of sockaddr_un.sun_path");
        }
        ByteBuffer address = ByteBuffer.allocate(SUN_PATH_OFFSET + pathLength).order(ByteOrder.nativeOrder());
        address.putShort(Libc.AF_UNIX);
        if (isAbstract) {
            address.put((byte) 0).put(name, 1, name.length - 1);
        } else {
            address.put(name).put((byte) 0);
        }
        return address.array();
    }

    private static Charset fileNameCharset() {
        String name = System.getProperty("sun.jnu.encoding");
        return name != null && Charset.isSupported(name) ? Charset.forName(name) : Charset.defaultCharset();
    }

    private void send(String message) {
        if (socketAddress == null) {
            return;
        }
        try {
            Libc.sendDatagram(socketAddress, socketName, message.getBytes(StandardCharsets.UTF_8));
        } catch (NativeCallException e) {
            failed(e.getMessage());
        } catch (LinkageError | RuntimeException e) {
            // jnr-ffi could not bind libc (no native stub for this platform): the same for every send.
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            failed("binding libc failed: " + cause);
        }
    }

    private void failed(String failure) {
        if (failureLogged.compareAndSet(false, true)) {
            log.warn("sd_notify: {}; systemd does not see this service's state "
                    + "(further failures are logged at debug level)", failure);
        } else {
            log.debug("sd_notify: {}", failure);
        }
    }
}
