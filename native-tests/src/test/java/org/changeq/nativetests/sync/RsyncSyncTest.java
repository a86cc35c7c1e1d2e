package org.changeq.nativetests.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.regex.Pattern;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.manifest.WriterLock;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.pipeline.testing.Poll;
import org.changeq.sync.SyncException;
import org.changeq.sync.SyncReport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.event.Level;

/** changeq-sync against the real rsync: a local destination and an rsync daemon on loopback. */
class RsyncSyncTest {

    @TempDir
    Path tmp;

    private SyncBench bench;
    private TestDestination destination;
    /** Where the destination's files land on disk. */
    private Path destDir;
    /** The route's dest as configured. */
    private String dest;

    @BeforeEach
    void setUp() throws IOException {
        bench = SyncBench.create(tmp.resolve("bench"));
    }

    @AfterEach
    void stopDaemon() throws InterruptedException {
        if (destination != null) {
            destination.close();
        }
    }

    private void useDestination(TestDestination.Kind kind) throws IOException, InterruptedException {
        destination = TestDestination.start(kind, tmp);
        destDir = destination.directory();
        dest = destination.dest();
    }

    private ChangeqConfig plainConfig() throws Exception {
        return bench.config(SyncBench.Route.of("r", dest));
    }

    private static long transfers(SyncReport report, String name) {
        return report.itemized().stream().filter(line -> line.startsWith(">f") || line.startsWith("<f"))
                .filter(line -> line.substring(12).equals(name)).count();
    }

    @ParameterizedTest
    @EnumSource(TestDestination.Kind.class)
    void incrementalSendsTheChangedFilesOnly(TestDestination.Kind kind) throws Exception {
        useDestination(kind);
        Trees.write(bench.root, "a", "alpha");
        Trees.write(bench.root, "dir/b", "beta");
        Trees.write(bench.root, "c", "gamma");
        ChangeqConfig config = plainConfig();

        SyncReport first = bench.sync(config, "r");
        assertEquals("full", first.mode());
        assertEquals("first-run", first.reason());
        assertEquals(ExitCodes.OK, first.exitCode());
        assertEquals(3, first.files());
        assertEquals(OptionalLong.of(bench.queueEnd()), bench.cursor("r"));
        Trees.assertSameTree(bench.root, destDir);

        Trees.write(bench.root, "dir/b", "beta, longer now");
        bench.changed("dir/b");
        SyncReport second = bench.sync(config, "r");
        assertEquals("incremental", second.mode());
        assertEquals("changes", second.reason());
        assertEquals(1, second.files());
        assertEquals(1, transfers(second, "dir/b"), second.itemized().toString());
        assertEquals(0, transfers(second, "a") + transfers(second, "c"), second.itemized().toString());
        assertEquals(OptionalLong.of(bench.queueEnd()), bench.cursor("r"));
        Trees.assertSameTree(bench.root, destDir);

        SyncReport idle = bench.sync(config, "r");
        assertEquals("nothing-to-do", idle.reason());
        assertEquals(OptionalInt.empty(), idle.rsyncExit());
        assertTrue(Pattern.matches("route=r mode=incremental reason=nothing-to-do files=0 deleted=0 failed=0 bytes=0"
                + " seconds=\\d+\\.\\d{3} rsync-exit=none exit=0 changed=0", idle.summaryLine()), idle.summaryLine());
    }

    @ParameterizedTest
    @EnumSource(TestDestination.Kind.class)
    void strangeNamesArriveByteExact(TestDestination.Kind kind) throws Exception {
        useDestination(kind);
        Trees.write(bench.root, "seed", "s");
        ChangeqConfig config = plainConfig();
        bench.sync(config, "r");

        List<byte[]> names = List.of("new\nline".getBytes(UTF_8), new byte[] {'b', 'a', 'd', (byte) 0xff, (byte) 0xfe},
                "-leading-dash".getBytes(UTF_8), "#hash".getBytes(UTF_8), ";semicolon".getBytes(UTF_8),
                "[bracket]".getBytes(UTF_8), "*star?".getBytes(UTF_8), "with space ".getBytes(UTF_8),
                "sub dir/-x;#[*]".getBytes(UTF_8), "ümlaut\\back".getBytes(UTF_8));
        for (byte[] name : names) {
            Trees.write(bench.root, name, "content of " + new String(name, UTF_8));
        }
        bench.record(writer -> names.forEach(name -> writer.publish(RecordType.CHANGE, SyncBench.ROOT, false, name)));

        SyncReport report = bench.sync(config, "r");
        assertEquals(ExitCodes.OK, report.exitCode(), report.errors().toString());
        assertEquals("incremental", report.mode());
        assertEquals(names.size(), report.files(), report.itemized().toString());
        assertEquals(Trees.list(bench.root), Trees.list(destDir));
        Trees.assertSameTree(bench.root, destDir);
    }

