package org.changeq.nativetests.faults;

import static org.changeq.nativetests.faults.FaultBench.TIMEOUT;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.changeq.nativetests.sync.Trees;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.inspect.QueueMain;
import org.changeq.pipeline.state.ChangeLedger;
import org.changeq.pipeline.state.DeletionLedger;
import org.changeq.pipeline.state.RunChanges;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.pipeline.testing.Poll;
import org.changeq.sync.SyncException;
import org.changeq.sync.SyncMain;
import org.changeq.sync.SyncReport;
import org.changeq.sync.SyncRequest;
import org.changeq.tracker.NotifyReceiver;
import org.changeq.tracker.SystemdNotifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The brake on mass change, with the real tracker and an rsync daemon on loopback: a simulated ransomware run that
 * rewrites 40% of a tree in place, or writes {@code NAME.locked} and deletes {@code NAME}, reaches no file at the
 * destination until an operator consents, by a timer run and by a follower, and a follower cannot pass it in slices.
 */
class MassChangeTest {

    private static final int FILES = 100;
    private static final int DIRECTORIES = 5;

    @TempDir
    Path temp;

    /** A route whose max-change is a quarter of the destination, without a floor: the tree is small. */
    private static FaultBench bench(Path directory) throws Exception {
        FaultBench bench = FaultBench.withRouteLines(directory, "    max-change: \"25%\"",
                "    follow: {quiet: 200ms, max-delay: 2s}");
        for (int i = 0; i < FILES; i++) {
            Trees.write(bench.root, name(i), "document " + i + "\n");
        }
        bench.startTracker();
        bench.awaitTrackerWatching();
        assertEquals(ExitCodes.OK, bench.sync().exitCode(), "the route's first sync");
        return bench;
    }

    private static String name(int i) {
        return "docs/d" + i % DIRECTORIES + "/f" + i;
    }

    /** Overwrites files in place with random bytes, as ransomware that encrypts in place does. */
    private static void encrypt(FaultBench bench, int from, int count) throws IOException {
        Random random = new Random(from);
        for (int i = from; i < from + count; i++) {
            byte[] bytes = new byte[64 + random.nextInt(64)];
            random.nextBytes(bytes);
            Files.write(bench.root.resolve(name(i)), bytes);
        }
    }

    /** The file name and content digest of every regular file at the destination. */
    private static Map<String, String> digests(FaultBench bench) throws IOException, NoSuchAlgorithmException {
        Path directory = bench.daemon.moduleDirectory();
        Map<String, String> digests = new TreeMap<>();
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (Stream<Path> paths = Files.walk(directory)) {
            for (Path path : (Iterable<Path>) paths.filter(Files::isRegularFile)::iterator) {
                digests.put(directory.relativize(path).toString(), HexFormat.of().formatHex(sha.digest(Files.readAllBytes(path))));
            }
        }
        return digests;
    }

    private static String metrics(FaultBench bench) throws IOException {
        return Files.readString(bench.state.resolve("metrics/changeq_sync_" + FaultBench.ROUTE + ".prom"));
    }

    private static SyncException refusal(FaultBench bench) {
        SyncException refused = assertThrows(SyncException.class, bench::sync);
        assertEquals(ExitCodes.MASS_CHANGE_REFUSED, refused.exitCode(), refused.getMessage());
        return refused;
    }

