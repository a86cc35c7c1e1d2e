package org.changeq.tracker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.changeq.pipeline.testing.ExpectLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

class SystemdNotifierTest {
    private static final Duration RECEIVE_DEADLINE = NotifyReceiver.RECEIVE_DEADLINE;

    @TempDir
    Path dir;

    @Test
    void withoutNotifySocketEverythingIsANoOp() {
        SystemdNotifier notifier = SystemdNotifier.fromEnvironment(Map.of(SystemdNotifier.WATCHDOG_USEC, "1000000"));
        notifier.ready("ready");
        notifier.status("status");
        notifier.watchdog();
        notifier.stopping();
        assertEquals(Optional.empty(), notifier.watchdogInterval());
    }

    @Test
    void sendsEachMessageAsOneDatagramToAPathSocket() throws IOException {
        String socketPath = dir.resolve("notify").toString();
        try (NotifyReceiver receiver = NotifyReceiver.bind(socketPath)) {
            assertTrue(Files.exists(Path.of(socketPath)), "binding the address created the socket file at " + socketPath);
            SystemdNotifier notifier = SystemdNotifier.fromEnvironment(Map.of(SystemdNotifier.NOTIFY_SOCKET, socketPath));

            notifier.ready("watching 3 roots, 120431 directories");
            assertEquals("READY=1\nSTATUS=watching 3 roots, 120431 directories", receiver.receive());
            notifier.status("catch-up scan of nfs");
            assertEquals("STATUS=catch-up scan of nfs", receiver.receive());
            notifier.watchdog();
            assertEquals("WATCHDOG=1", receiver.receive());
            notifier.stopping();
            assertEquals("STOPPING=1", receiver.receive());
        }
    }

    @Test
    void aReloadIsReloadingWithTheMonotonicTimeThenReady() throws IOException {
        String socketPath = dir.resolve("notify").toString();
        try (NotifyReceiver receiver = NotifyReceiver.bind(socketPath)) {
            SystemdNotifier notifier = SystemdNotifier.fromEnvironment(Map.of(SystemdNotifier.NOTIFY_SOCKET, socketPath));
            long before = System.nanoTime() / 1_000;
            notifier.reloading();
            String[] reloading = receiver.receive().split("\n");
            assertEquals("RELOADING=1", reloading[0]);
            long usec = Long.parseLong(reloading[1].substring("MONOTONIC_USEC=".length()));
            assertTrue(reloading[1].startsWith("MONOTONIC_USEC=") && usec >= before && usec <= System.nanoTime() / 1_000,
                    reloading[1]);
            notifier.ready("watching 4 directories in 2 roots");
            assertEquals("READY=1\nSTATUS=watching 4 directories in 2 roots", receiver.receive());
        }
    }

