package org.changeq.pipeline.manifest;

import java.io.File;
import java.nio.file.Path;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.TailerDirection;
import net.openhft.chronicle.queue.impl.RollingResourcesCache;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;

/**
 * Read-only access to the manifest for consumers (the sync) and the inspection tool. Opens the
 * queue read-only and takes no lock, so it never blocks the writer or another reader.
 *
 * <p>Not thread-safe: one reader per thread. Indexes are Chronicle indexes: increasing, but not
 * contiguous across roll cycles.
 */
public final class ManifestReader implements AutoCloseable {

    /** "Before the first record": read from the start of the queue. */
    public static final long NO_INDEX = -1;

    private final SingleChronicleQueue queue;
    private final RecordCodec.RootNames rootNames = new RecordCodec.RootNames();

    private ManifestReader(SingleChronicleQueue queue) {
        this.queue = queue;
    }

    /**
     * @throws QueueNotFoundException when the directory is missing or not a changeq queue
     */
    public static ManifestReader open(Path queueDirectory) {
        return new ManifestReader(Queues.openForReading(queueDirectory));
    }

    /** The queue's directory. */
    public Path directory() {
        return queue.file().toPath();
    }

    /** Index of the last record, or {@link #NO_INDEX} when the queue is empty. */
    public long lastIndex() {
        long last = queue.lastIndex();
        return last < 0 ? NO_INDEX : last;
    }

    /** Index of the first record still on disk, or {@link #NO_INDEX} when the queue is empty. */
    public long firstIndex() {
        long first = queue.firstIndex();
        return first == Long.MAX_VALUE || first < 0 ? NO_INDEX : first;
    }

    /** The roll cycle (queue file) an index belongs to. */
    public int cycleOf(long index) {
        return queue.rollCycle().toCycle(index);
    }

    /**
     * The queue file that holds a roll cycle's records, whether or not it exists; named by the
     * queue's own roll cycle and epoch, so retention never guesses at file names.
     */
    public Path fileOfCycle(int cycle) {
        File directory = queue.file();
        RollingResourcesCache names = new RollingResourcesCache(queue.rollCycle(), queue.epoch(),
                name -> new File(directory, name + SingleChronicleQueue.SUFFIX), File::getName);
        return names.resourceFor(cycle).path.toPath();
    }

    /**
     * Whether every record after {@code afterIndex} is still on disk, i.e. retention has not deleted
     * the queue file that held the records just after it.
     */
    public boolean retainsRecordsAfter(long afterIndex) {
        long first = firstIndex();
        return afterIndex == NO_INDEX || first == NO_INDEX || cycleOf(afterIndex) >= cycleOf(first);
    }

    /** Receives records in queue order. */
    @FunctionalInterface
    public interface RecordVisitor {
        /** @return false to stop reading */
        boolean visit(long index, QueueRecord record);
    }

    /** Receives records in queue order, decoded into one reused {@link RecordView}. */
    @FunctionalInterface
    public interface RecordViewVisitor {
        /** @return false to stop reading */
        boolean visit(long index, RecordView record);
    }

    /**
     * Visits the records with {@code afterIndex < index <= upToIndex}, in order.
     *
     * @return the index of the last record visited, or {@code afterIndex} if none was
     * @throws RecordCodec.RecordFormatException when a record was written by an unknown format version
     */
    public long read(long afterIndex, long upToIndex, RecordVisitor visitor) {
        return read(afterIndex, false, upToIndex, copying(visitor));
    }

    /** Visits the records with {@code fromIndex <= index <= upToIndex}, in order. */
    public long readFrom(long fromIndex, long upToIndex, RecordVisitor visitor) {
        return read(fromIndex, true, upToIndex, copying(visitor));
    }

    private static RecordViewVisitor copying(RecordVisitor visitor) {
        return (index, view) -> visitor.visit(index, view.toRecord());
    }

    /**
     * Like {@link #read(long, long, RecordVisitor)}, without allocating per record: the view the
     * visitor gets is refilled for the next record.
     */
    public long readViews(long afterIndex, long upToIndex, RecordViewVisitor visitor) {
        return read(afterIndex, false, upToIndex, visitor);
    }

