package org.changeq.nativetests.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.state.RetryList;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.pipeline.testing.Poll;
import org.changeq.sync.SyncReport;
import org.changeq.sync.SyncRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

/**
 * A path that fails every time (rsync exit 23) goes to the route's retry list; the route keeps delivering everything
 * else run after run, reports the path each time, and delivers it once the cause is gone. Real rsync, a real daemon.
 */
class StuckPathTest {

    /** nobody:nogroup on Debian: the unprivileged user the daemon's module writes as. */
    private static final String NOBODY = "65534:65534";
    /** Neither root nor nobody: the owner of the directory the module cannot write. */
    private static final String SOMEONE_ELSE = "4242:4242";
    /** A failing name with a newline, which rsync's messages and itemized lines print escaped ({@code \\#012}). */
    private static final String NASTY = "stuck/#nl\nname";

    @TempDir
    Path tmp;

    private SyncBench bench;
    private RsyncDaemon daemon;


    @BeforeEach
    void setUp() throws IOException, InterruptedException {
        String uid = new String(Trees.run(List.of("id", "-u"), 0), StandardCharsets.US_ASCII).strip();
        Assumptions.assumeTrue(uid.equals("0"), "needs root: files of other users, a daemon switching to nobody,"
                + " a bind mount; running as uid " + uid);
        bench = SyncBench.create(tmp.resolve("bench"));
    }

