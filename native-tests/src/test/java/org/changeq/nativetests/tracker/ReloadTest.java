package org.changeq.nativetests.tracker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.changeq.nativetests.sync.ChildJvm;
import org.changeq.nativetests.sync.Trees;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.ConfigLoader;
import org.changeq.pipeline.inspect.QueueMain;
import org.changeq.pipeline.manifest.QueueRecord;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.manifest.TestQueues;
import org.changeq.pipeline.state.RootTracking;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.state.TrackerRootsFile;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.sync.RouteSync;
import org.changeq.sync.SyncMain;
import org.changeq.sync.SyncReport;
import org.changeq.sync.SyncRequest;
import org.changeq.tracker.TrackerMain;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

/**
 * A configuration changed under a running {@code changeq-tracker} process: the sync does not trust the queue for a
 * root the tracker does not watch as configured, and SIGHUP makes the tracker read the file again. Real kernel, real
 * rsync, the tracker in a process of its own.
 */
@ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "this run is full and exits 14")
class ReloadTest {

    @TempDir
    Path temp;

    private Process tracker;

    @AfterEach
    void stopTracker() throws InterruptedException {
        if (tracker != null) {
            tracker.destroy();
            tracker.waitFor(TrackedTree.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            tracker.destroyForcibly();
        }
    }

    /**
     * A root and its route added to the file while the tracker runs: the route's runs are full and exit 14 until a
     * SIGHUP makes the tracker watch the root; then what is written in it is sent incrementally.
     */
    @Test
    void aRootAddedUnderARunningTrackerIsNotTrustedUntilAReloadWatchesIt() throws Exception {
        Path one = Files.createDirectories(temp.resolve("r1"));
        Path two = Files.createDirectories(temp.resolve("r2"));
        Trees.write(two, "a", "there before");
        writeConfig(List.of("r1: {path: " + one + "}"), List.of("one: {root: r1, dest: " + temp.resolve("d1") + "}"));
        startTracker();
        awaitTracked("r1");
        assertEquals("first-run", sync("one").reason());

        writeConfig(List.of("r1: {path: " + one + "}", "r2: {path: " + two + "}"),
                List.of("one: {root: r1, dest: " + temp.resolve("d1") + "}",
                        "two: {root: r2, dest: " + temp.resolve("d2") + "}"));
        SyncReport first = sync("two");
        assertEquals("full root-not-tracked " + ExitCodes.TRACKER_NOT_RUNNING,
                first.mode() + " " + first.reason() + " " + first.exitCode(), first.summaryLine());
        assertEquals("there before", Files.readString(temp.resolve("d2/a")));
        Trees.write(two, "b", "written while not tracked");
        SyncReport second = sync("two");
        assertEquals("full root-not-tracked " + ExitCodes.TRACKER_NOT_RUNNING,
                second.mode() + " " + second.reason() + " " + second.exitCode(), second.summaryLine());
        assertEquals("written while not tracked", Files.readString(temp.resolve("d2/b")));
        ByteArrayOutputStream stat = new ByteArrayOutputStream();
        assertEquals(ExitCodes.OK, QueueMain.run(new String[] {"stat", "--config", configFile().toString()},
                new PrintStream(stat, true, StandardCharsets.UTF_8), System.err));
        assertTrue(stat.toString(StandardCharsets.UTF_8).contains("next run     full: root-not-tracked (the running "
                + "changeq-tracker does not watch root 'r2'"), stat.toString(StandardCharsets.UTF_8));
        Process check = ChildJvm.start(SyncMain.class, List.of("check", "--config", configFile().toString()),
                temp.resolve("check.out"), temp.resolve("check.err"));
        assertTrue(check.waitFor(TrackedTree.TIMEOUT.toSeconds(), TimeUnit.SECONDS), "changeq-sync check finished");
        String checked = Files.readString(temp.resolve("check.out"));
        assertEquals(ExitCodes.CHECK_FAILED, check.exitValue(), checked + Files.readString(temp.resolve("check.err")));
        assertTrue(checked.contains("  NOT TRACKED: the running changeq-tracker does not watch root 'r2'"), checked);
        SyncReport untouched = sync("one");
        assertEquals("incremental " + ExitCodes.OK, untouched.mode() + " " + untouched.exitCode(),
                "a root the tracker watches as configured stays incremental: " + untouched.summaryLine());

        reload();
        awaitTracked("r2");
        Trees.write(two, "c", "written once watched");
        awaitRecord("r2", "c");
        SyncReport afterReload = sync("two");
        assertEquals("full overflow " + ExitCodes.OK,
                afterReload.mode() + " " + afterReload.reason() + " " + afterReload.exitCode(), afterReload.summaryLine());
        Trees.write(two, "d", "sent incrementally");
        awaitRecord("r2", "d");
        SyncReport incremental = sync("two");
        assertEquals("incremental changes " + ExitCodes.OK,
                incremental.mode() + " " + incremental.reason() + " " + incremental.exitCode(), incremental.summaryLine());
        Trees.assertSameTree(two, temp.resolve("d2"), List.of());
    }

    /** A root taken out of the file is released at the reload: the kernel holds no watch of it any more. */
    @Test
    void aRemovedRootIsReleased() throws Exception {
        Path one = Files.createDirectories(temp.resolve("r1"));
        Path two = Files.createDirectories(temp.resolve("r2"));
        Files.createDirectories(two.resolve("x/y/z"));
        writeConfig(List.of("r1: {path: " + one + "}", "r2: {path: " + two + "}"),
                List.of("one: {root: r1, dest: " + temp.resolve("d1") + "}"));
        startTracker();
        awaitTracked("r2");
        assertEquals(5, kernelWatches(), "r1, and r2 with x, y and z");

        writeConfig(List.of("r1: {path: " + one + "}"), List.of("one: {root: r1, dest: " + temp.resolve("d1") + "}"));
        reload();
        TrackedTree.awaitCondition(() -> "r2 gone from the tracker's roots file", () -> publishedRoots().stream()
                .noneMatch(root -> root.root().equals("r2")));
        TrackedTree.awaitCondition(() -> "the watches of r2 released, " + kernelWatches() + " left",
                () -> kernelWatches() == 1);
        Trees.write(one, "still", "recorded");
        awaitRecord("r1", "still");
    }

    /**
     * Narrower excludes at a reload: paths excluded until now were never recorded, so the tracker records an OVERFLOW
     * for the root and the next run is full; from then on the paths are watched and sent incrementally.
     */
    @Test
    void changedExcludesRecordAnOverflowAndTheNewlySelectedPathsAreWatched() throws Exception {
        Path one = Files.createDirectories(temp.resolve("r1"));
        Files.createDirectories(one.resolve("cache"));
        String route = "one: {root: r1, dest: " + temp.resolve("d1") + "}";
        writeConfig(List.of("r1: {path: " + one + ", exclude: [cache/]}"), List.of(route));
        startTracker();
        awaitTracked("r1");
        assertEquals("first-run", sync("one").reason());
        Trees.write(one, "cache/x", "excluded until the reload");

        writeConfig(List.of("r1: {path: " + one + "}"), List.of(route));
        SyncReport stale = sync("one");
        assertEquals("full root-not-tracked " + ExitCodes.TRACKER_NOT_RUNNING,
                stale.mode() + " " + stale.reason() + " " + stale.exitCode(), stale.summaryLine());
        long before = TestQueues.records(temp.resolve("queue")).size();

        reload();
        TrackedTree.awaitCondition(() -> "an OVERFLOW of r1 after the reload", () -> TestQueues.records(
                temp.resolve("queue")).stream().skip(before).anyMatch(record -> record.type() == RecordType.OVERFLOW
                && record.root().equals("r1")));
        awaitTracked("r1");
        SyncReport full = sync("one");
        assertEquals("full overflow " + ExitCodes.OK, full.mode() + " " + full.reason() + " " + full.exitCode(),
                full.summaryLine());
        Trees.write(one, "cache/y", "watched now");
        awaitRecord("r1", "cache/y");
        SyncReport incremental = sync("one");
        assertEquals("incremental changes", incremental.mode() + " " + incremental.reason(), incremental.summaryLine());
        Trees.assertSameTree(one, temp.resolve("d1"), List.of());
    }

    /**
     * Narrower excludes written while no tracker runs: the catch-up scan of the next start finds only what changed
     * since the stop, not the paths that were excluded and are selected now, so that start records an OVERFLOW for
     * the root. The route's next sync is full; its reason is route-changed, which takes precedence over the
     * overflow because the root's excludes are part of what the route selects.
     */
    @Test
    void aRestartWithNarrowerExcludesMakesTheNextRunFull() throws Exception {
        Path one = Files.createDirectories(temp.resolve("r1"));
        Trees.write(one, "cache/old", "excluded until the restart");
        Trees.write(one, "kept", "selected all along");
        String route = "one: {root: r1, dest: " + temp.resolve("d1") + "}";
        writeConfig(List.of("r1: {path: " + one + ", exclude: [cache/]}"), List.of(route));
        startTracker();
        awaitTracked("r1");
        assertEquals("first-run", sync("one").reason());
        awaitWatermarkPast(one.resolve("cache/old"));
        writeConfig(List.of("r1: {path: " + one + "}"), List.of(route));
        restartTracker();
        assertTrue(trackerLog().contains("root 'r1' is configured otherwise (real path or excludes) since the tracker"
                + " that ran before"), trackerLog());
        SyncReport afterRestart = sync("one");
        assertEquals("full route-changed " + ExitCodes.OK,
                afterRestart.mode() + " " + afterRestart.reason() + " " + afterRestart.exitCode(),
                afterRestart.summaryLine());
        assertEquals("excluded until the restart", Files.readString(temp.resolve("d1/cache/old")));

        restartTracker();
        assertTrue(!trackerLog().contains("since the tracker that ran before"),
                "a restart with the same configuration forces no full sync: " + trackerLog());
    }

    /**
     * A file that does not load, or that moves the queue, is refused at the reload with one log line naming the
     * problem; the tracker keeps running with the configuration in force, and its roots stay trusted.
     */
    @Test
    void aReloadOfAnInvalidFileOrAnotherQueueKeepsTheConfigurationInForce() throws Exception {
        Path one = Files.createDirectories(temp.resolve("r1"));
        String route = "one: {root: r1, dest: " + temp.resolve("d1") + "}";
        writeConfig(List.of("r1: {path: " + one + "}"), List.of(route));
        startTracker();
        awaitTracked("r1");
        assertEquals("first-run", sync("one").reason());

        Files.writeString(configFile(), Files.readString(configFile()) + "  bogus: {root: nowhere, dest: /tmp/x}\n");
        reload();
        TrackedTree.awaitCondition(() -> "the refusal in the tracker's log: " + trackerLog(),
                () -> trackerLog().contains("reload refused, the configuration in force stays: ")
                        && trackerLog().contains("nowhere"));

        writeConfig(List.of("r1: {path: " + one + "}"), List.of(route));
        Files.writeString(configFile(), Files.readString(configFile())
                .replace("queue: " + temp.resolve("queue"), "queue: " + temp.resolve("other-queue")));
        reload();
        TrackedTree.awaitCondition(() -> "the second refusal in the tracker's log: " + trackerLog(),
                () -> trackerLog().contains("the queue or state directory changed"));

        assertTrue(tracker.isAlive(), trackerLog());
        Trees.write(one, "after", "recorded by the old configuration");
        awaitRecord("r1", "after");
        writeConfig(List.of("r1: {path: " + one + "}"), List.of(route));
        SyncReport trusted = sync("one");
        assertEquals("incremental changes " + ExitCodes.OK,
                trusted.mode() + " " + trusted.reason() + " " + trusted.exitCode(), trusted.summaryLine());
        assertEquals("recorded by the old configuration", Files.readString(temp.resolve("d1/after")));
        assertTrue(!trackerLog().contains("\tat "), "no stack trace: " + trackerLog());
    }

    private Path configFile() {
        return temp.resolve("changeq.yaml");
    }

    private void writeConfig(List<String> roots, List<String> routes) throws IOException {
        StringBuilder yaml = new StringBuilder("queue: " + temp.resolve("queue") + "\nstate: " + temp.resolve("state")
                + "\nroots:\n");
        roots.forEach(root -> yaml.append("  ").append(root).append('\n'));
        yaml.append("routes:\n");
        routes.forEach(route -> yaml.append("  ").append(route).append('\n'));
        Files.writeString(configFile(), yaml);
    }

    private void startTracker() throws IOException {
        ProcessBuilder command = ChildJvm.command(TrackerMain.class, List.of("--config", configFile().toString()));
        // The production logging config (INFO to stderr), not the tests' quieter one.
        command.command().add(1, "-Dlogback.configurationFile=logback.xml");
        tracker = command.directory(temp.toFile()).redirectOutput(temp.resolve("tracker.out").toFile())
                .redirectError(temp.resolve("tracker.err").toFile()).start();
        // Ready: every root walked and the queue open.
        TrackedTree.awaitCondition(() -> "the tracker to log that it is watching; its log: " + trackerLog(),
                () -> trackerLog().contains("] Tracker: watching ") || !tracker.isAlive());
    }

    /**
     * Until the tracker's watermark (from which its next start catches up, less a 2 s margin) is well past the
     * status change of {@code file}: the next start's catch-up scan does not find it. Each poll writes a file in
     * the same root, which the tracker drains, and so moves its watermark on.
     */
    private void awaitWatermarkPast(Path file) throws IOException {
        long changed = ((java.nio.file.attribute.FileTime) Files.getAttribute(file, "unix:ctime")).toMillis();
        TrackedTree.awaitCondition(() -> "the tracker's watermark past " + file, () -> {
            try {
                Trees.write(file.getParent().getParent(), "tick", Long.toString(System.nanoTime()));
                return new StateLayout(temp.resolve("state")).trackerWatermark().read().orElse(0) > changed + 3_000;
            } catch (IOException e) {
                return false;
            }
        });
    }

    /** SIGTERM, a clean stop, and a start with the file as it is now. */
    private void restartTracker() throws Exception {
        tracker.destroy();
        assertTrue(tracker.waitFor(TrackedTree.TIMEOUT.toSeconds(), TimeUnit.SECONDS), "the tracker stopped");
        assertEquals(ExitCodes.OK, tracker.exitValue(), trackerLog());
        startTracker();
    }

    /** {@code systemctl reload}: ExecReload=/bin/kill -HUP $MAINPID. */
    private void reload() throws IOException, InterruptedException {
        Trees.run(List.of("/bin/kill", "-HUP", String.valueOf(tracker.pid())), 0);
    }

    private String trackerLog() {
        try {
            return Files.readString(temp.resolve("tracker.err"));
        } catch (IOException e) {
            return "";
        }
    }

    /** Until the tracker's roots file says it watches {@code root} as the file on disk configures it. */
    private void awaitTracked(String root) {
        TrackedTree.awaitCondition(() -> "the tracker to watch root " + root + " as configured; its log: " + trackerLog(),
                () -> {
                    assertTrue(tracker.isAlive(), trackerLog());
                    try {
                        ChangeqConfig config = ConfigLoader.load(configFile());
                        return publishedRoots().stream().anyMatch(status -> status.root().equals(root)
                                && status.watched()) && RootTracking.untracked(config.roots().get(root),
                                new StateLayout(temp.resolve("state")).trackerRoots()).isEmpty();
                    } catch (Exception e) {
                        return false;
                    }
                });
    }

    private List<TrackerRootsFile.RootStatus> publishedRoots() {
        try {
            Optional<TrackerRootsFile.Snapshot> snapshot = new StateLayout(temp.resolve("state")).trackerRoots().read();
            return snapshot.map(TrackerRootsFile.Snapshot::roots).orElse(List.of());
        } catch (IOException e) {
            return List.of();
        }
    }

    private void awaitRecord(String root, String path) {
        TrackedTree.awaitCondition(() -> "a record of " + root + "/" + path, () -> {
            List<QueueRecord> records = TestQueues.records(temp.resolve("queue"));
            return records.stream().anyMatch(record -> record.root().equals(root)
                    && TrackedTree.text(record.path()).equals(path));
        });
    }

    /** The watches the tracker process holds, as the kernel lists them in the inotify descriptor's fdinfo. */
    private long kernelWatches() {
        Path fds = Path.of("/proc", String.valueOf(tracker.pid()), "fd");
        try (Stream<Path> links = Files.list(fds)) {
            long watches = 0;
            for (Path link : links.toList()) {
                try {
                    if (Files.readSymbolicLink(link).toString().equals("anon_inode:inotify")) {
                        watches += Files.readAllLines(Path.of("/proc", String.valueOf(tracker.pid()), "fdinfo",
                                link.getFileName().toString())).stream().filter(line -> line.startsWith("inotify wd:"))
                                .count();
                    }
                } catch (IOException e) {
                    // A descriptor closed meanwhile.
                }
            }
            return watches;
        } catch (IOException e) {
            throw new AssertionError("cannot list " + fds, e);
        }
    }

    private SyncReport sync(String route) throws Exception {
        ChangeqConfig config = ConfigLoader.load(configFile());
        return RouteSync.run(config, SyncRequest.of(route), Clock.systemDefaultZone(),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    }
}
