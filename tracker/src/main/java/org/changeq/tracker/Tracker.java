package org.changeq.tracker;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.changeq.pipeline.ChangeqThreads;
import org.changeq.pipeline.DirectoryAccess;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.PermissionDenied;
import org.changeq.pipeline.PathBytes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.ConfigException;
import org.changeq.pipeline.config.RootConfig;
import org.changeq.pipeline.manifest.IndexFile;
import org.changeq.pipeline.manifest.ManifestWriter;
import org.changeq.pipeline.manifest.QueueDiskFull;
import org.changeq.pipeline.manifest.QueueRefusedException;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.manifest.WriterLock;
import org.changeq.pipeline.state.StateDirectory;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.state.TrackerRootsFile;
import org.changeq.tracker.SystemdNotifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running tracker: watches every configured root and appends what changes to the manifest queue.
 *
 * <p><b>Threads.</b> It owns two: {@code changeq-inotify} walks the roots, reads inotify and is the single
 * producer of the {@link ManifestWriter}; {@code changeq-writer} appends to the queue. {@link #close()}
 * wakes the reader, joins it, lets the writer append everything observed and a STOP record, and joins it.
 * STOP says the tracker saw everything until then, so it is left out when the reader failed or did not stop:
 * the next start then records a gap and catches up. All public methods may be called from any thread.
 *
 * <p><b>Reload.</b> {@link #requestReload()} (SIGHUP, {@code systemctl reload}) wakes the reader, which reads the
 * configuration again between two reads of inotify: roots added are watched (with an OVERFLOW), roots removed are
 * released, roots whose real path or excludes changed are watched anew (with an OVERFLOW). A configuration that is
 * invalid, names another queue or state directory, or a root that cannot be watched is refused with one log line and
 * the configuration in force stays: the queue and its state directory are bound to this process by their locks.
 *
 * <p><b>Errors.</b> {@link #start} throws {@link TrackerStartException} for anything a restart cannot fix.
 * A failure while running (a libc call the tracker cannot work around, an append that fails) stops the
 * reader; {@link #awaitTermination()} then returns the exit code and the log says why.
 */
public final class Tracker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Tracker.class);

    /** How long the reader waits for more events while a MOVED_FROM waits for its MOVED_TO. */
    private static final int MOVE_PAIRING_MILLIS = (int) TimeUnit.NANOSECONDS.toMillis(PendingMoves.PAIRING_NANOS);
    private static final Duration QUEUE_OPEN_POLL = Duration.ofSeconds(1);
    /**
     * How long the reader lets events gather once some are readable. A reader that keeps up reads a burst a few
     * events at a time, and wakes the writer for each few; a millisecond later one read takes them all, and more
     * of a file's CREATE, MODIFY and CLOSE_WRITE fold into one record.
     */
    private static final long EVENT_GATHER_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(60);
    /** How many full event buffers (64 KiB each) the reader reads at a stop before it gives up on an empty queue. */
    private static final int STOP_DRAIN_BUFFERS = 1024;
    /** How often at most the reader passes a watermark to the writer, which stores each without fsync. */
    private static final long WATERMARK_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long NOT_DRAINED = Long.MIN_VALUE;
    /** How long the reader waits for the catch-up records to reach the queue before it forgets the scan. */
    private static final Duration CATCH_UP_APPEND_TIMEOUT = Duration.ofSeconds(30);

    private final Libc libc;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final TreeWatcher watcher;
    private final ManifestWriter writer;
    private final Thread reader;
    private final SystemdNotifier systemd = SystemdNotifier.fromEnvironment();
    private final TrackerStatus status;
    private final List<WatchTree.Root> roots;
    /** Roots the tracker that ran before on this state directory selected otherwise: see {@link #selectedAnew}. */
    private final List<String> rootsSelectedAnew;
    private final ConfigSource configSource;
    /** Reader thread only: the configuration in force. */
    private ChangeqConfig config;
    private final CatchUp.Decision catchUp;
    private final IndexFile catchUpFile;
    private final CountDownLatch ready = new CountDownLatch(1);
    private final CountDownLatch readerStopped = new CountDownLatch(1);
    private volatile boolean watching;
    private volatile boolean stopRequested;
    private volatile int exitCode = ExitCodes.OK;
    /** Set by the reader when it stops for any reason but a requested stop: what it had not read is unrecorded. */
    private volatile boolean readerFailed;
    /** The stop left events unread or a walk unfinished: a STOP would hide what they miss. */
    private volatile boolean stopIncomplete;
    private boolean closed;
    /** Reader thread only: the watermark not yet passed to the writer, or {@link #NOT_DRAINED}. */
    private long drainedBeforeMillis = NOT_DRAINED;
    /** Reader thread only. */
    private long watermarkPublishedNanos = System.nanoTime() - WATERMARK_INTERVAL_NANOS;

    private Tracker(ChangeqConfig config, ConfigSource configSource, List<WatchTree.Root> roots,
                    List<String> rootsSelectedAnew, FileChannel lockChannel, FileLock lock, ManifestWriter writer, WriterFailures writerFailures,
                    Libc libc, CatchUp.Decision catchUp, IndexFile catchUpFile, TrackerRootsFile rootsFile) {
        this.libc = libc;
        this.config = config;
        this.configSource = configSource;
        this.roots = roots;
        this.rootsSelectedAnew = rootsSelectedAnew;
        this.catchUp = catchUp;
        this.catchUpFile = catchUpFile;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.writer = writer;
        RecordSink sink = new RecordSink() {
            @Override
            public void publish(RecordType type, String root, boolean directory, byte[] path) {
                writer.publish(type, root, directory, path);
            }

            @Override
            public void publishContentWrite(String root, byte[] path) {
                writer.publishContentWrite(root, path);
            }

            @Override
            public void publishMarker(RecordType type, String root) {
                writer.publishMarker(type, root);
            }
        };
        this.status = new TrackerStatus(systemd, rootsFile, this::watchedDirectories, System::nanoTime);
        this.watcher = new TreeWatcher(libc, sink, roots, Libc.WatchLimit.current(), () -> stopRequested,
                System::nanoTime, status);
        this.reader = ChangeqThreads.newThread(Tracker.class, "changeq-inotify", this::read);
        writerFailures.deliverTo(this::writerFailed);
    }

    /** Where a reload reads the configuration from. */
    @FunctionalInterface
    public interface ConfigSource {
        /** The configuration as it is now; a {@link ConfigException} names the line or field and the fix. */
        ChangeqConfig load() throws ConfigException;
    }

    /**
     * Holds a failure of the writer thread until the tracker exists to handle it: the writer starts, and
     * opens the queue, before the tracker is built.
     */
    private static final class WriterFailures implements Consumer<Throwable> {
        private Consumer<Throwable> handler;
        private Throwable early;

        @Override
        public synchronized void accept(Throwable failure) {
            if (handler != null) {
                handler.accept(failure);
            } else if (early == null) {
                early = failure;
            }
        }

        synchronized void deliverTo(Consumer<Throwable> tracker) {
            handler = tracker;
            if (early != null) {
                tracker.accept(early);
            }
        }
    }

    /**
     * Checks the roots, takes the queue's writer lock (which binds the queue to the state directory) and the
     * tracker lock in the state directory, and starts watching. Returns at once: the reader walks the roots in the
     * background ({@link #awaitReady}).
     *
     * @throws TrackerStartException a root is missing, not a directory or unreadable; the queue or state directory
     *                               cannot be created; another writer holds the queue, or the queue belongs to
     *                               another state directory; another tracker holds the state directory; no inotify
     *                               instance
     */
    public static Tracker start(ChangeqConfig config) {
        return start(config, () -> config);
    }

    /**
     * {@link #start(ChangeqConfig)}, with {@code reloadFrom} read again at each {@link #requestReload()}.
     *
     * @throws TrackerStartException as {@link #start(ChangeqConfig)}
     */
    public static Tracker start(ChangeqConfig config, ConfigSource reloadFrom) {
        List<WatchTree.Root> roots = checkRoots(config);
        // First the queue's own lock: a refused tracker must not touch the state directory of a queue it may not
        // write, nor read that queue's end while its writer appends.
        WriterLock queueLock;
        try {
            queueLock = WriterLock.acquire(config.queue(), config.state());
        } catch (QueueRefusedException e) {
            throw new TrackerStartException(e.exitCode(), e.getMessage(), e);
        }
        FileChannel channel = null;
        ManifestWriter writer = null;
        Libc libc = null;
        Path lockFile = new StateLayout(config.state()).trackerLock();
        try {
            createDirectory(config.state(), "state");
            createDirectory(lockFile.getParent(), "lock");
            StateLayout layout = new StateLayout(config.state());
            // The lock file stays after a stop: its presence says a tracker ran on this state directory before.
            boolean ranBefore = Files.exists(lockFile);
            channel = StateDirectory.openLock(lockFile);
            FileLock lock = tryLock(channel, lockFile);
            writePid(channel);
            IndexFile catchUpFile = layout.trackerCatchUp();
            long startedMillis = System.currentTimeMillis();
            CatchUp.Decision catchUp;
            try {
                catchUp = CatchUp.decide(config.queue(), CatchUp.pending(catchUpFile), layout.trackerWatermark(),
                        ranBefore, startedMillis);
            } catch (InternalError e) {
                // Reading the queue's last record touches its mapped files, which a full disk cannot back.
                throw new TrackerStartException(ExitCodes.QUEUE_WRITE_FAILED, QueueDiskFull.explain(config.queue(), e)
                        .orElseThrow(() -> e), e);
            }
            if (catchUp.lost()) {
                LOG.error(catchUp.description());
            } else {
                LOG.info(catchUp.description());
            }
            createDirectory(catchUpFile.path().getParent(), "tracker state");
            if (catchUp.sinceMillis() != TreeWatcher.NO_CATCH_UP) {
                // Written before START: if this run dies before its scan is in the queue, the next one starts
                // from this time again, not from the records this run appended.
                writeStateFile(catchUpFile, catchUp.sinceMillis());
            }
            // What happens from now on is this run's to record, and what happened before is the catch-up's (or,
            // at a first start, the routes' first full syncs'): until the reader first keeps up, this is the
            // watermark.
            writeStateFile(layout.trackerWatermark(), startedMillis);
            WriterFailures writerFailures = new WriterFailures();
            writer = ManifestWriter.start(queueLock, ManifestWriter.DEFAULT_RING_SIZE,
                    ManifestWriter.WRITER_THREADS, writerFailures);
            // The first native call loads jnr-ffi and generates its stubs (~0.1 s): meanwhile the writer opens the queue.
            libc = Libc.open();
            // Before this run's walk publishes its own roots over the previous run's.
            List<String> rootsSelectedAnew = selectedAnew(roots, layout.trackerRoots());
            Tracker tracker = new Tracker(config, reloadFrom, roots, rootsSelectedAnew, channel, lock, writer,
                    writerFailures, libc, catchUp, catchUpFile, layout.trackerRoots());
            tracker.reader.start();
            return tracker;
        } catch (IOException e) {
            closeQuietly(channel);
            queueLock.close();
            throw new TrackerStartException(ExitCodes.QUEUE_UNAVAILABLE, "cannot open the lock file " + lockFile
                    + ": " + e.getMessage() + "; check that the state directory is writable", e);
        } catch (NativeCallException e) {
            // The writer owns the queue lock and releases it when it closes.
            writer.close();
            closeQuietly(channel);
            throw new TrackerStartException(ExitCodes.SOFTWARE, e.getMessage(), e);
        } catch (RuntimeException e) {
            if (libc != null) {
                libc.close();
            }
            if (writer != null) {
                writer.close();
            } else {
                queueLock.close();
            }
            closeQuietly(channel);
            throw e;
        }
    }

    /**
     * Waits until every root is walked and watched.
     *
     * @return true when watching; false when the timeout passed or the tracker stopped first
     */
    public boolean awaitReady(Duration timeout) throws InterruptedException {
        return ready.await(timeout.toNanos(), TimeUnit.NANOSECONDS) && watching;
    }

    /**
     * OVERFLOW records appended: whatever lost the events (a kernel queue overflow, the full writer ring, a
     * directory that could not be watched, an unmount, a gap before this start). Any thread.
     */
    public long overflows() {
        return writer.overflowsAppended();
    }

    /** Number of directories watched now. */
    public int watchedDirectories() {
        return watcher.watchedDirectories();
    }

    /**
     * Blocks until the reader stops: after {@link #close()}, or after a failure.
     *
     * @return {@link ExitCodes#OK} after a requested stop, otherwise the failure's exit code
     */
    public int awaitTermination() throws InterruptedException {
        readerStopped.await();
        return exitCode;
    }

    /** The exit code so far: {@link ExitCodes#OK} unless the tracker failed. */
    public int exitCode() {
        return exitCode;
    }

    /**
     * Asks the reader to read the configuration again, once it is done with what it does now (a walk finishes
     * first); requests that come together are one reload. Ignored once the tracker is closed. Any thread, including
     * a signal handler's.
     */
    public synchronized void requestReload() {
        if (!closed) {
            libc.requestReload();
        }
    }

    /**
     * Stops watching, appends everything observed and a STOP record, and releases the queue and the lock.
     * Without STOP when the reader failed, or did not stop within {@link #JOIN_TIMEOUT}. Idempotent; a second
     * caller waits until the first is done.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        stopRequested = true;
        libc.wake();
        join(reader);
        boolean readerStuck = reader.isAlive();
        // The writer joins its own thread.
        if (readerStuck) {
            writer.closeWithoutStop("the inotify reader did not stop within " + JOIN_TIMEOUT.toSeconds()
                    + " s (stuck in a walk of a hung mount?), and only it may publish");
            // It may still use the inotify and directory descriptors: closing them could hand their numbers to
            // other files under its feet. The process is about to exit, which closes them.
        } else {
            if (readerFailed) {
                writer.closeWithoutStop("the inotify reader failed, so events it had not read yet are not recorded");
            } else if (stopIncomplete) {
                writer.closeWithoutStop("the stop left events unread or a walk unfinished");
            } else {
                writer.close();
            }
            libc.close();
        }
        try {
            lock.release();
        } catch (IOException e) {
            LOG.warn("cannot release the tracker lock: {}", e.getMessage());
        }
        closeQuietly(lockChannel);
        LOG.info("stopped; {} records appended, {} overflows recorded", writer.recordsAppended(), overflows());
    }

    private void read() {
        try {
            for (WatchTree.Root root : roots) {
                if (catchUp.lost() || rootsSelectedAnew.contains(root.name)) {
                    writer.publishMarker(RecordType.OVERFLOW, root.name);
                }
            }
            long scanStarted = System.nanoTime();
            watcher.watchRoots(catchUp.sinceMillis());
            // The writer opened the queue while the roots were walked; ready means recorded, so wait for it.
            while (!stopRequested && !writer.awaitQueueOpen(QUEUE_OPEN_POLL)) {
                LOG.debug("the queue is not open yet");
            }
            if (!stopRequested && catchUp.sinceMillis() != TreeWatcher.NO_CATCH_UP) {
                LOG.info("catch-up scan done in {} ms: {} changed paths and {} directories sent whole",
                        (System.nanoTime() - scanStarted) / 1_000_000, watcher.catchUpChanges(),
                        watcher.catchUpSubtrees());
                forgetCatchUpOnceAppended();
            }
            if (!stopRequested) {
                watching = true;
                LOG.info(status.idleLine());
                status.ready();
                ready.countDown();
            }
            // The watchdog is pinged from this thread alone: if reading inotify hangs, systemd restarts us.
            int idleMillis = systemd.watchdogInterval().map(interval -> (int) interval.toMillis() / 2).orElse(-1);
            long nextPing = System.nanoTime();
            while (!stopRequested) {
                if (idleMillis > 0 && System.nanoTime() - nextPing >= 0) {
                    systemd.watchdog();
                    nextPing = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(idleMillis);
                }
                int timeout = watcher.hasPendingMove() ? MOVE_PAIRING_MILLIS : idleMillis;
                timeout = shorter(timeout, watcher.nanosUntilDue());
                timeout = shorter(timeout, nanosUntilWatermarkDue());
                Libc.Wake wake = libc.awaitEvents(timeout, EVENT_GATHER_NANOS, watcher, this::kernelQueueDrained);
                if (wake == Libc.Wake.TIMEOUT || wake == Libc.Wake.WOKEN) {
                    watcher.resolvePendingMove();
                } else if (wake == Libc.Wake.MOUNTS_CHANGED) {
                    watcher.mountTableChanged();
                } else if (wake == Libc.Wake.RELOAD) {
                    reload();
                    // The wait that brought the reload may also have seen the mount table change.
                    watcher.mountTableChanged();
                }
                watcher.runDueChecks();
                publishWatermarkIfDue();
                status.refresh();
            }
            // What the kernel queued before the stop was asked for belongs before the STOP, which tells the next
            // start that nothing was missed; a tree that keeps changing past the bound gets no STOP instead.
            if (!libc.drainEvents(watcher, this::kernelQueueDrained, STOP_DRAIN_BUFFERS)) {
                LOG.warn("events kept coming while stopping; no STOP is recorded, so the next start catches up");
                stopIncomplete = true;
            }
            watcher.resolvePendingMove();
            if (watcher.walkCutShort()) {
                LOG.warn("the stop cut a walk short; no STOP is recorded, so the next start catches up");
                stopIncomplete = true;
            }
            systemd.stopping();
        } catch (RuntimeException | Error e) {
            LOG.error("the inotify reader failed, stopping: {}", e.getMessage(), e);
            readerFailed = true;
            exitCode = ExitCodes.SOFTWARE;
        } catch (InterruptedException e) {
            // Nothing in the tracker interrupts its reader: whoever did wants the thread gone.
            LOG.error("the inotify reader was interrupted, stopping");
            readerFailed = true;
            exitCode = ExitCodes.SOFTWARE;
            Thread.currentThread().interrupt();
        } finally {
            ready.countDown();
            readerStopped.countDown();
        }
    }

    /**
     * Reads the configuration again and takes its roots, or refuses it with one log line that says why and keeps the
     * configuration in force. systemd sees RELOADING=1 until READY=1 either way. Reader thread.
     */
    private void reload() {
        systemd.reloading();
        try {
            ChangeqConfig next = configSource.load();
            if (!next.queue().equals(config.queue()) || !next.state().equals(config.state())) {
                LOG.error("reload refused, the configuration in force stays: the queue or state directory changed "
                        + "(queue {} -> {}, state {} -> {}); a tracker keeps both while it runs, restart it "
                        + "(systemctl restart changeq-tracker) to move them", config.queue(), next.queue(),
                        config.state(), next.state());
                return;
            }
            List<WatchTree.Root> nextRoots = checkRoots(next);
            watcher.reconfigure(nextRoots);
            config = next;
            LOG.info("configuration reloaded: {} root(s) {}", nextRoots.size(),
                    nextRoots.stream().map(root -> root.name).toList());
        } catch (ConfigException e) {
            LOG.error("reload refused, the configuration in force stays: {}", e.getMessage());
        } catch (TrackerStartException e) {
            LOG.error("reload refused, the configuration in force stays: {}", e.getMessage());
        } finally {
            status.ready();
        }
    }

    /** A read found the kernel queue empty: every event queued before {@code beforeMillis} has been handled. */
    private void kernelQueueDrained(long beforeMillis) {
        // A MOVED_FROM waiting for its MOVED_TO has been read but not published yet.
        if (!watcher.hasPendingMove()) {
            drainedBeforeMillis = beforeMillis;
        }
    }

    private long nanosUntilWatermarkDue() {
        return drainedBeforeMillis == NOT_DRAINED ? Long.MAX_VALUE
                : Math.max(0, watermarkPublishedNanos + WATERMARK_INTERVAL_NANOS - System.nanoTime());
    }

    /**
     * At most one watermark per interval, but the last one is not held back for long: the reader may go idle. Never
     * past the moment since which a root has lacked watches: what changed in its unwatched directories since its
     * last OVERFLOW is recorded nowhere, and a restart must catch up from there.
     */
    private void publishWatermarkIfDue() {
        if (drainedBeforeMillis != NOT_DRAINED && nanosUntilWatermarkDue() == 0) {
            writer.publishWatermark(Math.min(drainedBeforeMillis, watcher.incompleteSinceMillis()));
            drainedBeforeMillis = NOT_DRAINED;
            watermarkPublishedNanos = System.nanoTime();
        }
    }

    /** A poll timeout (-1: none) shortened to end after {@code nanos} at the latest (Long.MAX_VALUE: never). */
    private static int shorter(int timeoutMillis, long nanos) {
        if (nanos == Long.MAX_VALUE) {
            return timeoutMillis;
        }
        // Rounded up: a poll that ends a moment early only loops once more without anything being due.
        int millis = (int) Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(nanos + 999_999));
        return timeoutMillis < 0 ? millis : Math.min(timeoutMillis, millis);
    }

    /**
     * Removes the unfinished-catch-up file once the RESCAN records are in the queue; until then a restart
     * scans from the older time again.
     */
    private void forgetCatchUpOnceAppended() {
        if (!writer.awaitAppended(CATCH_UP_APPEND_TIMEOUT)) {
            LOG.warn("the catch-up records did not reach the queue within {} s; the next start scans from the same "
                    + "time again", CATCH_UP_APPEND_TIMEOUT.toSeconds());
            return;
        }
        try {
            StateDirectory.deleteIfExists(catchUpFile.path());
        } catch (IOException | StateDirectory.Refused e) {
            LOG.warn("cannot remove {} ({}); the next start scans from an older time than needed", catchUpFile.path(),
                    e.getMessage());
        }
    }

    /** Called on the writer thread when an append fails: stop, so the restart records the gap. */
    private void writerFailed(Throwable failure) {
        int code;
        if (failure instanceof ManifestWriter.QueueOpenException
                && QueueDiskFull.explain(writer.queueDirectory(), failure).isEmpty()) {
            code = ExitCodes.QUEUE_UNAVAILABLE;
            LOG.error("{}; stopping with exit code {}", failure.getMessage(), code);
        } else {
            code = ExitCodes.QUEUE_WRITE_FAILED;
            LOG.error("appending to the queue failed (see above: disk full or unwritable?); stopping with exit code {} "
                    + "so that systemd restarts the tracker, whose catch-up scan covers what was not recorded", code);
        }
        exitCode = code;
        stopRequested = true;
        libc.wake();
    }

    private static List<WatchTree.Root> checkRoots(ChangeqConfig config) {
        List<WatchTree.Root> roots = new ArrayList<>();
        for (RootConfig root : config.roots().values()) {
            Path path = root.path();
            String problem = rootProblem(path);
            if (problem != null) {
                throw new TrackerStartException(ExitCodes.ROOT_UNAVAILABLE, "root '" + root.name() + "': " + path
                        + " " + problem, null);
            }
            try {
                // Watches never follow symlinks, so a root given as a symlink is watched at its target.
                roots.add(new WatchTree.Root(root.name(), PathBytes.of(path.toRealPath()), root.excludes()));
            } catch (IOException e) {
                throw new TrackerStartException(ExitCodes.ROOT_UNAVAILABLE, "root '" + root.name() + "': cannot "
                        + "resolve " + path + ": " + e.getMessage(), e);
            }
        }
        return roots;
    }

    /**
     * The roots that the tracker which ran before on this state directory watched at another real path or with other
     * excludes, or did not watch: the configuration changed while no tracker ran. Its catch-up scan finds only what
     * changed since, so a path that is selected now but was not then, and has not changed since, would never be
     * recorded; an OVERFLOW makes the next sync of such a root's routes full. None when the previous tracker did not
     * say what it selected (a first start, or a roots file of an older version), and every root when its file cannot
     * be read.
     */
    private static List<String> selectedAnew(List<WatchTree.Root> roots, TrackerRootsFile file) {
        Optional<TrackerRootsFile.Snapshot> previous;
        try {
            previous = file.read();
        } catch (IOException | StateDirectory.Refused | IllegalStateException e) {
            LOG.warn("cannot tell what the tracker that ran before selected ({}); the next sync of every root's routes is "
                    + "full", e.getMessage());
            return roots.stream().map(root -> root.name).toList();
        }
        if (previous.isEmpty() || previous.get().roots().stream().anyMatch(root -> root.selection().isEmpty())) {
            return List.of();
        }
        Map<String, TrackerRootsFile.Selection> before = new HashMap<>();
        previous.get().roots().forEach(root -> before.put(root.root(), root.selection().get()));
        List<String> anew = new ArrayList<>();
        for (WatchTree.Root root : roots) {
            if (!root.selection().equals(before.get(root.name))) {
                LOG.info("root '{}' is {} since the tracker that ran before; the next sync of its routes is full",
                        root.name, before.containsKey(root.name) ? "configured otherwise (real path or excludes)"
                                : "new");
                anew.add(root.name);
            }
        }
        return anew;
    }

    /**
     * What keeps the tracker from watching the root at {@code path}, with the fix, or null. Judged by what this
     * process can do: {@link Files#exists} and {@link Files#isReadable} ask access(2), which checks the real user and
     * calls a directory the service reads through CAP_DAC_READ_SEARCH missing or unreadable.
     */
    private static String rootProblem(Path path) {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(path, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            return "does not exist; fix the path under 'roots:' or create the directory";
        } catch (IOException e) {
            return "cannot be looked at (" + e.getMessage() + "); grant this process's user search permission on the "
                    + "directories above it, or fix the path under 'roots:'";
        }
        if (!attributes.isDirectory()) {
            return "is not a directory; fix the path under 'roots:'";
        }
        if (!DirectoryAccess.canListAndSearch(path)) {
            return "cannot be listed by this process; grant its user read and search permission on it (the packaged "
                    + "unit reads through CAP_DAC_READ_SEARCH), or fix the path under 'roots:'";
        }
        return null;
    }

    private static void createDirectory(Path directory, String what) {
        try {
            StateDirectory.createDirectories(directory);
        } catch (IOException e) {
            throw new TrackerStartException(ExitCodes.QUEUE_UNAVAILABLE, "cannot create the " + what + " directory "
                    + directory + ": " + PermissionDenied.sentenceOr(e,
                    e + "; check that its parent exists and is writable by this user"), e);
        }
        if (!Files.isWritable(directory)) {
            throw new TrackerStartException(ExitCodes.QUEUE_UNAVAILABLE, "the " + what + " directory " + directory
                    + " is not writable by this user; fix its owner or mode", null);
        }
    }

    private static void writeStateFile(IndexFile file, long millis) {
        try {
            file.write(millis);
        } catch (IOException e) {
            throw new TrackerStartException(ExitCodes.QUEUE_UNAVAILABLE, "cannot write " + file.path() + ": "
                    + e.getMessage() + "; check that the state directory is writable and its disk not full", e);
        }
    }

    private static FileLock tryLock(FileChannel channel, Path lockFile) throws IOException {
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            String holder = readPid(channel);
            throw new TrackerStartException(ExitCodes.ALREADY_RUNNING, "another changeq-tracker" + holder
                    + " is running on this state directory: it holds " + lockFile + "; stop it first", null);
        }
        return lock;
    }

    private static void writePid(FileChannel channel) throws IOException {
        channel.truncate(0);
        channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
    }

    private static String readPid(FileChannel channel) {
        try {
            ByteBuffer buffer = ByteBuffer.allocate(32);
            int length = channel.read(buffer, 0);
            String pid = length > 0 ? new String(buffer.array(), 0, length, StandardCharsets.US_ASCII).trim() : "";
            return pid.chars().allMatch(Character::isDigit) && !pid.isEmpty() ? " (pid " + pid + ")" : "";
        } catch (IOException e) {
            return "";
        }
    }

    private static void join(Thread thread) {
        try {
            thread.join(JOIN_TIMEOUT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            LOG.error("thread {} did not stop within {} s", thread.getName(), JOIN_TIMEOUT.toSeconds());
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException e) {
                LOG.debug("closing the lock file: {}", e.getMessage());
            }
        }
    }
}
