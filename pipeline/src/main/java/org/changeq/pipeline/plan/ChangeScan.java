package org.changeq.pipeline.plan;

import java.util.Optional;
import java.util.OptionalLong;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.manifest.QueueRecord;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.manifest.RecordView;
import org.changeq.pipeline.state.HeldDeletions;
import org.changeq.pipeline.state.RetryList;

/**
 * One pass over the records after a route's cursor: counts the backlog, notes loss markers, and
 * (unless the run is already known to be full) condenses the route's paths into {@link
 * PendingChanges}. Collecting stops, and its memory is released, once the backlog passes the
 * route's threshold, because such a run is full anyway. Not thread-safe.
 */
public final class ChangeScan implements ManifestReader.RecordViewVisitor {

    /**
     * What the scan found. {@code pending} is empty when paths were not collected.
     *
     * @param oldestChangeMillis time of the oldest record the route sends, or empty when there is none
     * @param reachedEnd         the scan read up to the end it was given; when not, records it should have read
     *                           were not there (the queue changed under it), and the run must not trust the scan
     */
    public record Result(long backlog, boolean overflow, boolean unhealedGap, Optional<PendingChanges> pending,
                         OptionalLong oldestChangeMillis, boolean reachedEnd) {
    }

    /** Which paths a scan keeps. */
    public enum Collect {
        /** None: the run is full anyway; only count and note markers. */
        NONE,
        /** Until the run turns out to be full (backlog above the threshold, an overflow): what a sync needs. */
        UNTIL_FULL,
        /** All of them, whatever the next run will be: what an operator inspecting the backlog needs. */
        ALL
    }

    private final RouteConfig route;
    private final boolean stopWhenFull;
    private PendingChanges pending;
    private long oldestChangeMillis = Long.MAX_VALUE;
    private RecordType previousType;
    private long backlog;
    private boolean overflow;
    private boolean gapOpen;

    ChangeScan(RouteConfig route, Collect collect, RetryList retry, HeldDeletions held) {
        this.route = route;
        this.stopWhenFull = collect == Collect.UNTIL_FULL;
        this.pending = collect == Collect.NONE ? null
                : new PendingChanges((type, directory, path, length) -> concerns(route, type, directory, path, length));
        if (pending != null) {
            // First: the failures are older than every record after the cursor, and a path's last record decides.
            for (RetryList.Entry entry : retry.entries()) {
                pending.merge(switch (entry.kind()) {
                    case SUBTREE -> RecordType.SUBTREE;
                    case DELETION -> RecordType.DELETE;
                    default -> RecordType.CHANGE;
                },
                        entry.kind().directory(),
                        entry.kind() == RetryList.Kind.CONTENT, entry.path(), entry.path().length,
                        entry.firstFailedMillis());
            }
            for (byte[] path : held.paths()) {
                pending.merge(RecordType.DELETE, false, false, path, path.length, held.sinceMillis());
            }
            if (!retry.entries().isEmpty() || !held.paths().isEmpty()) {
                pending.mergedRetried();
            }
        }
    }

    /**
     * Reads {@code cursor < index <= end}, after the paths earlier runs failed to send and the deletions the route's
     * max-delete holds back.
     *
     * @param cursor       the committed cursor, or {@link ManifestReader#NO_INDEX} to read from the start
     * @param collect      which paths to keep
     * @param retry        the route's retry list: its paths are pending whatever the records say
     * @param held         the route's held deletions: pending as deletions before the records, a later record of
     *                     the same path decides
     */
    public static Result scan(ManifestReader reader, RouteConfig route, long cursor, long end, Collect collect,
                              RetryList retry, HeldDeletions held) {
        ChangeScan scan = new ChangeScan(route, collect, retry, held);
        if (end == ManifestReader.NO_INDEX || end <= cursor) {
            return scan.result(true);
        }
        if (cursor != ManifestReader.NO_INDEX) {
            // Whether a START just after the cursor is a gap depends on the record at the cursor.
            reader.readFrom(cursor, cursor, (index, record) -> {
                scan.previousType = record.type();
                return false;
            });
        }
        return scan.result(reader.readViews(cursor, end, scan) == end);
    }

    Result result(boolean reachedEnd) {
        if (pending != null) {
            oldestChangeMillis = pending.oldestChangeMillis();
        }
        return new Result(backlog, overflow, gapOpen, Optional.ofNullable(pending),
                oldestChangeMillis == Long.MAX_VALUE ? OptionalLong.empty() : OptionalLong.of(oldestChangeMillis),
                reachedEnd);
    }

    @Override
    public boolean visit(long index, RecordView record) {
        RecordType type = record.type();
        switch (type) {
            case START -> {
                if (previousType != RecordType.STOP) {
                    gapOpen = true;
                }
            }
            case RESCAN -> {
                if (record.root().equals(route.root())) {
                    gapOpen = false;
                }
            }
            case OVERFLOW -> {
                if (record.root().equals(route.root()) || record.root().isEmpty()) {
                    overflow = true;
                    if (stopWhenFull) {
                        discardPending();
                    }
                }
            }
            case STOP -> {
            }
            case CHANGE, SUBTREE, DELETE, RENAMED_AWAY -> {
                if (record.root().equals(route.root())) {
                    backlog++;
                    collect(record);
                }
            }
        }
        previousType = type;
        return true;
    }

    private void collect(RecordView record) {
        if (pending == null) {
            return;
        }
        if (stopWhenFull && backlog > route.backlogThreshold()) {
            discardPending();
            return;
        }
        pending.merge(record.type(), record.directory(), record.contentWritten(), record.pathBuffer(),
                record.pathLength(), record.timeMillis());
    }

    private void discardPending() {
        if (pending != null) {
            oldestChangeMillis = pending.oldestChangeMillis();
            pending = null;
        }
    }

    /**
     * Whether a path record of the route's root goes into the route's plan: a path the route sends;
     * or a directory that appeared or vanished as a whole and that the route does not exclude, since
     * it may hold paths the route includes (the rsync filter rules of the pass pick them out).
     */
    public static boolean concerns(RouteConfig route, QueueRecord record) {
        return concerns(route, record.type(), record.directory(), record.path(), record.path().length);
    }

    /** {@link #concerns(RouteConfig, QueueRecord)} for a path record of the route's root, without copying it. */
    public static boolean concerns(RouteConfig route, RecordView record) {
        return concerns(route, record.type(), record.directory(), record.pathBuffer(), record.pathLength());
    }

    private static boolean concerns(RouteConfig route, RecordType type, boolean directory, byte[] path, int length) {
        if (route.sends(path, length, directory)) {
            return true;
        }
        return directory && type != RecordType.CHANGE
                && !route.includes().isEmpty()
                && !route.excludes().matchesSelfOrAncestor(path, length, true);
    }
}
