package org.changeq.nativetests.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.changeq.nativetests.sync.ChildJvm;
import org.changeq.nativetests.sync.ForeignLock;
import org.changeq.nativetests.sync.Trees;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.state.HeldDeletions;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.pipeline.testing.Poll;
import org.changeq.sync.RouteFollower;
import org.changeq.sync.SyncException;
import org.changeq.sync.SyncMain;
import org.changeq.sync.SyncRequest;
import org.changeq.tracker.NotifyReceiver;
import org.changeq.tracker.SystemdNotifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * {@code changeq-sync follow} with the real tracker in its own JVM, the real rsync and an rsync daemon on loopback
 * as the destination: changes arrive within seconds, a burst arrives complete in runs of about max-batch, a
 * destination that goes down is retried with growing waits and caught up in one run, kill -9 and SIGTERM in the
 * middle of rsync lose nothing, and an overflow costs one full sync after which following goes on.
 */
class FollowTest {

    private static final Duration TIMEOUT = FaultBench.TIMEOUT;
    private static final Duration IDLE_WINDOW = Duration.ofSeconds(5);
    /** What a run's summary line says rsync transferred. */
    private static final Pattern FILES_SENT = Pattern.compile(" files=(\\d+) ");
    private static final Pattern RETRY_WAIT = Pattern.compile("changeq_sync_follow_retry_wait_seconds\\{[^}]*} (\\S+)");

    @TempDir
    Path temp;

    @Test
    @ExpectLog(level = org.slf4j.event.Level.WARN, logger = "SystemdNotifier", contains = "sendto(")
    void aChangeArrivesWithinSecondsWhileFollowingAndATimerRunOfTheRouteIsRefused() throws Exception {
        int samples = Integer.getInteger("follow.samples", 5);
        try (FaultBench bench = FaultBench.create(temp)) {
            bench.startTracker();
            bench.awaitTrackerWatching();
            Trees.write(bench.root, "before", "written before the follower started");
            NotifyReceiver systemd = NotifyReceiver.bind(temp.resolve("notify").toString());
            try (Following following = new Following(bench, SystemdNotifier.fromEnvironment(systemd.environment(Duration.ofSeconds(2))))) {
                try {
                    assertTrue(systemd.receive().startsWith("READY=1\nSTATUS=following route " + FaultBench.ROUTE));
                    assertTrue(following.awaitSummaries(1).get(0).contains("mode=full reason=first-run"), following.summaries().toString());
                    awaitMessage(systemd, "WATCHDOG=1");
                } finally {
                    // Unlike systemd, this socket is not read from now on: a full receive queue would block the sender.
                    systemd.close();
                }
                Poll.until(TIMEOUT, "the first run's copy", bench::destinationEqualsSourceNow);

                SyncException refused = assertThrows(SyncException.class, bench::sync, "the timer's run while it follows");
                assertEquals(ExitCodes.ALREADY_RUNNING, refused.exitCode());

                List<Long> millis = new ArrayList<>();
                for (int i = 0; i < samples; i++) {
                    String name = "probe-" + i;
                    String content = "probe " + i + " " + System.nanoTime();
                    Path arrived = bench.daemon.moduleDirectory().resolve(name);
                    long started = System.nanoTime();
                    Files.writeString(bench.root.resolve(name), content);
                    Poll.until(TIMEOUT, name + " at the destination",
                            () -> Files.exists(arrived) && Files.readString(arrived).equals(content));
                    millis.add((System.nanoTime() - started) / 1_000_000);
                }
                List<String> summaries = following.summaries();
                assertTrue(summaries.subList(1, summaries.size()).stream().allMatch(line -> line.contains("mode=incremental")),
                        summaries.toString());
                List<Long> sorted = millis.stream().sorted().toList();
                System.out.printf("follow: one changed file at the destination after %s ms (median %d ms of %d, default"
                        + " settings: quiet 2 s)%n", millis, sorted.get(sorted.size() / 2), samples);

                // Idle: the follow thread polls the tailer at most 4 times a second; busy polling would take a core.
                long cpuBefore = followerCpuNanos();
                long idleStarted = System.nanoTime();
                Thread.sleep(IDLE_WINDOW.toMillis());
                double share = (followerCpuNanos() - cpuBefore) / (double) (System.nanoTime() - idleStarted);
                System.out.printf("follow: idle for %d s, the follower's threads used %.3f%% of one core%n",
                        IDLE_WINDOW.toSeconds(), share * 100);
                assertTrue(share < 0.01, "idle CPU " + share);
            }
            bench.assertDestinationEqualsSource();
        }
    }

