package org.changeq.pipeline.inspect;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.manifest.QueueRecord;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.manifest.WriterLock;
import org.changeq.pipeline.plan.ChangeScan;
import org.changeq.pipeline.plan.PendingChanges;
import org.changeq.pipeline.plan.RouteState;
import org.changeq.pipeline.plan.SyncPolicy;
import org.changeq.pipeline.state.HeldDeletions;
import org.changeq.pipeline.state.RetryList;
import org.changeq.pipeline.state.RootTracking;
import org.changeq.pipeline.state.RunProgressFile;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.state.TrackerRootsFile;

/**
 * The work behind changeq-queue: read-only views of the manifest and of each route's progress.
 * Opens the queue read-only and takes no lock, so it never blocks the tracker or a sync.
 * Not thread-safe; one instance per command.
 */
final class QueueInspector {

    /** The records a dump or top looks at. */
    record Selection(long fromIndex, long toIndex, long fromMillis, long toMillis,
                     Predicate<QueueRecord> filter) {
        boolean accepts(long index, QueueRecord record) {
            return index >= fromIndex && index <= toIndex
                    && record.timeMillis() >= fromMillis && record.timeMillis() <= toMillis
                    && filter.test(record);
        }
    }

    private final ManifestReader reader;
    private final Path queueDirectory;
    private final StateLayout state;
    private final ChangeqConfig config;
    private final RecordFormat format;
    private final PrintStream out;

    QueueInspector(ManifestReader reader, Path queueDirectory, StateLayout state, ChangeqConfig config,
                   RecordFormat format, PrintStream out) {
        this.reader = reader;
        this.queueDirectory = queueDirectory;
        this.state = state;
        this.config = config;
        this.format = format;
        this.out = out;
    }

    void dump(Selection selection) {
        long start = selection.fromIndex() <= 0 ? ManifestReader.NO_INDEX : selection.fromIndex();
        reader.readFrom(start, selection.toIndex(), (index, record) -> {
            if (selection.accepts(index, record)) {
                out.println(format.record(index, record));
            }
            return true;
        });
    }

    /** Prints the last {@code count} records, then, if {@code follow}, new ones until {@code stopped}. */
    void tail(int count, boolean follow, BooleanSupplier stopped, Runnable waitForMore) {
        long from = count <= 0 ? ManifestReader.NO_INDEX : reader.indexFromEnd(count);
        long last = ManifestReader.NO_INDEX;
        if (count > 0) {
            long first = from == ManifestReader.NO_INDEX ? ManifestReader.NO_INDEX : from;
            last = reader.readFrom(first, Long.MAX_VALUE, this::print);
        } else {
            last = reader.lastIndex();
        }
        out.flush();
        while (follow && !stopped.getAsBoolean()) {
            long newest = reader.read(last, Long.MAX_VALUE, this::print);
            out.flush();
            if (newest == last) {
                waitForMore.run();
            }
            last = newest;
        }
    }

    private boolean print(long index, QueueRecord record) {
        out.println(format.record(index, record));
        return true;
    }

    /**
     * Prints what the route's next incremental run sends (both passes, deletions only when the route
     * propagates them): escaped one per line, or raw and NUL-terminated; relative to the root, or with
     * {@code absolute} below the root's path.
     */
    void paths(RouteConfig route, boolean nulSeparated, boolean absolute) throws IOException {
        PendingChanges pending = scan(route).pending().orElseThrow();
        byte[] prefix = pathPrefix(route, absolute);
        String escapedPrefix = ByteStrings.escape(prefix);
        // One write per 64 KiB: the process's stdout flushes on every write, which for a million paths
        // meant a million write calls and most of the command's time.
        BufferedOutputStream raw = new BufferedOutputStream(out, 1 << 16);
        PrintStream lines = new PrintStream(raw, false, StandardCharsets.UTF_8);
        pending.forEachEntry(route.propagateDeletes(), (buffer, start, length, pass, deletion) -> {
            if (nulSeparated) {
                raw.write(prefix);
                raw.write(buffer, start, length);
                raw.write(0);
            } else if (format.json()) {
                lines.println(new RecordFormat.JsonLine().field("route", route.name())
                        .field("pass", pass.name().toLowerCase(java.util.Locale.ROOT)).field("deletion", deletion)
                        .path("path", join(prefix, buffer, start, length)).toString());
            } else {
                lines.println((deletion ? "deleted: " : "") + escapedPrefix + ByteStrings.escape(buffer, start, start + length)
                        + (pass == PendingChanges.Pass.DIRECTORY ? "/" : ""));
            }
        });
        lines.flush();
    }

