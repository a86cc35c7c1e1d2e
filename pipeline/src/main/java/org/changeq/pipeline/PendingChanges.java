package org.changeq.pipeline;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.changeq.pipeline.config.RouteConfig;

/**
 * What a route owes its destination: the records of its root after its cursor up to a captured end,
 * filtered by the route and deduplicated to one entry per path, plus everything that forces a full
 * sync (overflow, tracker gap, records lost to retention). The sync's plan and changeq-queue's
 * {@code --pending} view both come from here, so they cannot disagree.
 *
 * <p>Memory is bounded by the unique pending paths, not by the records. Not thread-safe.
 */
public final class PendingChanges {

    /** One path to send, with the last thing that happened to it. */
    public record Entry(byte[] path, RecordType lastType, boolean directory, long firstSeenMillis) {
    }

    private final String root;
    private final RouteConfig route;
    private final Map<Key, Entry> byPath = new HashMap<>();
    private long recordsForRoot;
    private long overflows;
    private long unhealedGaps;
    private boolean trackerStoppedCleanly = true;
    private boolean gapOpen;
    private long oldestPendingMillis = Long.MAX_VALUE;
    private boolean recordsLost;

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
                        Key key = new Key(record.path());
                        Entry earlier = byPath.get(key);
                        long firstSeen = earlier == null ? record.timeMillis() : earlier.firstSeenMillis();
                        byPath.put(key, new Entry(record.path(), record.type(), record.directory(), firstSeen));
                        oldestPendingMillis = Math.min(oldestPendingMillis, firstSeen);
                    }
                }
            }
            default -> throw new IllegalStateException("unhandled record type " + record.type());
        }
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
        return byPath.isEmpty() ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(oldestPendingMillis);
    }

    /** Unique paths with a pending record, whatever their last type. */
    public int uniquePaths() {
        return byPath.size();
    }

    /**
     * The paths an incremental run sends, sorted bytewise: those whose last record is a CHANGE or a
     * SUBTREE, and DELETEs when {@code includeDeletes}; a path inside a pending SUBTREE is left out,
     * the subtree carries it.
     */
    public List<Entry> toSend(boolean includeDeletes) {
        java.util.Set<Key> subtrees = new java.util.HashSet<>();
        for (Map.Entry<Key, Entry> entry : byPath.entrySet()) {
            if (entry.getValue().lastType() == RecordType.SUBTREE) {
                subtrees.add(entry.getKey());
            }
        }
        List<Entry> result = new ArrayList<>(byPath.size());
        for (Entry entry : byPath.values()) {
            if ((entry.lastType() != RecordType.DELETE || includeDeletes) && !insideAny(entry.path(), subtrees)) {
                result.add(entry);
            }
        }
        result.sort((a, b) -> Arrays.compareUnsigned(a.path(), b.path()));
        return result;
    }

    private static boolean insideAny(byte[] path, java.util.Set<Key> subtrees) {
        if (subtrees.isEmpty() || path.length == 0) {
            return false;
        }
        if (subtrees.contains(new Key(new byte[0]))) {
            return true;
        }
        for (int i = 1; i < path.length; i++) {
            if (path[i] == '/' && subtrees.contains(new Key(Arrays.copyOf(path, i)))) {
                return true;
            }
        }
        return false;
    }

    private record Key(byte[] path) {
        @Override
        public boolean equals(Object other) {
            return other instanceof Key that && Arrays.equals(path, that.path);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(path);
        }
    }
}
