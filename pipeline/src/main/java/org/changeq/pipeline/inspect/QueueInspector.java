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
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
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
import org.changeq.pipeline.state.RouteRuns;
import org.changeq.pipeline.state.VerifyState;
import org.changeq.pipeline.state.RunChanges;
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
                lines.println(format.line().field("route", route.name())
                        .path("path", join(prefix, buffer, start, length))
                        .field("pass", pass.name().toLowerCase(Locale.ROOT)).field("deletion", deletion).toString());
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
                out.println(format.line().field("route", route.name()).path("path", path)
                        .field("kind", entry.kind().name().toLowerCase(Locale.ROOT))
                        .time("first_failed", entry.firstFailedMillis()).optional("reason", entry.reason()).toString());
            } else {
                out.println(ByteStrings.escape(path) + (entry.kind().directory() ? "/" : "")
                        + "  failing since " + format.time(entry.firstFailedMillis())
                        + (entry.reason().isEmpty() ? "" : ": " + entry.reason()));
            }
        }
        if (retry.entries().isEmpty() && !retry.overflowed() && !nulSeparated && !format.json()) {
            out.println("the retry list of route '" + route.name() + "' is empty: no path waits after a failed transfer");
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
        record Directory(String root, PathKey path) {
        }
        Map<Directory, long[]> counts = new HashMap<>();
        reader.read(ManifestReader.NO_INDEX, selection.toIndex(), (index, record) -> {
            if (record.type().carriesPath() && selection.accepts(index, record)) {
                byte[] directory = directoryAtDepth(record.path(), record.directory(), depth);
                counts.computeIfAbsent(new Directory(record.root(), new PathKey(directory)), k -> new long[1])[0]++;
            }
            return true;
        });
        List<Map.Entry<Directory, long[]>> sorted = new ArrayList<>(counts.entrySet());
        sorted.sort((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]));
        int rootWidth = sorted.stream().mapToInt(entry -> entry.getKey().root().length()).max().orElse(0);
        for (Map.Entry<Directory, long[]> entry : sorted.subList(0, Math.min(limit, sorted.size()))) {
            Directory directory = entry.getKey();
            if (format.json()) {
                out.println(format.line().field("root", directory.root()).path("directory", directory.path().bytes())
                        .field("records", entry.getValue()[0]).toString());
            } else {
                byte[] path = directory.path().bytes();
                out.printf("%10d  %-" + Math.max(rootWidth, 1) + "s  %s%n", entry.getValue()[0], directory.root(),
                        path.length == 0 ? "." : ByteStrings.escape(path));
            }
        }
    }

    /** A file name as a map key: compared by its bytes. */
    private record PathKey(byte[] bytes) {
        @Override
        public boolean equals(Object other) {
            return other instanceof PathKey key && Arrays.equals(bytes, key.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
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

    /** What the queue's records say of the tracker's starts and stops, and how many records each root has. */
    private static final class QueueSummary implements ManifestReader.RecordVisitor {
        final Map<String, EnumMap<RecordType, long[]>> byRoot = new TreeMap<>();
        long records;
        long firstMillis = -1;
        long lastMillis = -1;
        long lastStartMillis = -1;
        long lastStopMillis = -1;
        /** Whether the last START, if any, was followed by a STOP. */
        boolean stoppedCleanly = true;
        long uncleanStarts;
        long overflows;
        long lastOverflowMillis = -1;

        @Override
        public boolean visit(long index, QueueRecord record) {
            records++;
            firstMillis = firstMillis < 0 ? record.timeMillis() : Math.min(firstMillis, record.timeMillis());
            lastMillis = Math.max(lastMillis, record.timeMillis());
            byRoot.computeIfAbsent(record.root().isEmpty() ? "-" : record.root(), r -> new EnumMap<>(RecordType.class))
                    .computeIfAbsent(record.type(), t -> new long[1])[0]++;
            switch (record.type()) {
                case START -> {
                    if (!stoppedCleanly) {
                        uncleanStarts++;
                    }
                    stoppedCleanly = false;
                    lastStartMillis = record.timeMillis();
                }
                case STOP -> {
                    stoppedCleanly = true;
                    lastStopMillis = record.timeMillis();
                }
                case OVERFLOW -> {
                    overflows++;
                    lastOverflowMillis = record.timeMillis();
                }
                default -> { }
            }
            return true;
        }

        static OptionalLong ifSet(long millis) {
            return millis < 0 ? OptionalLong.empty() : OptionalLong.of(millis);
        }
    }

    /** Whether the tracker runs, by its writer lock, and what the queue says of its last start and stop. */
    enum TrackerState {
        RUNNING("running"), STOPPED("stopped"), STOPPED_UNCLEAN("stopped-unclean"), NEVER_STARTED("never-started");

        final String token;

        TrackerState(String token) {
            this.token = token;
        }

        static TrackerState of(WriterLock.Holder lock, QueueSummary summary) {
            if (lock.held()) {
                return RUNNING;
            }
            if (summary.lastStartMillis < 0) {
                return NEVER_STARTED;
            }
            return summary.stoppedCleanly ? STOPPED : STOPPED_UNCLEAN;
        }
    }

    /** Counts by type and root, tracker lifecycle, files on disk, and each route's progress. */
    void stat(long nowMillis) throws IOException {
        QueueSummary summary = new QueueSummary();
        reader.read(ManifestReader.NO_INDEX, Long.MAX_VALUE, summary);
        QueueFiles files = queueFiles();
        WriterLock.Holder lock = WriterLock.holder(queueDirectory);
        TrackerState tracker = TrackerState.of(lock, summary);
        Optional<TrackerRootsFile.Snapshot> trackerRoots = trackerRoots();

        if (format.json()) {
            RecordFormat.JsonLine line = format.line()
                    .field("kind", "queue").field("queue", queueDirectory.toString())
                    .field("records", summary.records).field("files", files.count())
                    .field("bytes_apparent", files.apparentBytes()).field("bytes_allocated", files.allocatedBytes())
                    .time("first_record", QueueSummary.ifSet(summary.firstMillis))
                    .time("last_record", QueueSummary.ifSet(summary.lastMillis))
                    .field("tracker", tracker.token).field("tracker_running", tracker == TrackerState.RUNNING)
                    .field("tracker_pid", lock.pid())
                    .time("last_start", QueueSummary.ifSet(summary.lastStartMillis))
                    .time("last_stop", QueueSummary.ifSet(summary.lastStopMillis))
                    .field("unclean_starts", summary.uncleanStarts).field("overflows", summary.overflows)
                    .time("last_overflow", QueueSummary.ifSet(summary.lastOverflowMillis));
            RecordFormat.JsonLine roots = format.line();
            summary.byRoot.forEach((root, counts) -> {
                RecordFormat.JsonLine typeCounts = format.line();
                counts.forEach((type, count) -> typeCounts.field(type.name(), count[0]));
                roots.raw(root, typeCounts.toString());
            });
            line.raw("by_root", roots.toString());
            if (trackerRoots.isPresent()) {
                line.raw("tracker_roots", trackerRootsJson(trackerRoots.get(), lock));
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
            out.printf("records      %d%s%n", summary.records, summary.records == 0
                    ? "  (empty: has the tracker run yet?)"
                    : "  from " + format.time(summary.firstMillis) + " to " + format.time(summary.lastMillis));
            summary.byRoot.forEach((root, counts) -> {
                StringBuilder line = new StringBuilder();
                counts.forEach((type, count) -> line.append(' ').append(type.name()).append('=').append(count[0]));
                out.printf("  root %-8s%s%n", root, line);
            });
            out.printf("tracker      %s%s%n", describe(tracker, lock, summary),
                    lock.uncertain().map(why -> " (presumed from whether its pid lives: " + why + ")").orElse(""));
            out.printf("unclean starts %d (a start without a STOP before it; the catch-up scan, or a full sync "
                    + "after its OVERFLOW, covers what changed meanwhile)%n", summary.uncleanStarts);
            out.printf("overflows    %d%s%n", summary.overflows,
                    summary.lastOverflowMillis >= 0 ? ", last at " + format.time(summary.lastOverflowMillis) : "");
            if (state != null) {
                printTrackerRoots(trackerRoots, lock);
            }
        }
        if (config != null) {
            for (RouteConfig route : config.routes().values()) {
                routeStat(route, nowMillis, lock.held());
            }
        }
    }

    private String describe(TrackerState tracker, WriterLock.Holder lock, QueueSummary summary) {
        String pid = lock.pid().isPresent() ? "pid " + lock.pid().getAsLong() : "pid unknown";
        return switch (tracker) {
            case RUNNING -> "running (" + pid + ")" + (summary.stoppedCleanly
                    ? ", starting: its START is not recorded yet" : " since " + format.time(summary.lastStartMillis));
            case STOPPED -> "NOT running (" + (lock.pid().isPresent() ? "last seen " + pid + ", " : "")
                    + "stopped cleanly at " + format.time(summary.lastStopMillis) + ")";
            case STOPPED_UNCLEAN -> "NOT running (" + (lock.pid().isPresent() ? "last seen " + pid + ", " : "")
                    + "started " + format.time(summary.lastStartMillis) + ", stopped without a STOP record after its"
                    + " last record at " + format.time(summary.lastMillis) + "; its next start catches up)";
            case NEVER_STARTED -> "NOT running (never started on this queue)";
        };
    }

    private void routeStat(RouteConfig route, long nowMillis, boolean trackerRunning) throws IOException {
        RouteState routeState = RouteState.read(state, config.root(route.root()), route, reader);
        HeldDeletions held = HeldDeletions.read(state.heldDeletions(route.name()));
        ChangeScan.Result scan = ChangeScan.scan(reader, route, routeState.cursorOrStart(), reader.lastIndex(),
                ChangeScan.Collect.ALL, routeState.retry(), held);
        LocalDate today = Instant.ofEpochMilli(nowMillis).atZone(ZoneId.systemDefault()).toLocalDate();
        Optional<String> untracked = trackerRunning
                ? RootTracking.untracked(config.root(route.root()), state.trackerRoots()) : Optional.empty();
        Optional<SyncPolicy.Reason> full = untracked.isPresent() ? Optional.of(SyncPolicy.Reason.ROOT_NOT_TRACKED)
                : SyncPolicy.fullSyncReason(routeState.facts(false, scan, route, today));
        PendingChanges pending = scan.pending().orElseThrow();
        // The same entries paths prints, so that the two agree.
        PendingChanges.Lists sends = pending.forEachEntry(route.propagateDeletes(), (b, start, length, pass, d) -> { });
        long sendCount = sends.files() + sends.directories() + sends.deletions() + sends.comparedByContent();
        // Recorded deletions only: a directory replaced by a file is sent as that file when deletes do not propagate.
        long[] unsentDeletions = {0};
        if (!route.propagateDeletes()) {
            pending.forEachEntry(true, (b, start, length, pass, deletion) -> {
                if (deletion && pass == PendingChanges.Pass.RECURSIVE) {
                    unsentDeletions[0]++;
                }
            });
        }
        OptionalLong cursor = routeState.cursor();
        OptionalLong oldest = scan.oldestChangeMillis();
        RetryList retry = routeState.retry();
        OptionalLong oldestFailure = retry.oldestFailureMillis();
        Runs runs = routeRuns(route);
        if (format.json()) {
            RecordFormat.JsonLine line = format.line().field("kind", "route").field("route", route.name())
                    .field("root", route.root()).field("cursor", cursor)
                    .field("backlog_records", scan.backlog()).field("pending_paths", sendCount)
                    .field("pending_files", sends.files() + sends.comparedByContent())
                    .field("pending_directories", sends.directories()).field("pending_deletions", sends.deletions())
                    .field("deletions_not_propagated", unsentDeletions[0])
                    .time("oldest_pending", oldest)
                    .field("oldest_pending_seconds", age(nowMillis, oldest))
                    .field("retry_paths", retry.entries().size()).field("retry_overflowed", retry.overflowed())
                    .time("oldest_retry", oldestFailure)
                    .field("oldest_retry_seconds", age(nowMillis, oldestFailure))
                    .field("held_deletions", held.paths().size())
                    .field("next_run", full.isPresent() ? "full" : "incremental")
                    .optional("full_reason", full.map(SyncPolicy.Reason::token).orElse(null))
                    .field("root_tracked", untracked.isEmpty());
            line.raw("changed", changesJson(route.name()));
            line.raw("last_run", runJson(runs.runs().last()));
            line.raw("last_success", runJson(runs.runs().lastSuccess()));
            line.raw("running", runningRun(route, nowMillis).json());
            line.raw("verify", verifyJson(route));
            out.println(line);
        } else {
            out.printf("route %s (root %s -> %s)%n", route.name(), route.root(), route.dest());
            out.printf("  last run     %s%n", runs.describe(runs.runs().last(), this::describe));
            out.printf("  last success %s%n", runs.describe(runs.runs().lastSuccess(), this::describe));
            lastChanges(route.name()).ifPresent(changes -> out.printf("  changed      %s%n", changes));
            out.printf("  cursor       %s%n", cursor.isPresent() ? cursor.getAsLong() : "none (never synced)");
            out.printf("  backlog      %d record(s) after the cursor%s%n", scan.backlog(),
                    oldest.isPresent() ? ", oldest pending " + (nowMillis - oldest.getAsLong()) / 1000 + " s ago" : "");
            out.printf("  to send      %d path(s)%s (the paths subcommand lists them)%n", sendCount, describe(sends));
            if (unsentDeletions[0] > 0) {
                out.printf("  not sent     %d deletion(s): the route does not propagate deletes%n", unsentDeletions[0]);
            }
            if (!retry.isEmpty()) {
                out.printf("  retry        %d path(s) rsync failed to send, the oldest failing for %d s%s; every run sends"
                        + " them again, they are among those to send (%s)%n",
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
            out.printf("  verify       %s%n", verifyText(route, nowMillis));
        }
    }

    /** What {@code changeq-sync verify} found for the route, for stat; the rest of stat holds when it cannot be read. */
    private Optional<VerifyState> verifyState(RouteConfig route) throws IOException {
        try {
            return Optional.of(VerifyState.read(state.verifyState(route.name())));
        } catch (IllegalStateException malformed) {
            return Optional.empty();
        }
    }

    private String verifyText(RouteConfig route, long nowMillis) throws IOException {
        Optional<VerifyState> read = verifyState(route);
        if (read.isEmpty()) {
            return "unknown: " + state.verifyState(route.name()) + " is malformed; the next changeq-sync verify after"
                    + " moving it away starts a new cycle";
        }
        VerifyState verify = read.get();
        if (verify.lastRunStartedMillis() == 0) {
            return "never (run changeq-sync verify --config FILE --route " + route.name() + "; enable changeq-verify@"
                    + route.name() + ".timer for a daily slice)";
        }
        long open = verify.mismatches().stream().filter(mismatch -> mismatch.kind().repaired()).count();
        long extra = verify.mismatches().size() - open;
        return String.format(Locale.ROOT, "last %s, cycle of %d day(s) since %s %.0f%% covered, last complete cycle %s;"
                + " %d mismatch(es) waiting for the next run%s", format.time(verify.lastRunFinishedMillis()),
                verify.slices(), format.time(verify.cycleStartMillis()), verify.coverage() * 100,
                verify.lastCompleteCycleMillis() == 0 ? "none yet" : format.time(verify.lastCompleteCycleMillis()),
                open, extra == 0 ? "" : ", " + extra + " extra path(s) at the destination (reported only)");
    }

    private String verifyJson(RouteConfig route) throws IOException {
        Optional<VerifyState> read = verifyState(route);
        if (read.isEmpty() || read.get().lastRunStartedMillis() == 0) {
            return "null";
        }
        VerifyState verify = read.get();
        RecordFormat.JsonLine counts = format.line();
        verify.counts().forEach((kind, count) -> counts.field(kind.token, count));
        return format.line().time("last_run", verify.lastRunFinishedMillis())
                .time("cycle_start", verify.cycleStartMillis()).field("cycle_days", verify.slices())
                .field("slices_done", verify.slicesDone())
                .field("coverage_percent", Math.round(verify.coverage() * 100))
                .time("last_complete_cycle", verify.lastCompleteCycleMillis() == 0 ? OptionalLong.empty()
                        : OptionalLong.of(verify.lastCompleteCycleMillis()))
                .raw("mismatches", counts.toString()).toString();
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
            RecordFormat.JsonLine line = format.line().field("live", live);
            if (unreadable.isPresent()) {
                return line.field("error", unreadable.get()).toString();
            }
            RunProgressFile.Snapshot run = snapshot.get();
            line.field("pid", run.pid());
            line.time("started", run.startedMillis()).time("updated", run.updatedMillis());
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

    /** ": 2 file(s), 1 deletion(s)": the kinds of entries a run sends that occur; "" when it sends none. */
    private static String describe(PendingChanges.Lists sends) {
        record Kind(long count, String label) {
        }
        List<String> parts = new ArrayList<>();
        for (Kind kind : List.of(new Kind(sends.files(), "file(s)"),
                new Kind(sends.comparedByContent(), "compared by content"),
                new Kind(sends.directories(), "directory(ies) for their attributes"),
                new Kind(sends.deletions(), "deletion(s)"))) {
            if (kind.count() != 0) {
                parts.add(kind.count() + " " + kind.label());
            }
        }
        return parts.isEmpty() ? "" : ": " + String.join(", ", parts);
    }

    private static final String NO_RUN = "none recorded (the route has not run since changeq records its runs)";

    /** The route's runs, and why they are unknown when the file cannot be read. */
    /** What the route's last committed run did at the destination, by kind; empty before its first record. */
    private Optional<String> lastChanges(String route) {
        try {
            return RunChanges.read(requireState().runChanges(route), 1).map(changes -> "by the last committed run ("
                    + Instant.ofEpochMilli(changes.startedMillis()) + "): " + changes.describe() + " (changeq-sync"
                    + " changes --route " + route + " lists them)");
        } catch (IOException | IllegalStateException e) {
            return Optional.of("unknown: " + e.getMessage());
        }
    }

    /** The text line {@code changed} as JSON: the counts of the last committed run; null when none is recorded. */
    private String changesJson(String route) {
        try {
            return RunChanges.read(requireState().runChanges(route), 1).map(changes -> {
                RecordFormat.JsonLine line = format.line().time("run_started", changes.startedMillis());
                for (RunChanges.Kind kind : RunChanges.Kind.values()) {
                    line.field(kind.token, changes.count(kind));
                }
                return line.toString();
            }).orElse("null");
        } catch (IOException | IllegalStateException e) {
            return format.line().field("error", e.getMessage()).toString();
        }
    }

    private record Runs(RouteRuns runs, Optional<String> unreadable) {
        String describe(Optional<RouteRuns.Run> run, Function<RouteRuns.Run, String> description) {
            return run.map(description).orElse(unreadable.orElse(NO_RUN));
        }
    }

    private Runs routeRuns(RouteConfig route) throws IOException {
        try {
            return new Runs(RouteRuns.read(state.routeRuns(route.name())), Optional.empty());
        } catch (IllegalStateException malformed) {
            // Stat still answers the other questions; the sync replaces the file at the route's next run.
            return new Runs(RouteRuns.NONE, Optional.of("unknown: " + malformed.getMessage()));
        }
    }

    private String describe(RouteRuns.Run run) {
        return format.time(run.finishedMillis()) + ", " + run.mode().map(SyncPolicy.Mode::token).orElse("refused")
                + ", exit " + run.exitCode() + ", " + run.files() + " file(s), "
                + String.format(Locale.ROOT, "%.1f s", run.durationMillis() / 1000.0);
    }

    private String runJson(Optional<RouteRuns.Run> run) {
        if (run.isEmpty()) {
            return "null";
        }
        RouteRuns.Run r = run.get();
        return format.line().time("started", r.startedMillis()).time("finished", r.finishedMillis())
                .optional("mode", r.mode().map(SyncPolicy.Mode::token).orElse(null)).field("exit_code", r.exitCode())
                .field("files", r.files()).field("duration_ms", r.durationMillis()).toString();
    }

    private static OptionalLong age(long nowMillis, OptionalLong millis) {
        return millis.isPresent() ? OptionalLong.of((nowMillis - millis.getAsLong()) / 1000) : OptionalLong.empty();
    }

    /**
     * The roots as the tracker last reported them. The tracker rewrites the file only when a root's condition
     * changes, so whether the process that wrote it still holds the queue decides what it means: if it does not, no
     * root is watched, whatever the file says.
     */
    private void printTrackerRoots(Optional<TrackerRootsFile.Snapshot> snapshot, WriterLock.Holder lock) {
        if (snapshot.isEmpty()) {
            out.printf("roots        not reported: no %s (the tracker writes it when it starts)%n",
                    state.trackerRoots().path());
            return;
        }
        TrackerRootsFile.Snapshot roots = snapshot.get();
        out.printf("roots        as the tracker reported them at %s (pid %d, %s)%n", format.time(roots.writtenMillis()),
                roots.pid(), reporterRuns(roots, lock) ? "running"
                        : lock.held() ? "no longer running: the running tracker has not reported its roots yet"
                        : "not running: no root is watched now");
        for (TrackerRootsFile.RootStatus root : roots.roots()) {
            out.printf("  root %-8s%s since %s%s%n", root.root(), root.watched() ? "watched" : "NOT WATCHED",
                    format.time(root.sinceMillis()), root.detail().isEmpty() ? "" : ": " + root.detail());
        }
    }

    /** Whether the tracker that wrote the roots file is the one holding the queue. */
    private static boolean reporterRuns(TrackerRootsFile.Snapshot roots, WriterLock.Holder lock) {
        return lock.held() && (lock.pid().isEmpty() || lock.pid().getAsLong() == roots.pid());
    }

    private String trackerRootsJson(TrackerRootsFile.Snapshot snapshot, WriterLock.Holder lock) {
        RecordFormat.JsonLine roots = format.line();
        for (TrackerRootsFile.RootStatus root : snapshot.roots()) {
            roots.raw(root.root(), format.line().field("watched", root.watched())
                    .field("condition", root.condition().token()).time("since", root.sinceMillis())
                    .optional("detail", root.detail()).toString());
        }
        return format.line().time("reported_at", snapshot.writtenMillis()).field("tracker_pid", snapshot.pid())
                .field("tracker_running", reporterRuns(snapshot, lock)).raw("roots", roots.toString()).toString();
    }

    private Optional<TrackerRootsFile.Snapshot> trackerRoots() throws IOException {
        return state == null ? Optional.empty() : state.trackerRoots().read();
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
