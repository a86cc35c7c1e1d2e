package org.changeq.sync;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.manifest.RecordView;

/**
 * The paths of a root that the queue recorded after the end a run captured: a path that failed in that run because it
 * changed while rsync read it ("failed verification -- update discarded") or still differs because it changed after
 * rsync sent it is pending again, and the run after the cursor reads its newer record. It needs no retry-list entry,
 * and its failure no alarm. An {@code OVERFLOW} for the root makes the next run full, which covers every path.
 *
 * <p>Safe against loss: only a record after the captured end counts, and the cursor commits to that end, so the record
 * stays unread until a later run. Not thread-safe; confined to the run's thread.
 */
final class PendingAgain {

    private final Set<ByteBuffer> paths = new HashSet<>();
    private final Set<ByteBuffer> subtrees = new HashSet<>();
    private boolean everything;

    private PendingAgain() {
    }

    /** What the queue recorded for {@code root} after {@code end}, up to its end now. */
    static PendingAgain read(ManifestReader reader, String root, long end) {
        PendingAgain pending = new PendingAgain();
        reader.readViews(end, reader.lastIndex(), (index, record) -> pending.accept(root, record));
        return pending;
    }

    private boolean accept(String root, RecordView record) {
        if (record.type() == RecordType.OVERFLOW && (record.root().equals(root) || record.root().isEmpty())) {
            everything = true;
            return false;
        }
        if (!record.type().carriesPath() || !record.root().equals(root)) {
            return true;
        }
        ByteBuffer path = ByteBuffer.wrap(Arrays.copyOf(record.pathBuffer(), record.pathLength()));
        (record.type() == RecordType.SUBTREE ? subtrees : paths).add(path);
        return true;
    }

    /** Whether the queue holds a newer record for {@code path}: its own, one of a subtree above it, or an overflow. */
    boolean covers(byte[] path) {
        if (everything || paths.contains(ByteBuffer.wrap(path))) {
            return true;
        }
        if (subtrees.isEmpty()) {
            return false;
        }
        for (int end = path.length; end >= 0; end--) {
            if ((end == path.length || path[end] == '/') && subtrees.contains(ByteBuffer.wrap(path, 0, end).slice())) {
                return true;
            }
        }
        return false;
    }
}
