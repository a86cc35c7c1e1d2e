package org.changeq.tracker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * A bound AF_UNIX datagram socket standing in for systemd's notify socket. Java cannot bind one
 * ({@code DatagramChannel} has no {@code AF_UNIX}), so it goes through libc like the notifier.
 * Not thread-safe.
 */
public final class NotifyReceiver implements AutoCloseable {
    public static final Duration RECEIVE_DEADLINE = Duration.ofSeconds(5);
    private static final int POLLIN = 1;
    private static final TestLibC LIBC = LibraryLoader.create(TestLibC.class).load("c");
    private static final Runtime RUNTIME = Runtime.getRuntime(LIBC);

    private final int fd;
    private final String name;

    private NotifyReceiver(int fd, String name) {
        this.fd = fd;
        this.name = name;
    }

    public static NotifyReceiver bind(String name) {
        int fd = LIBC.socket(1, 2, 0);
        assertTrue(fd >= 0, "socket: errno " + LastError.getLastError(RUNTIME));
        byte[] address = SystemdNotifier.socketAddress(name);
        if (LIBC.bind(fd, address, address.length) != 0) {
            int errno = LastError.getLastError(RUNTIME);
            LIBC.close(fd);
            fail("bind(" + name + "): errno " + errno);
        }
        return new NotifyReceiver(fd, name);
    }

    /** The environment systemd gives a notify service with this socket and {@code WatchdogSec=watchdog}. */
    public Map<String, String> environment(Duration watchdog) {
        return Map.of(SystemdNotifier.NOTIFY_SOCKET, name,
                SystemdNotifier.WATCHDOG_USEC, Long.toString(watchdog.toNanos() / 1000));
    }

    /** The next datagram, waiting for it up to {@link #RECEIVE_DEADLINE}. */
    public String receive() {
        return receive(RECEIVE_DEADLINE);
    }

    /** The next datagram, waiting for it up to {@code deadline}. */
    public String receive(Duration deadline) {
        byte[] pollFd = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putInt(fd).putShort((short) POLLIN).array();
        int ready = LIBC.poll(pollFd, 1, (int) deadline.toMillis());
        assertEquals(1, ready, "a datagram arrived within " + deadline);
        byte[] buffer = new byte[4096];
        long length = LIBC.recv(fd, buffer, buffer.length, 0);
        assertTrue(length >= 0, "recv: errno " + LastError.getLastError(RUNTIME));
        return new String(buffer, 0, (int) length, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        LIBC.close(fd);
    }

    /** Public only for jnr-ffi's generated class. */
    public interface TestLibC {
        int socket(int domain, int type, int protocol);

        int bind(int fd, @In byte[] address, int addressLength);

        int poll(@In @Out byte[] fds, int count, int timeoutMillis);

        @ssize_t long recv(int fd, @Out byte[] buffer, @size_t long length, int flags);

        int close(int fd);
    }
}
