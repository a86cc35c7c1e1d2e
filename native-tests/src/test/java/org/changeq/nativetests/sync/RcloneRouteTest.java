package org.changeq.nativetests.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.changeq.pipeline.testing.Poll;
import org.changeq.sync.SyncMain;
import org.changeq.tracker.SystemdNotifier;
import org.changeq.tracker.Tracker;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.sync.CoverageCheck;
import org.changeq.sync.RouteFollower;
import org.changeq.sync.SyncException;
import org.changeq.sync.SyncReport;
import org.changeq.sync.SyncRequest;
import org.changeq.sync.Verify;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

/** Runs of a route whose destination is an rclone remote: a real S3 server (S3Proxy) on loopback, real rclone. */
class RcloneRouteTest {

    private static final String BUCKET = "bucket";

    /** One server for the class; each test uses a bucket or a prefix of its own. */
    @RegisterExtension
    static final S3Server.ForClass S3 = new S3Server.ForClass(BUCKET);

    @TempDir
    Path tmp;

    private Tracker tracker;

    @AfterEach
    void stopTracker() throws Exception {
        if (tracker != null) {
            tracker.close();
        }
        if (!S3.server().running()) {
            S3.server().start();
        }
    }

    /** A route to {@code bucket/PREFIX/} on the S3.server(), deleting what is deleted at the source. */
    private static SyncBench.Route route(String prefix) {
        return SyncBench.Route.of("s3", "rclone://" + S3Server.REMOTE + "/" + BUCKET + "/" + prefix + "/")
                .set("rclone-config", S3.server().rcloneConfig().toString())
                .set("propagate-deletes", "true");
    }

    private Path objects(String prefix) {
        return S3.server().dataDirectory().resolve(BUCKET).resolve(prefix);
    }

    private static void deleted(SyncBench bench, String... paths) {
        bench.record(writer -> {
            for (String path : paths) {
                writer.publish(RecordType.DELETE, SyncBench.ROOT, false, path.getBytes(UTF_8));
            }
        });
    }

