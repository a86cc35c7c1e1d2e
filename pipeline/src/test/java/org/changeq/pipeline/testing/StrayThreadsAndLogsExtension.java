package org.changeq.pipeline.testing;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import java.lang.reflect.AnnotatedElement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.changeq.pipeline.ChangeqThreads;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;
import org.slf4j.LoggerFactory;

/**
 * Fails a test that leaves a changeq thread running, or that logs a WARN or ERROR it does not declare with
 * {@link ExpectLog}. JUnit registers it for every test of every module (extension auto-detection, switched on in
 * this module's test jar).
 *
 * <p><b>Threads.</b> A thread named {@code changeq-...} that a test started and that is still alive when the test
 * (its {@code @AfterEach} included) has finished is joined until {@link #JOIN_GRACE} has passed; if it still runs,
 * the test fails with the thread's name, its owner ({@link ChangeqThreads#ownerOf}) and where it is. The same holds
 * for the threads a class's {@code @BeforeAll} starts, at the end of the class.
 *
 * <p><b>Logs.</b> Every WARN and ERROR logged meanwhile, from any thread, is the test's ({@link LogRecorder}); those
 * logged in a class's set-up or tear-down are the class's. Each must match an {@link ExpectLog} of the test method
 * or its class, and each {@code ExpectLog} on the method must be matched.
 */
public final class StrayThreadsAndLogsExtension
        implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback, AfterAllCallback {

    /** Long enough for an owner that has asked its thread to stop but not joined it; a real leak never ends. */
    private static final Duration JOIN_GRACE = Duration.ofSeconds(5);
    private static final int FRAMES_SHOWN = 8;
    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(StrayThreadsAndLogsExtension.class);
    private static final String CLASS_SCOPE = "class";
    private static final String TEST_SCOPE = "test";

    /**
     * One class's or one test's run.
     *
     * @param known        the changeq threads running when it began, and those already reported as strays
     * @param outsideTests the class's own messages: logged before, between or after its tests
     */
    private record Scope(Set<Thread> known, List<ILoggingEvent> outsideTests) {
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        // Reading the factory makes logback read its configuration, which starts the recorder.
        LoggerFactory.getILoggerFactory();
        if (!LogRecorder.attached()) {
            throw new ExtensionConfigurationException("no " + LogRecorder.class.getName()
                    + " appender on the root logger: add it to this module's src/test/resources/logback-test.xml");
        }
        // Messages from before the class began belong to no test of it.
        LogRecorder.drain();
        context.getStore(NAMESPACE).put(CLASS_SCOPE, new Scope(changeqThreads(), new ArrayList<>()));
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        classScope(context).outsideTests().addAll(LogRecorder.drain());
        context.getStore(NAMESPACE).put(TEST_SCOPE, new Scope(changeqThreads(), List.of()));
    }

    @Override
    public void afterEach(ExtensionContext context) throws InterruptedException {
        Scope test = context.getStore(NAMESPACE).get(TEST_SCOPE, Scope.class);
        List<Thread> strays = strays(test.known());
        classScope(context).known().addAll(strays);
        List<String> problems = new ArrayList<>(describe(strays));
        // After the join: a thread's last words before it stopped are this test's.
        // A test that failed or was skipped may have stopped before it caused what it expects.
        List<ExpectLog> required = context.getExecutionException().isPresent() ? List.of()
                : expectations(context.getRequiredTestMethod());
        List<ExpectLog> allowed = Stream.concat(expectations(context.getRequiredTestMethod()).stream(),
                expectations(context.getRequiredTestClass()).stream()).toList();
        problems.addAll(unexpectedLogs(LogRecorder.drain(), allowed, required));
        failIfAny(problems);
    }

    @Override
    public void afterAll(ExtensionContext context) throws InterruptedException {
        Scope scope = classScope(context);
        List<String> problems = new ArrayList<>(describe(strays(scope.known())));
        List<ILoggingEvent> events = new ArrayList<>(scope.outsideTests());
        events.addAll(LogRecorder.drain());
        problems.addAll(unexpectedLogs(events, expectations(context.getRequiredTestClass()), List.of()));
        failIfAny(problems);
    }

    private static Scope classScope(ExtensionContext context) {
        // From a test, the store falls back to its class's.
        return context.getStore(NAMESPACE).get(CLASS_SCOPE, Scope.class);
    }

    private static Set<Thread> changeqThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> thread.getName().startsWith(ChangeqThreads.NAME_PREFIX))
                .collect(Collectors.toCollection(HashSet::new));
    }

    /** The changeq threads not in {@code known} that outlive a join of {@link #JOIN_GRACE} all together. */
    private static List<Thread> strays(Set<Thread> known) throws InterruptedException {
        long deadline = System.nanoTime() + JOIN_GRACE.toNanos();
        List<Thread> strays = new ArrayList<>();
        for (Thread thread : changeqThreads()) {
            if (known.contains(thread)) {
                continue;
            }
            // join(0) would wait forever.
            thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            if (thread.isAlive()) {
                strays.add(thread);
            }
        }
        return strays;
    }

    private static List<String> describe(List<Thread> strays) {
        return strays.stream().map(thread -> thread.getName() + " (owner "
                + ChangeqThreads.ownerOf(thread).map(Class::getName).orElse("unknown: not made by ChangeqThreads")
                + ") still runs " + JOIN_GRACE.toSeconds() + " s after the test; its owner must stop and join it. "
                + thread.getState() + " at\n" + Arrays.stream(thread.getStackTrace()).limit(FRAMES_SHOWN)
                .map(frame -> "\t" + frame).collect(Collectors.joining("\n"))).toList();
    }

    private static List<ExpectLog> expectations(AnnotatedElement element) {
        return AnnotationSupport.findRepeatableAnnotations(element, ExpectLog.class);
    }

    private static List<String> unexpectedLogs(List<ILoggingEvent> events, List<ExpectLog> allowed,
                                               List<ExpectLog> required) {
        List<String> problems = new ArrayList<>();
        Set<ExpectLog> met = new HashSet<>();
        for (ILoggingEvent event : events) {
            List<ExpectLog> matching = allowed.stream().filter(expected -> matches(expected, event)).toList();
            if (matching.isEmpty()) {
                problems.add("unexpected " + describe(event) + "\n\tif the test means it: @ExpectLog(level = "
                        + event.getLevel() + ", logger = \"" + lastPart(event.getLoggerName()) + "\", contains = \"...\")");
            }
            met.addAll(matching);
        }
        for (ExpectLog expected : required) {
            if (!met.contains(expected)) {
                problems.add("expected " + expected.level() + " from " + expected.logger() + " containing \""
                        + expected.contains() + "\", never logged");
            }
        }
        return problems;
    }

    private static boolean matches(ExpectLog expected, ILoggingEvent event) {
        String logger = event.getLoggerName();
        return event.getLevel().toString().equals(expected.level().name())
                && (logger.equals(expected.logger()) || logger.endsWith("." + expected.logger()))
                && event.getFormattedMessage().contains(expected.contains());
    }

    private static String describe(ILoggingEvent event) {
        IThrowableProxy thrown = event.getThrowableProxy();
        return event.getLevel() + " " + event.getLoggerName() + " [" + event.getThreadName() + "]: "
                + event.getFormattedMessage()
                + (thrown == null ? "" : " (" + thrown.getClassName() + ")");
    }

    private static String lastPart(String loggerName) {
        return loggerName.substring(loggerName.lastIndexOf('.') + 1);
    }

    private static void failIfAny(List<String> problems) {
        if (!problems.isEmpty()) {
            throw new AssertionError(String.join("\n", problems));
        }
    }
}
