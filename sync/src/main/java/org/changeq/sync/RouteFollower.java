package org.changeq.sync;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.changeq.pipeline.ChangeqThreads;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.FollowSettings;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.manifest.QueueNotFoundException;
import org.changeq.pipeline.manifest.RecordView;
import org.changeq.pipeline.plan.ChangeScan;
import org.changeq.pipeline.state.HeldDeletions;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.state.VerifyAnswer;
import org.changeq.tracker.SystemdNotifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code changeq-sync follow}: follows the queue for one route and runs {@link RouteSync} whenever the route's
 * {@link FollowSchedule} says a run is due. Each run is exactly a timer run (claim before reading, the full-sync
 * policy, rsync, the retry list, commit only after success, metrics) and prints its summary line to {@code out}; the
 * follower only decides when. It holds the route's lock from {@link #start} to {@link #close}, so a timer run of the
 * route is refused (exit 7) while it follows: the timer is replaced, not combined. A failing run (destination down)
 * leaves the cursor where it was; the next one waits, longer after each failure up to the route's {@code retry-max},
 * then sends everything that waits in one run.
 *
 * <p>Threads: {@code changeq-follow} reads the queue, waits and runs; {@code changeq-follow-watchdog}, only under a
 * systemd watchdog, pings systemd while the follow thread keeps coming round its loop or is inside a run (a full
 * sync may take hours). Both are started by {@link #start} and joined by {@link #close}. Chronicle's tailers cannot
 * block, so following polls: every {@value #SHORTEST_POLL_MILLIS} ms after new records, backing off to every
 * {@value #LONGEST_POLL_MILLIS} ms while the queue is idle.
 *
 * <p>Verifying: when {@code changeq-sync verify} finds the lock held it leaves a request ({@code
 * <state>/verify/ROUTE.request}); between runs, at most once per quiet interval, the follower runs that {@link Verify}
 * under the lock it holds and leaves its lines and exit code for the asker ({@code <state>/verify/ROUTE.answer}).
 * Changes arriving meanwhile wait for the next run, which starts when the verify ends.
 *
 * <p>Stopping: {@link #close} lets a running run end, then stops the threads and releases the lock. Under SIGTERM the
 * runner's shutdown hook has stopped rsync by then, so that run ends at once, commits nothing, and the next start
 * sends its changes again; a kill -9 loses nothing either, for the same reason.
 */
public final class RouteFollower implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RouteFollower.class);
    static final long SHORTEST_POLL_MILLIS = 10;
    static final long LONGEST_POLL_MILLIS = 250;
    /** Records read before the loop looks at the clock again: a large backlog does not delay a due run by much. */
    private static final int RECORDS_PER_READ = 65_536;
    /** A restart may help: the queue was re-created or moved, or the state could not be written. */
    private static final Set<Integer> FATAL = Set.of(ExitCodes.QUEUE_UNAVAILABLE, ExitCodes.SOFTWARE);

    private final ChangeqConfig config;
    private final SyncRequest request;
    private final RouteConfig route;
    private final Clock clock;
    private final PrintStream out;
    private final SystemdNotifier systemd;
    private final RouteLock lock;
    /** Says to runs that wait for the route's lock that this follower will not let go of it. */
    private final RouteLock following;
    private final ManifestReader reader;
    private final FollowSchedule schedule;
    private final Thread followThread;
    private final Thread watchdogThread;

    private final ReentrantLock stateLock = new ReentrantLock();
    private final Condition stopSignal = stateLock.newCondition();
    private boolean stopRequested;
    private boolean closed;

    private volatile int exitCode = ExitCodes.OK;
    private volatile long heartbeatNanos = System.nanoTime();
    private volatile boolean running;

    // Confined to the follow thread.
    private int readThisRound;
    private int lastFailure = ExitCodes.OK;
    /** When {@link #consentArrived} last looked for a consent file. */
    private long consentLookedNanos;
    /** When {@link #verifyRequested} last looked for a verify request. */
    private long verifyLookedNanos;
    /** The verify request (the time it was asked) last taken up. */
    private OptionalLong answeredRequest = OptionalLong.empty();
    private double publishedRetryWait;

    private RouteFollower(ChangeqConfig config, SyncRequest request, Clock clock, PrintStream out, SystemdNotifier systemd,
                          RouteLock lock, RouteLock following, ManifestReader reader) {
        this.config = config;
        this.request = request;
        this.route = config.route(request.route());
        this.clock = clock;
        this.out = out;
        this.systemd = systemd;
        this.lock = lock;
        this.following = following;
        this.reader = reader;
        this.schedule = new FollowSchedule(route.follow());
        this.followThread = ChangeqThreads.newThread(RouteFollower.class, "changeq-follow", this::follow);
        Optional<Duration> watchdog = systemd.watchdogInterval();
        this.watchdogThread = watchdog.isEmpty() ? null
                : ChangeqThreads.newThread(RouteFollower.class, "changeq-follow-watchdog", () -> pingWatchdog(watchdog.get()));
    }

    /**
     * Takes the route's lock, opens the queue and starts following. Returns at once; the first run starts right away
     * and sends what waited since the cursor (the first run of a new route is its full sync).
     *
     * @throws SyncException {@code ALREADY_RUNNING} when a run or another follower of the route holds its lock,
     *                       {@code QUEUE_UNAVAILABLE} when the queue cannot be opened
     */
    public static RouteFollower start(ChangeqConfig config, SyncRequest request, Clock clock, PrintStream out,
                                      SystemdNotifier systemd) throws SyncException {
        RouteLock lock = RouteSync.lock(config, request.route());
        RouteLock following;
        ManifestReader reader;
        try {
            following = RouteLock.acquire(new StateLayout(config.state()).followerLock(request.route()), request.route());
        } catch (SyncException e) {
            release(lock);
            throw e;
        } catch (IOException e) {
            release(lock);
            throw RouteSync.stateUnusable(config, request.route(), e);
        }
        try {
            reader = ManifestReader.open(config.queue());
        } catch (QueueNotFoundException e) {
            release(following);
            release(lock);
            throw new SyncException(ExitCodes.QUEUE_UNAVAILABLE, e.getMessage(), e);
        }
        RouteFollower follower = new RouteFollower(config, request, clock, out, systemd, lock, following, reader);
        follower.followThread.start();
        if (follower.watchdogThread != null) {
            follower.watchdogThread.start();
        }
        return follower;
    }

    /**
     * Waits until following ends: after {@link #close}, or by itself when a restart may help (the queue is gone, the
     * state cannot be written).
     *
     * @return the exit code: {@code OK} after a stop, else why it ended
     */
    public int awaitTermination() throws InterruptedException {
        followThread.join();
        return exitCode;
    }

    /** The exit code so far: {@code OK} unless following ended by itself. */
    public int exitCode() {
        return exitCode;
    }

    /**
     * Stops following: a running run ends first (under SIGTERM without committing: its rsync was stopped), then both
     * threads are joined and the lock released. Idempotent; may be called from any thread, e.g. a shutdown hook.
     */
    @Override
    public void close() {
        stateLock.lock();
        try {
            if (!stopRequested) {
                stopRequested = true;
                systemd.stopping();
            }
            stopSignal.signalAll();
        } finally {
            stateLock.unlock();
        }
        boolean interrupted = joinUninterruptibly(followThread);
        if (watchdogThread != null) {
            interrupted |= joinUninterruptibly(watchdogThread);
        }
        stateLock.lock();
        try {
            if (!closed) {
                closed = true;
                reader.close();
                release(following);
                release(lock);
            }
        } finally {
            stateLock.unlock();
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void follow() {
        OptionalLong cursor = committedCursor();
        if (cursor == null) {
            return;
        }
        long after = cursor.orElse(ManifestReader.NO_INDEX);
        FollowSettings settings = route.follow();
        try (ManifestReader.Tail tail = reader.tail(after)) {
            LOG.info("route '{}': following the queue after index {}; a run once its changes are quiet for {} ms, the"
                    + " oldest waited {} ms, or {} wait; while runs fail, waits up to {} s between them", route.name(),
                    after, settings.quiet().toMillis(), settings.maxDelay().toMillis(), settings.maxBatch(),
                    settings.retryMax().toSeconds());
            systemd.ready("following route " + route.name());
            Optional<FollowSchedule.Trigger> first = Optional.of(FollowSchedule.Trigger.START);
            long pollNanos = TimeUnit.MILLISECONDS.toNanos(SHORTEST_POLL_MILLIS);
            while (!stopRequested()) {
                heartbeatNanos = System.nanoTime();
                readThisRound = 0;
                int read = tail.readNew(this::observe);
                long now = System.nanoTime();
                Optional<FollowSchedule.Trigger> trigger = first.isPresent() ? first
                        : consentArrived(now) ? Optional.of(FollowSchedule.Trigger.CONSENT) : schedule.due(now);
                first = Optional.empty();
                if (trigger.isPresent()) {
                    if (!runOnce(tail, trigger.get())) {
                        return;
                    }
                    pollNanos = TimeUnit.MILLISECONDS.toNanos(SHORTEST_POLL_MILLIS);
                    continue;
                }
                if (verifyRequested(now)) {
                    Optional<VerifyAnswer> answer = verifyOnRequest();
                    if (answer.isEmpty()) {
                        return;
                    }
                    if (answer.get().exitCode() == ExitCodes.VERIFY_MISMATCH) {
                        // The repair waits in the retry list: send it now, not when the next change comes.
                        first = Optional.of(FollowSchedule.Trigger.VERIFIED);
                    }
                    continue;
                }
                pollNanos = read > 0 ? TimeUnit.MILLISECONDS.toNanos(SHORTEST_POLL_MILLIS)
                        : Math.min(pollNanos * 2, TimeUnit.MILLISECONDS.toNanos(LONGEST_POLL_MILLIS));
                awaitStop(Math.min(pollNanos, schedule.nanosUntilDue(now)));
            }
            LOG.info("route '{}': stopped following; the cursor is at {}", route.name(), describe(committedCursor()));
        } catch (RuntimeException | Error e) {
            LOG.error("route '{}': following failed: {}", route.name(), e.toString(), e);
            exitCode = ExitCodes.SOFTWARE;
        }
    }

    private boolean observe(long index, RecordView record) {
        long now = System.nanoTime();
        if (changesWhatTheNextRunDoes(record)) {
            schedule.changeArrived(now);
        } else {
            schedule.otherArrived(now);
        }
        return ++readThisRound < RECORDS_PER_READ;
    }

    /**
     * A path the route sends; or a marker that makes its next run full (an OVERFLOW on its root, a START that may
     * open a gap) or incremental again (a RESCAN heals the gap on its root).
     */
    private boolean changesWhatTheNextRunDoes(RecordView record) {
        return switch (record.type()) {
            case CHANGE, SUBTREE, DELETE, RENAMED_AWAY -> record.root().equals(route.root()) && ChangeScan.concerns(route, record);
            case OVERFLOW, RESCAN -> record.root().equals(route.root()) || record.root().isEmpty();
            case START -> true;
            case STOP -> false;
        };
    }

    /** One run of the route. @return false when following must end */
    private boolean runOnce(ManifestReader.Tail tail, FollowSchedule.Trigger trigger) {
        long seen = tail.lastIndex();
        LOG.info("route '{}': run ({}): {} changes waiting", route.name(), trigger.token, schedule.changes());
        int code;
        String refusal = "";
        running = true;
        try {
            SyncReport report = RouteSync.runHolding(lock, config, request, clock, out);
            out.println(report.summaryLine());
            if (report.stoppedBy().isPresent()) {
                // The process is stopping: this run committed nothing and is no failure; following ends with it.
                return false;
            }
            code = report.exitCode();
        } catch (SyncException e) {
            e.report().ifPresent(report -> out.println(report.summaryLine()));
            code = e.exitCode();
            refusal = e.logged() ? ": refused (see above)" : ": " + e.getMessage();
            if (FATAL.contains(code)) {
                LOG.error("route '{}': {}; the follower exits {} (systemd restarts it)", route.name(), e.getMessage(), code);
                exitCode = code;
                return false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            running = false;
        }
        OptionalLong cursor = committedCursor();
        if (cursor == null) {
            return false;
        }
        // A run commits to the queue end it captured, which is at or after every record the tail had read.
        if (cursor.isPresent() && cursor.getAsLong() >= seen) {
            schedule.committed();
            if (cursor.getAsLong() > seen) {
                tail.moveTo(cursor.getAsLong());
            }
        }
        if (code == ExitCodes.DELETIONS_REFUSED && refusal.isEmpty()) {
            // The run sent everything else and moved on; only its deletions wait, so following goes on without waits.
            schedule.succeeded();
            lastFailure = ExitCodes.OK;
            publishRetryWait(Duration.ZERO);
            systemd.status("route " + route.name() + ": " + heldDeletions() + " deletions wait for consent (max-delete "
                    + route.maxDelete() + " per max-delete-window " + route.maxDeleteWindow().toHours() + "h); stop the follower and run changeq-sync --route "
                    + route.name() + " --allow-deletes N; new and changed files are sent; last run " + clock.instant()
                    + ": exit " + code);
        } else if (code == ExitCodes.MASS_CHANGE_REFUSED) {
            // Nothing was sent: the run waits for consent, tried again as failed runs are and at once when it comes.
            Duration wait = schedule.failed(System.nanoTime());
            lastFailure = code;
            publishRetryWait(wait);
            systemd.status("route " + route.name() + ": mass change refused, nothing sent (max-change "
                    + route.maxChange() + "); consent with changeq-sync allow --route " + route.name()
                    + " --changes N; last run " + clock.instant() + ": exit " + code);
        } else if (code == ExitCodes.OK || code == ExitCodes.TRACKER_NOT_RUNNING) {
            if (schedule.retrying()) {
                LOG.info("route '{}': the run succeeded again after failures (the last exited {}); following",
                        route.name(), lastFailure);
            }
            schedule.succeeded();
            lastFailure = ExitCodes.OK;
            publishRetryWait(Duration.ZERO);
            systemd.status("following route " + route.name() + "; last run " + clock.instant() + ": exit " + code);
        } else {
            Duration wait = schedule.failed(System.nanoTime());
            if (code != lastFailure) {
                LOG.warn("route '{}': the run exited {}{}; the cursor is at {}, and the follower tries again after waits"
                        + " growing from {} s to {} s (changeq_sync_follow_retry_wait_seconds), then sends everything"
                        + " waiting in one run; it logs again when that changes", route.name(), code, refusal, describe(cursor),
                        FollowSettings.FIRST_RETRY_WAIT.toSeconds(), route.follow().retryMax().toSeconds());
            }
            lastFailure = code;
            publishRetryWait(wait);
            systemd.status("route " + route.name() + ": the last run exited " + code + "; next try in "
                    + wait.toSeconds() + " s");
        }
        return true;
    }

    /**
     * Whether an operator gave consent ({@code changeq-sync allow}) since a run was refused for max-change; looked for
     * at most once per quiet interval.
     */
    private boolean consentArrived(long nowNanos) {
        if (lastFailure != ExitCodes.MASS_CHANGE_REFUSED
                || nowNanos - consentLookedNanos < route.follow().quiet().toNanos()) {
            return false;
        }
        consentLookedNanos = nowNanos;
        try {
            return new StateLayout(config.state()).changeConsent(route.name()).read().isPresent();
        } catch (IOException | IllegalStateException e) {
            // The run reads it again and says what is wrong with it.
            return true;
        }
    }

    /**
     * Whether {@code changeq-sync verify} asked for a verify (it found the lock held); looked for at most once per
     * quiet interval, and only between runs.
     */
    private boolean verifyRequested(long nowNanos) {
        if (nowNanos - verifyLookedNanos < route.follow().quiet().toNanos()) {
            return false;
        }
        verifyLookedNanos = nowNanos;
        OptionalLong asked;
        try {
            asked = new StateLayout(config.state()).verifyRequest(route.name()).read();
        } catch (IllegalStateException malformed) {
            // Answered once like any request; the answer's removal takes it away.
            asked = OptionalLong.of(0);
        } catch (IOException e) {
            return false;
        }
        // A request that could not be removed is answered once, not once per quiet interval.
        if (asked.isEmpty() || asked.equals(answeredRequest)) {
            return false;
        }
        answeredRequest = asked;
        return true;
    }

    /**
     * Runs the verify asked for under the lock held, as {@code changeq-sync verify} would (the same state, retry list
     * and metrics), and leaves what it printed and its exit code for the asker. Changes arriving meanwhile wait for the
     * next run. A stop (SIGTERM) stops its rsync: it then writes nothing and the request stays for the next start.
     *
     * @return how it ended; empty when following must end
     */
    private Optional<VerifyAnswer> verifyOnRequest() {
        StateLayout layout = new StateLayout(config.state());
        long startedMillis = clock.millis();
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream verifyOut = new PrintStream(printed, true, StandardCharsets.UTF_8);
        VerifyAnswer answer;
        running = true;
        try {
            Verify.Report report = Verify.runHolding(lock, config, new Verify.Request(route.name(), Duration.ZERO,
                    OptionalLong.empty(), request.metricsDirectory()), clock, verifyOut);
            verifyOut.println(report.summary());
            LOG.info("route '{}': verified as changeq-sync verify asked: {}", route.name(), report.summary());
            answer = new VerifyAnswer(startedMillis, report.exitCode(), "", printed.toByteArray());
        } catch (SyncException e) {
            if (stopRequested() || StopSignals.received().isPresent()) {
                LOG.info("route '{}': the verify changeq-sync verify asked for was stopped; it wrote nothing, and the"
                        + " request stays for the next start", route.name());
                return Optional.empty();
            }
            LOG.warn("route '{}': the verify changeq-sync verify asked for did not run to its end (exit {}): {}",
                    route.name(), e.exitCode(), e.getMessage());
            answer = new VerifyAnswer(startedMillis, e.exitCode(), e.getMessage(), printed.toByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        } finally {
            running = false;
        }
        try {
            answer.write(layout.verifyAnswer(route.name()));
            Verify.withdraw(layout.verifyRequest(route.name()), startedMillis);
        } catch (IOException e) {
            LOG.warn("route '{}': cannot answer changeq-sync verify in {} ({}); it exits 17 when its wait ends",
                    route.name(), layout.verifyAnswer(route.name()).getParent(), e.toString());
        }
        return Optional.of(answer);
    }

    /** How many deletions wait for consent, as text for the status line. */
    private String heldDeletions() {
        try {
            return String.valueOf(HeldDeletions.read(new StateLayout(config.state()).heldDeletions(route.name())).paths().size());
        } catch (IOException | IllegalStateException e) {
            return "some";
        }
    }

    /** The committed cursor; {@code null} (and following ends) when the state cannot be read. */
    private OptionalLong committedCursor() {
        try {
            return new StateLayout(config.state()).cursor(route.name()).read();
        } catch (IOException e) {
            LOG.error("route '{}': cannot read its cursor ({}); the follower exits {}", route.name(), e.toString(),
                    ExitCodes.SOFTWARE);
            exitCode = ExitCodes.SOFTWARE;
            return null;
        }
    }

    private static String describe(OptionalLong cursor) {
        return cursor == null || cursor.isEmpty() ? "(none)" : Long.toString(cursor.getAsLong());
    }

    private void publishRetryWait(Duration wait) {
        double seconds = wait.toMillis() / 1000.0;
        if (seconds == publishedRetryWait) {
            return;
        }
        Path file = RouteFiles.metricsFile(new StateLayout(config.state()), request);
        try {
            SyncMetrics.read(file).withFollowRetryWait(seconds).write(file, route.name());
            publishedRetryWait = seconds;
        } catch (IOException e) {
            LOG.warn("route '{}': cannot write {} ({}); the retry wait does not show in the metrics", route.name(), file,
                    e.toString());
        }
    }

    private void pingWatchdog(Duration interval) {
        long timeout = interval.toNanos();
        while (!awaitStop(timeout / 2)) {
            // A loop that stopped coming round hangs; a run in progress is rsync at work.
            if (running || System.nanoTime() - heartbeatNanos < timeout / 2) {
                systemd.watchdog();
            }
        }
    }

    private boolean stopRequested() {
        stateLock.lock();
        try {
            return stopRequested;
        } finally {
            stateLock.unlock();
        }
    }

    /** Waits up to {@code nanos} or until {@link #close}; returns whether to stop. */
    private boolean awaitStop(long nanos) {
        stateLock.lock();
        try {
            long remaining = nanos;
            while (!stopRequested && remaining > 0) {
                remaining = stopSignal.awaitNanos(remaining);
            }
            return stopRequested;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        } finally {
            stateLock.unlock();
        }
    }

    private static boolean joinUninterruptibly(Thread thread) {
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        return interrupted;
    }

    private static void release(RouteLock lock) {
        try {
            lock.close();
        } catch (IOException e) {
            LOG.warn("releasing the route lock failed ({}); the kernel releases it when this process exits", e.toString());
        }
    }
}
