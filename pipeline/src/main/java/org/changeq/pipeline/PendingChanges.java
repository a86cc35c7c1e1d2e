package org.changeq.pipeline;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.changeq.pipeline.config.RouteConfig;

/**
 * What a route owes its destination: the records of its root after its cursor up to a captured end,
 * filtered by the route and deduplicated to one entry per path, plus everything that forces a full
 * sync (overflow, tracker gap, records lost to retention). The sync's plan and changeq-queue's
 * {@code --pending} view both come from here, so they cannot disagree.
 *
 * <p>Memory is bounded by the unique pending paths, not by the records, and kept compact
 * ({@link PathTable}). Not thread-safe.
 */
public final class PendingChanges {

    /** One path to send, with the last thing that happened to it. */
    public record Entry(byte[] path, RecordType lastType, boolean directory) {
    }

    /** Receives pending paths without copying them: the bytes are valid only during the call. */
    @FunctionalInterface
    public interface PathSink<E extends Exception> {
        void accept(byte[] buffer, int offset, int length, RecordType lastType, boolean directory) throws E;
    }

    private static final int DIRECTORY_BIT = 0x80;

    private final String root;
    private final RouteConfig route;
    private final PathTable paths = new PathTable();
    private long recordsForRoot;
    private long overflows;
    private long unhealedGaps;
    private boolean trackerStoppedCleanly = true;
    private boolean gapOpen;
    private long oldestPendingMillis = Long.MAX_VALUE;
    private boolean recordsLost;
    private int subtrees;

    private PendingChanges(RouteConfig route) {
        this.route = route;
        this.root = route.root();
    }

    /**
     * Reads the records with {@code afterIndex < index <= upToIndex} for {@code route}.
     *
     * @param afterIndex the route's committed cursor, or {@link ManifestReader#NO_INDEX}
     */
    public static PendingChanges scan(ManifestReader reader, RouteConfig route, long afterIndex, long upToIndex) {
        PendingChanges pending = new PendingChanges(route);
        pending.recordsLost = !reader.retainsRecordsAfter(afterIndex);
        reader.read(afterIndex, upToIndex, (index, record) -> {
            pending.accept(record);
            return true;
        });
        return pending;
    }

    private void accept(QueueRecord record) {
        switch (record.type()) {
            case START -> {
                // A start not preceded by a clean stop means the tracker was down without saying so.
                if (!trackerStoppedCleanly) {
                    gapOpen = true;
                    unhealedGaps++;
                }
                trackerStoppedCleanly = false;
            }
            case STOP -> trackerStoppedCleanly = true;
            case RESCAN -> {
                if (record.root().equals(root) && gapOpen) {
                    gapOpen = false;
                    unhealedGaps--;
                }
            }
            case OVERFLOW -> {
                if (record.root().equals(root)) {
                    overflows++;
                }
            }
            case CHANGE, DELETE, SUBTREE -> {
                if (record.root().equals(root)) {
                    recordsForRoot++;
                    if (route.sends(record.path(), record.directory())) {
                        remember(record);
                    }
                }
            }
            default -> throw new IllegalStateException("unhandled record type " + record.type());
        }
    }

    private void remember(QueueRecord record) {
        byte state = encode(record.type(), record.directory());
        int before = paths.size();
        int entry = paths.findOrAdd(record.path(), state, record.timeMillis());
        if (paths.size() == before) {
            if (decodeType(paths.state(entry)) == RecordType.SUBTREE) {
                subtrees--;
            }
            paths.state(entry, state);
        } else {
            oldestPendingMillis = Math.min(oldestPendingMillis, record.timeMillis());
        }
        if (record.type() == RecordType.SUBTREE) {
            subtrees++;
        }
    }

    private static byte encode(RecordType type, boolean directory) {
        return (byte) (type.code() | (directory ? DIRECTORY_BIT : 0));
    }

    private static RecordType decodeType(byte state) {
        return RecordType.fromCode((byte) (state & ~DIRECTORY_BIT));
    }

    /** Records of the route's root since the cursor (before filtering and dedupe): the backlog. */
    public long backlogRecords() {
        return recordsForRoot;
    }

    public long overflows() {
        return overflows;
    }

    /** Tracker restarts after an unclean stop whose catch-up scan has not finished for this root. */
    public long unhealedGaps() {
        return unhealedGaps;
    }

    /** Whether retention deleted records after the cursor. */
    public boolean recordsLost() {
        return recordsLost;
    }

    /** Time of the oldest change still pending, or empty when nothing is. */
    public java.util.OptionalLong oldestPendingMillis() {
        return paths.size() == 0 ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(oldestPendingMillis);
    }

    /** Unique paths with a pending record, whatever their last type. */
    public int uniquePaths() {
        return paths.size();
    }

    /**
     * Streams the paths an incremental run sends, in the order first seen: those whose last record
     * is a CHANGE or a SUBTREE, and DELETEs when {@code includeDeletes}; a path inside a pending
     * SUBTREE is left out, the subtree carries it.
     */
    public <E extends Exception> void forEachToSend(boolean includeDeletes, PathSink<E> sink) throws E {
        byte[] arena = paths.arena();
        for (int entry = 0; entry < paths.size(); entry++) {
            RecordType type = decodeType(paths.state(entry));
            int offset = paths.offset(entry);
            int length = paths.length(entry);
            if ((type != RecordType.DELETE || includeDeletes) && !insideSubtree(arena, offset, length)) {
                sink.accept(arena, offset, length, type, (paths.state(entry) & DIRECTORY_BIT) != 0);
            }
        }
    }

    /** The same as {@link #forEachToSend}, collected; for small sets and tests. */
    public List<Entry> toSend(boolean includeDeletes) {
        List<Entry> entries = new ArrayList<>();
        forEachToSend(includeDeletes, (buffer, offset, length, type, directory) -> entries.add(
                new Entry(Arrays.copyOfRange(buffer, offset, offset + length), type, directory)));
        return entries;
    }

    private boolean insideSubtree(byte[] arena, int offset, int length) {
        if (subtrees == 0 || length == 0) {
            return false;
        }
        if (isSubtree(arena, offset, 0)) {
            return true;
        }
        for (int i = offset + 1; i < offset + length; i++) {
            if (arena[i] == '/' && isSubtree(arena, offset, i - offset)) {
                return true;
            }
        }
        return false;
    }

    private boolean isSubtree(byte[] bytes, int offset, int length) {
        int entry = paths.find(bytes, offset, length);
        return entry >= 0 && decodeType(paths.state(entry)) == RecordType.SUBTREE;
    }
}