    @Test
    void aFollowerStartedWhileAVerifyHoldsTheRoutesLockWaitsForItAndThenFollows() throws Exception {
        try (FaultBench bench = FaultBench.create(temp)) {
            bench.startTracker();
            bench.awaitTrackerWatching();
            try (ForeignLock verify = ForeignLock.hold(routeLock(bench), ForeignLock.Kind.PROCESS);
                 NotifyReceiver systemd = NotifyReceiver.bind(temp.resolve("notify").toString());
                 Following following = new Following(bench,
                         SystemdNotifier.fromEnvironment(systemd.environment(Duration.ofSeconds(2))))) {
                // Ready at once, so systemd's start timeout cannot end the wait; the watchdog hears from it.
                String ready = systemd.receive();
                assertTrue(ready.startsWith("READY=1\nSTATUS=route " + FaultBench.ROUTE + ": waiting for its lock, held"
                        + " by process " + verify.pid()), ready);
                awaitMessage(systemd, "WATCHDOG=1");
                SyncException refused = assertThrows(SyncException.class, bench::sync, "a timer run while the follower waits");
                assertEquals(ExitCodes.ALREADY_RUNNING, refused.exitCode());
                assertTrue(refused.getMessage().contains("is followed by changeq-sync follow"), refused.getMessage());
                Trees.write(bench.root, "written-while-waiting", "sent once the lock is free");
                assertEquals(List.of(), following.summaries(), "no run while another process holds the lock");

                verify.close();
                assertTrue(following.awaitSummaries(1).get(0).contains("mode=full reason=first-run"),
                        following.summaries().toString());
                Poll.until(TIMEOUT, "the copy once the lock was free", bench::destinationEqualsSourceNow);
            }
        }
    }

    @Test
    void aFollowerWaitingForTheRoutesLockStopsAtOnce() throws Exception {
        try (FaultBench bench = FaultBench.create(temp)) {
            bench.startTracker();
            bench.awaitTrackerWatching();
            try (ForeignLock verify = ForeignLock.hold(routeLock(bench), ForeignLock.Kind.PROCESS)) {
                Following following = new Following(bench);
                Poll.until(TIMEOUT, "the follower to wait for the lock", () -> Thread.getAllStackTraces().keySet().stream()
                        .anyMatch(thread -> thread.getName().startsWith("changeq-follow")));
                // Following.close asserts exit 0 and every follower thread joined.
                following.close();
                assertEquals(List.of(), following.summaries());
                assertTrue(verify.held(), "the holder kept its lock throughout");
            }
        }
    }

    @Test
    void aBurstOf100000CreationsArrivesCompleteInBatches() throws Exception {
        try (FaultBench bench = FaultBench.withRouteLines(temp)) {
            // The burst's top is at the destination before it starts: were it new, a run that began late could send
            // it whole, and the batching this test is about would depend on how fast the machine writes.
            Files.createDirectory(bench.root.resolve("burst"));
            bench.startTracker();
            bench.awaitTrackerWatching();
            try (Following following = new Following(bench)) {
                following.awaitSummaries(1);
                long started = System.nanoTime();
                bench.workload.createFiles("burst", 100_000, () -> { });
                long written = System.nanoTime();
                bench.awaitRecorded();
                Poll.until(TIMEOUT, () -> "the burst at the destination; runs: " + following.summaries(),
                        bench::destinationEqualsSourceNow);
                long arrived = System.nanoTime();
                // The destination is complete while the run that completed it still ends: count runs once their
                // summaries account for every file of the burst.
                Poll.until(TIMEOUT, () -> "the runs' summaries to count the burst; runs: " + following.summaries(),
                        () -> following.summaries().stream().skip(1).mapToLong(FollowTest::filesSent).sum() >= 100_000);
                List<String> runs = following.summaries().subList(1, following.summaries().size());
                assertTrue(runs.size() >= 2, "the burst went in more than one run: " + runs);
                // A machine busy elsewhere may let the kernel's event queue overflow during the burst: then, and only
                // then, a run is full.
                boolean overflowed = bench.count(RecordType.OVERFLOW) > 0;
                assertTrue(runs.stream().allMatch(line -> line.contains("mode=incremental")
                        || overflowed && line.contains("mode=full reason=overflow")), runs.toString());
                System.out.printf("follow: 100,000 creations (plus nasty names) written in %d ms, complete at the"
                        + " destination %d ms after the first, in %d runs (default max-batch)%s%n",
                        (written - started) / 1_000_000, (arrived - started) / 1_000_000, runs.size(),
                        overflowed ? "; the kernel's event queue overflowed: " + runs : "");
            }
            bench.assertDestinationEqualsSource();
        }
    }

