package org.changeq.pipeline.manifest;

import java.util.function.LongSupplier;

/**
 * When the writer may drop a path event because of an earlier record of the same path: the earlier record
 * covers the event, no ancestor of the path was deleted or replaced by a non-directory after it (a sync leaves
 * out a path recorded before such an ancestor record, so the earlier record would not send the re-created
 * path), and it lies above the highest consumer claim, so no consumer has claimed it yet and every consumer's
 * next run reads it and copies the path after the change. Comparing against a lower claim would be wrong: a
 * faster consumer may already have read that record. Stateless.
 */
final class DedupeRule {

    private DedupeRule() {
    }

    /**
     * @param ancestorStopped the index of the last record that deleted an ancestor of the path or named one as a
     *                        non-directory, whatever came after it; read only when the earlier record covers the
     *                        event
     * @param highestClaim    read only when the earlier record covers the event and no ancestor record stands
     *                        in the way (reading claims lists a directory), and only after the event was
     *                        observed: a claim published before that is seen, one published later belongs to a
     *                        run that reads the earlier record
     */
    static boolean mayDrop(RecordType earlier, boolean earlierContentWritten, long earlierIndex, RecordType later,
                           boolean laterContentWritten, LongSupplier ancestorStopped, LongSupplier highestClaim) {
        return covers(earlier, earlierContentWritten, later, laterContentWritten)
                && ancestorStopped.getAsLong() < earlierIndex
                && earlierIndex > highestClaim.getAsLong();
    }

    /**
     * A change is covered by an earlier change or subtree of its path, a subtree only by a subtree. A content write
     * only by an earlier content write: a sync compares a path by content only if a record of it says so, and a
     * subtree is sent with rsync's quick check.
     */
    static boolean covers(RecordType earlier, boolean earlierContentWritten, RecordType later,
                          boolean laterContentWritten) {
        if (later == RecordType.CHANGE && laterContentWritten) {
            return earlier == RecordType.CHANGE && earlierContentWritten;
        }
        return later == RecordType.CHANGE && (earlier == RecordType.CHANGE || earlier == RecordType.SUBTREE)
                || later == RecordType.SUBTREE && earlier == RecordType.SUBTREE;
    }
}
