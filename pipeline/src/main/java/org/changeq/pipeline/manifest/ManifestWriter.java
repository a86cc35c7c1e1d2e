package org.changeq.pipeline.manifest;

import com.lmax.disruptor.BlockingWaitStrategy;
import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.dsl.Disruptor;
import com.lmax.disruptor.dsl.ProducerType;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.changeq.pipeline.ChangeqThreads;
import org.changeq.pipeline.state.StateLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The manifest's only writer: a Disruptor ring with a single producer and one handler that
 * coalesces events and appends them to the Chronicle Queue.
 *
 * <p><b>Threading.</b> The ring has a single producer: the first thread that calls {@link #publish} or
 * {@link #publishMarker} after {@link #start} (the inotify reader) owns it, and any other thread that
 * publishes gets an {@link IllegalStateException}, checked on every call. Publishing never blocks: when the
 * ring is full the event is dropped and an {@link RecordType#OVERFLOW} record for its root is published as
 * soon as there is room again, so a loss is always recorded. The handler runs on a thread made by the
 * caller's {@link ThreadFactory} (normally {@link #WRITER_THREADS}: {@code changeq-writer}); it is the only
 * thread that appends, asserted on every append. {@link #close} and {@link #closeWithoutStop} may be called from any thread; they
 * publish nothing while the producer thread is still alive.
 *
 * <p><b>Watermark.</b> {@link #publishWatermark} passes on a time before which the producer has published
 * every change; once everything published before it is appended, the writer thread stores it in
 * {@link StateLayout#trackerWatermark()} (without fsync), for the next start's catch-up.
 *
 * <p><b>Dedupe.</b> Events for one path within a handler batch are merged and appended at the end of
 * the batch. A later event for a path whose earlier record no consumer has claimed yet
 * (see {@link ClaimBoard}) is dropped: every consumer will still read that record in a later run.
 */
public final class ManifestWriter implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ManifestWriter.class);

    /** Makes the writer thread, which the writer starts and joins in {@link #close}. */
    public static final ThreadFactory WRITER_THREADS = ChangeqThreads.factory(ManifestWriter.class, "changeq-writer");

    /** Default ring size: absorbs bursts (e.g. {@code tar x}) while the appender catches up. */
    public static final int DEFAULT_RING_SIZE = 1 << 16;
    private static final long DRAIN_TIMEOUT_SECONDS = 30;

    private final WriterLock lock;
    private final Disruptor<Slot> disruptor;
    private final RingBuffer<Slot> ring;
    private final ManifestAppender appender;
    private final InstantSource clock;
    private final List<Thread> writerThreads = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Map<String, Boolean> ringOverflowedRoots = new LinkedHashMap<>();
    private final AtomicLong ringOverflows = new AtomicLong();
    /** The producer thread: set by the first publish after {@link #start}, or by a close that comes first. */
    private final AtomicReference<Thread> producer = new AtomicReference<>();
    private volatile boolean closed;

    private ManifestWriter(WriterLock lock, LongSupplier highestClaim, int ringSize, ThreadFactory threadFactory,
                           InstantSource clock, Consumer<Throwable> onAppendFailure) {
        this.lock = lock;
        this.clock = clock;
        this.appender = new ManifestAppender(lock.queueDirectory(), highestClaim,
                new StateLayout(lock.identity().stateDirectory()).trackerWatermark());
        ThreadFactory owned = runnable -> {
            Thread thread = threadFactory.newThread(runnable);
            writerThreads.add(thread);
            return thread;
        };
        this.disruptor = new Disruptor<>(Slot::new, ringSize, owned, ProducerType.SINGLE,
                new BlockingWaitStrategy());
        disruptor.handleEventsWith(appender);
        disruptor.setDefaultExceptionHandler(new AppendFailureHandler(lock.queueDirectory(), failure -> {
            appender.markFailed();
            onAppendFailure.accept(failure);
            appender.releaseOpenWaiters();
        }));
        this.ring = disruptor.start();
    }

    /**
     * Starts the writer thread, which opens the queue (creating it if needed), and publishes a
     * {@link RecordType#START} record. Returns before the queue is open, so that the tracker walks its roots
     * while Chronicle opens; the ring holds what it observes until then ({@link #awaitQueueOpen}).
     *
     * @param lock            the queue's writer lock; the writer owns it from now on and releases it in {@link #close}.
     *                        Claims are read from the state directory the lock bound the queue to.
     * @param onAppendFailure called on the writer thread when the queue cannot be opened or an append fails
     *                        (disk full, queue unwritable); the records of that batch are lost, so the owner must stop
     *                        and let the restart's catch-up scan cover them
     */
    public static ManifestWriter start(WriterLock lock, int ringSize, ThreadFactory threadFactory,
                                       Consumer<Throwable> onAppendFailure) {
        return start(lock, ringSize, threadFactory, InstantSource.system(), onAppendFailure);
    }

    /**
     * {@link #start(WriterLock, int, ThreadFactory, Consumer)} with the clock that stamps records.
     */
    public static ManifestWriter start(WriterLock lock, int ringSize, ThreadFactory threadFactory, InstantSource clock,
                                       Consumer<Throwable> onAppendFailure) {
        return start(lock, new ClaimBoard(lock.identity().stateDirectory())::highestClaim, ringSize, threadFactory,
                clock, onAppendFailure);
    }

    /** {@link #start(WriterLock, int, ThreadFactory, InstantSource, Consumer)} reading claims through a hook. */
    static ManifestWriter start(WriterLock lock, LongSupplier highestClaim, int ringSize, ThreadFactory threadFactory,
                                InstantSource clock, Consumer<Throwable> onAppendFailure) {
        ManifestWriter writer = new ManifestWriter(lock, highestClaim, ringSize, threadFactory, clock,
                onAppendFailure);
        // Before any other thread can see the writer, so the first publisher after this still becomes the producer.
        writer.produce(RecordType.START, "", false, false, EMPTY);
        return writer;
    }

    /** The queue this writer appends to. Any thread. */
    public Path queueDirectory() {
        return lock.queueDirectory();
    }

    /**
     * Publishes a path event. The writer takes ownership of {@code path}; the caller must not change it.
     * Producer thread only; never blocks.
     */
    public void publish(RecordType type, String root, boolean directory, byte[] path) {
        if (!type.carriesPath()) {
            throw new IllegalArgumentException(type + " carries no path; use publishMarker");
        }
        offer(type, root, directory, false, path);
    }

    /**
     * Publishes a CHANGE of a file whose content was written ({@link QueueRecord#contentWritten()}). The writer
     * takes ownership of {@code path}. Producer thread only; never blocks.
     */
    public void publishContentWrite(String root, byte[] path) {
        offer(RecordType.CHANGE, root, false, true, path);
    }

    /** Publishes a record that names no path (OVERFLOW, RESCAN, ...). Producer thread only; never blocks. */
    public void publishMarker(RecordType type, String root) {
        if (type.carriesPath()) {
            throw new IllegalArgumentException(type + " needs a path; use publish");
        }
        offer(type, root, false, false, EMPTY);
    }

    /**
     * Passes on the watermark: every change made before {@code everythingPublishedBeforeMillis} has been
     * published (the producer read the kernel's event queue empty after that time, and holds nothing back).
     * Stored once everything published before this call is appended. Producer thread only; never blocks: with
     * the ring full it is skipped, which only leaves the stored watermark older.
     */
    public void publishWatermark(long everythingPublishedBeforeMillis) {
        if (!mayPublish() || !ringOverflowedRoots.isEmpty() && !publishPendingOverflows()) {
            return;
        }
        try {
            long sequence = ring.tryNext();
            ring.get(sequence).holdWatermark(everythingPublishedBeforeMillis);
            ring.publish(sequence);
        } catch (InsufficientCapacityException e) {
            // The next watermark will do.
        }
    }

    /**
     * Waits until everything published so far is appended to the queue (or an append failed). Any
     * thread; blocks at most {@code timeout}, checking every millisecond.
     *
     * @return true when appended; false after a failed append or when the timeout passed first
     */
    public boolean awaitAppended(java.time.Duration timeout) {
        long published = ring.getCursor();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (disruptor.getSequenceValueFor(appender) < published) {
            if (appender.failed() || System.nanoTime() - deadline > 0) {
                return false;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
        return !appender.failed();
    }

    /**
     * Waits until the writer thread has opened the queue. Any thread.
     *
     * @return true when open; false when the timeout passed first, or when opening failed, in which case
     *         onAppendFailure has already been told
     */
    public boolean awaitQueueOpen(java.time.Duration timeout) throws InterruptedException {
        return appender.awaitOpen(timeout.toNanos());
    }

    /** Events dropped because the ring was full (each recorded as an OVERFLOW of its root). */
    public long ringOverflows() {
        return ringOverflows.get();
    }

    /** Records appended to the queue so far. Any thread. */
    public long recordsAppended() {
        return appender.appended();
    }

    /**
     * OVERFLOW records appended so far: for a kernel queue overflow, a full ring, a watch that could not be added,
     * an unmount, a gap at start... Any thread.
     */
    public long overflowsAppended() {
        return appender.overflowsAppended();
    }

    /** Repeated events dropped by dedupe so far. Any thread. */
    public long eventsDeduplicated() {
        return appender.deduplicated();
    }

    /**
     * Appends everything published so far, then a {@link RecordType#STOP} record, closes the queue and
     * releases its lock. Call after the producer thread has stopped publishing: while it is still alive
     * (and is not the caller) nothing is published from here, STOP is left out, and the next start records
     * a gap and catches up. Idempotent.
     */
    @Override
    public void close() {
        finish(null);
    }

    /**
     * Appends what was published so far, but no STOP, closes the queue and releases its lock: the next start
     * records a gap and catches up. For a producer that failed, or that did not stop. Idempotent.
     *
     * @param reason why there is no clean stop, for the log
     */
    public void closeWithoutStop(String reason) {
        finish(reason);
    }

    private void finish(String noStopReason) {
        if (closed) {
            return;
        }
        closed = true;
        Thread current = Thread.currentThread();
        // Claiming an unowned ring here makes a producer that publishes only now fail instead of racing us.
        Thread owner = producer.compareAndExchange(null, current);
        boolean producerRunning = owner != null && owner != current && owner.isAlive();
        if (producerRunning) {
            if (noStopReason == null) {
                LOG.error("no STOP is appended: the producer thread {} is still running, and a second thread must "
                        + "not publish into the ring; the next start records a gap and catches up", owner.getName());
            }
        } else {
            // The producer has terminated (or is this thread): its overflow marks are ours to publish now.
            for (String root : ringOverflowedRoots.keySet()) {
                offerBlocking(RecordType.OVERFLOW, root, EMPTY);
            }
            ringOverflowedRoots.clear();
            if (noStopReason == null) {
                offerBlocking(RecordType.STOP, "", EMPTY);
            }
        }
        if (noStopReason != null) {
            LOG.error("no STOP is appended: {}; the next start records a gap and catches up", noStopReason);
        }
        // Wait for the appends rather than Disruptor.shutdown(): that one ignores a handler whose
        // thread has not started running yet and would drop its whole backlog.
        boolean drained = awaitAppended(java.time.Duration.ofSeconds(DRAIN_TIMEOUT_SECONDS));
        if (appender.failed()) {
            LOG.error("no STOP was appended: an append failed before, so the next start records a gap and "
                    + "catches up from the last record that reached the queue");
        } else if (!drained) {
            LOG.error("the queue writer did not drain within {} s; records still in the ring are lost "
                    + "and the next start will record a gap", DRAIN_TIMEOUT_SECONDS);
        }
        disruptor.halt();
        for (Thread thread : writerThreads) {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(DRAIN_TIMEOUT_SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        appender.closeQueue();
        lock.close();
    }

    private static final byte[] EMPTY = new byte[0];

    private void offer(RecordType type, String root, boolean directory, boolean contentWritten, byte[] path) {
        if (mayPublish()) {
            produce(type, root, directory, contentWritten, path);
        }
    }

    /**
     * Checks that the caller is the producer (the first thread to publish becomes it).
     *
     * @return false once closed: a producer that outlived close() publishes into a halted ring for nothing
     */
    private boolean mayPublish() {
        Thread current = Thread.currentThread();
        Thread owner = producer.get();
        if (owner != current && (owner != null || !producer.compareAndSet(null, current))) {
            throw new IllegalStateException("only the producer thread " + producer.get().getName()
                    + " publishes to the manifest ring, not " + current.getName() + " (single producer)");
        }
        return !closed;
    }

    private void produce(RecordType type, String root, boolean directory, boolean contentWritten, byte[] path) {
        if (!ringOverflowedRoots.isEmpty() && !publishPendingOverflows()) {
            markRingOverflow(root);
            return;
        }
        try {
            long sequence = ring.tryNext();
            fill(sequence, type, root, directory, contentWritten, path);
            ring.publish(sequence);
        } catch (InsufficientCapacityException e) {
            markRingOverflow(root);
        }
    }

    private void markRingOverflow(String root) {
        ringOverflows.incrementAndGet();
        if (ringOverflowedRoots.put(root, Boolean.TRUE) == null) {
            LOG.warn("the writer's ring buffer is full: events for root '{}' are being dropped and an OVERFLOW "
                    + "is recorded, so the next sync of its routes is full; if this repeats, the queue disk is "
                    + "too slow or the ring too small", root);
        }
    }

    /** Returns whether every pending OVERFLOW was published. */
    private boolean publishPendingOverflows() {
        var pending = ringOverflowedRoots.keySet().iterator();
        while (pending.hasNext()) {
            String root = pending.next();
            try {
                long sequence = ring.tryNext();
                fill(sequence, RecordType.OVERFLOW, root, false, false, EMPTY);
                ring.publish(sequence);
                pending.remove();
            } catch (InsufficientCapacityException e) {
                return false;
            }
        }
        return true;
    }

    private void offerBlocking(RecordType type, String root, byte[] path) {
        long sequence = ring.next();
        fill(sequence, type, root, false, false, path);
        ring.publish(sequence);
    }

    private void fill(long sequence, RecordType type, String root, boolean directory, boolean contentWritten,
                      byte[] path) {
        ring.get(sequence).holdRecord(type, root, directory, contentWritten, path, clock.millis());
    }

    /** A ring slot. Written by the producer, read by the handler, ordered by the ring's sequences. */
    static final class Slot {
        /** Not a record: {@link #timeMillis} is a watermark to store once the slots before it are appended. */
        boolean watermark;
        RecordType type;
        String root;
        boolean directory;
        boolean contentWritten;
        byte[] path;
        long timeMillis;

        void holdRecord(RecordType type, String root, boolean directory, boolean contentWritten, byte[] path,
                        long timeMillis) {
            this.watermark = false;
            this.type = type;
            this.root = root;
            this.directory = directory;
            this.contentWritten = contentWritten;
            this.path = path;
            this.timeMillis = timeMillis;
        }

        void holdWatermark(long everythingPublishedBeforeMillis) {
            holdRecord(null, null, false, false, null, everythingPublishedBeforeMillis);
            this.watermark = true;
        }
    }

    /** The queue could not be opened: nothing was or will be appended by this writer. */
    public static final class QueueOpenException extends RuntimeException {
        QueueOpenException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** An append that fails (disk full, queue unwritable) is never swallowed: the owner is told. */
    private record AppendFailureHandler(Path queue, Consumer<Throwable> onAppendFailure)
            implements com.lmax.disruptor.ExceptionHandler<Slot> {
        @Override
        public void handleEventException(Throwable failure, long sequence, Slot event) {
            log("cannot append to the manifest queue", failure);
            onAppendFailure.accept(failure);
        }

        @Override
        public void handleOnStartException(Throwable failure) {
            log("the queue writer failed to start", failure);
            onAppendFailure.accept(failure);
        }

        /** A full disk is said in one sentence; anything else comes with its stack trace. */
        private void log(String what, Throwable failure) {
            Optional<String> diskFull = QueueDiskFull.explain(queue, failure);
            if (diskFull.isPresent()) {
                LOG.error("{}: {}", what, diskFull.get());
            } else {
                LOG.error("{}: {}", what, failure.toString(), failure);
            }
        }

        @Override
        public void handleOnShutdownException(Throwable failure) {
            LOG.error("the queue writer failed while stopping: {}", failure.toString(), failure);
        }
    }
}