    /**
     * Prints the route's retry list: the paths earlier runs failed to send (they are among {@link #paths} too), with
     * when each first failed and rsync's message for it; with {@code nulSeparated} only the raw paths. Relative to
     * the root, or with {@code absolute} below the root's path.
     */
    void retryPaths(RouteConfig route, boolean nulSeparated, boolean absolute) throws IOException {
        RetryList retry = RetryList.read(requireState().retryList(route.name()));
        byte[] prefix = pathPrefix(route, absolute);
        for (RetryList.Entry entry : retry.entries()) {
            byte[] path = join(prefix, entry.path(), 0, entry.path().length);
            if (nulSeparated) {
                out.write(path);
                out.write(0);
            } else if (format.json()) {
                out.println(new RecordFormat.JsonLine().field("route", route.name())
                        .field("kind", entry.kind().name().toLowerCase(java.util.Locale.ROOT))
                        .path("path", path).field("first_failed", format.time(entry.firstFailedMillis()))
                        .field("reason", entry.reason()).toString());
            } else {
                out.println(ByteStrings.escape(path) + (entry.kind().directory() ? "/" : "")
                        + "  failing since " + format.time(entry.firstFailedMillis())
                        + (entry.reason().isEmpty() ? "" : ": " + entry.reason()));
            }
        }
        if (retry.overflowed() && !nulSeparated && !format.json()) {
            out.println("... and more: more paths failed than the retry list holds (" + RetryList.LIMIT
                    + "); the route's next run is full");
        }
        out.flush();
    }

    /** The bytes that make a root-relative path of {@code route} absolute, or none. */
    private byte[] pathPrefix(RouteConfig route, boolean absolute) {
        if (!absolute) {
            return new byte[0];
        }
        String root = config.root(route.root()).path().toString();
        return (root.endsWith("/") ? root : root + "/").getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] join(byte[] prefix, byte[] buffer, int start, int length) {
        byte[] joined = Arrays.copyOf(prefix, prefix.length + length);
        System.arraycopy(buffer, start, joined, prefix.length, length);
        return joined;
    }

    /** Prints the records after the route's cursor that its next run reads, in queue order, as dump does. */
    void pendingRecords(RouteConfig route) throws IOException {
        RouteState routeState = RouteState.read(requireState(), config.root(route.root()), route, reader);
        reader.read(routeState.cursorOrStart(), reader.lastIndex(), (index, record) -> {
            if (record.root().equals(route.root()) && record.type().carriesPath()
                    && ChangeScan.concerns(route, record)) {
                out.println(format.record(index, record));
            }
            return true;
        });
    }

    private ChangeScan.Result scan(RouteConfig route) throws IOException {
        RouteState routeState = RouteState.read(requireState(), config.root(route.root()), route, reader);
        return ChangeScan.scan(reader, route, routeState.cursorOrStart(), reader.lastIndex(), ChangeScan.Collect.ALL,
                routeState.retry(), HeldDeletions.read(requireState().heldDeletions(route.name())));
    }

    private StateLayout requireState() {
        if (state == null) {
            throw new IllegalStateException("per-route views need the state directory: give --config FILE");
        }
        return state;
    }

