package org.changeq.nativetests.faults;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.changeq.nativetests.faults.FaultBench.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.changeq.nativetests.sync.ChildJvm;
import org.changeq.nativetests.sync.Trees;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.state.VerifyAnswer;
import org.changeq.pipeline.state.VerifyState;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.pipeline.testing.Poll;
import org.changeq.sync.RouteFollower;
import org.changeq.sync.SyncMain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * {@code changeq-sync verify} of a route a follower holds, with the real tracker, a follower in its own JVM (as
 * {@code changeq-sync-follow@ROUTE} runs it) and an rsync daemon as the destination: the follower verifies on request
 * between its runs and the command prints its answer; nobody answering is exit 17 with the request left for later; a
 * SIGTERM during the follower's verify stops it without writing anything; a request the follower cannot remove is
 * answered once.
 */
class FollowerVerifyTest {

    /** One slice: every verify covers the whole tree. */
    private static final String ROUTE_LINES = "    verify-cycle: 1d";

    @TempDir
    Path temp;

    /** What {@code changeq-sync verify} printed and exited with. */
    private record Verified(int exit, List<String> out, String err) {
    }

    private static Verified verify(FaultBench bench, String wait) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = SyncMain.commandLine(new PrintStream(out, true, UTF_8), new PrintStream(err, true, UTF_8)).execute(
                "verify", "--config", bench.configFile().toString(), "--route", FaultBench.ROUTE, "--wait", wait);
        return new Verified(exit, out.toString(UTF_8).lines().toList(), err.toString(UTF_8));
    }

    private static Process follower(FaultBench bench, Path out, Path err) throws Exception {
        return ChildJvm.start(SyncMain.class, List.of("follow", "--config", bench.configFile().toString(), "--route",
                FaultBench.ROUTE), out, err);
    }

    private static List<String> warningsAndErrors(String log) {
        return log.lines().filter(line -> line.matches("\\S+ \\S+ (WARN|ERROR) .*")).toList();
    }

    @Test
    void theFollowerAnswersVerifyFindingAFlippedByteAndItsNextRunRepairsIt() throws Exception {
        try (FaultBench bench = FaultBench.withRouteLines(temp.resolve("bench"), "    follow: {quiet: 200ms}",
                ROUTE_LINES)) {
            Trees.write(bench.root, "photos/beach.jpg", "the sea, the sand, the sun");
            Trees.write(bench.root, "notes.txt", "buy milk");
            bench.startTracker();
            bench.awaitTrackerWatching();
            Path out = temp.resolve("follower.out");
            Path err = temp.resolve("follower.err");
            Process child = follower(bench, out, err);
            try {
                Poll.until(TIMEOUT, "the follower's first run", () -> Files.readString(out).contains("mode=full"));
                Trees.flipOneByteKeepingSizeAndTime(bench.daemon.moduleDirectory().resolve("photos/beach.jpg"));

                Verified found = verify(bench, "60s");
                assertEquals(ExitCodes.VERIFY_MISMATCH, found.exit(), found.err());
                assertEquals("content photos/beach.jpg", found.out().get(0), found.out().toString());
                assertEquals(2, found.out().size(), found.out().toString());
                assertTrue(found.out().get(1).startsWith("route=offsite verify files=2 bytes=34 slices=0-1/1"
                        + " content=1 missing=0 type=0 extra=0 seconds="), found.out().get(1));
                assertTrue(found.out().get(1).endsWith(" exit=16"), found.out().get(1));
                assertEquals("", found.err());
                StateLayout layout = new StateLayout(bench.state);
                assertFalse(Files.exists(layout.verifyRequest(FaultBench.ROUTE).path()), "the request is used up");
                assertTrue(Files.readString(err).contains("verified as changeq-sync verify asked: route=offsite verify"),
                        Files.readString(err));
                assertEquals(1, VerifyState.read(layout.verifyState(FaultBench.ROUTE)).mismatches().size());
                assertTrue(Files.readString(layout.metricsDirectory().resolve("changeq_verify_offsite.prom"))
                        .contains("changeq_verify_mismatches{route=\"offsite\",kind=\"content\"} 1\n"));

                Poll.until(TIMEOUT, "the follower's run repairing it", bench::destinationEqualsSourceNow);
                assertTrue(Files.readString(err).contains("run (verified)"), Files.readString(err));
                Verified clean = verify(bench, "60s");
                assertEquals(ExitCodes.OK, clean.exit(), clean.out() + clean.err());
                assertEquals(1, clean.out().size(), clean.out().toString());
                assertTrue(clean.out().get(0).contains(" content=0 missing=0 type=0 extra=0 "), clean.out().get(0));
                assertTrue(clean.out().get(0).endsWith(" exit=0"), clean.out().get(0));

                child.destroy();
                assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the follower exits");
                assertEquals(ExitCodes.OK, child.exitValue(), Files.readString(err));
                assertEquals(List.of(), warningsAndErrors(Files.readString(err)).stream()
                        .filter(line -> !line.contains("differ from the source")).toList());
            } finally {
                child.destroyForcibly();
                child.waitFor(30, TimeUnit.SECONDS);
            }
            bench.assertDestinationEqualsSource();
        }
    }

    @Test
    void withNobodyAnsweringVerifyExitsSeventeenAfterItsWaitAndAFollowerAnswersTheRequestLater() throws Exception {
        try (FaultBench bench = FaultBench.withRouteLines(temp.resolve("bench"), "    follow: {quiet: 200ms}",
                ROUTE_LINES)) {
            Trees.write(bench.root, "notes.txt", "buy milk");
            bench.startTracker();
            bench.awaitTrackerWatching();
            assertEquals(ExitCodes.OK, bench.sync().exitCode());
            StateLayout layout = new StateLayout(bench.state);
            Path request = layout.verifyRequest(FaultBench.ROUTE).path();
            try (FileChannel channel = FileChannel.open(layout.routeLock(FaultBench.ROUTE), StandardOpenOption.WRITE);
                 FileLock held = channel.lock()) {
                long started = System.nanoTime();
                Verified busy = verify(bench, "1s");
                assertEquals(ExitCodes.VERIFY_BUSY, busy.exit());
                assertTrue(System.nanoTime() - started >= TimeUnit.SECONDS.toNanos(1), "it waited");
                assertEquals(List.of(), busy.out());
                assertEquals(1, busy.err().lines().count(), busy.err());
                assertTrue(busy.err().startsWith("changeq-sync: route 'offsite': not verified: its sync holds the lock"),
                        busy.err());
                assertTrue(busy.err().contains("The request " + request + " stays: a follower of the route verifies"
                        + " between its runs"), busy.err());
                assertTrue(Files.exists(request));
                assertTrue(held.isValid());
            }
            assertFalse(Files.exists(layout.verifyState(FaultBench.ROUTE)), "nothing was verified");

            try (Following following = new Following(bench)) {
                following.awaitSummaries(1);
                Poll.until(TIMEOUT, "the follower answering the request", () -> !Files.exists(request));
                VerifyAnswer answer = VerifyAnswer.read(layout.verifyAnswer(FaultBench.ROUTE)).orElseThrow();
                assertEquals(ExitCodes.OK, answer.exitCode());
                assertEquals("", answer.error());
                assertTrue(new String(answer.output(), UTF_8).startsWith("route=offsite verify files=1 bytes=8"),
                        new String(answer.output(), UTF_8));
                assertTrue(VerifyState.read(layout.verifyState(FaultBench.ROUTE)).lastRunStartedMillis()
                        >= answer.startedMillis(), "the state is that verify's");
            }
        }
    }

    @Test
    void aSigtermDuringTheFollowersVerifyStopsItWritingNothingAndTheRequestStays() throws Exception {
        try (FaultBench bench = FaultBench.withRouteLines(temp.resolve("bench"), "    follow: {quiet: 200ms}",
                ROUTE_LINES, "    verify-max-rate: 64K")) {
            byte[] block = new byte[256 * 1024];
            for (int i = 0; i < 4; i++) {
                new Random(i).nextBytes(block);
                Files.write(bench.root.resolve("f" + i), block);
            }
            bench.startTracker();
            bench.awaitTrackerWatching();
            Path out = temp.resolve("follower.out");
            Path err = temp.resolve("follower.err");
            Process child = follower(bench, out, err);
            StateLayout layout = new StateLayout(bench.state);
            try {
                Poll.until(TIMEOUT, "the follower's first run", () -> Files.readString(out).contains("mode=full"));
                Verified asked = verify(bench, "0s");
                assertEquals(ExitCodes.VERIFY_BUSY, asked.exit(), asked.err());
                // At 64 KiB/s the first chunk of two files is followed by a wait of 8 s.
                Poll.until(TIMEOUT, "the follower verifying", () -> Files.readString(err).contains("verifying slices"));
                child.destroy();
                assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the follower exits");
                String log = Files.readString(err);
                assertEquals(ExitCodes.OK, child.exitValue(), log);
                assertTrue(log.contains("the verify changeq-sync verify asked for was stopped; it wrote nothing, and the"
                        + " request stays for the next start"), log);
                assertEquals(List.of(), warningsAndErrors(log), "a stop is no failure");
            } finally {
                child.destroyForcibly();
                child.waitFor(30, TimeUnit.SECONDS);
            }
            assertFalse(Files.exists(layout.verifyState(FaultBench.ROUTE)), "no state claims what was not verified");
            assertFalse(Files.exists(layout.verifyAnswer(FaultBench.ROUTE)), "no answer");
            assertFalse(Files.exists(layout.metricsDirectory().resolve("changeq_verify_offsite.prom")), "no metrics");
            assertTrue(Files.exists(layout.verifyRequest(FaultBench.ROUTE).path()), "the request stays");
        }
    }
    @Test
    @ExpectLog(level = org.slf4j.event.Level.WARN, logger = "RouteFollower", contains = "did not run to its end")
    @ExpectLog(level = org.slf4j.event.Level.WARN, logger = "RouteFollower", contains = "cannot answer changeq-sync verify")
    void aRequestTheFollowerCannotRemoveIsAnsweredOnceNotOncePerQuietInterval() throws Exception {
        Logger log = (Logger) LoggerFactory.getLogger(RouteFollower.class);
        ListAppender<ILoggingEvent> events = new ListAppender<>();
        events.start();
        log.addAppender(events);
        Duration quiet = Duration.ofMillis(200);
        try (FaultBench bench = FaultBench.withRouteLines(temp.resolve("bench"),
                "    follow: {quiet: " + quiet.toMillis() + "ms}", ROUTE_LINES)) {
            Trees.write(bench.root, "notes.txt", "buy milk");
            bench.startTracker();
            bench.awaitTrackerWatching();
            assertEquals(ExitCodes.OK, bench.sync().exitCode());
            StateLayout layout = new StateLayout(bench.state);
            layout.verifyRequest(FaultBench.ROUTE).write(System.currentTimeMillis());
            Path verifyDirectory = layout.verifyRequest(FaultBench.ROUTE).path().getParent();
            // Immutable: not even root creates, renames or removes a file in it.
            Trees.run(List.of("chattr", "+i", verifyDirectory.toString()), 0);
            try (Following following = new Following(bench)) {
                following.awaitSummaries(1);
                Poll.until(FaultBench.TIMEOUT, "the follower giving up on answering", () -> events.list.stream()
                        .anyMatch(event -> event.getFormattedMessage().contains("cannot answer changeq-sync verify")));
                // What must not happen is a repetition: give it ten quiet intervals to show.
                Thread.sleep(quiet.toMillis() * 10);
                assertEquals(1, events.list.stream().filter(event -> event.getFormattedMessage()
                        .contains("did not run to its end")).count(), "verified once");
            } finally {
                Trees.run(List.of("chattr", "-i", verifyDirectory.toString()), 0);
            }
            assertTrue(Files.exists(layout.verifyRequest(FaultBench.ROUTE).path()), "the request stays");
        } finally {
            log.detachAppender(events);
        }
    }
}