    @Test
    @ExpectLog(level = org.slf4j.event.Level.WARN, logger = "RsyncRunner", contains = "failed to connect")
    @ExpectLog(level = org.slf4j.event.Level.WARN, logger = "RsyncRunner", contains = "error in socket IO")
    @ExpectLog(level = org.slf4j.event.Level.ERROR, logger = "RouteSync", contains = "rsync exited with 10")
    @ExpectLog(level = org.slf4j.event.Level.WARN, logger = "RouteFollower", contains = "the run exited 9")
    void aDestinationThatGoesDownIsRetriedWithGrowingWaitsAndCaughtUpInOneRun() throws Exception {
        Logger log = (Logger) LoggerFactory.getLogger(RouteFollower.class);
        ListAppender<ILoggingEvent> events = new ListAppender<>();
        events.start();
        log.addAppender(events);
        log.setLevel(Level.INFO);
        try (FaultBench bench = FaultBench.withRouteLines(temp, "    follow: {quiet: 200ms, retry-max: 2s}")) {
            bench.startTracker();
            bench.awaitTrackerWatching();
            try (Following following = new Following(bench)) {
                following.awaitSummaries(1);
                bench.daemon.stop();
                bench.workload.createFiles("while-down", 300, () -> { });
                bench.awaitRecorded();
                List<String> failed = following.awaitSummaries(5).subList(1, 5);
                assertTrue(failed.stream().allMatch(line -> !line.contains("rsync-exit=0")), failed.toString());
                Poll.until(TIMEOUT, "the retry wait in the metrics", () -> retryWaitSeconds(bench) == 2.0);
                long warnings = events.list.stream().filter(event -> event.getFormattedMessage().contains("the run exited 9")).count();
                assertEquals(1, warnings, "logged once for the outage, not once per try");
                OptionalLong cursor = bench.cursor();

                int runsBefore = following.summaries().size();
                bench.daemon.start();
                Poll.until(TIMEOUT, "the catch-up", bench::destinationEqualsSourceNow);
                Poll.until(TIMEOUT, "the retry wait back to 0", () -> retryWaitSeconds(bench) == 0.0);
                String catchUp = following.summaries().stream().skip(runsBefore).filter(line -> line.contains("rsync-exit=0"))
                        .findFirst().orElseThrow();
                Matcher files = Pattern.compile(" files=(\\d+) ").matcher(catchUp);
                assertTrue(files.find() && Long.parseLong(files.group(1)) >= 300, "one run sent everything: " + catchUp);
                assertTrue(bench.cursor().getAsLong() > cursor.getAsLong());
                assertTrue(events.list.stream().anyMatch(event -> event.getFormattedMessage().contains("succeeded again")));
                System.out.println("follow: destination down for " + (runsBefore - 1) + " failed runs, caught up by: " + catchUp);
            }
            bench.assertDestinationEqualsSource();
        } finally {
            log.setLevel(null);
            log.detachAppender(events);
        }
    }

    @Test
    void killMinus9DuringRsyncLosesNothing() throws Exception {
        stopDuringRsync(true);
    }

