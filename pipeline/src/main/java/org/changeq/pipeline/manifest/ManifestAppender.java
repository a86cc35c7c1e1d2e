package org.changeq.pipeline.manifest;

import com.lmax.disruptor.EventHandler;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;
import org.changeq.pipeline.manifest.ManifestWriter.Slot;
import org.changeq.pipeline.state.StateDirectory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ring's one handler and the queue's only appender: merges each batch's events per path, drops a repeat only
 * when {@link DedupeRule} allows it, appends at the end of the batch, and stores the watermark once everything
 * published before it is appended.
 *
 * <p>Confined to the writer thread, which {@link ManifestWriter}'s Disruptor runs it on: that thread is the only
 * one that appends, asserted on every append. Other threads only wait for the queue to open and read the
 * counters and the failure flag.
 */
final class ManifestAppender implements EventHandler<Slot> {

    private static final Logger LOG = LoggerFactory.getLogger(ManifestAppender.class);

    /** Batches up to this many paths reuse the merge map; larger ones leave a fresh map behind. */
    private static final int REUSED_BATCH_MAP_LIMIT = 64;
    private static final long NO_WATERMARK = Long.MIN_VALUE;

    private final Path queueDirectory;
    /** Set once by the writer thread; read by others after {@link #awaitOpen} or after joining it. */
    private volatile SingleChronicleQueue queue;
    private ExcerptAppender excerptAppender;
    /** Released once the queue is open, or once the failure to open it has been reported. */
    private final CountDownLatch openSettled = new CountDownLatch(1);
    private final LongSupplier highestClaim;
    private final LongSupplier claimOfBatch = this::claimOfBatch;
    private LinkedHashMap<PathKey, Slot> batch = new LinkedHashMap<>();
    private final RecentRecords recent = new RecentRecords();
    private final AtomicLong appended = new AtomicLong();
    private final AtomicLong overflowsAppended = new AtomicLong();
    private final AtomicLong deduplicated = new AtomicLong();
    /**
     * Set on the first failed append. Nothing is appended after it: the records of the failed batch are
     * lost, so the queue must end with the last record before them, which the restart catches up from.
     */
    private volatile boolean failed;
    private Thread writerThread;
    /** The highest consumer claim, read at most once per batch and only when a repeat could be dropped. */
    private long claim;
    private boolean claimRead;
    /** The root of the OVERFLOW appended last, while nothing else was appended after it in this batch. */
    private String overflowJustAppended;

    private final IndexFile watermarkFile;
    private long watermark = NO_WATERMARK;
    private boolean watermarkWriteFailed;
    /** The last read of the claims failed, and that was logged. */
    private boolean claimsUnreadable;

    ManifestAppender(Path queueDirectory, LongSupplier highestClaim, IndexFile watermarkFile) {
        this.queueDirectory = queueDirectory;
        this.highestClaim = highestClaim;
        this.watermarkFile = watermarkFile;
    }

    /**
     * Waits until the queue is open, or until the failure to open it is settled. Any thread.
     *
     * @return true when open
     */
    boolean awaitOpen(long timeoutNanos) throws InterruptedException {
        return openSettled.await(timeoutNanos, TimeUnit.NANOSECONDS) && queue != null;
    }

    /** Nothing is appended from now on: the first step of the writer's exception handler, before it tells the owner. */
    void markFailed() {
        failed = true;
    }

    /** Lets {@link #awaitOpen} return after a failure, once the owner has been told of it. */
    void releaseOpenWaiters() {
        openSettled.countDown();
    }

    /** Any thread. */
    boolean failed() {
        return failed;
    }

    /** Records appended so far. Any thread. */
    long appended() {
        return appended.get();
    }

    /** OVERFLOW records appended so far, whatever lost the events they stand for. Any thread. */
    long overflowsAppended() {
        return overflowsAppended.get();
    }

    /** Repeated events dropped so far. Any thread. */
    long deduplicated() {
        return deduplicated.get();
    }

    /** Closes the queue, if it was opened. Only after the writer thread has ended. */
    void closeQueue() {
        if (queue != null) {
            queue.close();
        }
    }

