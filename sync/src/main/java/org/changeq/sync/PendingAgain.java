package org.changeq.sync;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.manifest.RecordView;
import org.changeq.pipeline.state.RetryList;

/**
 * The paths of a root that the queue recorded after the end a run captured: a path that failed in that run because it
 * changed while rsync read it ("failed verification -- update discarded") or still differs because it changed after
 * rsync sent it is pending again, and the run after the cursor reads its newer record. It needs no retry-list entry,
 * and its failure no alarm. An {@code OVERFLOW} for the root makes the next run full, which covers every path. A newer
 * record must send at least what the entry would: a directory's own record does not send what a subtree entry holds,
 * and one without written content does not compare a content entry by content.
 *
 * <p>Safe against loss: only a record after the captured end counts, and the cursor commits to that end, so the record
 * stays unread until a later run. Not thread-safe; confined to the run's thread.
 */
final class PendingAgain {

    /** Each path recorded after the end, and whether a record of it says its content was written. */
    private final Map<ByteBuffer, Boolean> paths = new HashMap<>();
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
        if (record.type() == RecordType.SUBTREE) {
            subtrees.add(path);
        } else {
            boolean content = record.type() != RecordType.CHANGE || record.contentWritten();
            paths.merge(path, content, Boolean::logicalOr);
        }
        return true;
    }

    /**
     * Whether the queue holds a newer record that sends what {@code entry} would: an overflow, a subtree at or above
     * it, or, for a file or a directory's own attributes, a record of its own (one that says the content was written,
     * or a deletion, for an entry compared by content).
     */
    boolean covers(RetryList.Entry entry) {
        byte[] path = entry.path();
        if (everything || subtreeAtOrAbove(path)) {
            return true;
        }
        Boolean content = paths.get(ByteBuffer.wrap(path));
        return content != null && switch (entry.kind()) {
            case FILE, DIRECTORY -> true;
            case CONTENT -> content;
            case SUBTREE, DELETION -> false;
        };
    }

    private boolean subtreeAtOrAbove(byte[] path) {
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
