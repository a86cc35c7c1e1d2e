package org.changeq.nativetests.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.state.RetryList;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.state.VerifyState;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.sync.SyncException;
import org.changeq.sync.SyncMain;
import org.changeq.sync.Verify;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.event.Level;

/**
 * {@code changeq-sync verify} against the real rsync, locally and through a daemon: corruption that rsync's quick
 * check cannot see is found, the route's next run repairs it, and what verify must not report is not reported.
 */
class VerifyTest {

    /** One slice: every run of verify covers the whole tree. */
    private static final String WHOLE_TREE_DAILY = "1d";

    @TempDir
    Path tmp;

    private TestDestination destination;

    @AfterEach
    void stop() throws InterruptedException {
        if (destination != null) {
            destination.close();
        }
    }

    @ParameterizedTest
    @EnumSource(TestDestination.Kind.class)
    @ExpectLog(level = Level.WARN, logger = "Verify", contains = "differ from the source")
    void aFlippedByteAMissingFileAndAnExtraOneAreFoundAndTheNextRunRepairsAllButTheExtra(TestDestination.Kind kind)
            throws Exception {
        destination = TestDestination.start(kind, tmp);
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "photos/2026/beach.jpg", "the sea, the sand, the sun");
        Trees.write(bench.root, "photos/2026/dunes.jpg", "dunes at dusk");
        Trees.write(bench.root, "notes.txt", "buy milk");
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", destination.dest()).set("verify-cycle",
                WHOLE_TREE_DAILY));
        assertEquals("full", bench.sync(config, "r").mode());
        Verify.Report clean = verify(config, "r");
        assertEquals(ExitCodes.OK, clean.exitCode(), clean.summary());
        assertEquals(3, clean.files());

        Path beach = destination.directory().resolve("photos/2026/beach.jpg");
        Trees.flipOneByteKeepingSizeAndTime(beach);
        Files.delete(destination.directory().resolve("photos/2026/dunes.jpg"));
        Trees.write(destination.directory(), "photos/stray.jpg", "left behind");

        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        Verify.Report found = Verify.runOrAsk(config, request("r"), Clock.systemDefaultZone(),
                new PrintStream(printed, true, UTF_8)).report().orElseThrow();
        assertEquals(ExitCodes.VERIFY_MISMATCH, found.exitCode(), found.summary());
        assertEquals(List.of("content photos/2026/beach.jpg", "missing photos/2026/dunes.jpg", "extra photos/stray.jpg",
                found.summary()), printed.toString(UTF_8).lines().toList());
        RetryList retry = RetryList.read(new StateLayout(bench.state).retryList("r"));
        assertEquals(List.of("CONTENT photos/2026/beach.jpg", "CONTENT photos/2026/dunes.jpg"), retry.entries().stream()
                .map(entry -> entry.kind() + " " + new String(entry.path(), UTF_8)).toList());

        bench.sync(config, "r");
        assertArrayEquals(Files.readAllBytes(bench.root.resolve("photos/2026/beach.jpg")), Files.readAllBytes(beach));
        assertEquals("dunes at dusk", Files.readString(destination.directory().resolve("photos/2026/dunes.jpg")));
        assertTrue(Files.exists(destination.directory().resolve("photos/stray.jpg")), "verify deletes nothing");

        Verify.Report after = verify(config, "r");
        assertEquals(ExitCodes.OK, after.exitCode(), after.summary());
        assertEquals(List.of("extra photos/stray.jpg"), after.mismatches().stream().map(Object::toString).toList());
        VerifyState state = VerifyState.read(new StateLayout(bench.state).verifyState("r"));
        assertEquals(1.0, state.coverage());
        assertTrue(state.lastCompleteCycleMillis() > 0);
        String metrics = Files.readString(bench.state.resolve("metrics/changeq_verify_r.prom"));
        assertTrue(metrics.contains("changeq_verify_mismatches{route=\"r\",kind=\"extra\"} 1"), metrics);
        assertTrue(metrics.contains("changeq_verify_mismatches{route=\"r\",kind=\"content\"} 0"), metrics);
    }

    @ParameterizedTest
    @EnumSource(TestDestination.Kind.class)
    void aFileRewrittenAtTheSourceSinceTheLastRunIsNotAMismatch(TestDestination.Kind kind) throws Exception {
        destination = TestDestination.start(kind, tmp);
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Path draft = Trees.write(bench.root, "draft.txt", "version one");
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", destination.dest()).set("verify-cycle",
                WHOLE_TREE_DAILY));
        bench.sync(config, "r");
        FileTime time = Files.getLastModifiedTime(draft);
        Files.writeString(draft, "version two");
        Files.setLastModifiedTime(draft, time);

        Verify.Report report = verify(config, "r");
        assertEquals(ExitCodes.OK, report.exitCode(), report.summary());
        assertEquals(List.of(), report.mismatches());
    }

    @ParameterizedTest
    @EnumSource(TestDestination.Kind.class)
    @ExpectLog(level = Level.WARN, logger = "Verify", contains = "differ from the source")
    void aDirectoryWhereTheSourceHasAFileIsOfAnotherTypeLocallyAndMissingThroughTheDaemon(TestDestination.Kind kind)
            throws Exception {
        destination = TestDestination.start(kind, tmp);
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "notes.txt", "buy milk");
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", destination.dest()).set("verify-cycle",
                WHOLE_TREE_DAILY));
        bench.sync(config, "r");
        Path notes = destination.directory().resolve("notes.txt");
        Files.delete(notes);
        Files.createDirectory(notes);

        Verify.Report found = verify(config, "r");
        assertEquals(ExitCodes.VERIFY_MISMATCH, found.exitCode(), found.summary());
        assertEquals(List.of((kind == TestDestination.Kind.LOCAL ? "type" : "missing") + " notes.txt"),
                found.mismatches().stream().map(Object::toString).toList());
        bench.sync(config, "r");
        assertEquals("buy milk", Files.readString(notes));
        assertEquals(List.of(), verify(config, "r").mismatches());
    }

    @Test
    void aRouteThatNeverSyncedHasNothingToVerify() throws Exception {
        destination = TestDestination.start(TestDestination.Kind.LOCAL, tmp);
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "a.txt", "a");
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", destination.dest()));
        Verify.Report report = verify(config, "r");
        assertEquals(ExitCodes.OK, report.exitCode());
        assertEquals(0, report.files());
        assertEquals(VerifyState.NONE, VerifyState.read(new StateLayout(bench.state).verifyState("r")));
    }

    @Test
    void aRouteWhoseLockIsHeldIsSkippedAfterTheWait() throws Exception {
        destination = TestDestination.start(TestDestination.Kind.LOCAL, tmp);
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "a.txt", "a");
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", destination.dest()));
        bench.sync(config, "r");
        Path lockFile = new StateLayout(bench.state).routeLock("r");
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE);
             FileLock held = channel.lock()) {
            long started = System.nanoTime();
            SyncException busy = assertThrows(SyncException.class, () -> Verify.runOrAsk(config,
                    new Verify.Request("r", Duration.ofMillis(600), OptionalLong.empty(), Optional.empty()),
                    Clock.systemDefaultZone(), new PrintStream(new ByteArrayOutputStream(), true, UTF_8)));
            assertEquals(ExitCodes.VERIFY_BUSY, busy.exitCode());
            assertTrue(busy.getMessage().contains("not verified: its sync holds the lock"), busy.getMessage());
            assertTrue(System.nanoTime() - started >= Duration.ofMillis(600).toNanos(), "it waited");
            assertTrue(held.isValid());
        }
        assertEquals(ExitCodes.OK, verify(config, "r").exitCode());
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "Verify", contains = "differ from the source")
    void theCommandExitsSixteenOnAMismatchAndSeventeenWhenBusyWithOneSentenceEach() throws Exception {
        destination = TestDestination.start(TestDestination.Kind.LOCAL, tmp);
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "a.txt", "alpha");
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", destination.dest()));
        bench.sync(config, "r");
        Trees.flipOneByteKeepingSizeAndTime(destination.directory().resolve("a.txt"));
        String[] verify = {"verify", "--config", bench.configFile().toString(), "--route", "r", "--max-rate", "1M"};

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = SyncMain.commandLine(new PrintStream(out, true, UTF_8), new PrintStream(err, true, UTF_8))
                .execute(verify);
        assertEquals(ExitCodes.VERIFY_MISMATCH, exit, err.toString(UTF_8));
        List<String> lines = out.toString(UTF_8).lines().toList();
        assertEquals("content a.txt", lines.get(0));
        assertTrue(lines.get(1).startsWith("route=r verify files=1 bytes=5 slices=0-1/30 content=1 missing=0 type=0"
                + " extra=0 seconds="), lines.get(1));
        assertTrue(lines.get(1).endsWith(" exit=16"), lines.get(1));

        Path lockFile = new StateLayout(bench.state).routeLock("r");
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.WRITE); FileLock held = channel.lock()) {
            err.reset();
            exit = SyncMain.commandLine(new PrintStream(new ByteArrayOutputStream(), true, UTF_8),
                    new PrintStream(err, true, UTF_8)).execute(verify);
            assertEquals(ExitCodes.VERIFY_BUSY, exit);
            assertEquals(1, err.toString(UTF_8).lines().count(), err.toString(UTF_8));
            assertTrue(err.toString(UTF_8).startsWith("changeq-sync: route 'r': not verified: its sync holds the lock"),
                    err.toString(UTF_8));
        }
    }

    @Test
    void itReadsNoFasterThanItsRate() throws Exception {
        destination = TestDestination.start(TestDestination.Kind.LOCAL, tmp);
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        byte[] block = new byte[256 * 1024];
        for (int i = 0; i < 24; i++) {
            block[0] = (byte) i;
            Files.createDirectories(bench.root.resolve("d" + i % 3));
            Files.write(bench.root.resolve("d" + i % 3 + "/f" + i), block);
        }
        long rate = 2L << 20;
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", destination.dest())
                .set("verify-cycle", WHOLE_TREE_DAILY).set("verify-max-rate", "2M"));
        bench.sync(config, "r");

        long started = System.nanoTime();
        Verify.Report report = verify(config, "r");
        double seconds = (System.nanoTime() - started) / 1e9;
        assertEquals(24L * block.length, report.bytes());
        double measured = report.bytes() / seconds;
        assertTrue(measured <= rate, "read " + report.bytes() + " bytes in " + seconds + " s: " + measured
                + " bytes/s, more than " + rate);
    }

    private static Verify.Request request(String route) {
        return new Verify.Request(route, Duration.ZERO, OptionalLong.empty(), Optional.empty());
    }

    private static Verify.Report verify(ChangeqConfig config, String route) throws Exception {
        return Verify.runOrAsk(config, request(route), Clock.systemDefaultZone(),
                new PrintStream(new ByteArrayOutputStream(), true, UTF_8)).report().orElseThrow();
    }
}
