package org.changeq.nativetests.faults;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.changeq.nativetests.sync.ChildJvm;
import org.changeq.nativetests.sync.RsyncDaemon;
import org.changeq.nativetests.sync.Trees;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.ConfigLoader;
import org.changeq.pipeline.manifest.IndexFile;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.manifest.QueueRecord;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.manifest.TestQueues;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.testing.Poll;
import org.changeq.sync.RouteSync;
import org.changeq.sync.SyncException;
import org.changeq.sync.SyncReport;
import org.changeq.sync.SyncRequest;
import org.changeq.tracker.TrackerMain;

/**
 * One fault scenario's world: a root, a queue and state directory, the real tracker in its own JVM, an rsync daemon
 * on loopback as the route's destination, and runs of the real sync (rsync included). Each scenario ends with
 * {@link #assertDestinationEqualsSource()}.
 */
final class FaultBench implements AutoCloseable {

    static final String ROOT = "nfs";
    static final String ROUTE = "offsite";
    static final Duration TIMEOUT = Duration.ofSeconds(90);

    final Path directory;
    final Path root;
    final Path queue;
    final Path state;
    final Path outside;
    final RsyncDaemon daemon;
    final Workload workload;
    private final Path configFile;
    private final ChangeqConfig config;
    private Process tracker;
    private int trackerStarts;
    private int barriers;

    private FaultBench(Path directory, Path queue, List<String> routeLines) throws Exception {
        this.directory = directory;
        this.root = Files.createDirectories(directory.resolve("src"));
        this.queue = queue;
        this.state = Files.createDirectories(directory.resolve("state"));
        this.outside = Files.createDirectories(directory.resolve("outside"));
        this.daemon = RsyncDaemon.start(directory.resolve("daemon"), directory.resolve("dest"));
        this.workload = new Workload(root);
        this.configFile = directory.resolve("changeq.yaml");
        Files.writeString(configFile, String.join("\n",
                "queue: " + queue,
                "state: " + state,
                "roots:",
                "  " + ROOT + ": {path: " + root + "}",
                "routes:",
                "  " + ROUTE + ":",
                "    root: " + ROOT,
                "    dest: \"" + daemon.url("") + "\"",
                "    exclude: [\"" + Workload.EXCLUDED_PATTERN + "\"]",
                "    propagate-deletes: true",
                String.join("\n", routeLines),
                ""));
        this.config = ConfigLoader.load(configFile);
    }

    static FaultBench create(Path directory) throws Exception {
        return new FaultBench(directory, directory.resolve("queue"), List.of());
    }

    /** A bench whose route has more keys: YAML lines indented by four spaces, e.g. {@code "    follow: {quiet: 1s}"}. */
    static FaultBench withRouteLines(Path directory, String... routeLines) throws Exception {
        return new FaultBench(directory, directory.resolve("queue"), List.of(routeLines));
    }

    /** A bench whose queue lives elsewhere (e.g. on a small file system). */
    static FaultBench withQueue(Path directory, Path queue) throws Exception {
        return new FaultBench(directory, queue, List.of());
    }

    Path configFile() {
        return configFile;
    }

    ChangeqConfig config() {
        return config;
    }

    /**
     * Starts the tracker with a kernel event queue of {@code small} events where fs.inotify.max_queued_events is
     * writable (the limit applies to inotify instances created while it is set: only this tracker's), and waits
     * until it watches.
     *
     * @return the tracker's queue size in events
     */
    long startTrackerWithSmallInotifyQueue(long small) throws Exception {
        Optional<Sysctl> setting = Sysctl.writable("fs.inotify.max_queued_events", 4096);
        long queueSize = setting.isPresent() ? small : Long.parseLong(Sysctl.read(Path.of("/proc/sys/fs/inotify/max_queued_events")));
        try {
            if (setting.isPresent()) {
                setting.get().set(small);
            }
            startTracker();
            awaitTrackerWatching();
        } finally {
            if (setting.isPresent()) {
                setting.get().close();
            }
        }
        return queueSize;
    }

    /** Starts {@code changeq-tracker --config} in its own JVM, logging at INFO into {@code tracker-N.err}. */
    Process startTracker() throws IOException {
        return startTracker(List.of());
    }

    /**
     * Starts the tracker in a user namespace of its own whose inotify watch limit ({@code user.max_inotify_watches})
     * is {@code watches}: a watch limit for this tracker alone, the host's {@code fs.inotify.max_user_watches} left
     * as it is.
     */
    Process startTrackerWithWatchLimit(int watches) throws IOException {
        return startTracker(List.of("unshare", "--user", "--map-root-user", "sh", "-c",
                "echo " + watches + " > /proc/sys/user/max_inotify_watches && exec \"$@\"", "sh"));
    }

    /**
     * Starts the tracker as root without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH: a directory of another user
     * that it may not read is then refused as on NFS with root squash or FUSE without allow_other.
     */
    Process startTrackerWithoutReadingOthersFiles() throws IOException {
        return startTracker(List.of("setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"));
    }

    private Process startTracker(List<String> launcher) throws IOException {
        trackerStarts++;
        ProcessBuilder builder = ChildJvm.command(TrackerMain.class, List.of("--config", configFile.toString()));
        // The production logging config (INFO to stderr): the scenarios read what an operator would see.
        builder.command().add(1, "-Dlogback.configurationFile=logback.xml");
        builder.command().addAll(0, launcher);
        tracker = builder.directory(directory.toFile())
                .redirectOutput(directory.resolve("tracker-" + trackerStarts + ".out").toFile())
                .redirectError(trackerLog().toFile())
                .start();
        return tracker;
    }