    /** A failure here reaches the exception handler, which marks the appender failed: nothing is appended. */
    @Override
    public void onStart() {
        writerThread = Thread.currentThread();
        try {
            SingleChronicleQueue opening = Queues.openForWriting(queueDirectory);
            excerptAppender = opening.createAppender();
            queue = opening;
        } catch (RuntimeException | Error e) {
            // Chronicle's static initialisers fail with Errors too, e.g. when the JVM is shutting down.
            throw new ManifestWriter.QueueOpenException("cannot open the manifest queue " + queueDirectory + ": " + e
                    + "; check that it is a changeq queue directory and writable", e);
        }
        openSettled.countDown();
    }

    @Override
    public void onEvent(Slot slot, long sequence, boolean endOfBatch) {
        if (failed) {
            clearBatch();
            slot.path = null;
            return;
        }
        if (slot.watermark) {
            // Every slot before it is appended by the end of this batch at the latest.
            watermark = Math.max(watermark, slot.timeMillis);
        } else if (slot.type.carriesPath() && endOfBatch && batch.isEmpty()) {
            // The usual case while the writer keeps up: a batch of one event, nothing to merge.
            overflowJustAppended = null;
            claimRead = false;
            appendUnlessRecorded(slot.type, slot.root, slot.directory, slot.contentWritten, slot.path,
                    PathKey.hashOf(slot.root, slot.path), slot.timeMillis);
        } else if (slot.type.carriesPath()) {
            merge(slot);
        } else {
            // Markers are ordering barriers: everything observed before them is appended first.
            flushBatch();
            if (slot.type == RecordType.OVERFLOW && slot.root.equals(overflowJustAppended)) {
                // A storm of kernel overflows arrives as runs of identical markers. The one just
                // appended, in this batch, is read together with this one by any consumer, and the
                // full sync it forces starts after both losses happened.
                deduplicated.incrementAndGet();
            } else {
                append(slot.type, slot.root, slot.timeMillis, false, false, slot.path);
                overflowJustAppended = slot.type == RecordType.OVERFLOW ? slot.root : null;
                if (slot.type == RecordType.OVERFLOW) {
                    overflowsAppended.incrementAndGet();
                }
            }
        }
        slot.path = null;
        if (endOfBatch) {
            flushBatch();
            overflowJustAppended = null;
            storeWatermark();
        }
    }

    private void storeWatermark() {
        if (watermark == NO_WATERMARK) {
            return;
        }
        try {
            watermarkFile.writeUnsynced(watermark);
            watermarkWriteFailed = false;
        } catch (IOException | StateDirectory.Refused e) {
            // A link planted there must not stop the recording: the next start refuses it, with the fix.
            if (!watermarkWriteFailed) {
                LOG.warn("cannot store the watermark in {} ({}); a restart catches up from an older time than "
                        + "needed", watermarkFile.path(), e.getMessage());
            }
            watermarkWriteFailed = true;
        }
        watermark = NO_WATERMARK;
    }

    private void merge(Slot slot) {
        PathKey key = PathKey.of(slot.root, slot.path);
        Slot pending = batch.get(key);
        if (pending == null) {
            Slot copy = new Slot();
            copy.type = slot.type;
            copy.root = slot.root;
            copy.directory = slot.directory;
            copy.contentWritten = slot.contentWritten;
            copy.path = slot.path;
            copy.timeMillis = slot.timeMillis;
            batch.put(key, copy);
            return;
        }
        if (pending.directory && slot.type != RecordType.DELETE && !slot.directory) {
            // The directory went and a file or link took its name: its deletion and the records of paths below it are
            // appended first, as they happened, so that a sync sees the directory's end.
            flushBatch();
            merge(slot);
            return;
        }
        deduplicated.incrementAndGet();
        boolean directoryGoes = pending.directory && slot.type == RecordType.DELETE;
        // A change inside a pending subtree is covered by it; otherwise the latest state wins
        // (DELETE then CHANGE is a re-creation, CHANGE then DELETE a deletion).
        if (!(pending.type == RecordType.SUBTREE && slot.type == RecordType.CHANGE)) {
            pending.type = slot.type;
        }
        pending.directory = slot.directory;
        if (directoryGoes) {
            // Appended after the records of paths below it that this batch holds: a sync leaves out a path whose
            // ancestor's later record says it is no longer a directory, and only the order can say "later".
            batch.remove(key);
            batch.put(key, pending);
        }
        // Kept through later events: a write followed by a metadata change still needs its content compared.
        pending.contentWritten |= slot.contentWritten;
        pending.timeMillis = slot.timeMillis;
    }