    @AfterEach
    void stopDaemon() throws InterruptedException {
        if (daemon != null) {
            daemon.close();
        }
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "RsyncRunner")
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "could not send")
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "not sent: stuck/")
    void aDirectoryTheDaemonCannotWriteHoldsBackOnlyItsOwnPaths() throws Exception {
        // The daemon, writing as nobody, must reach its module through the test's private temporary directory.
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path module = Files.createDirectories(tmp.resolve("module"));
        Trees.run(List.of("chown", NOBODY, module.toString()), 0);
        daemon = RsyncDaemon.start(tmp.resolve("daemon"), module);
        Path dest = module.resolve("nfs");
        Trees.write(bench.root, "ok/a", "a");
        Trees.write(bench.root, "stuck/old", "old");
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", daemon.url("nfs")));
        assertEquals(ExitCodes.OK, bench.sync(config, "r").exitCode());
        // A receiver that owns a directory makes it writable for the transfer; one of another user's it cannot.
        Trees.run(List.of("chown", SOMEONE_ELSE, dest.resolve("stuck").toString()), 0);

        Trees.write(bench.root, "stuck/new", "new");
        Trees.write(bench.root, NASTY, "nasty");
        Trees.write(bench.root, "ok/b", "b");
        bench.changed("stuck/new", NASTY, "ok/b");
        SyncReport second = bench.sync(config, "r");
        assertEquals(ExitCodes.SYNC_PARTIAL, second.exitCode(), "a run with a failed path still says so");
        assertEquals(OptionalLong.of(bench.queueEnd()), bench.cursor("r"), "the cursor moves past the failed path");
        assertEquals("b", Files.readString(dest.resolve("ok/b")));
        assertFalse(Files.exists(dest.resolve("stuck/new")));
        assertReported(second, "stuck/new", "Permission denied");
        assertTrue(second.summaryLine().contains(" files=1 deleted=0 failed=3 "),
                "only ok/b arrived; rsync counted the two files the receiver failed to write too: " + second.summaryLine());
        assertTrue(metrics().contains("changeq_sync_files_total{route=\"r\"} 3\n"), "two of the first run, ok/b: " + metrics());
        Map<String, Long> firstFailures = retryList();
        assertEquals(List.of("stuck", escaped(NASTY), "stuck/new"), List.copyOf(firstFailures.keySet()),
                "the new files (rsync's escaped name read back to its bytes), and the directory whose time could not be set");
        assertTrue(metrics().contains("changeq_sync_retry_paths{route=\"r\"} 3\n"), metrics());

        Trees.write(bench.root, "ok/c", "c");
        bench.changed("ok/c");
        SyncReport third = bench.sync(config, "r");
        assertEquals(ExitCodes.SYNC_PARTIAL, third.exitCode());
        assertEquals("c", Files.readString(dest.resolve("ok/c")), "every other change keeps arriving");
        assertEquals(OptionalLong.of(bench.queueEnd()), bench.cursor("r"));
        assertReported(third, "stuck/new", "Permission denied");
        assertEquals(firstFailures, retryList(), "a path failing again keeps the time it first failed");

        Trees.write(bench.root, "stuck/during-full", "f");
        bench.changed("stuck/during-full");
        SyncReport full = bench.sync(config, SyncRequest.of("r").withFull());
        assertEquals("full", full.mode());
        assertEquals(ExitCodes.SYNC_PARTIAL, full.exitCode(), "a full sync ending in 23 does the same");
        assertEquals(OptionalLong.of(bench.queueEnd()), bench.cursor("r"));
        assertReported(full, "stuck/during-full", "Permission denied");
        assertEquals(List.of("stuck", escaped(NASTY), "stuck/during-full", "stuck/new"), List.copyOf(retryList().keySet()));

        Trees.run(List.of("chown", NOBODY, dest.resolve("stuck").toString()), 0);
        SyncReport fixed = bench.sync(config, "r");
        assertEquals(ExitCodes.OK, fixed.exitCode(), fixed.errors().toString());
        assertEquals("incremental", fixed.mode(), "no new record: the retry list alone is sent");
        assertEquals(List.of(), fixed.failed());
        Trees.assertSameTree(bench.root, dest);
        assertFalse(Files.exists(new StateLayout(bench.state).retryList("r")), "the list is empty once its paths arrived");
        assertTrue(metrics().contains("changeq_sync_retry_paths{route=\"r\"} 0\n"), metrics());
        assertTrue(metrics().contains("changeq_sync_retry_oldest_failure_timestamp_seconds{route=\"r\"} 0\n"), metrics());
    }

    /**
     * A NAS directory the daemon's user cannot search: rsync's receiver cannot stat what is in it, in the real pass and
     * in its dry run alike (exit 23 both), so the dry run cannot say what failed. Dry runs of parts of the list find
     * the failing entry; everything else keeps arriving and the cursor moves on.
     */
    @Test
    @ExpectLog(level = Level.WARN, logger = "RsyncRunner")
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "could not send 2 path(s)")
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "not sent: locked/")
    void aDirectoryTheDaemonCannotSearchFailsItsDryRunTooAndHoldsBackOnlyItsOwnPaths() throws Exception {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path module = Files.createDirectories(tmp.resolve("module"));
        Trees.run(List.of("chown", NOBODY, module.toString()), 0);
        daemon = RsyncDaemon.start(tmp.resolve("daemon"), module);
        Path dest = module.resolve("nfs");
        Trees.write(bench.root, "ok/a", "a");
        Trees.write(bench.root, "locked/old", "old");
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", daemon.url("nfs")));
        assertEquals(ExitCodes.OK, bench.sync(config, "r").exitCode());
        Trees.run(List.of("chown", SOMEONE_ELSE, dest.resolve("locked").toString()), 0);
        Files.setPosixFilePermissions(dest.resolve("locked"), PosixFilePermissions.fromString("rwx------"));

        Trees.write(bench.root, "locked/new", "new");
        Trees.write(bench.root, "ok/b", "b");
        bench.changed("locked/new", "ok/b");
        SyncReport stuck = bench.sync(config, "r");
        assertEquals(ExitCodes.SYNC_PARTIAL, stuck.exitCode());
        assertEquals(OptionalLong.of(bench.queueEnd()), bench.cursor("r"), "the cursor moves past the failing path");
        assertEquals("b", Files.readString(dest.resolve("ok/b")));
        assertEquals(List.of("locked", "locked/new"), List.copyOf(retryList().keySet()),
                "the file, and the directory whose time could not be set");
        assertReported(stuck, "locked/new", "failed to stat");

        Trees.run(List.of("chown", NOBODY, dest.resolve("locked").toString()), 0);
        SyncReport fixed = bench.sync(config, "r");
        assertEquals(ExitCodes.OK, fixed.exitCode(), fixed.errors().toString());
        assertEquals("new", Files.readString(dest.resolve("locked/new")));
        assertEquals(RetryList.EMPTY, RetryList.read(new StateLayout(bench.state).retryList("r")));
    }

    /**
     * A full sync of a route that deletes, at a NAS with a directory its daemon's user cannot search: the dry run that
     * counts the deletions fails there (exit 23). What is new is sent all the same, without deleting, and the summary
     * counts what the real pass sent, not what the dry run would have. The directory, named by rsync's error lines,
     * waits in the retry list, and the cursor moves on.
     */
    @Test
    @ExpectLog(level = Level.WARN, logger = "RsyncRunner")
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "the full sync sends without deleting")
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "could not send 1 path(s)")
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "not sent: locked/ ")
    void aDeletionPreviewFailingOnSomePathsDoesNotHoldBackTheFullSync() throws Exception {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path module = Files.createDirectories(tmp.resolve("module"));
        Trees.run(List.of("chown", NOBODY, module.toString()), 0);
        daemon = RsyncDaemon.start(tmp.resolve("daemon"), module);
        Path locked = Files.createDirectories(module.resolve("nfs/locked"));
        Trees.run(List.of("chown", NOBODY, module.resolve("nfs").toString()), 0);
        Trees.run(List.of("chown", SOMEONE_ELSE, locked.toString()), 0);
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwx------"));
        Trees.write(bench.root, "locked/f", "f");
        for (String name : List.of("a", "b", "c")) {
            Trees.write(bench.root, name, name);
        }
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", daemon.url("nfs")).deleteOnFull(true));

        SyncReport full = bench.sync(config, "r");
        assertEquals(List.of("full", ExitCodes.SYNC_PARTIAL), List.of(full.mode(), full.exitCode()));
        for (String name : List.of("a", "b", "c")) {
            assertEquals(name, Files.readString(module.resolve("nfs").resolve(name)), "sent without deleting");
        }
        assertEquals(3, full.files(), "the files the real pass sent");
        assertEquals(OptionalLong.of(bench.queueEnd()), bench.cursor("r"), "the full sync moves the cursor");
        assertEquals(List.of("locked"), List.copyOf(retryList().keySet()));
    }

    /**
     * A full sync to a NAS with a directory its daemon's user cannot search: the failure check's dry run fails there
     * too, so the paths rsync's error lines name go to the retry list and the full sync, a barrier, commits its cursor.
     * The next run sends what is new and retries only that directory.
     */
    @Test
    @ExpectLog(level = Level.WARN, logger = "RsyncRunner")
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "could not send 1 path(s)")
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "not sent: locked/f")
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "the full sync sends without deleting")
    void aFullSyncWhoseDryRunFailsOnADirectoryTheDaemonCannotSearchMovesTheCursor() throws Exception {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path module = Files.createDirectories(tmp.resolve("module"));
        Trees.run(List.of("chown", NOBODY, module.toString()), 0);
        daemon = RsyncDaemon.start(tmp.resolve("daemon"), module);
        Path dest = module.resolve("nfs");
        Trees.write(bench.root, "ok/a", "a");
        Trees.write(bench.root, "locked/f", "f");
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", daemon.url("nfs")));
        assertEquals(ExitCodes.OK, bench.sync(config, "r").exitCode());
        Trees.run(List.of("chown", "0:0", dest.resolve("locked").toString()), 0);
        Files.setPosixFilePermissions(dest.resolve("locked"), PosixFilePermissions.fromString("rwx------"));

        Trees.write(bench.root, "ok/b", "b");
        bench.changed("ok/b");
        SyncReport full = bench.sync(config, SyncRequest.of("r").withFull());
        assertEquals(List.of("full", ExitCodes.SYNC_PARTIAL), List.of(full.mode(), full.exitCode()));
        assertEquals(OptionalLong.of(bench.queueEnd()), bench.cursor("r"), "the full sync moves the cursor");
        assertEquals("b", Files.readString(dest.resolve("ok/b")));
        assertEquals(List.of("locked/f"), List.copyOf(retryList().keySet()));
        assertReported(full, "locked/f", "failed to stat");

        Trees.write(bench.root, "ok/c", "c");
        bench.changed("ok/c");
        SyncReport next = bench.sync(config, "r");
        assertEquals(List.of("incremental", ExitCodes.SYNC_PARTIAL), List.of(next.mode(), next.exitCode()));
        assertEquals(OptionalLong.of(bench.queueEnd()), bench.cursor("r"));
        assertEquals("c", Files.readString(dest.resolve("ok/c")));
        assertEquals(List.of("locked/f"), List.copyOf(retryList().keySet()), "only the locked path is retried");
    }

    /**
     * As root rsync's sender can read any file by its mode bits, but the files of {@code /proc/sys} check theirs for
     * root too, and {@code vm/drop_caches} is write-only (0200). Bound over one file of the root it is a file that
     * stat() shows and open() refuses: the sender fails on exactly that path (exit 23, not the 24 of a file that
     * vanished), and a dry run, which opens nothing, lists it as differing.
     */
    @Test
    @ExpectLog(level = Level.WARN, logger = "RsyncRunner")
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "could not send 1 path(s)")
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "not sent: secret")
    void aFileTheSyncCannotReadAtTheSourceIsRetriedUntilItCanBe() throws Exception {
        Path dest = tmp.resolve("dest");
        Trees.write(bench.root, "a", "a");
        Path secret = Trees.write(bench.root, "secret", "old content");
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", dest.toString()));
        assertEquals(ExitCodes.OK, bench.sync(config, "r").exitCode());

        Files.writeString(secret, "new content");
        try (BindMount unreadable = BindMount.orSkip(Path.of("/proc/sys/vm/drop_caches"), secret)) {
            assertThrows(AccessDeniedException.class, () -> Files.readAllBytes(secret), "root cannot read it");
            Trees.write(bench.root, "b", "b");
            bench.changed("secret", "b");
            for (int run = 0; run < 2; run++) {
                SyncReport report = bench.sync(config, "r");
                assertEquals(ExitCodes.SYNC_PARTIAL, report.exitCode());
                assertEquals(OptionalLong.of(bench.queueEnd()), bench.cursor("r"));
                assertReported(report, "secret", "send_files failed to open");
                assertEquals(List.of("secret"), List.copyOf(retryList().keySet()));
            }
            assertEquals("b", Files.readString(dest.resolve("b")));
            assertEquals("old content", Files.readString(dest.resolve("secret")));
        }
        SyncReport readable = bench.sync(config, "r");
        assertEquals(ExitCodes.OK, readable.exitCode(), readable.errors().toString());
        assertEquals("new content", Files.readString(dest.resolve("secret")));
        assertEquals(RetryList.EMPTY, RetryList.read(new StateLayout(bench.state).retryList("r")));
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "RsyncRunner")
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "could not send 2 path(s)")
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "not sent: stuck")
    void aFileThatChangedAgainAfterRsyncSentItIsPendingAgainNotInTheRetryList() throws Exception {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path module = Files.createDirectories(tmp.resolve("module"));
        Trees.run(List.of("chown", NOBODY, module.toString()), 0);
        daemon = RsyncDaemon.start(tmp.resolve("daemon"), module);
        Path dest = module.resolve("nfs");
        Trees.write(bench.root, "0-early", "v1");
        Trees.write(bench.root, "stuck/old", "old");
        // Slow enough that the test can change a file after rsync sent it, while rsync still sends the next.
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", daemon.url("nfs")).rsyncArgs("-rlt", "--bwlimit=1000"));
        assertEquals(ExitCodes.OK, bench.sync(config, "r").exitCode());
        Trees.run(List.of("chown", SOMEONE_ELSE, dest.resolve("stuck").toString()), 0);

        byte[] big = new byte[3 << 20];
        new java.util.Random(7).nextBytes(big);
        Trees.write(bench.root, "0-early", "v2");
        Files.write(bench.root.resolve("big"), big);
        Trees.write(bench.root, "stuck/new", "new");
        bench.changed("0-early", "big", "stuck/new");
        SyncReport[] report = new SyncReport[1];
        bench.record(tracker -> {
            Thread run = new Thread(() -> report[0] = sync(config));
            run.start();
            try {
                // rsync sends in name order: 0-early has arrived once big is being written.
                Poll.until(java.time.Duration.ofSeconds(20), "rsync writing big",
                        () -> Trees.list(dest).stream().anyMatch(entry -> entry.startsWith("f .big.")));
                long before = bench.queueEnd();
                Trees.write(bench.root, "0-early", "v3");
                tracker.publish(org.changeq.pipeline.manifest.RecordType.CHANGE, SyncBench.ROOT, false,
                        "0-early".getBytes(StandardCharsets.UTF_8));
                Poll.until(java.time.Duration.ofSeconds(20), "the tracker's record of the change",
                        () -> bench.queueEnd() > before);
                run.join();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        assertEquals(ExitCodes.SYNC_PARTIAL, report[0].exitCode(), report[0].summaryLine());
        assertEquals(List.of("stuck", "stuck/new"), List.copyOf(retryList().keySet()),
                "0-early differs again, but its newer record sends it: it is pending, not failing");
        assertTrue(report[0].summaryLine().contains(" files=2 deleted=0 failed=2 "), report[0].summaryLine());
        Trees.run(List.of("chown", NOBODY, dest.resolve("stuck").toString()), 0);
        assertEquals(ExitCodes.OK, bench.sync(config, "r").exitCode());
        assertEquals("v3", Files.readString(dest.resolve("0-early")));
    }

    private SyncReport sync(ChangeqConfig config) {
        try {
            return bench.sync(config, "r");
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static String escaped(String path) {
        return ByteStrings.escape(path.getBytes(StandardCharsets.UTF_8));
    }

    private static void assertReported(SyncReport report, String path, String message) {
        assertTrue(report.failed().stream().anyMatch(line -> line.startsWith(path + " (failing since ")
                        && line.contains(message)),
                "the run names " + path + " and rsync's message for it: " + report.failed());
    }

    /** The retry list as path (files without, directories with kind) to the time it first failed, sorted by path. */
    private Map<String, Long> retryList() throws IOException {
        Map<String, Long> entries = new TreeMap<>();
        for (RetryList.Entry entry : RetryList.read(new StateLayout(bench.state).retryList("r")).entries()) {
            entries.put(ByteStrings.escape(entry.path()), entry.firstFailedMillis());
        }
        return entries;
    }

    private String metrics() throws IOException {
        return Files.readString(new StateLayout(bench.state).metricsDirectory().resolve("changeq_sync_r.prom"));
    }

    /** {@code mount --bind} of one file over another, undone on close; skips the test where mounting is not allowed. */
    private static final class BindMount implements AutoCloseable {
        private final Path target;

        private BindMount(Path target) {
            this.target = target;
        }

        static BindMount orSkip(Path source, Path target) throws IOException, InterruptedException {
            byte[] output = Trees.run(List.of("mount", "--bind", source.toString(), target.toString()), -1);
            boolean mounted = Trees.run(List.of("findmnt", "-n", target.toString()), -1).length > 0;
            Assumptions.assumeTrue(mounted, () -> "cannot bind-mount here: " + new String(output, StandardCharsets.UTF_8));
            return new BindMount(target);
        }

        @Override
        public void close() throws IOException, InterruptedException {
            Trees.run(List.of("umount", target.toString()), 0);
        }
    }
}