    @Test
    void sigtermDuringRsyncStopsRsyncAndExitsZeroWithTheCursorWhereItWas() throws Exception {
        stopDuringRsync(false);
    }

    private void stopDuringRsync(boolean kill) throws Exception {
        System.out.println("fault: the follower " + (kill ? "killed with SIGKILL" : "stopped with SIGTERM") + " during rsync");
        try (FaultBench bench = FaultBench.withRouteLines(temp, "    rsync-args: [-rlt, --bwlimit=1000]")) {
            bench.startTracker();
            bench.awaitTrackerWatching();
            Trees.write(bench.root, "small", "s");
            Path out = temp.resolve("follower.out");
            Path err = temp.resolve("follower.err");
            Process child = ChildJvm.start(SyncMain.class, List.of("follow", "--config", bench.configFile().toString(),
                    "--route", FaultBench.ROUTE), out, err);
            try {
                Poll.until(TIMEOUT, "the child's first run", () -> Files.readString(out).contains("mode=full"));
                OptionalLong committed = bench.cursor();
                byte[] big = new byte[3 << 20];
                new Random(7).nextBytes(big);
                Files.write(bench.root.resolve("big"), big);
                Poll.until(TIMEOUT, "the child's rsync writing big", () -> Trees.list(bench.daemon.moduleDirectory()).stream()
                        .anyMatch(entry -> entry.startsWith("f .big.")));
                if (kill) {
                    child.destroyForcibly();
                } else {
                    child.destroy();
                }
                assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the follower exits");
                if (!kill) {
                    String log = Files.readString(err);
                    assertEquals(ExitCodes.OK, child.exitValue(), "a stop is a clean exit: " + log);
                    assertTrue(log.contains("stopping rsync"), log);
                    assertTrue(log.contains("the run was stopped (SIGTERM) while rsync ran; nothing was committed"), log);
                    assertEquals(List.of(), log.lines().filter(line -> line.matches("\\S+ \\S+ (WARN|ERROR) .*")).toList(),
                            "a stop is no failure");
                    List<String> summaries = Files.readString(out).lines().toList();
                    assertTrue(summaries.get(summaries.size() - 1).endsWith(" exit=143 changed=0 interrupted=SIGTERM"),
                            summaries.toString());
                    String metrics = Files.readString(bench.state.resolve("metrics/changeq_sync_" + FaultBench.ROUTE + ".prom"));
                    assertTrue(metrics.contains("changeq_sync_failures_total{route=\"" + FaultBench.ROUTE + "\"} 0\n"), metrics);
                    assertTrue(metrics.contains("changeq_sync_last_exit_code{route=\"" + FaultBench.ROUTE + "\"} 0\n"), metrics);
                    assertTrue(metrics.contains("changeq_sync_follow_retry_wait_seconds{route=\"" + FaultBench.ROUTE
                            + "\"} 0\n"), metrics);
                }
                assertEquals(committed, bench.cursor(), "nothing of the interrupted run was committed");
                Poll.until(TIMEOUT, "rsync's temporary file to go", () -> Trees.list(bench.daemon.moduleDirectory()).stream()
                        .noneMatch(entry -> entry.startsWith("f .big.")));
            } finally {
                child.destroyForcibly();
                child.waitFor(30, TimeUnit.SECONDS);
            }
            try (Following again = new Following(bench)) {
                assertTrue(again.awaitSummaries(1).get(0).contains("mode=incremental"), again.summaries().toString());
                Poll.until(TIMEOUT, "big at the destination", bench::destinationEqualsSourceNow);
            }
            bench.assertDestinationEqualsSource();
        }
    }

