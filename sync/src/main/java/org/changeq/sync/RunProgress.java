package org.changeq.sync;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.changeq.pipeline.ChangeqThreads;
import org.changeq.pipeline.state.RunProgressFile;
import org.changeq.tracker.SystemdNotifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/**
 * Says how far a route's run has come, once per interval ({@value #DEFAULT_INTERVAL_SECONDS} s; the system property
 * {@value #INTERVAL_PROPERTY} sets another, e.g. {@code 10s} or {@code PT0.5S}): one INFO line in the log, the same
 * line as systemd's {@code STATUS=}, and the route's {@link RunProgressFile} for {@code changeq-queue stat}. The first
 * report comes one interval after the run started, whatever rsync does meanwhile (a first full sync of a large tree
 * spends a long time building its file list before it sends anything); a run shorter than the interval reports
 * nothing. The file is written when the run starts and removed when it ends; a run that is killed leaves it behind,
 * and stat tells it by the route's lock. A dry run writes nothing in the state directory: it only logs.
 *
 * <p><b>Threading.</b> The run's thread calls {@link #start}, {@link #pass} and {@link #close}; a {@link Pass} hears
 * its rsync on that pass's {@code changeq-rsync-stdout} thread; the {@code changeq-sync-progress} thread, started by
 * {@code start} and joined by {@code close}, reports. The figures are guarded by this object's monitor. Reporting never
 * fails the run: a progress file that cannot be written is a warning, once.
 */
final class RunProgress implements AutoCloseable {

    static final String INTERVAL_PROPERTY = "changeq.progress-interval";
    static final long DEFAULT_INTERVAL_SECONDS = 30;
    private static final String PREPARING = "preparing (checking the root and the destination, reading the queue)";
    /** rsync's {@code %i} is eleven letters; a space follows. */
    private static final int ITEMIZED_NAME_OFFSET = 12;
    private static final Logger LOG = LoggerFactory.getLogger(RunProgress.class);

    private final String route;
    private final Optional<RunProgressFile> file;
    private final SystemdNotifier systemd;
    private final Clock clock;
    private final Duration interval;
    private Thread reporter;
    private boolean closed;
    private boolean writeFailed;

    private long startedMillis;
    private String activity = PREPARING;
    private boolean rsyncRunning;
    private long sentFiles;
    private long sentBytes;
    private boolean passSends;
    private long passFiles;
    private long passBytes;
    private long checked = RsyncProgress.Figures.UNKNOWN;
    private long known = RsyncProgress.Figures.UNKNOWN;
    private boolean listComplete;
    private byte[] current = new byte[0];
    private long lastReportMillis;
    private long lastReportBytes;

    /** @param file the route's progress file; empty for a dry run */
    RunProgress(String route, Optional<RunProgressFile> file, SystemdNotifier systemd, Clock clock) {
        this.route = route;
        this.file = file;
        this.systemd = systemd;
        this.clock = clock;
        this.interval = interval();
    }

    /** The interval from {@value #INTERVAL_PROPERTY}, or the default. */
    static Duration interval() {
        Duration standard = Duration.ofSeconds(DEFAULT_INTERVAL_SECONDS);
        String value = System.getProperty(INTERVAL_PROPERTY);
        if (value == null) {
            return standard;
        }
        try {
            Duration parsed = new SyncMain.AgeConverter().convert(value);
            if (parsed.isNegative() || parsed.isZero()) {
                throw new CommandLine.TypeConversionException("it is not positive; write e.g. 10s or PT0.5S");
            }
            return parsed;
        } catch (CommandLine.TypeConversionException | DateTimeParseException e) {
            LOG.warn("ignoring -D{}={} ({}); progress is reported every {} s", INTERVAL_PROPERTY, value,
                    e.getMessage(), DEFAULT_INTERVAL_SECONDS);
            return standard;
        }
    }

    /** Writes the progress file and starts reporting. */
    void start() {
        Optional<RunProgressFile.Snapshot> first;
        synchronized (this) {
            startedMillis = clock.millis();
            lastReportMillis = startedMillis;
            first = file.map(present -> snapshot(startedMillis));
            reporter = ChangeqThreads.newThread(RunProgress.class, "changeq-sync-progress", this::reportEveryInterval);
        }
        first.ifPresent(this::write);
        reporter.start();
    }

