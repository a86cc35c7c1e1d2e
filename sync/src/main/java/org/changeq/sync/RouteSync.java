package org.changeq.sync;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.ManifestReader;
import org.changeq.pipeline.QueueIdentity;
import org.changeq.pipeline.QueueNotFoundException;
import org.changeq.pipeline.StateLayout;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.RootConfig;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.pipeline.plan.ChangeScan;
import org.changeq.pipeline.plan.PendingChanges;
import org.changeq.pipeline.plan.RouteState;
import org.changeq.pipeline.plan.SyncPolicy;
import org.changeq.pipeline.plan.SyncPolicy.Mode;
import org.changeq.pipeline.plan.SyncPolicy.Reason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of one route: lock, claim, read the changes since the cursor, decide incremental or
 * full, run rsync, and only after rsync succeeded commit the cursor to the queue end captured
 * before reading. A crash or failure anywhere leaves the cursor where it was, so the next run
 * repeats the work; it never skips it.
 *
 * <p>Blocks the calling thread for the whole run (rsync included). Runs of different routes may
 * proceed in parallel, in one process or many; a second run of the same route is refused.
 */
public final class RouteSync {

    private static final Logger LOG = LoggerFactory.getLogger(RouteSync.class);
    private static final int PRINTED_ENTRIES_LIMIT = 1000;

    private final ChangeqConfig config;
    private final SyncRequest request;
    private final RouteConfig route;
    private final RootConfig root;
    private final StateLayout layout;
    private final Clock clock;
    private final PrintStream out;
    private final CopyGuard guard;

    private RouteSync(ChangeqConfig config, SyncRequest request, Clock clock, PrintStream out) {
        this.config = config;
        this.request = request;
        this.route = config.route(request.route());
        this.root = config.root(route.root());
        this.layout = new StateLayout(config.state());
        this.clock = clock;
        this.out = out;
        this.guard = new CopyGuard(route, root, layout, request, "changeq-sync ... --route " + route.name());
    }

    /**
     * Runs the route once.
     *
     * @param out receives the plan of a dry run (the summary line is the caller's to print)
     * @return the report; its {@code exitCode} says whether rsync succeeded
     * @throws SyncException when the run cannot start (route busy, root or queue unavailable) or its
     *                       state cannot be read or written
     */
    public static SyncReport run(ChangeqConfig config, SyncRequest request, Clock clock, PrintStream out)
            throws SyncException, InterruptedException {
        return new RouteSync(config, request, clock, out).run();
    }

    private SyncReport run() throws SyncException, InterruptedException {
        Instant started = clock.instant();
        try (RouteLock lock = RouteLock.acquire(layout.routeLock(route.name()), route.name())) {
            CopyGuard.Identities identities;
            try {
                identities = guard.checkIdentities();
            } catch (SyncException refused) {
                recordRefusal(refused, started, 0);
                throw refused;
            }
            QueueIdentity.requireStateDirectory(config.queue(), config.state());
            try (ManifestReader reader = ManifestReader.open(config.queue())) {
                return runLocked(reader, identities, started);
            }
        } catch (QueueNotFoundException e) {
            throw new SyncException(ExitCodes.QUEUE_UNAVAILABLE, e.getMessage(), e);
        } catch (IOException e) {
            throw new SyncException(ExitCodes.SOFTWARE, "route '" + route.name() + "': " + e.getMessage()
                    + "; check that the state directory " + config.state() + " is writable", e);
        }
    }