    @Test
    void anOverflowMakesAFullSyncAndFollowingGoesOn() throws Exception {
        try (FaultBench bench = FaultBench.withRouteLines(temp, "    follow: {quiet: 500ms}")) {
            long queueSize = bench.startTrackerWithSmallInotifyQueue(64);
            List<Path> directories = bench.workload.createFiles("base", (int) (queueSize / 2 + 100), () -> { });
            bench.awaitRecorded();
            try (Following following = new Following(bench)) {
                following.awaitSummaries(1);
                Poll.until(TIMEOUT, "the first run's copy", bench::destinationEqualsSourceNow);
                int before = following.summaries().size();
                OverflowTest.burstWhileStopped(bench, directories);
                bench.awaitRecord("an OVERFLOW", record -> record.type() == RecordType.OVERFLOW);
                Poll.until(TIMEOUT, () -> "a full sync for the overflow; runs: " + following.summaries(),
                        () -> following.summaries().stream().skip(before).anyMatch(line -> line.contains("reason=overflow")));
                Poll.until(TIMEOUT, "the copy after the overflow", bench::destinationEqualsSourceNow);

                int afterOverflow = following.summaries().size();
                // A second kernel overflow during the re-walk (a 64-event queue on a loaded machine) may come after the
                // first full sync captured its end and make the run that carries the next change full too: following
                // goes on all the same, and a later change goes in an incremental run.
                Predicate<String> incremental = line -> line.contains("mode=incremental");
                for (int change = 1; change <= 3
                        && following.summaries().stream().skip(afterOverflow).noneMatch(incremental); change++) {
                    Trees.write(bench.root, "after/" + change, "after the overflow");
                    Poll.until(TIMEOUT, "change " + change + " after the overflow", bench::destinationEqualsSourceNow);
                }
                Poll.until(TIMEOUT, () -> "an incremental run after the overflow; runs: " + following.summaries(),
                        () -> following.summaries().stream().skip(afterOverflow).anyMatch(incremental));
                List<String> runs = following.summaries();
                assertTrue(runs.stream().skip(before).filter(line -> line.contains("mode=full reason=overflow")).count() >= 1,
                        runs.toString());
                System.out.println("follow: overflow (queue " + queueSize + " events): " + runs.subList(before, runs.size()));
            }
            bench.assertDestinationEqualsSource();
        }
    }

    @Test
    @ExpectLog(level = org.slf4j.event.Level.ERROR, logger = "RouteSync", contains = "The deletions wait for consent in")
    @ExpectLog(level = org.slf4j.event.Level.WARN, logger = "SystemdNotifier", contains = "sendto(")
    void anRmRfSpreadOverSmallFollowerRunsStopsAtMaxDeleteWhileNewFilesArriveUntilAllowed() throws Exception {
        try (FaultBench bench = FaultBench.withRouteLines(temp, "    follow: {quiet: 300ms, max-delay: 1s}")) {
            for (int i = 1; i <= 200; i++) {
                Trees.write(bench.root, "data/f" + i, "file " + i);
            }
            bench.startTracker();
            bench.awaitTrackerWatching();
            Path destination = bench.daemon.moduleDirectory();
            NotifyReceiver systemd = NotifyReceiver.bind(temp.resolve("notify").toString());
            try (Following following = new Following(bench, SystemdNotifier.fromEnvironment(systemd.environment(Duration.ofSeconds(60))))) {
                try {
                    following.awaitSummaries(1);
                    Poll.until(TIMEOUT, "the first run's copy", bench::destinationEqualsSourceNow);
                    // The destination holds 202 paths (the root, data/ and 200 files): 25 % allows 51 deletions.
                    for (int batch = 0; batch < 10; batch++) {
                        int runs = following.summaries().size();
                        for (int i = batch * 20 + 1; i <= batch * 20 + 20; i++) {
                            Files.delete(bench.root.resolve("data/f" + i));
                        }
                        Trees.write(bench.root, "added/a" + batch, "created with deletion batch " + batch);
                        following.awaitSummaries(runs + 1);
                        Path added = destination.resolve("added/a" + batch);
                        Poll.until(TIMEOUT, added + " at the destination", () -> Files.exists(added));
                    }
                    Poll.until(TIMEOUT, "the held deletions of all batches but the first two",
                            () -> heldDeletions(bench) == 160);
                    assertEquals(160, filesIn(destination.resolve("data")),
                            "two runs deleted 40 files, within 51; every later deletion waits");
                    assertTrue(metrics(bench).contains("changeq_sync_last_exit_code{route=\"" + FaultBench.ROUTE + "\"} 12\n"));
                    assertTrue(metrics(bench).contains("changeq_sync_held_deletions{route=\"" + FaultBench.ROUTE + "\"} 160\n"));
                    String status = systemd.receive();
                    while (!status.contains("deletions wait for consent")) {
                        status = systemd.receive();
                    }
                    assertTrue(status.startsWith("STATUS=route " + FaultBench.ROUTE + ": "), status);
                } finally {
                    systemd.close();
                }
            }
            assertEquals(ExitCodes.OK, bench.sync(SyncRequest.of(FaultBench.ROUTE).allowingDeletes(160)).exitCode());
            assertEquals(0, heldDeletions(bench));
            assertTrue(metrics(bench).contains("changeq_sync_held_deletions{route=\"" + FaultBench.ROUTE + "\"} 0\n"));
            bench.assertDestinationEqualsSource();
        }
    }

