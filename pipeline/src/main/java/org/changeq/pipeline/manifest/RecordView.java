package org.changeq.pipeline.manifest;

import java.util.Arrays;

/**
 * One queue record decoded in place: the reader refills the same view for every record, so reading
 * a large backlog allocates nothing per record. The path bytes are {@code pathBuffer()[0,
 * pathLength())} and, like every field, valid only until the next record is read; {@link #toRecord}
 * keeps a copy. Not thread-safe.
 */
public final class RecordView {

    private RecordType type;
    private String root;
    private long timeMillis;
    private boolean directory;
    private boolean contentWritten;
    private byte[] path = new byte[256];
    private int pathLength;

    public RecordType type() {
        return type;
    }

    public String root() {
        return root;
    }

    public long timeMillis() {
        return timeMillis;
    }

    public boolean directory() {
        return directory;
    }

    public boolean contentWritten() {
        return contentWritten;
    }

    /** The bytes the path occupies from index 0; longer than the path. */
    public byte[] pathBuffer() {
        return path;
    }

    public int pathLength() {
        return pathLength;
    }

    public QueueRecord toRecord() {
        return new QueueRecord(type, root, timeMillis, directory, Arrays.copyOf(path, pathLength), contentWritten);
    }

    /** Holds a copy of {@code record}. */
    public RecordView set(QueueRecord record) {
        set(record.type(), record.root(), record.timeMillis(), record.directory(), record.contentWritten());
        pathBuffer(record.path().length);
        System.arraycopy(record.path(), 0, path, 0, pathLength);
        return this;
    }

    void set(RecordType type, String root, long timeMillis, boolean directory, boolean contentWritten) {
        this.type = type;
        this.root = root;
        this.timeMillis = timeMillis;
        this.directory = directory;
        this.contentWritten = contentWritten;
    }

    /** Sets the path length and returns a buffer with room for it, to fill from index 0. */
    byte[] pathBuffer(int length) {
        if (length > path.length) {
            path = new byte[Math.max(length, path.length * 2)];
        }
        pathLength = length;
        return path;
    }
}