    private SyncReport runLocked(ManifestReader reader, CopyGuard.Identities identities, Instant started)
            throws IOException, InterruptedException, SyncException {
        RouteState read = RouteState.read(layout, root, route, reader);
        RouteState state = identities.accepted() ? read.identityAccepted() : read;
        long end = reader.lastIndex();
        if (!request.dryRun()) {
            // Before reading: the writer must not drop a later event for a path whose record we may read now.
            layout.claims().publish(route.name(), end);
        }
        ChangeScan.Result scan = ChangeScan.scan(reader, route, state.cursorOrStart(), end,
                state.fullRegardless(request.forceFull()) ? ChangeScan.Collect.NONE : ChangeScan.Collect.UNTIL_FULL);
        LocalDate today = LocalDate.now(clock);
        SyncPolicy.Facts facts = state.facts(request.forceFull(), scan, route, today);
        Optional<Reason> fullReason = SyncPolicy.fullSyncReason(facts);
        RsyncCommand commands = new RsyncCommand(route, root, request.dryRun());

        Mode mode;
        Reason reason;
        RsyncRunner.Outcome outcome;
        boolean rsyncRan;
        try {
            if (fullReason.isPresent()) {
                mode = Mode.FULL;
                reason = fullReason.get();
                log(mode, reason, scan.backlog(), end);
                outcome = RsyncRunner.Outcome.NOT_RUN;
                if (route.deleteOnFull() && !request.dryRun()) {
                    CopyGuard.DeletionPreview preview = guard.checkDeletions(commands.asDryRun().fullPass(), true);
                    outcome = preview.outcome();
                    commands = commands.limitingDeletions(preview.allowed());
                }
                if (outcome.succeeded()) {
                    List<String> command = commands.fullPass();
                    printPlan(command, null);
                    outcome = RsyncRunner.run(command);
                }
                rsyncRan = true;
            } else {
                PendingChanges.Lists lists = scan.pending().orElseThrow()
                        .writeLists(RouteFiles.fileList(layout, route.name()), RouteFiles.directoryList(layout, route.name()), route.propagateDeletes());
                mode = Mode.INCREMENTAL;
                reason = lists.isEmpty() ? Reason.NOTHING_TO_DO : Reason.CHANGES;
                log(mode, reason, scan.backlog(), end);
                LOG.info("route '{}': {} files or subtrees, {} directories, {} deletions to send", route.name(),
                        lists.files(), lists.directories(), lists.deletions());
                outcome = RsyncRunner.Outcome.NOT_RUN;
                rsyncRan = false;
                if (lists.files() + lists.deletions() > 0) {
                    Path fileList = RouteFiles.fileList(layout, route.name());
                    if (route.propagateDeletes() && lists.deletions() > 0 && !request.dryRun()) {
                        CopyGuard.DeletionPreview preview = guard.checkDeletions(commands.asDryRun().recursivePass(fileList), false);
                        outcome = preview.outcome();
                        commands = commands.limitingDeletions(preview.allowed());
                    }
                    if (outcome.succeeded()) {
                        List<String> command = commands.recursivePass(fileList);
                        printPlan(command, fileList);
                        outcome = RsyncRunner.run(command);
                    }
                    rsyncRan = true;
                }
                // After the files: writing into a directory changes its time at the destination.
                if (lists.directories() > 0 && outcome.succeeded()) {
                    List<String> command = commands.directoryPass(RouteFiles.directoryList(layout, route.name()));
                    printPlan(command, RouteFiles.directoryList(layout, route.name()));
                    outcome = outcome.plus(RsyncRunner.run(command));
                    rsyncRan = true;
                }
            }
        } catch (SyncException refused) {
            recordRefusal(refused, started, scan.backlog());
            throw refused;
        }

        int exitCode = exitCodeOf(outcome);
        boolean success = exitCode == ExitCodes.OK;
        if (!success) {
            LOG.error("route '{}': rsync exited with {}; the cursor stays at {} and the next run retries{}",
                    route.name(), outcome.exitCode(), state.cursor().isPresent() ? state.cursor().getAsLong() : "(none)",
                    outcome.errors().isEmpty() ? "" : "; rsync reported: " + String.join(" | ", outcome.errors()));
        }
        if (success && !request.dryRun()) {
            commit(end, mode, today, state.legacyFlagFile());
            guard.recordAfterSuccess(identities);
            if (mode == Mode.FULL) {
                guard.recordDestinationSize(outcome);
            }
        }
        Instant finished = clock.instant();
        double seconds = seconds(started, finished);
        if (!request.dryRun()) {
            writeMetrics(exitCode, mode, finished, seconds, outcome.files(), scan.backlog());
            if (success) {
                QueueRetention.apply(config, reader, request.retainMinAge(), finished);
            }
        }
        return new SyncReport(route.name(), mode.token(), reason.token(), outcome.files(), outcome.bytes(), seconds,
                rsyncRan ? OptionalInt.of(outcome.exitCode()) : OptionalInt.empty(), exitCode, scan.backlog(),
                outcome.itemized(), outcome.errors());
    }