    @Test
    void aRouteThatStartedWithOneFileGrowsToThousandsAndARenameOfItAllIsNotRefused() throws Exception {
        // Renaming the whole tree away is a mass change for max-change (MassChangeTest); here only max-delete is judged.
        try (FaultBench bench = FaultBench.withRouteLines(temp, "    follow: {quiet: 300ms, max-delay: 1s}",
                "    max-delete: \"100%\"", "    max-change: \"100%\"")) {
            Trees.write(bench.root, "dir/first", "the only file of a new setup");
            bench.startTracker();
            bench.awaitTrackerWatching();
            try (Following following = new Following(bench)) {
                following.awaitSummaries(1);
                for (int batch = 0; batch < 4; batch++) {
                    for (int i = 0; i < 500; i++) {
                        Trees.write(bench.root, "dir/b" + batch + "/f" + i, "grown " + batch + "/" + i);
                    }
                    Poll.until(TIMEOUT, "growth batch " + batch, bench::destinationEqualsSourceNow);
                }
                Files.move(bench.root.resolve("dir"), bench.root.resolve("dir-renamed"));
                Poll.until(TIMEOUT, "the rename at the destination", bench::destinationEqualsSourceNow);
                assertTrue(metrics(bench).contains("changeq_sync_last_exit_code{route=\"" + FaultBench.ROUTE + "\"} 0\n"),
                        metrics(bench));
            }
            assertEquals(0, heldDeletions(bench));
            bench.assertDestinationEqualsSource();
        }
    }

    private static int heldDeletions(FaultBench bench) throws IOException {
        return HeldDeletions.read(new StateLayout(bench.state).heldDeletions(FaultBench.ROUTE)).paths().size();
    }

    private static String metrics(FaultBench bench) throws IOException {
        return Files.readString(bench.state.resolve("metrics").resolve("changeq_sync_" + FaultBench.ROUTE + ".prom"));
    }

    private static long filesIn(Path directory) throws IOException {
        try (java.util.stream.Stream<Path> paths = Files.walk(directory)) {
            return paths.filter(Files::isRegularFile).count();
        }
    }

    private static Path routeLock(FaultBench bench) throws IOException {
        Path lockFile = new StateLayout(bench.state).routeLock(FaultBench.ROUTE);
        Files.createDirectories(lockFile.getParent());
        return lockFile;
    }

    private static void awaitMessage(NotifyReceiver systemd, String message) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!systemd.receive().equals(message)) {
            assertFalse(System.nanoTime() > deadline, "no " + message + " within " + TIMEOUT);
        }
    }

    /** CPU time of the follower's threads in this JVM. */
    private static long followerCpuNanos() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long total = 0;
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.getName().startsWith("changeq-follow")) {
                total += Math.max(0, threads.getThreadCpuTime(thread.getId()));
            }
        }
        return total;
    }

    private static double retryWaitSeconds(FaultBench bench) throws IOException {
        Path file = bench.state.resolve("metrics").resolve("changeq_sync_" + FaultBench.ROUTE + ".prom");
        if (!Files.exists(file)) {
            return -1;
        }
        Matcher matcher = RETRY_WAIT.matcher(Files.readString(file));
        return matcher.find() ? Double.parseDouble(matcher.group(1)) : -1;
    }

    private static long filesSent(String summary) {
        Matcher files = FILES_SENT.matcher(summary);
        return files.find() ? Long.parseLong(files.group(1)) : 0;
    }
}
