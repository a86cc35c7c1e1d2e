package org.changeq.pipeline.manifest;

import java.util.Arrays;
import org.changeq.pipeline.ByteStrings;

/**
 * One manifest record as stored in the queue.
 *
 * @param type      what happened
 * @param root      the configured root's name; empty for records that concern the whole tracker (START, STOP)
 * @param timeMillis wall-clock time the tracker observed it (informational only; correctness never depends on it)
 * @param directory whether the path named a directory when observed
 * @param path      the path relative to the root as raw bytes, no leading slash; empty for the root itself
 *                  and for records that carry no path. Never decoded: file names are byte sequences.
 * @param contentWritten for a CHANGE of a file: the tracker saw its content written (or the name newly given
 *                  content: created, renamed or moved in), not only its metadata change. Such a file may differ
 *                  from the destination's copy while its size and modification time match it, so a sync compares
 *                  it by content.
 */
public record QueueRecord(RecordType type, String root, long timeMillis, boolean directory, byte[] path,
                          boolean contentWritten) {

    private static final byte[] NO_PATH = new byte[0];

    public QueueRecord {
        if (type == null || root == null || path == null) {
            throw new NullPointerException("type, root and path must be set");
        }
    }

    /** A record without a content write. */
    public QueueRecord(RecordType type, String root, long timeMillis, boolean directory, byte[] path) {
        this(type, root, timeMillis, directory, path, false);
    }

    public static QueueRecord marker(RecordType type, String root, long timeMillis) {
        return new QueueRecord(type, root, timeMillis, false, NO_PATH);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof QueueRecord that
                && type == that.type
                && root.equals(that.root)
                && timeMillis == that.timeMillis
                && directory == that.directory
                && contentWritten == that.contentWritten
                && Arrays.equals(path, that.path);
    }

    @Override
    public int hashCode() {
        return (type.hashCode() * 31 + root.hashCode()) * 31 + Arrays.hashCode(path);
    }

    @Override
    public String toString() {
        return type + " " + root + " " + ByteStrings.escape(path) + (directory ? "/" : "")
                + (contentWritten ? " (content written)" : "");
    }
}