    /** Directories with the most changes among the selected records. */
    void top(Selection selection, int depth, int limit) {
        Map<String, long[]> counts = new HashMap<>();
        reader.read(ManifestReader.NO_INDEX, selection.toIndex(), (index, record) -> {
            if (record.type().carriesPath() && selection.accepts(index, record)) {
                byte[] directory = directoryAtDepth(record.path(), record.directory(), depth);
                String key = record.root() + "\u0000" + ByteStrings.escape(directory);
                counts.computeIfAbsent(key, k -> new long[1])[0]++;
            }
            return true;
        });
        List<Map.Entry<String, long[]>> sorted = new ArrayList<>(counts.entrySet());
        sorted.sort((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]));
        for (Map.Entry<String, long[]> entry : sorted.subList(0, Math.min(limit, sorted.size()))) {
            String[] rootAndDirectory = entry.getKey().split("\u0000", 2);
            String directory = rootAndDirectory[1].isEmpty() ? "." : rootAndDirectory[1];
            if (format.json()) {
                out.println(new RecordFormat.JsonLine().field("root", rootAndDirectory[0])
                        .field("directory", directory).field("records", entry.getValue()[0]).toString());
            } else {
                out.printf("%10d  %s  %s%n", entry.getValue()[0], rootAndDirectory[0], directory);
            }
        }
    }

    /** The first {@code depth} names of the path's directory part. */
    static byte[] directoryAtDepth(byte[] path, boolean isDirectory, int depth) {
        int end = isDirectory ? path.length : lastSlash(path);
        int names = 0;
        for (int i = 0; i < end; i++) {
            if (path[i] == '/' && ++names == depth) {
                return Arrays.copyOf(path, i);
            }
        }
        return Arrays.copyOf(path, Math.max(end, 0));
    }

    private static int lastSlash(byte[] path) {
        for (int i = path.length - 1; i >= 0; i--) {
            if (path[i] == '/') {
                return i;
            }
        }
        return 0;
    }

    /** Counts by type and root, tracker lifecycle, files on disk, and each route's progress. */
    void stat(long nowMillis) throws IOException {
        Map<String, EnumMap<RecordType, long[]>> byRoot = new TreeMap<>();
        long[] totals = new long[1];
        long[] firstLast = {Long.MAX_VALUE, Long.MIN_VALUE};
        long[] lifecycle = {-1, -1, 0, 0, -1}; // last START, last STOP, unclean starts, overflows, last OVERFLOW
        boolean[] stoppedCleanly = {true};
        reader.read(ManifestReader.NO_INDEX, Long.MAX_VALUE, (index, record) -> {
            totals[0]++;
            firstLast[0] = Math.min(firstLast[0], record.timeMillis());
            firstLast[1] = Math.max(firstLast[1], record.timeMillis());
            byRoot.computeIfAbsent(record.root().isEmpty() ? "-" : record.root(),
                    r -> new EnumMap<>(RecordType.class))
                    .computeIfAbsent(record.type(), t -> new long[1])[0]++;
            switch (record.type()) {
                case START -> {
                    if (!stoppedCleanly[0]) {
                        lifecycle[2]++;
                    }
                    stoppedCleanly[0] = false;
                    lifecycle[0] = record.timeMillis();
                }
                case STOP -> {
                    stoppedCleanly[0] = true;
                    lifecycle[1] = record.timeMillis();
                }
                case OVERFLOW -> {
                    lifecycle[3]++;
                    lifecycle[4] = record.timeMillis();
                }
                default -> { }
            }
            return true;
        });
        QueueFiles files = queueFiles();
        boolean running = lifecycle[0] >= 0 && !stoppedCleanly[0];

        if (format.json()) {
            RecordFormat.JsonLine line = new RecordFormat.JsonLine()
                    .field("kind", "queue").field("queue", queueDirectory.toString())
                    .field("records", totals[0]).field("files", files.count())
                    .field("bytes_apparent", files.apparentBytes());
            if (files.allocatedBytes().isPresent()) {
                line.field("bytes_allocated", files.allocatedBytes().getAsLong());
            } else {
                line.nullField("bytes_allocated");
            }
            timeField(line, "first_record", totals[0] > 0 ? firstLast[0] : -1);
            timeField(line, "last_record", totals[0] > 0 ? firstLast[1] : -1);
            line.field("tracker_running", running);
            timeField(line, "last_start", lifecycle[0]);
            timeField(line, "last_stop", lifecycle[1]);
            line.field("unclean_starts", lifecycle[2]).field("overflows", lifecycle[3]);
            timeField(line, "last_overflow", lifecycle[4]);
            RecordFormat.JsonLine roots = new RecordFormat.JsonLine();
            byRoot.forEach((root, counts) -> {
                RecordFormat.JsonLine typeCounts = new RecordFormat.JsonLine();
                counts.forEach((type, count) -> typeCounts.field(type.name(), count[0]));
                roots.raw(root, typeCounts.toString());
            });
            line.raw("by_root", roots.toString());
            Optional<TrackerRootsFile.Snapshot> trackerRoots = trackerRoots();
            if (trackerRoots.isPresent()) {
                line.raw("tracker_roots", trackerRootsJson(trackerRoots.get()));
            } else {
                line.nullField("tracker_roots");
            }
            out.println(line);
        } else {
            out.printf("queue        %s%n", queueDirectory);
            out.printf("on disk      %d file(s), %s%n", files.count(), files.allocatedBytes().isPresent()
                    ? humanBytes(files.allocatedBytes().getAsLong()) + " allocated (" + humanBytes(files.apparentBytes())
                            + " apparent: the files are sparse)"
                    : humanBytes(files.apparentBytes()) + " apparent (the space allocated is unknown: " + files.duFailure()
                            + ")");
            out.printf("records      %d%s%n", totals[0], totals[0] == 0 ? "  (empty: has the tracker run yet?)"
                    : "  from " + format.time(firstLast[0]) + " to " + format.time(firstLast[1]));
            byRoot.forEach((root, counts) -> {
                StringBuilder line = new StringBuilder();
                counts.forEach((type, count) -> line.append(' ').append(type.name()).append('=').append(count[0]));
                out.printf("  root %-8s%s%n", root, line);
            });
            out.printf("tracker      %s%n", running
                    ? "running since " + format.time(lifecycle[0]) + " (or it stopped without a STOP record)"
                    : lifecycle[1] >= 0 ? "stopped cleanly at " + format.time(lifecycle[1]) : "never started");
            out.printf("unclean starts %d (a start without a STOP before it; the catch-up scan, or a full sync "
                    + "after its OVERFLOW, covers what changed meanwhile)%n", lifecycle[2]);
            out.printf("overflows    %d%s%n", lifecycle[3],
                    lifecycle[4] >= 0 ? ", last at " + format.time(lifecycle[4]) : "");
            if (state != null) {
                printTrackerRoots(trackerRoots());
            }
        }
        if (config != null) {
            for (RouteConfig route : config.routes().values()) {
                routeStat(route, nowMillis);
            }
        }
    }

    private void routeStat(RouteConfig route, long nowMillis) throws IOException {
        RouteState routeState = RouteState.read(state, config.root(route.root()), route, reader);
        ChangeScan.Result scan = ChangeScan.scan(reader, route, routeState.cursorOrStart(), reader.lastIndex(),
                ChangeScan.Collect.ALL, routeState.retry(), HeldDeletions.read(state.heldDeletions(route.name())));
        LocalDate today = Instant.ofEpochMilli(nowMillis).atZone(ZoneId.systemDefault()).toLocalDate();
        Optional<String> untracked = WriterLock.isHeld(queueDirectory)
                ? RootTracking.untracked(config.root(route.root()), state.trackerRoots()) : Optional.empty();
        Optional<SyncPolicy.Reason> full = untracked.isPresent() ? Optional.of(SyncPolicy.Reason.ROOT_NOT_TRACKED)
                : SyncPolicy.fullSyncReason(routeState.facts(false, scan, route, today));
        int pendingPaths = scan.pending().orElseThrow().distinctPaths();
        OptionalLong cursor = routeState.cursor();
        OptionalLong oldest = scan.oldestChangeMillis();
        RetryList retry = routeState.retry();
        OptionalLong oldestFailure = retry.oldestFailureMillis();
        HeldDeletions held = HeldDeletions.read(state.heldDeletions(route.name()));
        if (format.json()) {
            RecordFormat.JsonLine line = new RecordFormat.JsonLine().field("kind", "route").field("route", route.name())
                    .field("root", route.root());
            if (cursor.isPresent()) {
                line.field("cursor", cursor.getAsLong());
            } else {
                line.nullField("cursor");
            }
            line.field("backlog_records", scan.backlog()).field("pending_paths", pendingPaths);
            if (oldest.isPresent()) {
                line.field("oldest_pending_seconds", (nowMillis - oldest.getAsLong()) / 1000);
            } else {
                line.nullField("oldest_pending_seconds");
            }
            line.field("retry_paths", retry.entries().size()).field("retry_overflowed", retry.overflowed());
            if (oldestFailure.isPresent()) {
                line.field("oldest_retry_seconds", (nowMillis - oldestFailure.getAsLong()) / 1000);
            } else {
                line.nullField("oldest_retry_seconds");
            }
            line.field("held_deletions", held.paths().size());
            line.field("next_run", full.isPresent() ? "full" : "incremental")
                    .field("full_reason", full.map(SyncPolicy.Reason::token).orElse(""))
                    .field("root_tracked", untracked.isEmpty());
            line.raw("running", runningRun(route, nowMillis).json());
            out.println(line);
        } else {
            out.printf("route %s (root %s -> %s)%n", route.name(), route.root(), route.dest());
            out.printf("  cursor       %s%n", cursor.isPresent() ? cursor.getAsLong() : "none (never synced)");
            out.printf("  backlog      %d record(s), %d unique path(s)%s%n", scan.backlog(), pendingPaths,
                    oldest.isPresent() ? ", oldest pending " + (nowMillis - oldest.getAsLong()) / 1000 + " s ago" : "");
            if (!retry.isEmpty()) {
                out.printf("  retry        %d path(s) rsync failed to send, the oldest failing for %d s%s (%s)%n",
                        retry.entries().size(), (nowMillis - oldestFailure.orElse(nowMillis)) / 1000,
                        retry.overflowed() ? ", and more than the list holds" : "", state.retryList(route.name()));
            }
            if (!held.isEmpty()) {
                out.printf("  deletions    %d held back by max-delete %s for %d s, waiting for consent: run changeq-sync"
                        + " --route %s --allow-deletes %d (a follower of the route stopped first) (%s)%n",
                        held.paths().size(), route.maxDelete(), (nowMillis - held.sinceMillis()) / 1000, route.name(),
                        held.paths().size(), state.heldDeletions(route.name()));
            }
            out.printf("  next run     %s%n", full.map(reason -> "full: " + reason.token() + " ("
                    + (reason == SyncPolicy.Reason.GAP ? routeState.queueReplaced().orElse(reason.explanation())
                    : untracked.orElse(reason.explanation())) + ")").orElse("incremental"));
            runningRun(route, nowMillis).text().ifPresent(text -> out.printf("  running      %s%n", text));
        }
    }

    /**
     * The route's run as its progress file tells it, live only while that run's process holds the route's lock: a
     * killed run leaves the file behind.
     */
    private RunningRun runningRun(RouteConfig route, long nowMillis) {
        RunProgressFile file = state.runProgress(route.name());
        try {
            Optional<RunProgressFile.Snapshot> snapshot = file.read();
            return new RunningRun(file, snapshot, snapshot.isPresent()
                    && RunProgressFile.isLive(snapshot.get(), state.routeLock(route.name())), Optional.empty(), nowMillis);
        } catch (IllegalStateException unreadable) {
            return new RunningRun(file, Optional.empty(), false, Optional.of(unreadable.getMessage()), nowMillis);
        } catch (IOException unreadable) {
            // The rest of the report still holds: a run's progress is no reason to fail it.
            return new RunningRun(file, Optional.empty(), false, Optional.of("unknown: cannot read " + file.path()
                    + " or the route's lock (" + unreadable + "); run changeq-queue as root or as a member of the"
                    + " changeq group"), nowMillis);
        }
    }

    private final class RunningRun {
        private final RunProgressFile file;
        private final Optional<RunProgressFile.Snapshot> snapshot;
        private final boolean live;
        private final Optional<String> unreadable;
        private final long nowMillis;

        RunningRun(RunProgressFile file, Optional<RunProgressFile.Snapshot> snapshot, boolean live,
                   Optional<String> unreadable, long nowMillis) {
            this.file = file;
            this.snapshot = snapshot;
            this.live = live;
            this.unreadable = unreadable;
            this.nowMillis = nowMillis;
        }

        /** Nothing while no run runs and none was killed. */
        Optional<String> text() {
            if (unreadable.isPresent()) {
                return unreadable;
            }
            return snapshot.map(run -> live
                    ? run.describe() + " (pid " + run.pid() + ", as of " + format.time(run.updatedMillis()) + ", "
                            + (nowMillis - run.updatedMillis()) / 1000 + " s ago)"
                    : "no: the run of pid " + run.pid() + " started at " + format.time(run.startedMillis()) + " ended"
                            + " without removing " + file.path() + " (killed?); it last said: " + run.describe()
                            + "; the route's next run replaces the file");
        }

        /** {@code null} while no run runs and none was killed. */
        String json() {
            if (unreadable.isEmpty() && snapshot.isEmpty()) {
                return "null";
            }
            RecordFormat.JsonLine line = new RecordFormat.JsonLine().field("live", live);
            if (unreadable.isPresent()) {
                return line.field("error", unreadable.get()).toString();
            }
            RunProgressFile.Snapshot run = snapshot.get();
            line.field("pid", run.pid());
            timeField(line, "started", run.startedMillis());
            timeField(line, "updated", run.updatedMillis());
            line.field("activity", run.activity()).field("rsync_running", run.rsyncRunning())
                    .field("files", run.files()).field("bytes", run.bytes())
                    .field("bytes_per_second", run.rateBytesPerSecond());
            if (run.rsyncReported()) {
                line.field("paths_checked", run.checked()).field("paths_known", run.total());
            } else {
                line.nullField("paths_checked").nullField("paths_known");
            }
            return line.field("file_list_complete", run.listComplete()).path("current", run.current())
                    .field("summary", run.describe()).toString();
        }
    }

    /**
     * The roots as the tracker last reported them. The tracker rewrites the file only when a root's condition
     * changes, so whether the process that wrote it still runs decides what it means: if it does not, no root is
     * watched, whatever the file says.
     */
    private void printTrackerRoots(Optional<TrackerRootsFile.Snapshot> snapshot) {
        if (snapshot.isEmpty()) {
            out.printf("roots        not reported: no %s (the tracker writes it when it starts)%n",
                    state.trackerRoots().path());
            return;
        }
        TrackerRootsFile.Snapshot roots = snapshot.get();
        boolean running = processRunning(roots.pid());
        out.printf("roots        as the tracker reported them at %s (pid %d, %s)%n", format.time(roots.writtenMillis()),
                roots.pid(), running ? "running" : "not running: no root is watched now");
        for (TrackerRootsFile.RootStatus root : roots.roots()) {
            out.printf("  root %-8s%s since %s%s%n", root.root(), root.watched() ? "watched" : "NOT WATCHED",
                    format.time(root.sinceMillis()), root.detail().isEmpty() ? "" : ": " + root.detail());
        }
    }

    private String trackerRootsJson(TrackerRootsFile.Snapshot snapshot) {
        RecordFormat.JsonLine roots = new RecordFormat.JsonLine();
        for (TrackerRootsFile.RootStatus root : snapshot.roots()) {
            RecordFormat.JsonLine entry = new RecordFormat.JsonLine().field("watched", root.watched())
                    .field("condition", root.condition().token());
            timeField(entry, "since", root.sinceMillis());
            roots.raw(root.root(), entry.field("detail", root.detail()).toString());
        }
        RecordFormat.JsonLine line = new RecordFormat.JsonLine();
        timeField(line, "reported_at", snapshot.writtenMillis());
        return line.field("tracker_pid", snapshot.pid()).field("tracker_running", processRunning(snapshot.pid()))
                .raw("roots", roots.toString()).toString();
    }

    private Optional<TrackerRootsFile.Snapshot> trackerRoots() throws IOException {
        return state == null ? Optional.empty() : state.trackerRoots().read();
    }

    private static boolean processRunning(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private void timeField(RecordFormat.JsonLine line, String key, long millis) {
        if (millis < 0) {
            line.nullField(key);
        } else {
            line.field(key, format.time(millis));
        }
    }

    /**
     * The queue's cycle files: their apparent size, and the space the file system allocated for them, which is far
     * less, since Chronicle maps each file at a large size and writes only its start.
     *
     * @param allocatedBytes empty when {@code du} failed, and then {@code duFailure} says why
     */
    record QueueFiles(long count, long apparentBytes, OptionalLong allocatedBytes, String duFailure) {
    }

    private QueueFiles queueFiles() {
        List<Path> cycles = new ArrayList<>();
        long apparent = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(queueDirectory, "*.cq4")) {
            for (Path file : files) {
                cycles.add(file);
                apparent += Files.size(file);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + queueDirectory + ": " + e.getMessage(), e);
        }
        try {
            return new QueueFiles(cycles.size(), apparent, OptionalLong.of(DiskUsage.allocatedBytes(cycles)), "");
        } catch (IOException e) {
            return new QueueFiles(cycles.size(), apparent, OptionalLong.empty(), e.getMessage());
        }
    }

    private static String humanBytes(long bytes) {
        if (bytes < 1024 * 1024) {
            return (bytes / 1024) + " KiB";
        }
        return String.format("%.1f MiB", bytes / (1024.0 * 1024.0));
    }
}