    @Test
    @ExpectLog(level = org.slf4j.event.Level.ERROR, logger = "RouteSync", contains = "mass change refused")
    void aRewriteOfFortyPercentInPlaceIsRefusedUntilConsent() throws Exception {
        try (FaultBench bench = bench(temp)) {
            Map<String, String> before = digests(bench);
            encrypt(bench, 0, 40);
            bench.awaitRecorded();

            SyncException refused = refusal(bench);
            String message = refused.getMessage();
            assertTrue(message.contains("would change 40 files that exist at " + bench.daemon.url("")
                    + " (40 overwritten, 0 deleted, 0 renamed away), more than max-change 25% = "), message);
            assertTrue(message.contains("Nothing was sent; the cursor stays. Most changed: docs/d"), message);
            assertTrue(message.contains("/ (8), docs/d"), "eight files in each of the five directories: " + message);
            assertTrue(message.contains("For example: docs/d0/f0, "), message);
            assertTrue(message.contains("--route offsite --allow-changes 40'"), message);
            assertTrue(message.contains("'changeq-sync allow ... --route offsite --changes 40'"), message);
            assertEquals(before, digests(bench), "no file reached the destination");
            assertEquals(ExitCodes.MASS_CHANGE_REFUSED, refusal(bench).exitCode(), "the cursor stayed: refused again");

            SyncReport consented = bench.sync(SyncRequest.of(FaultBench.ROUTE).allowingChanges(40));
            assertEquals(ExitCodes.OK, consented.exitCode());
            assertTrue(consented.summaryLine().contains(" exit=0 changed=40"), consented.summaryLine());
            bench.assertDestinationEqualsSource();
            RunChanges record = RunChanges.read(new StateLayout(bench.state).runChanges(FaultBench.ROUTE), 1).orElseThrow();
            assertEquals(40, record.count(RunChanges.Kind.OVERWRITTEN), record.describe());
            ByteArrayOutputStream listed = new ByteArrayOutputStream();
            assertEquals(ExitCodes.OK, SyncMain.commandLine(new PrintStream(listed, true, StandardCharsets.UTF_8), System.err)
                    .execute("changes", "--config", bench.configFile().toString(), "--route", FaultBench.ROUTE));
            assertTrue(listed.toString(StandardCharsets.UTF_8).lines().filter(line -> line.startsWith("overwritten docs/"))
                    .count() == 40, listed.toString(StandardCharsets.UTF_8));
            assertEquals(0, ChangeLedger.read(new StateLayout(bench.state).changeLedger(FaultBench.ROUTE)).total(),
                    "consented changes are not counted");
        }
    }