    @ParameterizedTest
    @EnumSource(TestDestination.Kind.class)
    void aSameSizeRewriteWithinTheSecondOfTheLastSyncArrives(TestDestination.Kind kind) throws Exception {
        useDestination(kind);
        Path file = Trees.write(bench.root, "x", "aaaa");
        Instant second = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        Files.setLastModifiedTime(file, FileTime.from(second.plusMillis(100)));
        ChangeqConfig config = plainConfig();
        bench.sync(config, "r");
        assertEquals("aaaa", Files.readString(destDir.resolve("x")));

        Files.writeString(file, "bbbb");
        Files.setLastModifiedTime(file, FileTime.from(second.plusMillis(600)));
        bench.changed("x");
        SyncReport report = bench.sync(config, "r");
        assertEquals(ExitCodes.OK, report.exitCode());
        assertEquals("bbbb", Files.readString(destDir.resolve("x")), "rsync's quick check must not skip the rewrite");
    }

    @Test
    void aPathDeletedBeforeTheRunDoesNotFailIt() throws Exception {
        useDestination(TestDestination.Kind.LOCAL);
        Trees.write(bench.root, "keep", "k");
        ChangeqConfig config = plainConfig();
        bench.sync(config, "r");
        Path gone = Trees.write(bench.root, "gone", "g");
        Trees.write(bench.root, "new", "n");
        bench.changed("gone", "new");
        Files.delete(gone);
        SyncReport report = bench.sync(config, "r");
        assertEquals(ExitCodes.OK, report.exitCode(), report.errors().toString());
        assertEquals(OptionalInt.of(0), report.rsyncExit());
        assertEquals(OptionalLong.of(bench.queueEnd()), bench.cursor("r"));
        Trees.assertSameTree(bench.root, destDir);
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "RsyncRunner")
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "rsync exited with 10")
    void anUnreachableDestinationKeepsTheCursorAndTheNextRunCatchesUp() throws Exception {
        useDestination(TestDestination.Kind.DAEMON);
        Trees.write(bench.root, "a", "a");
        ChangeqConfig config = plainConfig();
        bench.sync(config, "r");
        OptionalLong committed = bench.cursor("r");

        destination.daemon().stop();
        Trees.write(bench.root, "while-down", "w");
        bench.changed("while-down");
        SyncReport down = bench.sync(config, "r");
        assertEquals(ExitCodes.DESTINATION_UNREACHABLE, down.exitCode());
        assertEquals(OptionalInt.of(10), down.rsyncExit());
        assertEquals(committed, bench.cursor("r"));
        String metrics = Files.readString(bench.state.resolve("metrics/changeq_sync_r.prom"));
        assertTrue(metrics.contains("changeq_sync_failures_total{route=\"r\"} 1\n"), metrics);

        destination.daemon().start();
        SyncReport back = bench.sync(config, "r");
        assertEquals(ExitCodes.OK, back.exitCode());
        assertEquals("incremental", back.mode());
        assertEquals(OptionalLong.of(bench.queueEnd()), bench.cursor("r"));
        Trees.assertSameTree(bench.root, destDir);
    }

    @Test
    void aBacklogAboveTheThresholdIsAFullSyncThatDeletes() throws Exception {
        useDestination(TestDestination.Kind.LOCAL);
        Trees.write(bench.root, "a", "a");
        Path old = Trees.write(bench.root, "old", "o");
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", dest).backlogThreshold(2));
        bench.sync(config, "r");
        assertTrue(Files.exists(destDir.resolve("old")));

        Files.delete(old);
        Trees.write(bench.root, "b", "b");
        Trees.write(bench.root, "c", "c");
        bench.changed("a", "b", "c");
        SyncReport report = bench.sync(config, "r");
        assertEquals("full", report.mode());
        assertEquals("backlog", report.reason());
        assertEquals(3, report.backlog());
        assertFalse(Files.exists(destDir.resolve("old")), "--delete removed what the source no longer has");
        Trees.assertSameTree(bench.root, destDir);
        String metrics = Files.readString(bench.state.resolve("metrics/changeq_sync_r.prom"));
        assertTrue(metrics.contains("changeq_sync_full_sync_total{route=\"r\"} 2\n"), metrics);
        assertTrue(metrics.contains("changeq_sync_backlog_records{route=\"r\"} 3\n"), metrics);
        assertTrue(metrics.contains("changeq_sync_files_total{route=\"r\"} 4\n"), metrics);
        assertTrue(metrics.contains("changeq_sync_failures_total{route=\"r\"} 0\n"), metrics);
        assertTrue(Pattern.matches("(?s).*changeq_sync_last_success_timestamp_seconds\\{route=\"r\"} \\d+(\\.\\d+)?\n.*",
                metrics), metrics);
    }

    @Test
    void anOverflowSinceTheCursorMakesTheRunFull() throws Exception {
        useDestination(TestDestination.Kind.LOCAL);
        Trees.write(bench.root, "a", "a");
        ChangeqConfig config = plainConfig();
        bench.sync(config, "r");
        Trees.write(bench.root, "unrecorded", "the kernel dropped this event");
        bench.record(writer -> writer.publishMarker(RecordType.OVERFLOW, SyncBench.ROOT));
        SyncReport report = bench.sync(config, "r");
        assertEquals("full", report.mode());
        assertEquals("overflow", report.reason());
        Trees.assertSameTree(bench.root, destDir);
        assertEquals("incremental", bench.sync(config, "r").mode(), "the overflow is behind the cursor now");
    }

    @Test
    void eachFlagAsksForOneFullSyncPerAppearanceAndIsNeverRemoved() throws Exception {
        useDestination(TestDestination.Kind.LOCAL);
        Trees.write(bench.root, "a", "a");
        ChangeqConfig config = plainConfig();
        bench.sync(config, "r");
        Path legacy = bench.root.resolve(".force-full-sync");
        Files.writeString(legacy, "");
        FileTime rootModified = Files.getLastModifiedTime(bench.root);
        assertEquals("flag-file", bench.sync(config, "r").reason());
        assertTrue(Files.exists(legacy), "changeq never writes into a root");
        assertEquals(rootModified, Files.getLastModifiedTime(bench.root));
        assertEquals("nothing-to-do", bench.sync(config, "r").reason(), "honoured once");
        Files.setLastModifiedTime(legacy, FileTime.from(Instant.now().plusSeconds(5)));
        assertEquals("flag-file", bench.sync(config, "r").reason(), "touched again: honoured again");

        Path force = Files.createDirectories(bench.state.resolve("flags")).resolve("r.force-full");
        Files.writeString(force, "");
        assertEquals("forced", bench.sync(config, "r").reason());
        assertEquals("nothing-to-do", bench.sync(config, "r").reason());
        Files.delete(force);
        Files.writeString(force, "");
        Files.setLastModifiedTime(force, FileTime.from(Instant.now().minusSeconds(3600)));
        assertEquals("forced", bench.sync(config, "r").reason(), "a new file, whatever its time");
    }

    @Test
    void anUnwritableMetricsDirectoryIsBlamedForItselfAfterTheCommit() throws Exception {
        useDestination(TestDestination.Kind.LOCAL);
        Trees.write(bench.root, "a", "a");
        Path notADirectory = Files.writeString(tmp.resolve("textfile"), "a file where the directory should be");
        SyncException failure = assertThrows(SyncException.class, () -> bench.sync(plainConfig(),
                new org.changeq.sync.SyncRequest("r", false, false, Optional.of(notADirectory),
                        org.changeq.sync.SyncRequest.DEFAULT_RETAIN_MIN_AGE, false, false, java.util.OptionalLong.empty())));
        assertEquals(ExitCodes.SOFTWARE, failure.exitCode());
        assertTrue(failure.getMessage().contains("its metrics could not be written to " + notADirectory.resolve("changeq_sync_r.prom")),
                failure.getMessage());
        assertTrue(failure.getMessage().contains("ReadWritePaths="), failure.getMessage());
        assertFalse(failure.getMessage().contains("state directory"), failure.getMessage());
        assertEquals(OptionalLong.of(bench.queueEnd()), bench.cursor("r"), "rsync succeeded, so the cursor moved");
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "RouteSync", contains = "the queue was created anew")
    void aQueueCreatedAnewOnTheSameDayIsAGapAndTheRunIsFull() throws Exception {
        useDestination(TestDestination.Kind.LOCAL);
        Trees.write(bench.root, "a", "a");
        ChangeqConfig config = plainConfig();
        bench.sync(config, "r");
        bench.changed("a", "a", "a");
        bench.sync(config, "r");

        // A replaced disk or a mistaken rm: the new queue's indexes start again below the cursor.
        Trees.run(List.of("rm", "-rf", bench.queue.toString()), 0);
        Trees.write(bench.root, "b", "made after the queue was lost");
        bench.changed("b");
        assertTrue(bench.queueEnd() < bench.cursor("r").getAsLong(), "the new queue ends below the old cursor");
        SyncReport report = bench.sync(config, "r");
        assertEquals("full", report.mode());
        assertEquals("gap", report.reason());
        Trees.assertSameTree(bench.root, destDir);
        assertEquals(OptionalLong.of(bench.queueEnd()), bench.cursor("r"));
        assertEquals("nothing-to-do", bench.sync(config, "r").reason(), "the cursor now belongs to the new queue");
    }

    @Test
    void aChangeAfterASyncReadItsEarlierRecordIsRecordedAgainAndSent() throws Exception {
        useDestination(TestDestination.Kind.LOCAL);
        Trees.write(bench.root, "a", "first");
        ChangeqConfig config = plainConfig();
        bench.sync(config, "r");
        SyncReport[] middle = new SyncReport[1];
        // One writer session around the run, as a tracker runs around the timer's runs: its dedupe memory holds a's
        // record while the run reads it, and only the run's claim keeps the writer from dropping a's next change.
        bench.record(writer -> {
            try {
                Trees.write(bench.root, "a", "second");
                writer.publish(RecordType.CHANGE, SyncBench.ROOT, false, "a".getBytes(UTF_8));
                assertTrue(writer.awaitAppended(java.time.Duration.ofSeconds(10)));
                middle[0] = bench.sync(config, "r");
                Trees.write(bench.root, "a", "third");
                writer.publish(RecordType.CHANGE, SyncBench.ROOT, false, "a".getBytes(UTF_8));
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        assertEquals("changes", middle[0].reason());
        SyncReport last = bench.sync(config, "r");
        assertEquals("changes", last.reason(), "the change after the run was recorded");
        assertEquals("third", Files.readString(destDir.resolve("a")));
    }

    @Test
    void aDryRunCommitsNothing() throws Exception {
        useDestination(TestDestination.Kind.LOCAL);
        Trees.write(bench.root, "a", "a");
        ChangeqConfig config = plainConfig();
        SyncReport report = bench.sync(config, org.changeq.sync.SyncRequest.of("r").withDryRun());
        assertEquals("first-run", report.reason());
        assertEquals(OptionalLong.empty(), bench.cursor("r"));
        assertFalse(Files.exists(destDir.resolve("a")));
        assertFalse(Files.exists(bench.state.resolve("metrics")));
        assertFalse(Files.exists(bench.state.resolve("claims")));
    }

    @Test
    void twoRunsOfARouteInOneProcessRefuseTheSecond() throws Exception {
        useDestination(TestDestination.Kind.LOCAL);
        Trees.write(bench.root, "a", "a");
        bench.sync(plainConfig(), "r");
        Files.write(bench.root.resolve("big"), new byte[1 << 20]);
        bench.changed("big");
        ChangeqConfig slow = bench.config(SyncBench.Route.of("r", dest).rsyncArgs("-rlt", "--bwlimit=1000"));
        WriterLock tracker = bench.trackerRunning();
        SyncReport[] first = new SyncReport[1];
        Thread running = new Thread(() -> {
            try {
                first[0] = bench.sync(slow, "r");
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }, "test-first-run");
        running.start();
        Poll.until(java.time.Duration.ofSeconds(10), "rsync writing big", () -> Trees.list(destDir).stream()
                .anyMatch(entry -> entry.startsWith("f .big.")));
        SyncException refused = assertThrows(SyncException.class, () -> bench.sync(plainConfig(), "r"));
        assertEquals(ExitCodes.ALREADY_RUNNING, refused.exitCode());
        assertTrue(refused.getMessage().contains("already being synced"), refused.getMessage());
        running.join(30_000);
        tracker.close();
        assertEquals(ExitCodes.OK, first[0].exitCode());
    }
}