    private void flushBatch() {
        if (batch.isEmpty()) {
            return;
        }
        overflowJustAppended = null;
        try {
            claimRead = false;
            for (Map.Entry<PathKey, Slot> entry : batch.entrySet()) {
                PathKey key = entry.getKey();
                Slot slot = entry.getValue();
                appendUnlessRecorded(slot.type, key.root, slot.directory, slot.contentWritten, key.path, key.hash,
                        slot.timeMillis);
            }
        } finally {
            clearBatch();
        }
    }

    /** Appends a path record, unless an earlier record that no consumer has claimed yet covers it. */
    private void appendUnlessRecorded(RecordType type, String root, boolean directory, boolean contentWritten,
                                      byte[] path, int hash, long timeMillis) {
        int earlier = recent.find(root, path, hash);
        if (earlier != RecentRecords.NOT_FOUND
                && DedupeRule.mayDrop(recent.typeAt(earlier), recent.contentWrittenAt(earlier),
                recent.indexAt(earlier), type, contentWritten, () -> ancestorStopped(root, path), claimOfBatch)) {
            deduplicated.incrementAndGet();
            return;
        }
        long index = append(type, root, timeMillis, directory, contentWritten, path);
        recent.remember(earlier, root, path, hash, index, type, directory, contentWritten);
    }

    /**
     * The last index at which a remembered record deleted an ancestor of {@code path} or named one as a
     * non-directory. An ancestor forgotten with all the rest is harmless: the earlier record of the path went with
     * it, so nothing is dropped against that.
     */
    private long ancestorStopped(String root, byte[] path) {
        long stopped = RecentRecords.NEVER_STOPPED;
        int rootHash = root.hashCode() * 31;
        int prefixHash = 1;
        for (int i = 0; i < path.length; i++) {
            if (path[i] == '/' && i > 0) {
                int ancestor = recent.find(root, path, i, rootHash + prefixHash);
                if (ancestor != RecentRecords.NOT_FOUND) {
                    stopped = Math.max(stopped, recent.stoppedAt(ancestor));
                }
            }
            // Arrays.hashCode of the prefix so far, as PathKey hashes whole paths.
            prefixHash = 31 * prefixHash + path[i];
        }
        return stopped;
    }

    /**
     * HashMap.clear() zeroes the whole table, which keeps the size of the largest batch ever merged, and after
     * one burst every later one-event batch would pay for clearing it. A map that grew past small is dropped
     * instead.
     */
    private void clearBatch() {
        if (batch.size() > REUSED_BATCH_MAP_LIMIT) {
            batch = new LinkedHashMap<>();
        } else {
            batch.clear();
        }
    }

    /** The highest claim, read at most once per batch: every event of the batch was observed before. */
    private long claimOfBatch() {
        if (!claimRead) {
            claim = readClaim();
            claimRead = true;
        }
        return claim;
    }

    private long readClaim() {
        try {
            long highest = highestClaim.getAsLong();
            if (claimsUnreadable) {
                claimsUnreadable = false;
                LOG.info("consumer claims are readable again; deduplicating against earlier records again");
            }
            return highest;
        } catch (RuntimeException e) {
            // Every batch reads the claims: one warning per failure, not one per batch while it lasts.
            if (!claimsUnreadable) {
                claimsUnreadable = true;
                LOG.warn("cannot read consumer claims ({}); not deduplicating against earlier records until they "
                        + "are readable again", e.getMessage());
            }
            return Long.MAX_VALUE;
        }
    }

    private long append(RecordType type, String root, long timeMillis, boolean directory, boolean contentWritten,
                        byte[] path) {
        assert Thread.currentThread() == writerThread : "only the writer thread appends to the manifest";
        try (DocumentContext context = excerptAppender.writingDocument()) {
            RecordCodec.write(context.wire().bytes(), type, root, timeMillis, directory, contentWritten, path,
                    path.length);
        }
        appended.incrementAndGet();
        return excerptAppender.lastIndexAppended();
    }

    /** The identity of a path record for merging: root and path bytes. */
    private record PathKey(String root, byte[] path, int hash) {
        static PathKey of(String root, byte[] path) {
            return new PathKey(root, path, hashOf(root, path));
        }

        /** {@code ancestorStopped} computes the same for each ancestor: keep the two alike. */
        static int hashOf(String root, byte[] path) {
            return root.hashCode() * 31 + Arrays.hashCode(path);
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof PathKey that && hash == that.hash && root.equals(that.root)
                    && Arrays.equals(path, that.path);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }
}