    /** {@code changeq-sync check}'s report and exit code. */
    private static String check(FaultBench bench, int expectedExit) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int exit = SyncMain.commandLine(new PrintStream(out, true, StandardCharsets.UTF_8), System.err)
                .execute("check", "--config", bench.configFile().toString());
        String report = out.toString(StandardCharsets.UTF_8);
        assertEquals(expectedExit, exit, report);
        return report;
    }

    @Test
    void checkPreviewsTheBrakeAndFailsOnARewriteItWouldRefuseWithoutSendingIt() throws Exception {
        try (FaultBench bench = bench(temp)) {
            String report = check(bench, ExitCodes.OK);
            assertTrue(report.contains("route 'offsite': max-change: a full sync would change 0 files that exist at "
                    + bench.daemon.url("") + " (0 overwritten, 0 deleted, 0 renamed away), within max-change 25% = "),
                    report);
            Map<String, String> before = digests(bench);
            encrypt(bench, 0, 40);
            bench.awaitRecorded();

            report = check(bench, ExitCodes.CHECK_FAILED);
            assertTrue(report.contains("route 'offsite': max-change: a full sync would change 40 files that exist at "
                    + bench.daemon.url("") + " (40 overwritten, 0 deleted, 0 renamed away), more than max-change 25% = "
                    + "27 paths of the 107 the destination held"), report);
            assertTrue(report.contains(": it would be REFUSED (exit 15) and send nothing; "), report);
            assertTrue(report.contains("--route offsite --full --allow-changes 40', or for a running follower"
                    + " 'changeq-sync allow ... --route offsite --changes 40'"), report);
            assertEquals(before, digests(bench), "check sent nothing");

            assertEquals(ExitCodes.OK, SyncMain.commandLine(System.out, System.err).execute("allow", "--config",
                    bench.configFile().toString(), "--route", FaultBench.ROUTE, "--changes", "40"));
            report = check(bench, ExitCodes.OK);
            assertTrue(report.contains("(40 overwritten, 0 deleted, 0 renamed away), within the consent of"
                    + " 'changeq-sync allow' 40"), "a consent given counts as the run counts it: " + report);
        }
    }

    @Test
    void checkNamesAMalformedLedgerInOneSentence() throws Exception {
        try (FaultBench bench = bench(temp)) {
            Path ledger = new StateLayout(bench.state).changeLedger(FaultBench.ROUTE);
            Files.createDirectories(ledger.getParent());
            Files.writeString(ledger, "not a ledger\n");
            String report = check(bench, ExitCodes.CHECK_FAILED);
            assertTrue(report.contains("route 'offsite': FAILED: max-change cannot be previewed: " + ledger
                    + " is malformed: not a changeq change ledger"), report);
            assertFalse(report.contains("Exception"), report);
        }
    }

    @Test
    void checkSaysTheFirstSyncIsNotJudged() throws Exception {
        try (FaultBench bench = FaultBench.withRouteLines(temp, "    max-change: \"25%\"")) {
            Trees.write(bench.root, "docs/a", "a\n");
            String report = check(bench, ExitCodes.OK);
            assertTrue(report.contains("route 'offsite': max-change does not judge its next run: the route's first"
                    + " sync"), report);
        }
    }

    @Test
    @ExpectLog(level = org.slf4j.event.Level.ERROR, logger = "RouteSync", contains = "mass change refused")
    void encryptedCopiesUnderANewExtensionWithTheOriginalsDeletedAreRefusedUntilConsent() throws Exception {
        try (FaultBench bench = bench(temp)) {
            Map<String, String> before = digests(bench);
            Random random = new Random(7);
            for (int i = 0; i < 40; i++) {
                byte[] bytes = new byte[96];
                random.nextBytes(bytes);
                Files.write(bench.root.resolve(name(i) + ".locked"), bytes);
                Files.delete(bench.root.resolve(name(i)));
            }
            bench.awaitRecorded();

            String message = refusal(bench).getMessage();
            assertTrue(message.contains("(0 overwritten, 40 deleted, 0 renamed away)"), message);
            assertTrue(message.contains("40 new files end in '.locked' while the files of their names without it are"
                    + " deleted"), message);
            assertEquals(before, digests(bench), "no file reached the destination, none was deleted");

            assertEquals(ExitCodes.OK, bench.sync(SyncRequest.of(FaultBench.ROUTE).allowingChanges(40)
                    .allowingDeletes(40)).exitCode());
            bench.assertDestinationEqualsSource();
        }
    }

    /**
     * A directory renamed within the root arrives as new files under its new name, which no count sees: renamed away
     * is the only trace of a tree that was renamed and then encrypted, so it counts toward max-change.
     */
    @Test
    @ExpectLog(level = org.slf4j.event.Level.ERROR, logger = "RouteSync", contains = "mass change refused")
    void aTreeRenamedAndEncryptedUnderItsNewNameIsRefusedAsRenamedAway() throws Exception {
        try (FaultBench bench = bench(temp)) {
            Map<String, String> before = digests(bench);
            Files.move(bench.root.resolve("docs"), bench.root.resolve("docs.locked"));
            Random random = new Random(11);
            try (Stream<Path> files = Files.walk(bench.root.resolve("docs.locked"))) {
                for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                    byte[] bytes = new byte[96];
                    random.nextBytes(bytes);
                    Files.write(file, bytes);
                }
            }
            bench.awaitRecorded();

            // Each deleted path counts, the directories too.
            int renamedAway = FILES + DIRECTORIES + 1;
            String message = refusal(bench).getMessage();
            assertTrue(message.contains("would change " + renamedAway + " files that exist at " + bench.daemon.url("")
                    + " (0 overwritten, 0 deleted, " + renamedAway + " renamed away)"), message);
            assertEquals(before, digests(bench), "nothing reached the destination, nothing left it");

            assertEquals(ExitCodes.OK, bench.sync(SyncRequest.of(FaultBench.ROUTE).allowingChanges(renamedAway))
                    .exitCode(),
                    "max-delete does not count a renamed directory: only max-change needs consent");
            bench.assertDestinationEqualsSource();
            String metrics = metrics(bench);
            assertTrue(metrics.contains("changeq_sync_changes{route=\"offsite\",kind=\"renamed_away\"} " + renamedAway
                    + "\n"), metrics);
            assertTrue(metrics.contains("changeq_sync_changes{route=\"offsite\",kind=\"deleted\"} 0\n"), metrics);
            long sent = RunChanges.read(new StateLayout(bench.state).runChanges(FaultBench.ROUTE), 1).orElseThrow()
                    .count(RunChanges.Kind.NEW);
            assertTrue(sent >= FILES, "the renamed files arrived as new");
            assertTrue(metrics.contains("changeq_sync_changes{route=\"offsite\",kind=\"sent\"} " + sent + "\n"), metrics);
            assertTrue(metrics.contains("changeq_sync_change_window{route=\"offsite\"} 0\n"), "consented: " + metrics);
        }
    }

    @Test
    void aSmallChangePassesAndThePreCheckSkipsTheDryRun() throws Exception {
        Logger log = (Logger) LoggerFactory.getLogger("org.changeq.sync.ChangeBrake");
        ListAppender<ILoggingEvent> events = new ListAppender<>();
        events.start();
        log.addAppender(events);
        Level level = log.getLevel();
        log.setLevel(Level.INFO);
        try (FaultBench bench = bench(temp)) {
            assertTrue(events.list.stream().anyMatch(event -> event.getFormattedMessage().contains(
                    "the route's first sync: max-change does not judge it")), events.list.toString());
            encrypt(bench, 0, 3);
            byte[] newline = "docs/new\nline".getBytes(StandardCharsets.UTF_8);
            Trees.write(bench.root, newline, "a name with a newline");
            bench.awaitRecorded();
            assertEquals(ExitCodes.OK, bench.sync().exitCode());
            bench.assertDestinationEqualsSource();
            RunChanges record = RunChanges.read(new StateLayout(bench.state).runChanges(FaultBench.ROUTE), 1).orElseThrow();
            assertTrue(record.entries().stream().anyMatch(entry -> entry.kind() == RunChanges.Kind.NEW
                    && java.util.Arrays.equals(entry.path(), newline)), "byte-exact: " + record.entries());
            assertEquals(3, record.count(RunChanges.Kind.OVERWRITTEN), record.describe());
            ByteArrayOutputStream listed = new ByteArrayOutputStream();
            assertEquals(ExitCodes.OK, SyncMain.commandLine(new PrintStream(listed, true, StandardCharsets.UTF_8), System.err)
                    .execute("changes", "--config", bench.configFile().toString(), "--route", FaultBench.ROUTE));
            String text = listed.toString(StandardCharsets.UTF_8);
            System.out.print(text);
            assertTrue(text.contains(": 2 new, 3 overwritten, 0 deleted\n"), text);
            assertTrue(text.contains("\nnew docs/new\\nline\n"), "escaped as changeq-queue prints names: " + text);
            ByteArrayOutputStream stat = new ByteArrayOutputStream();
            assertEquals(ExitCodes.OK, QueueMain.run(new String[] {"stat", "--config", bench.configFile().toString()},
                    new PrintStream(stat, true, StandardCharsets.UTF_8), System.err));
            assertTrue(stat.toString(StandardCharsets.UTF_8).contains("  changed      by the last committed run ("),
                    stat.toString(StandardCharsets.UTF_8));
            assertTrue(stat.toString(StandardCharsets.UTF_8).contains("): 2 new, 3 overwritten, 0 deleted (changeq-sync"
                    + " changes --route offsite lists them)"), stat.toString(StandardCharsets.UTF_8));
            assertTrue(events.list.stream().anyMatch(event -> event.getFormattedMessage().contains(
                    "max-change pre-check: at most 5 pending paths change files at the destination")),
                    events.list.toString());
            ChangeLedger ledger = ChangeLedger.read(new StateLayout(bench.state).changeLedger(FaultBench.ROUTE));
            assertEquals(3, ledger.total(), "the real pass counted what it overwrote: " + ledger);
        } finally {
            log.setLevel(level);
            log.detachAppender(events);
        }
    }

    @Test
    void aRunWithDeletionsMakesOneDryRunOfItsDeletionPassForBothLimits() throws Exception {
        Logger log = (Logger) LoggerFactory.getLogger("org.changeq.sync.RsyncRunner");
        ListAppender<ILoggingEvent> events = new ListAppender<>();
        Level level = log.getLevel();
        try (FaultBench bench = bench(temp)) {
            encrypt(bench, 0, 2);
            for (int i = 50; i < 53; i++) {
                Files.delete(bench.root.resolve(name(i)));
            }
            bench.awaitRecorded();
            events.start();
            log.addAppender(events);
            log.setLevel(Level.INFO);
            assertEquals(ExitCodes.OK, bench.sync().exitCode());
            bench.assertDestinationEqualsSource();
            java.util.List<String> deletionDryRuns = events.list.stream().map(ILoggingEvent::getFormattedMessage)
                    .filter(message -> message.startsWith("running ") && message.contains(" --dry-run ")
                            && message.contains(" --no-r --dirs --delete "))
                    .toList();
            assertEquals(1, deletionDryRuns.size(), "one dry run of the deletion pass: " + deletionDryRuns);
            StateLayout layout = new StateLayout(bench.state);
            assertEquals(5, ChangeLedger.read(layout.changeLedger(FaultBench.ROUTE)).total(),
                    "max-change counted the two rewrites and three deletions");
            assertEquals(3, DeletionLedger.read(layout.deletionLedger(FaultBench.ROUTE)).total(),
                    "max-delete counted the three deletions by the same dry run");
            String metrics = metrics(bench);
            long sent = RunChanges.read(layout.runChanges(FaultBench.ROUTE), 1).orElseThrow().count(RunChanges.Kind.NEW);
            for (String kind : new String[] {"overwritten\"} 2", "deleted\"} 3", "renamed_away\"} 0", "sent\"} " + sent}) {
                assertTrue(metrics.contains("changeq_sync_changes{route=\"offsite\",kind=\"" + kind + "\n"), metrics);
            }
            assertTrue(metrics.contains("changeq_sync_change_window{route=\"offsite\"} 5\n"), metrics);
            assertTrue(metrics.contains("changeq_sync_change_limit{route=\"offsite\"} 27\n"), metrics);
        } finally {
            log.setLevel(level);
            log.detachAppender(events);
        }
    }

    @Test
    @ExpectLog(level = org.slf4j.event.Level.ERROR, logger = "RouteSync", contains = "mass change refused")
    @ExpectLog(level = org.slf4j.event.Level.WARN, logger = "SystemdNotifier", contains = "sendto(")
    void aFollowerCannotPassTheRewriteInSlicesAndResumesAfterConsentWithoutARestart() throws Exception {
        NotifyReceiver systemd = NotifyReceiver.bind(temp.resolve("notify").toString());
        try (FaultBench bench = bench(temp.resolve("bench")); Following following = new Following(bench,
                SystemdNotifier.fromEnvironment(systemd.environment(Duration.ofSeconds(60))))) {
            following.awaitSummaries(1);
            Map<String, String> sliced = digests(bench);
            int refusedSlice = -1;
            for (int slice = 0; slice < 4 && refusedSlice < 0; slice++) {
                int runs = following.summaries().size();
                encrypt(bench, slice * 10, 10);
                bench.awaitRecorded();
                following.awaitSummaries(runs + 1);
                String last = following.summaries().get(following.summaries().size() - 1);
                if (last.contains(" exit=" + ExitCodes.MASS_CHANGE_REFUSED)) {
                    refusedSlice = slice;
                } else {
                    assertTrue(last.contains(" exit=0"), last);
                    sliced = digests(bench);
                }
            }
            assertTrue(refusedSlice > 0 && refusedSlice < 3, "slices of 10 of a destination of about 110 pass until the"
                    + " 7d window holds a quarter: " + following.summaries());
            long ledger = ChangeLedger.read(new StateLayout(bench.state).changeLedger(FaultBench.ROUTE)).total();
            assertEquals(refusedSlice * 10L, ledger, "each slice that passed is in the ledger");
            assertEquals(sliced, digests(bench), "the refused slice reached no file");
            String status = systemd.receive();
            while (!status.contains("mass change refused")) {
                status = systemd.receive();
            }
            assertTrue(status.startsWith("STATUS=route " + FaultBench.ROUTE + ": mass change refused, nothing sent"
                    + " (max-change 25%); consent with changeq-sync allow --route offsite --changes N"), status);
            systemd.close();
            String metrics = Files.readString(bench.state.resolve("metrics/changeq_sync_" + FaultBench.ROUTE + ".prom"));
            assertTrue(metrics.contains("changeq_sync_change_refused{route=\"" + FaultBench.ROUTE + "\"} 10\n"), metrics);
            assertTrue(metrics.contains("changeq_sync_last_exit_code{route=\"" + FaultBench.ROUTE + "\"} 15\n"), metrics);

            int runs = following.summaries().size();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int exit = SyncMain.commandLine(new PrintStream(out, true, StandardCharsets.UTF_8), System.err).execute(
                    "allow", "--config", bench.configFile().toString(), "--route", FaultBench.ROUTE, "--changes", "10");
            assertEquals(ExitCodes.OK, exit, out.toString(StandardCharsets.UTF_8));
            Poll.until(TIMEOUT, () -> "a run with the consent; runs: " + following.summaries(),
                    () -> following.summaries().size() > runs && following.summaries()
                            .get(following.summaries().size() - 1).contains(" exit=0"));
            bench.assertDestinationEqualsSource();
            assertTrue(Files.readString(bench.state.resolve("metrics/changeq_sync_" + FaultBench.ROUTE + ".prom"))
                    .contains("changeq_sync_change_refused{route=\"" + FaultBench.ROUTE + "\"} 0\n"));
            assertFalse(Files.exists(new StateLayout(bench.state).changeConsent(FaultBench.ROUTE).path()),
                    "the consent is used up");
        }
    }
}