    @Test
    void theFirstRunSendsTheTreeAndLaterRunsSendChangesAndDeletionsOnly() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "a", "a1");
        Trees.write(bench.root, "d/b", "b1");
        Trees.write(bench.root, "d/e/c", "c1");
        Trees.write(bench.root, "gone/x", "x");
        Trees.write(bench.root, "#hash", "hash");
        Trees.write(bench.root, "-dash", "dash");
        Trees.write(bench.root, "st*r[1]", "glob");
        Trees.write(bench.root, "trailing ", "a name ending in a blank");
        Trees.write(bench.root, "trailing", "its neighbour, which stays");
        ChangeqConfig config = bench.config(route("first").set("max-delete", "10"));

        SyncReport first = bench.sync(config, "s3");
        assertEquals("full", first.mode());
        assertEquals(ExitCodes.OK, first.exitCode(), first.errors().toString());
        Trees.assertSameTree(bench.root, objects("first"));
        assertTrue(Files.readString(objects("first").resolve(Trees.DESTINATION_MARKER)).startsWith("changeq-destination 1"),
                "the marker placed");

        Trees.write(bench.root, Trees.DESTINATION_MARKER, "a root's file of the marker's name");
        Trees.write(bench.root, "a", "a2 longer");
        Trees.write(bench.root, "new", "new");
        Files.delete(bench.root.resolve("d/b"));
        Trees.run(List.of("rm", "-r", bench.root.resolve("gone").toString()), 0);
        Files.delete(bench.root.resolve("st*r[1]"));
        Files.delete(bench.root.resolve("trailing "));
        bench.changed("a", "new", Trees.DESTINATION_MARKER);
        deleted(bench, "d/b", "gone", "st*r[1]", "trailing ");
        SyncReport second = bench.sync(config, "s3");
        assertEquals("incremental", second.mode());
        assertEquals(ExitCodes.OK, second.exitCode(), second.errors().toString());
        Trees.assertSameTree(bench.root, objects("first"));
        assertEquals(2, second.files(), second.itemized().toString());
        assertEquals(4, second.deleted(), second.itemized().toString());
        assertTrue(Files.readString(objects("first").resolve(Trees.DESTINATION_MARKER)).startsWith("changeq-destination 1"),
                "a listed root file of the marker's name is not sent over it");
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "deletions")
    void theDeletionLimitRefusesBeforeAnythingIsDeleted() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        for (int i = 0; i < 4; i++) {
            Trees.write(bench.root, "f" + i, "content " + i);
        }
        ChangeqConfig config = bench.config(route("limited").set("max-delete", "2"));
        assertEquals(ExitCodes.OK, bench.sync(config, "s3").exitCode());

        for (int i = 0; i < 3; i++) {
            Files.delete(bench.root.resolve("f" + i));
        }
        deleted(bench, "f0", "f1", "f2");
        SyncReport refused = bench.sync(config, "s3");
        assertEquals(ExitCodes.DELETIONS_REFUSED, refused.exitCode());
        for (int i = 0; i < 4; i++) {
            assertTrue(Files.exists(objects("limited").resolve("f" + i)), "f" + i + " kept");
        }
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "has no .changeq-destination")
    void aDestinationWithoutTheRoutesMarkerIsRefusedAndReceivesNothing() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "a", "a");
        ChangeqConfig config = bench.config(route("marked"));
        assertEquals(ExitCodes.OK, bench.sync(config, "s3").exitCode());

        // The remote's prefix now holds another copy: the one the route wrote is elsewhere.
        Trees.run(List.of("mv", objects("marked").toString(), objects("moved").toString()), 0);
        Trees.write(bench.root, "b", "b");
        bench.changed("b");
        SyncException refused = assertThrows(SyncException.class, () -> bench.sync(config, "s3"));
        assertEquals(ExitCodes.DESTINATION_CHANGED, refused.exitCode());
        assertFalse(Files.exists(objects("marked")), "nothing uploaded into the place the route does not know");
    }

    @Test
    void aRewriteOfTheSameSizeAndTimeSeenByTheTrackerArrives() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Path photo = Trees.write(bench.root, "photos/retouched.jpg", "original pixels");
        Path stamp = tmp.resolve("stamp");
        Trees.run(List.of("touch", "-r", photo.toString(), stamp.toString()), 0);
        ChangeqConfig config = bench.config(route("content"));
        tracker = Tracker.start(config);
        assertTrue(tracker.awaitReady(Duration.ofSeconds(60)), "the tracker did not get ready");
        assertEquals("full", bench.sync(config, "s3").mode());

        Files.writeString(photo, "edited  pixels!");
        Trees.run(List.of("touch", "-r", stamp.toString(), photo.toString()), 0);
        Poll.until(Duration.ofSeconds(60), "the rewrite recorded as a content write", () -> {
            try (ManifestReader reader = ManifestReader.open(bench.queue)) {
                boolean[] seen = {false};
                reader.read(ManifestReader.NO_INDEX, Long.MAX_VALUE, (index, record) -> {
                    seen[0] |= record.type() == RecordType.CHANGE && record.contentWritten()
                            && new String(record.path(), UTF_8).equals("photos/retouched.jpg");
                    return true;
                });
                return seen[0];
            }
        });
        SyncReport report = bench.sync(config, "s3");
        assertEquals("incremental", report.mode());
        assertEquals(ExitCodes.OK, report.exitCode(), report.errors().toString());
        assertEquals("edited  pixels!", Files.readString(objects("content").resolve("photos/retouched.jpg")),
                "compared by content: rclone's size and time check alone would keep the old object");
    }

    @Test
    void namesWithANewlineALeadingDashAHashAndInvalidUtf8ArriveAndStayPut() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        byte[] invalid = {'b', 'a', 'd', (byte) 0xff, 'n', 'a', 'm', 'e'};
        Trees.write(bench.root, invalid, "not UTF-8");
        Trees.write(bench.root, "new\nline", "newline");
        Trees.write(bench.root, "-dash", "dash");
        Trees.write(bench.root, "#hash", "hash");
        Trees.write(bench.root, "d/\u240a symbol", "a real U+240A");
        Trees.write(bench.root, "carriage\r", "return");
        ChangeqConfig config = bench.config(route("names").deleteOnFull(true));

        SyncReport first = bench.sync(config, "s3");
        assertEquals(ExitCodes.OK, first.exitCode(), first.errors().toString());
        Path objects = objects("names");
        assertEquals("newline", Files.readString(objects.resolve("new\nline")), "the newline kept in the key");
        assertEquals("not UTF-8", Files.readString(objects.resolve("bad\u201bFFname")),
                "rclone's InvalidUtf8 encoding: U+201B and the byte's hex");

        SyncReport again = bench.sync(config, SyncRequest.of("s3").withFull());
        assertEquals(ExitCodes.OK, again.exitCode(), again.errors().toString());
        assertEquals(0, again.files(), "nothing sent again: " + again.itemized());
        assertEquals(0, again.deleted(), "nothing deleted: " + again.itemized());

        Trees.write(bench.root, invalid, "not UTF-8, changed");
        Trees.write(bench.root, "new\nline", "newline, changed");
        Trees.write(bench.root, "carriage\r", "return, changed");
        bench.record(writer -> {
            writer.publish(RecordType.CHANGE, SyncBench.ROOT, false, invalid);
            writer.publish(RecordType.CHANGE, SyncBench.ROOT, false, "new\nline".getBytes(UTF_8));
            writer.publish(RecordType.CHANGE, SyncBench.ROOT, false, "carriage\r".getBytes(UTF_8));
        });
        SyncReport incremental = bench.sync(config, "s3");
        assertEquals("incremental", incremental.mode());
        assertEquals(ExitCodes.OK, incremental.exitCode(), incremental.errors().toString());
        assertEquals("not UTF-8, changed", Files.readString(objects.resolve("bad\u201bFFname")));
        assertEquals("newline, changed", Files.readString(objects.resolve("new\nline")));
        assertEquals("return, changed", Files.readString(objects.resolve("carriage\r")));
        assertEquals(List.of(">f.st...... bad\\xffname", ">f.st...... carriage\\r", ">f.st...... new\\nline"),
                incremental.itemized().stream().sorted().toList(), "byte-exact names in the run's record");

        SyncReport full = bench.sync(config, SyncRequest.of("s3").withFull());
        assertEquals(0, full.files() + full.deleted(), "no delete-and-upload loop: " + full.itemized());
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "RcloneLog", contains = "connection refused")
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "the cursor stays")
    void aServerThatIsDownFailsTheRunRetryablyAndTheNextRunSendsEverything() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "a", "a");
        ChangeqConfig config = bench.config(route("outage"));
        assertEquals(ExitCodes.OK, bench.sync(config, "s3").exitCode());
        OptionalLong committed = bench.cursor("s3");

        S3.server().stop();
        Trees.write(bench.root, "b", "b");
        bench.changed("b");
        SyncReport down = bench.sync(config, "s3");
        assertEquals(ExitCodes.DESTINATION_UNREACHABLE, down.exitCode(), down.errors().toString());
        assertEquals(committed, bench.cursor("s3"), "nothing committed");

        S3.server().start();
        SyncReport back = bench.sync(config, "s3");
        assertEquals(ExitCodes.OK, back.exitCode(), back.errors().toString());
        Trees.assertSameTree(bench.root, objects("outage"));
    }

    @Test
    void aRunKilledMidUploadCommitsNothingAndTheRerunSendsTheWholeFile() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "small", "s");
        ChangeqConfig config = bench.config(route("killed"));
        assertEquals(ExitCodes.OK, bench.sync(config, "s3").exitCode());
        OptionalLong committed = bench.cursor("s3");

        byte[] big = new byte[4 << 20];
        new Random(7).nextBytes(big);
        Files.write(bench.root.resolve("big"), big);
        bench.changed("big");
        ProcessBuilder command = ChildJvm.command(SyncMain.class,
                List.of("--config", bench.configFile().toString(), "--route", "s3"));
        // rclone reads its flags from the environment too: the child's upload takes seconds.
        command.environment().put("RCLONE_BWLIMIT", "1M");
        Process child = command.redirectOutput(tmp.resolve("child.out").toFile())
                .redirectError(tmp.resolve("child.err").toFile()).start();
        try {
            Poll.until(Duration.ofSeconds(30), "the child's rclone uploading", () -> !rcloneProcesses().isEmpty());
            Thread.sleep(1000);
        } finally {
            child.destroyForcibly();
            child.waitFor(20, TimeUnit.SECONDS);
        }
        Poll.until(Duration.ofSeconds(20), "rclone to die with its parent", () -> rcloneProcesses().isEmpty());
        assertEquals(committed, bench.cursor("s3"), "the killed run committed nothing");
        assertFalse(Files.exists(objects("killed").resolve("big")), "no partial object");

        SyncReport rerun = bench.sync(config, "s3");
        assertEquals(ExitCodes.OK, rerun.exitCode(), rerun.errors().toString());
        Trees.assertSameTree(bench.root, objects("killed"));
    }

    /** rclone processes sending to this server's bucket. */
    private static List<Long> rcloneProcesses() {
        return ProcessHandle.allProcesses()
                .filter(process -> process.info().command().map(c -> c.endsWith("/rclone")).orElse(false))
                .filter(process -> cmdline(process.pid()).contains(S3.server().rcloneConfig().toString()))
                .map(ProcessHandle::pid)
                .toList();
    }

    private static String cmdline(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), UTF_8);
        } catch (IOException gone) {
            return "";
        }
    }

    @Test
    void aFollowerSendsWhatTheTrackerSeesToTheBucket() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "before", "before");
        ChangeqConfig config = bench.config(route("followed").set("follow", "{quiet: 1s, max-delay: 2s}"));
        tracker = Tracker.start(config);
        assertTrue(tracker.awaitReady(Duration.ofSeconds(60)), "the tracker did not get ready");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        RouteFollower follower = RouteFollower.start(config, SyncRequest.of("s3"), Clock.systemDefaultZone(),
                new PrintStream(out, true, UTF_8), SystemdNotifier.fromEnvironment(Map.of()));
        try {
            Path objects = objects("followed");
            Poll.until(Duration.ofSeconds(60), () -> "the first run; so far: " + out.toString(UTF_8),
                    () -> Files.exists(objects.resolve("before")));
            Trees.write(bench.root, "later/written", "while following");
            Poll.until(Duration.ofSeconds(60), () -> "the followed write; so far: " + out.toString(UTF_8),
                    () -> Files.exists(objects.resolve("later/written")));
            assertEquals("while following", Files.readString(objects.resolve("later/written")));
        } finally {
            follower.close();
        }
        assertEquals(ExitCodes.OK, follower.exitCode(), out.toString(UTF_8));
        assertTrue(out.toString(UTF_8).lines().allMatch(line -> line.contains(" exit=0 ")), out.toString(UTF_8));
    }

    @Test
    void checkPreviewsTheFullSyncOfTheRoute() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "kept", "kept");
        Trees.write(bench.root, "removed", "removed");
        ChangeqConfig config = bench.config(route("checked").deleteOnFull(true));
        assertEquals(ExitCodes.OK, bench.sync(config, "s3").exitCode());
        Files.delete(bench.root.resolve("removed"));

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int exit = CoverageCheck.run(config, 5, new PrintStream(out, true, UTF_8));
        String said = out.toString(UTF_8);
        assertEquals(ExitCodes.OK, exit, said);
        assertTrue(said.contains("route 's3': WARNING: a full sync (delete-on-full) would DELETE 1"), said);
        assertTrue(Files.exists(objects("checked").resolve("removed")), "a check deletes nothing");
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "RcloneLog", contains = "Failed to copy")
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "could not send 1 path(s)")
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "not sent: bad\u201bFFname")
    @ExpectLog(level = Level.WARN, logger = "RcloneTransfer", contains = "rclone reads a name holding U+201B")
    void aNameRcloneCannotSendGoesToTheRetryListAndTheRestCommits() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "a", "a");
        ChangeqConfig config = bench.config(route("failing"));
        assertEquals(ExitCodes.OK, bench.sync(config, "s3").exitCode());

        // rclone 1.60 takes a name holding its quote U+201B for its encoding of an invalid name beside it.
        byte[] invalid = {'b', 'a', 'd', (byte) 0xff, 'n', 'a', 'm', 'e'};
        Trees.write(bench.root, invalid, "invalid");
        Trees.write(bench.root, "bad\u201bFFname", "looks encoded");
        Trees.write(bench.root, "fine", "fine");
        SyncReport partial = bench.sync(config, SyncRequest.of("s3").withFull());
        assertEquals(ExitCodes.SYNC_PARTIAL, partial.exitCode(), partial.errors().toString());
        assertEquals(1, partial.failedPaths(), partial.errors().toString());
        assertEquals(OptionalLong.of(bench.queueEnd()), bench.cursor("s3"), "the rest committed");
        assertEquals("fine", Files.readString(objects("failing").resolve("fine")));

        SyncReport retried = bench.sync(config, "s3");
        assertEquals(ExitCodes.SYNC_PARTIAL, retried.exitCode(), retried.errors().toString());
        assertEquals(1, retried.failedPaths(), "rclone would skip it without a word: it stays in the retry list");
        assertEquals("invalid", Files.readString(objects("failing").resolve("bad\u201bFFname")),
                "the object of the name it looks like is not overwritten");
    }

    @Test
    void aDryRunShowsOverwritesNewFilesAndDeletionsAndChangesNothing() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "a", "a1");
        Trees.write(bench.root, "d/b", "b1");
        ChangeqConfig config = bench.config(route("dry").set("max-delete", "10"));
        assertEquals(ExitCodes.OK, bench.sync(config, "s3").exitCode());
        OptionalLong committed = bench.cursor("s3");

        Trees.write(bench.root, "a", "a2 longer");
        Trees.write(bench.root, "n", "new");
        Files.delete(bench.root.resolve("d/b"));
        bench.changed("a", "n");
        deleted(bench, "d/b");
        SyncReport dry = bench.sync(config, SyncRequest.of("s3").withDryRun().withVerbose());
        assertEquals(ExitCodes.OK, dry.exitCode(), dry.errors().toString());
        assertEquals(Set.of(">f.st...... a", ">f+++++++++ n", "*deleting   d/b"), Set.copyOf(dry.itemized()));
        assertEquals(committed, bench.cursor("s3"), "a dry run commits nothing");
        assertEquals("a1", Files.readString(objects("dry").resolve("a")));
        assertTrue(Files.exists(objects("dry").resolve("d/b")));
        assertFalse(Files.exists(objects("dry").resolve("n")));
        assertFalse(Files.exists(objects("dry").resolve(".changeq-history")), "the preview's backup dir is never made");
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "Verify", contains = "differ from the source")
    void verifyFindsAnObjectOfOtherContentAMissingOneAndAnExtraOne() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Path beach = Trees.write(bench.root, "photos/2026/beach.jpg", "the sea, the sand, the sun");
        Trees.write(bench.root, "photos/2026/dunes.jpg", "dunes at dusk");
        Trees.write(bench.root, "notes.txt", "buy milk");
        ChangeqConfig config = bench.config(route("verified").set("verify-cycle", "1d"));
        assertEquals("full", bench.sync(config, "s3").mode());
        Verify.Report clean = Verify.runOrAsk(config, verifyRequest(), Clock.systemDefaultZone(),
                new PrintStream(new ByteArrayOutputStream(), true, UTF_8)).report().orElseThrow();
        assertEquals(ExitCodes.OK, clean.exitCode(), clean.summary());
        assertEquals(3, clean.files());

        // Another object of the same size and time in place of beach.jpg, one deleted, one left behind.
        Path other = Trees.write(tmp, "other.jpg", "the sea, the sand, the SUN");
        Trees.run(List.of("touch", "-r", beach.toString(), other.toString()), 0);
        String prefix = S3.server().remotePath(BUCKET + "/verified/");
        assertEquals(0, S3.server().run("copyto", "--ignore-times", other.toString(), prefix + "photos/2026/beach.jpg")
                .exitCode());
        assertEquals(0, S3.server().run("deletefile", prefix + "photos/2026/dunes.jpg").exitCode());
        Path stray = Trees.write(tmp, "stray.jpg", "left behind");
        assertEquals(0, S3.server().run("copyto", stray.toString(), prefix + "photos/stray.jpg").exitCode());

        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        Verify.Report found = Verify.runOrAsk(config, verifyRequest(), Clock.systemDefaultZone(),
                new PrintStream(printed, true, UTF_8)).report().orElseThrow();
        assertEquals(ExitCodes.VERIFY_MISMATCH, found.exitCode(), found.summary());
        assertEquals(Set.of("content photos/2026/beach.jpg", "missing photos/2026/dunes.jpg", "extra photos/stray.jpg",
                found.summary()), Set.copyOf(printed.toString(UTF_8).lines().toList()));

        assertEquals(ExitCodes.OK, bench.sync(config, "s3").exitCode(), "the run sends what verify found");
        assertEquals("the sea, the sand, the sun", Files.readString(objects("verified").resolve("photos/2026/beach.jpg")));
        assertEquals("dunes at dusk", Files.readString(objects("verified").resolve("photos/2026/dunes.jpg")));
    }

    /**
     * What a run overwrites or deletes in the bucket is kept byte-exact below .changeq-history/RUN (server-side
     * copies), names rclone takes one at a time included; a full sync with deletes never deletes that history, history
     * lists and restore reads it, and retention removes the expired run directories.
     */
    @Test
    void overwrittenAndDeletedObjectsAreKeptInTheHistoryListedRestoredAndExpired() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "d/a", "a version 1");
        Trees.write(bench.root, "b", "b version 1");
        Trees.write(bench.root, "gone/deep/x", "x version 1");
        Trees.write(bench.root, "n/new\nline", "newline version 1");
        Trees.write(bench.root, "old\nline", "deleted newline version 1");
        ChangeqConfig config = bench.config(route("kept").set("history", "{keep: 2d}").set("max-delete", "1000"));
        assertEquals(ExitCodes.OK, bench.sync(config, "s3").exitCode());
        Path copy = objects("kept");
        Path history = copy.resolve(HISTORY);

        Trees.write(bench.root, "d/a", "a version 2, longer");
        Files.delete(bench.root.resolve("b"));
        Trees.run(List.of("rm", "-r", bench.root.resolve("gone").toString()), 0);
        Trees.write(bench.root, "n/new\nline", "newline version 2");
        Files.delete(bench.root.resolve("old\nline"));
        bench.changed("d/a", "n/new\nline");
        deleted(bench, "b", "gone", "old\nline");
        SyncReport second = bench.sync(config, "s3");
        assertEquals(ExitCodes.OK, second.exitCode(), second.errors().toString());
        assertEquals(2, second.files(), second.itemized().toString());
        assertEquals(3, second.deleted(), second.itemized().toString());
        Path first = onlyRun(history);
        assertEquals("a version 1", Files.readString(first.resolve("d/a")));
        assertEquals("b version 1", Files.readString(first.resolve("b")));
        assertEquals("x version 1", Files.readString(first.resolve("gone/deep/x")), "a deleted directory, whole");
        assertEquals("newline version 1", Files.readString(first.resolve("n/new\nline")));
        assertEquals("deleted newline version 1", Files.readString(first.resolve("old\nline")));
        Trees.assertSameTree(bench.root, copy, List.of(HISTORY));

        Trees.write(bench.root, "d/a", "a version 3, sent by a full sync");
        Path stray = Trees.write(tmp, "stray", "only at the destination");
        assertEquals(0, S3.server().run("copyto", stray.toString(), S3.server().remotePath(BUCKET + "/kept/stray"))
                .exitCode());
        SyncReport full = bench.sync(config, SyncRequest.of("s3").withFull());
        assertEquals(ExitCodes.OK, full.exitCode(), full.errors().toString());
        assertEquals(1, full.deleted(), "the stray object, and nothing of the history: " + full.itemized());
        assertEquals(1, full.files(), full.itemized().toString());
        assertTrue(full.itemized().stream().noneMatch(line -> line.contains(HISTORY)), full.itemized().toString());
        Path third = onlyRun(history, first);
        assertEquals("a version 2, longer", Files.readString(third.resolve("d/a")));
        assertEquals("only at the destination", Files.readString(third.resolve("stray")));
        assertEquals("a version 1", Files.readString(first.resolve("d/a")), "earlier runs' versions stay");
        Trees.assertSameTree(bench.root, copy, List.of(HISTORY));

        List<String> versions = historyCommand(bench, "history", "d/a").lines().toList();
        assertEquals(2, versions.size(), versions.toString());
        assertTrue(versions.get(0).contains(" 11 ") && versions.get(0).endsWith(" d/a"), versions.get(0));
        Path restored = tmp.resolve("restored");
        historyCommand(bench, "restore", "--at", first.getFileName().toString(), "--to", restored.toString(), ".");
        assertEquals("a version 1", Files.readString(restored.resolve("d/a")));
        assertEquals("b version 1", Files.readString(restored.resolve("b")));
        assertEquals("x version 1", Files.readString(restored.resolve("gone/deep/x")));
        assertEquals("newline version 1", Files.readString(restored.resolve("n/new\nline")));
        assertFalse(Files.exists(restored.resolve(HISTORY)), "the history is not part of the tree");

        bench.changed("d/a");
        SyncReport later = bench.sync(config, SyncRequest.of("s3").withFull(),
                Clock.offset(Clock.systemUTC(), Duration.ofDays(3)));
        assertEquals(ExitCodes.OK, later.exitCode(), later.errors().toString());
        assertFalse(Files.exists(first.resolve("d/a")), "expired");
        assertFalse(Files.exists(third.resolve("d/a")), "expired");
    }

    /**
     * rclone counts the delete of each server-side copy into the history as a deletion for its --max-delete: a full
     * sync that overwrites more objects than the route may delete must still run, its deletions limited by the preview.
     */
    @Test
    void aFullSyncKeepingHistoryOverwritesMoreObjectsThanTheDeletionLimit() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        for (String name : List.of("a", "b", "c", "d")) {
            Trees.write(bench.root, name, name + " version 1");
        }
        ChangeqConfig config = bench.config(route("rewritten").set("history", "{keep: 30d}").set("max-delete", "1"));
        assertEquals(ExitCodes.OK, bench.sync(config, "s3").exitCode());
        for (String name : List.of("a", "b", "c", "d")) {
            Trees.write(bench.root, name, name + " version 2, rewritten");
        }
        SyncReport full = bench.sync(config, SyncRequest.of("s3").withFull());
        assertEquals(ExitCodes.OK, full.exitCode(), full.errors().toString());
        assertEquals(4, full.files(), full.itemized().toString());
        Trees.assertSameTree(bench.root, objects("rewritten"), List.of(HISTORY));
        Path run = onlyRun(objects("rewritten").resolve(HISTORY));
        for (String name : List.of("a", "b", "c", "d")) {
            assertEquals(name + " version 1", Files.readString(run.resolve(name)));
        }
    }

    private static final String HISTORY = ".changeq-history";

    /** The one run directory of {@code history} that is none of {@code earlier}. */
    private static Path onlyRun(Path history, Path... earlier) throws IOException {
        try (var runs = Files.list(history)) {
            List<Path> fresh = runs.filter(run -> !List.of(earlier).contains(run)).toList();
            assertEquals(1, fresh.size(), fresh.toString());
            return fresh.get(0);
        }
    }

    /** Runs {@code changeq-sync history} or {@code restore} for the route, which must succeed; what it printed. */
    private static String historyCommand(SyncBench bench, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> all = new java.util.ArrayList<>(List.of(args));
        all.addAll(1, List.of("--config", bench.configFile().toString(), "--route", "s3"));
        int exit = SyncMain.commandLine(new PrintStream(out, true, UTF_8), new PrintStream(err, true, UTF_8))
                .execute(all.toArray(String[]::new));
        assertEquals(0, exit, err.toString(UTF_8));
        return out.toString(UTF_8);
    }

    private static Verify.Request verifyRequest() {
        return new Verify.Request("s3", Duration.ZERO, OptionalLong.empty(), java.util.Optional.empty());
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "the run would delete 3 paths")
    void aFullSyncPastTheDeletionLimitSendsButDeletesNothingUntilAllowed() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        for (int i = 0; i < 4; i++) {
            Trees.write(bench.root, "f" + i, "content " + i);
        }
        ChangeqConfig config = bench.config(route("fullLimit").deleteOnFull(true).set("max-delete", "2"));
        assertEquals(ExitCodes.OK, bench.sync(config, "s3").exitCode());

        for (int i = 0; i < 3; i++) {
            Files.delete(bench.root.resolve("f" + i));
        }
        Trees.write(bench.root, "new", "new");
        SyncReport refused = bench.sync(config, SyncRequest.of("s3").withFull());
        assertEquals(ExitCodes.DELETIONS_REFUSED, refused.exitCode(), refused.errors().toString());
        assertEquals("new", Files.readString(objects("fullLimit").resolve("new")), "what is new was sent");
        for (int i = 0; i < 3; i++) {
            assertTrue(Files.exists(objects("fullLimit").resolve("f" + i)), "f" + i + " kept");
        }

        SyncReport allowed = bench.sync(config, SyncRequest.of("s3").withFull().allowingDeletes(3));
        assertEquals(ExitCodes.OK, allowed.exitCode(), allowed.errors().toString());
        assertEquals(3, allowed.deleted());
        Trees.assertSameTree(bench.root, objects("fullLimit"));
    }
}