    /** The index of the {@code count}-th record from the end, or {@link #NO_INDEX} when there are fewer. */
    public long indexFromEnd(int count) {
        try (ExcerptTailer tailer = queue.createTailer()) {
            tailer.direction(TailerDirection.BACKWARD).toEnd();
            long found = NO_INDEX;
            int seen = 0;
            while (seen < count) {
                try (DocumentContext context = tailer.readingDocument()) {
                    if (!context.isPresent()) {
                        return NO_INDEX;
                    }
                    if (!context.isMetaData()) {
                        found = context.index();
                        seen++;
                    }
                }
            }
            return found;
        }
    }

    private long read(long startIndex, boolean inclusive, long upToIndex, RecordViewVisitor visitor) {
        RecordView view = new RecordView();
        long last = inclusive ? NO_INDEX : startIndex;
        long afterIndex = inclusive ? startIndex - 1 : startIndex;
        try (ExcerptTailer tailer = queue.createTailer()) {
            position(tailer, startIndex);
            while (true) {
                try (DocumentContext context = tailer.readingDocument()) {
                    if (!context.isPresent()) {
                        break;
                    }
                    if (context.isMetaData()) {
                        continue;
                    }
                    long index = context.index();
                    if (index <= afterIndex) {
                        continue;
                    }
                    if (index > upToIndex) {
                        context.rollbackOnClose();
                        break;
                    }
                    RecordCodec.read(context.wire().bytes(), rootNames, view);
                    last = index;
                    if (!visitor.visit(index, view)) {
                        break;
                    }
                }
            }
        }
        return last;
    }

    /**
     * Follows the queue after {@code afterIndex} ({@link #NO_INDEX}: from the start). The tail belongs to this reader
     * and must be closed before it.
     */
    public Tail tail(long afterIndex) {
        return new Tail(queue.createTailer(), afterIndex);
    }

    /**
     * The records appended after a position, as they come: each {@link #readNew} visits what was appended since the
     * last call and returns at once. Chronicle's tailers do not block, so the caller decides how long to wait between
     * calls. One unnamed tailer stays open, positioned where the last call stopped; it persists nothing, so following
     * never moves a cursor. Not thread-safe: one thread follows.
     */
    public final class Tail implements AutoCloseable {
        private final ExcerptTailer tailer;
        private final RecordView view = new RecordView();
        private long last;

        private Tail(ExcerptTailer tailer, long afterIndex) {
            this.tailer = tailer;
            moveTo(afterIndex);
        }

        /** Continues after {@code afterIndex} instead, ahead of or behind where the tail is. */
        public void moveTo(long afterIndex) {
            position(tailer, afterIndex);
            last = afterIndex;
        }

        /** The index of the last record visited, or where the tail was put. */
        public long lastIndex() {
            return last;
        }

        /**
         * Visits the records appended since the last call, in order, until there are no more or the visitor returns
         * false (the record it returned false for counts as read).
         *
         * @return how many records were visited
         */
        public int readNew(RecordViewVisitor visitor) {
            int visited = 0;
            while (true) {
                try (DocumentContext context = tailer.readingDocument()) {
                    if (!context.isPresent()) {
                        return visited;
                    }
                    if (context.isMetaData() || context.index() <= last) {
                        continue;
                    }
                    RecordCodec.read(context.wire().bytes(), rootNames, view);
                    last = context.index();
                    visited++;
                    if (!visitor.visit(last, view)) {
                        return visited;
                    }
                }
            }
        }

        @Override
        public void close() {
            tailer.close();
        }
    }

    private void position(ExcerptTailer tailer, long index) {
        if (index == NO_INDEX || !tailer.moveToIndex(index)) {
            // moveToIndex can answer false at a roll-cycle boundary or when the cycle was deleted;
            // reading from the start and skipping is always correct.
            tailer.toStart();
        }
    }

    @Override
    public void close() {
        queue.close();
    }
}