    /**
     * Begins an rsync pass, which the returned {@link Pass} hears until it is closed.
     *
     * @param sends whether what the pass sends counts as sent: false for the dry runs that only look
     */
    synchronized Pass pass(String passActivity, boolean sends) {
        activity = passActivity;
        rsyncRunning = true;
        passSends = sends;
        passFiles = 0;
        passBytes = 0;
        checked = RsyncProgress.Figures.UNKNOWN;
        known = RsyncProgress.Figures.UNKNOWN;
        listComplete = false;
        return new Pass();
    }

    /** One rsync pass of the run; closing it adds what it sent to the run's figures. */
    final class Pass implements RsyncProgress, AutoCloseable {

        private Pass() {
        }

        @Override
        public void reported(Figures figures) {
            synchronized (RunProgress.this) {
                passBytes = figures.bytes();
                if (figures.countsFiles()) {
                    passFiles = figures.files();
                    checked = figures.known() - figures.toCheck();
                    known = figures.known();
                    listComplete = figures.listComplete();
                }
            }
        }

        @Override
        public void itemized(byte[] line) {
            byte[] name = FailedPaths.unescape(line, ITEMIZED_NAME_OFFSET);
            synchronized (RunProgress.this) {
                current = name;
            }
        }

        @Override
        public void close() {
            synchronized (RunProgress.this) {
                if (passSends) {
                    sentFiles += passFiles;
                    sentBytes += passBytes;
                }
                passFiles = 0;
                passBytes = 0;
                rsyncRunning = false;
            }
        }
    }

    /** Stops reporting and removes the progress file: the run ended, however it ended. */
    @Override
    public void close() {
        Thread started;
        synchronized (this) {
            closed = true;
            started = reporter;
            notifyAll();
        }
        if (started == null) {
            return;
        }
        boolean interrupted = false;
        while (started.isAlive()) {
            try {
                started.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (file.isPresent()) {
            try {
                file.get().delete();
            } catch (IOException e) {
                LOG.warn("route '{}': cannot remove its progress file {} ({}); changeq-queue stat shows it as a run that"
                        + " no longer runs until the route's next run replaces it", route, file.get().path(), e.toString());
            }
        }
    }

    private void reportEveryInterval() {
        long next = System.nanoTime() + interval.toNanos();
        while (true) {
            RunProgressFile.Snapshot snapshot;
            synchronized (this) {
                long wait;
                while (!closed && (wait = next - System.nanoTime()) > 0) {
                    try {
                        TimeUnit.NANOSECONDS.timedWait(this, wait);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) {
                    return;
                }
                snapshot = snapshot(clock.millis());
                lastReportMillis = snapshot.updatedMillis();
                lastReportBytes = snapshot.bytes();
            }
            // The file first: whoever sees the line in the log or in STATUS= finds the same in changeq-queue stat.
            write(snapshot);
            String line = snapshot.describe();
            LOG.info("route '{}': {}", route, line);
            systemd.status("route " + route + ": " + line);
            next = Math.max(next + interval.toNanos(), System.nanoTime());
        }
    }

    private RunProgressFile.Snapshot snapshot(long now) {
        assert Thread.holdsLock(this);
        long files = sentFiles + (passSends ? passFiles : 0);
        long bytes = sentBytes + (passSends ? passBytes : 0);
        long rate = now > lastReportMillis ? Math.max(0, bytes - lastReportBytes) * 1000 / (now - lastReportMillis) : 0;
        return new RunProgressFile.Snapshot(ProcessHandle.current().pid(), startedMillis, now, activity, rsyncRunning,
                files, bytes, rate, checked, known, listComplete, Arrays.copyOf(current, current.length));
    }

    private void write(RunProgressFile.Snapshot snapshot) {
        if (file.isEmpty()) {
            return;
        }
        try {
            file.get().write(snapshot);
        } catch (IOException e) {
            synchronized (this) {
                if (writeFailed) {
                    return;
                }
                writeFailed = true;
            }
            LOG.warn("route '{}': cannot write its progress file {} ({}); changeq-queue stat does not show this run's"
                    + " progress, the log does", route, file.get().path(), e.toString());
        }
    }
}