    Path trackerLog() {
        return directory.resolve("tracker-" + trackerStarts + ".err");
    }

    String trackerLogText() {
        try {
            return Files.readString(trackerLog(), UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    Process tracker() {
        return tracker;
    }

    /** Waits until the running tracker's walk of the root finished: a RESCAN after its START. */
    void awaitTrackerWatching() throws InterruptedException {
        Process process = tracker;
        long starts = trackerStarts;
        Poll.until(TIMEOUT, "tracker start " + starts + " to append RESCAN " + ROOT + "; its log: " + trackerLogText(),
                () -> {
                    if (!process.isAlive()) {
                        throw new AssertionError("the tracker exited with " + process.exitValue() + ": "
                                + trackerLogText());
                    }
                    // Every start of this bench's tracker appends one START: wait for this one's.
                    List<QueueRecord> records = records();
                    int seenStarts = 0;
                    int start = -1;
                    for (int i = 0; i < records.size(); i++) {
                        if (records.get(i).type() == RecordType.START && ++seenStarts == starts) {
                            start = i;
                        }
                    }
                    return start >= 0 && records.subList(start, records.size()).stream()
                            .anyMatch(record -> record.type() == RecordType.RESCAN && record.root().equals(ROOT));
                });
    }

    /** Waits until a record matches. */
    void awaitRecord(String what, Predicate<QueueRecord> condition) throws InterruptedException {
        try {
            Poll.until(TIMEOUT, what, () -> records().stream().anyMatch(condition));
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; tracker " + (tracker.isAlive() ? "running" : "exited")
                    + ", its log: " + trackerLogText() + "; records: " + records(), e);
        }
    }

    /**
     * Waits until the running tracker recorded everything done so far: writes a barrier file and waits for its
     * record, which the tracker appends after the records of every earlier event (one inotify queue, one ring),
     * or for a new OVERFLOW (the barrier's event may be the one the kernel dropped; the OVERFLOW covers all before).
     */
    void awaitRecorded() throws IOException, InterruptedException {
        String name = "barrier-" + (++barriers);
        long overflows = count(RecordType.OVERFLOW);
        Files.writeString(root.resolve(name), name);
        awaitRecord("a record of " + name + " or a new OVERFLOW", record -> record.type() == RecordType.CHANGE
                && new String(record.path(), UTF_8).equals(name)
                || record.type() == RecordType.OVERFLOW && count(RecordType.OVERFLOW) > overflows);
    }

    /** kill -9 of the tracker's JVM. */
    void killTracker() throws InterruptedException {
        tracker.destroyForcibly();
        assertTrue(tracker.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS), "the killed tracker did not go away");
    }

    /** SIGTERM: the tracker appends what it observed and a STOP, and exits 0. */
    void stopTracker() throws InterruptedException {
        tracker.destroy();
        assertTrue(tracker.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS), "the tracker did not stop on SIGTERM");
        assertEquals(0, tracker.exitValue(), trackerLogText());
    }

    /** Every record in the queue. */
    List<QueueRecord> records() {
        return TestQueues.records(queue);
    }

    long count(RecordType type) {
        return records().stream().filter(record -> record.type() == type).count();
    }

    long queueEnd() {
        try (ManifestReader reader = ManifestReader.open(queue)) {
            return reader.lastIndex();
        }
    }

    /** One run of the route, as {@code changeq-sync --route} would do it; prints and returns its summary. */
    SyncReport sync() throws SyncException, InterruptedException {
        return sync(SyncRequest.of(ROUTE));
    }

    SyncReport syncFull() throws SyncException, InterruptedException {
        return sync(SyncRequest.of(ROUTE).withFull());
    }

    SyncReport sync(SyncRequest request) throws SyncException, InterruptedException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        SyncReport report = RouteSync.run(config, request, Clock.systemDefaultZone(), new PrintStream(out, true, UTF_8));
        System.out.println("  sync: " + report.summaryLine());
        return report;
    }

    OptionalLong cursor() throws IOException {
        IndexFile cursor = new StateLayout(state).cursor(ROUTE);
        return cursor.read();
    }

    /**
     * Whether the destination holds exactly the source's names and contents now, leaving out what the route excludes
     * and the destination's marker.
     */
    boolean destinationEqualsSourceNow() throws IOException, InterruptedException {
        return Trees.run(List.of("diff", "-rq", "--no-dereference", "-x", Workload.EXCLUDED_PATTERN, "-x",
                Trees.DESTINATION_MARKER, root.toString(), daemon.moduleDirectory().toString()), -1).length == 0;
    }

    /** The destination holds exactly the source's names and contents, leaving out what the route excludes. */
    void assertDestinationEqualsSource() throws IOException, InterruptedException {
        Trees.assertSameTree(root, daemon.moduleDirectory(), List.of(Workload.EXCLUDED_PATTERN));
        assertTrue(Trees.list(daemon.moduleDirectory()).stream().noneMatch(entry -> entry.endsWith(".tmp")),
                "an excluded file reached the destination");
    }

    @Override
    public void close() throws InterruptedException {
        if (tracker != null && tracker.isAlive()) {
            tracker.destroyForcibly();
            tracker.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        }
        daemon.close();
    }
}