    @Test
    void sendsToAnAbstractSocket() throws IOException {
        String name = "@changeq-notify-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        try (NotifyReceiver receiver = NotifyReceiver.bind(name)) {
            assertTrue(Files.readAllLines(Path.of("/proc/net/unix")).stream().anyMatch(line -> line.endsWith(" " + name)),
                    "the kernel lists the abstract socket as " + name);
            SystemdNotifier.fromEnvironment(Map.of(SystemdNotifier.NOTIFY_SOCKET, name)).watchdog();
            assertEquals("WATCHDOG=1", receiver.receive());
        }
    }

    @Test
    void aNewlineInAStatusCannotStartAnotherAssignment() {
        String socketPath = dir.resolve("notify").toString();
        try (NotifyReceiver receiver = NotifyReceiver.bind(socketPath)) {
            SystemdNotifier.fromEnvironment(Map.of(SystemdNotifier.NOTIFY_SOCKET, socketPath)).status("x\nREADY=1");
            assertEquals("STATUS=x READY=1", receiver.receive());
        }
    }

    @Test
    void concurrentSendersEachDeliverWholeMessages() throws InterruptedException {
        String socketPath = dir.resolve("notify").toString();
        int threads = 4;
        int messagesPerThread = 2; // 8 stays below the default receive queue (net.unix.max_dgram_qlen = 10)
        try (NotifyReceiver receiver = NotifyReceiver.bind(socketPath)) {
            SystemdNotifier notifier = SystemdNotifier.fromEnvironment(Map.of(SystemdNotifier.NOTIFY_SOCKET, socketPath));
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> senders = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                Thread sender = new Thread(() -> {
                    awaitQuietly(start);
                    for (int m = 0; m < messagesPerThread; m++) {
                        notifier.status("sender " + id + " message " + m);
                    }
                }, "changeq-test-notify-" + t);
                senders.add(sender);
                sender.start();
            }
            start.countDown();
            for (Thread sender : senders) {
                sender.join(RECEIVE_DEADLINE.toMillis());
                assertFalse(sender.isAlive(), sender.getName() + " finished");
            }
            Set<String> received = new HashSet<>();
            for (int i = 0; i < threads * messagesPerThread; i++) {
                received.add(receiver.receive());
            }
            Set<String> expected = new HashSet<>();
            for (int t = 0; t < threads; t++) {
                for (int m = 0; m < messagesPerThread; m++) {
                    expected.add("STATUS=sender " + t + " message " + m);
                }
            }
            assertEquals(expected, received);
        }
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "SystemdNotifier", contains = "sendto(")
    void aFailingSendNeverThrowsAndWarnsOnce() {
        Logger logger = (Logger) LoggerFactory.getLogger(SystemdNotifier.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            String missing = dir.resolve("no-such-socket").toString();
            SystemdNotifier notifier = SystemdNotifier.fromEnvironment(Map.of(SystemdNotifier.NOTIFY_SOCKET, missing));
            notifier.ready("ready");
            notifier.watchdog();
            notifier.stopping();

            List<ILoggingEvent> warnings = appender.list.stream().filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN).toList();
            assertEquals(1, warnings.size(), "one warning for three failed sends: " + appender.list);
            String message = warnings.get(0).getFormattedMessage();
            assertTrue(message.contains("sendto(" + missing + ")") && message.contains("ENOENT"),
                    "the warning names the socket and the errno: " + message);
        } finally {
            logger.detachAppender(appender);
        }
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "SystemdNotifier", contains = "only AF_UNIX sockets are supported")
    void anUnsupportedSocketGivesANoOpNotifier() {
        SystemdNotifier notifier = SystemdNotifier.fromEnvironment(Map.of(SystemdNotifier.NOTIFY_SOCKET, "vsock:2:1234"));
        notifier.ready("ready");
        assertEquals(Optional.empty(), notifier.watchdogInterval());
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "SystemdNotifier", contains = "ignoring the watchdog")
    void watchdogIntervalComesFromWatchdogUsecForThisProcessOnly() {
        String socket = dir.resolve("notify").toString();
        String ownPid = Long.toString(ProcessHandle.current().pid());
        assertEquals(Optional.of(Duration.ofSeconds(60)), interval(socket, "60000000", ownPid));
        assertEquals(Optional.of(Duration.ofMillis(1500)), interval(socket, "1500000", null));
        assertEquals(Optional.empty(), interval(socket, "60000000", Long.toString(ProcessHandle.current().pid() + 1)));
        assertEquals(Optional.empty(), interval(socket, null, ownPid));
        assertEquals(Optional.empty(), interval(socket, "0", ownPid));
        assertEquals(Optional.empty(), interval(socket, "sixty", ownPid));
    }

    @Test
    void socketAddressesAreSockaddrUnOfTheExactLength() {
        byte[] path = SystemdNotifier.socketAddress("/run/systemd/notify");
        assertArrayEquals(sockaddr(new byte[] {}, "/run/systemd/notify\0"), path);

        byte[] abstractName = SystemdNotifier.socketAddress("@sd-notify");
        assertArrayEquals(sockaddr(new byte[] {0}, "sd-notify"), abstractName, "a leading NUL, no trailing one");

        String longest = "/" + "x".repeat(106);
        assertEquals(2 + 108, SystemdNotifier.socketAddress(longest).length);
        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                () -> SystemdNotifier.socketAddress(longest + "x"));
        assertTrue(tooLong.getMessage().contains("108"), tooLong.getMessage());
    }

    private static Optional<Duration> interval(String socket, String micros, String pid) {
        Map<String, String> environment = new HashMap<>();
        environment.put(SystemdNotifier.NOTIFY_SOCKET, socket);
        if (micros != null) {
            environment.put(SystemdNotifier.WATCHDOG_USEC, micros);
        }
        if (pid != null) {
            environment.put(SystemdNotifier.WATCHDOG_PID, pid);
        }
        return SystemdNotifier.fromEnvironment(environment).watchdogInterval();
    }

    private static byte[] sockaddr(byte[] prefix, String path) {
        byte[] name = path.getBytes(StandardCharsets.US_ASCII);
        return ByteBuffer.allocate(2 + prefix.length + name.length).order(ByteOrder.nativeOrder())
                .putShort((short) 1).put(prefix).put(name).array();
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