    /** A refused run is a failed run for the alerts: it sent nothing, so the last success stays where it was. */
    private void recordRefusal(SyncException refused, Instant started, long backlog) throws IOException {
        LOG.error("{}", refused.getMessage());
        if (!request.dryRun()) {
            Instant finished = clock.instant();
            writeMetrics(refused.exitCode(), Mode.INCREMENTAL, finished, seconds(started, finished), 0, backlog);
        }
    }

    private static double seconds(Instant started, Instant finished) {
        return (finished.toEpochMilli() - started.toEpochMilli()) / 1000.0;
    }

    private void log(Mode mode, Reason reason, long backlog, long end) {
        LOG.info("route '{}': {} sync, reason {}: {} (backlog {} records, queue end {})", route.name(),
                mode.token(), reason.token(), reason.explanation(), backlog, end);
    }

    private void commit(long end, Mode mode, LocalDate today, Path legacyFlag) throws IOException {
        layout.cursor(route.name()).write(end);
        LOG.info("route '{}': cursor committed at {}", route.name(), end);
        if (mode == Mode.FULL) {
            layout.lastFullSync(route.name()).write(today);
            Files.deleteIfExists(layout.forceFullFlag(route.name()));
            if (Files.deleteIfExists(legacyFlag)) {
                LOG.info("route '{}': removed the legacy flag file {}", route.name(), legacyFlag);
            }
        }
    }

    private void writeMetrics(int exitCode, Mode mode, Instant finished, double seconds, long files, long backlog)
            throws IOException {
        Path file = RouteFiles.metricsFile(request.metricsDirectory().orElse(layout.metricsDirectory()), route.name());
        SyncMetrics.read(file)
                .after(exitCode, mode == Mode.FULL, finished.toEpochMilli() / 1000.0, seconds, files, backlog)
                .write(file, route.name());
    }

    /** rsync's exit status as changeq's: 24 (files vanished during the transfer) is a success. */
    static int exitCodeOf(RsyncRunner.Outcome outcome) {
        return switch (outcome.exitCode()) {
            case 0, 24 -> ExitCodes.OK;
            case 23 -> ExitCodes.SYNC_PARTIAL;
            case 25 -> ExitCodes.DELETIONS_REFUSED;
            case 10, 12, 30, 35, 255 -> ExitCodes.DESTINATION_UNREACHABLE;
            default -> ExitCodes.SYNC_FAILED;
        };
    }

    private void printPlan(List<String> command, Path list) throws IOException {
        if (!request.dryRun()) {
            return;
        }
        out.println("command: " + String.join(" ", command));
        if (list == null) {
            return;
        }
        byte[] bytes = Files.readAllBytes(list);
        int printed = 0;
        int start = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == 0) {
                if (printed++ < PRINTED_ENTRIES_LIMIT) {
                    out.println("  " + ByteStrings.escape(bytes, start, i));
                }
                start = i + 1;
            }
        }
        if (printed > PRINTED_ENTRIES_LIMIT) {
            out.println("  ... and " + (printed - PRINTED_ENTRIES_LIMIT) + " more entries in " + list);
        }
    }
}
