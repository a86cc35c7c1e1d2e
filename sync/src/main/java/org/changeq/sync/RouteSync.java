package org.changeq.sync;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Function;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.PermissionDenied;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.RootConfig;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.pipeline.manifest.IndexFile;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.manifest.QueueIdentity;
import org.changeq.pipeline.manifest.QueueNotFoundException;
import org.changeq.pipeline.manifest.QueueRefusedException;
import org.changeq.pipeline.manifest.WriterLock;
import org.changeq.pipeline.plan.ChangeScan;
import org.changeq.pipeline.plan.DeletionLists;
import org.changeq.pipeline.plan.PendingChanges;
import org.changeq.pipeline.plan.RouteSelection;
import org.changeq.pipeline.plan.RouteState;
import org.changeq.pipeline.plan.SyncPolicy;
import org.changeq.pipeline.plan.SyncPolicy.Mode;
import org.changeq.pipeline.plan.SyncPolicy.Reason;
import org.changeq.pipeline.state.FullSyncFlags;
import org.changeq.pipeline.state.HeldDeletions;
import org.changeq.pipeline.state.LockHolder;
import org.changeq.pipeline.state.RetryList;
import org.changeq.pipeline.state.RootTracking;
import org.changeq.pipeline.state.RouteRuns;
import org.changeq.pipeline.state.RunChanges;
import org.changeq.pipeline.state.StateDirectory;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.tracker.SystemdNotifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of one route: lock, claim, read the changes since the cursor (and the paths earlier runs
 * failed to send), decide incremental or full, run rsync, and only after rsync succeeded commit the
 * cursor to the queue end captured before reading. A crash or failure anywhere leaves the cursor where
 * it was, so the next run repeats the work; it never skips it.
 *
 * <p>One exception keeps a path that always fails from holding the route back: after a partial
 * transfer (rsync exit 23) a dry run of the same passes finds exactly the paths that still differ,
 * and once they are durably in the route's {@link RetryList} the cursor commits. Every later run sends
 * them again. If that check ends in a partial transfer too, dry runs of halves of the pass's list find the entries
 * that fail alone ({@link FailureIsolation}); for the full and the deletion pass, which have no list to split, the
 * paths rsync's error lines name ({@link RsyncErrorLines}). If a check fails otherwise, or a line names no path, or
 * a check lists nothing, nothing is known and the cursor stays.
 *
 * <p>Blocks the calling thread for the whole run (rsync included). Runs of different routes may
 * proceed in parallel, in one process or many; a second run of the same route is refused.
 */
public final class RouteSync {

    private static final Logger LOG = LoggerFactory.getLogger(RouteSync.class);
    private static final int PRINTED_ENTRIES_LIMIT = 1000;
    private static final int PRINTED_FAILURES_LIMIT = 20;
    /** rsync's exit status after it received SIGINT, SIGTERM or SIGHUP. */
    private static final int RSYNC_SIGNALLED = 20;
    /** How long a run whose rsync was stopped by a signal waits for this process to note the signal too. */
    private static final java.time.Duration SIGNAL_GRACE = java.time.Duration.ofSeconds(2);

    private final ChangeqConfig config;
    private final SyncRequest request;
    private final RouteConfig route;
    private final RootConfig root;
    private final StateLayout layout;
    private final Clock clock;
    private final PrintStream out;
    private final CopyGuard guard;
    private final DeletionGuard deletions;
    private final ChangeBrake brake;
    private final DestinationMarker marker;
    private final Path listDirectory;
    /** How the operator runs this route by hand, for the fixes and consents messages name. */
    private final String command;
    /**
     * The paths an incremental dry run showed (a deletion by its whole line), bounded by its lists; null otherwise (a
     * full dry run shows one pass, which may list every path of the root).
     */
    private Set<String> shownByIncrementalDryRun;
    // How far the run got, for the summary line of a run that ends in a SyncException.
    private Mode decidedMode;
    private Reason decidedReason;
    private long decidedBacklog;
    private boolean trackerSeenRunning = true;
    /** What the real passes change at the destination, counted as rsync makes the changes; null when not counted. */
    private ChangeBrake.Count counted;
    /** The deletion guard's decision of the dry run that counted the run's changes: the deletion pass asks no more. */
    private Optional<DeletionGuard.Decision> deletionsCounted = Optional.empty();
    /** What the real passes changed at the destination, path by path, as rsync itemized it. */
    private final RunChanges.Builder changes = new RunChanges.Builder();
    /** The old names of directories renamed within the root, and how many of the paths deleted lay below them. */
    private Set<ByteBuffer> renamedDirectories = Set.of();
    private long renamedAway;
    private final RunProgress progress;
    /** What the route's history holds after this run's retention; empty when none ran. */
    private Optional<History.Summary> history = Optional.empty();

    private RouteSync(ChangeqConfig config, SyncRequest request, Clock clock, PrintStream out, Path listDirectory) {
        this.config = config;
        this.request = request;
        this.route = config.route(request.route());
        this.root = config.root(route.root());
        this.layout = new StateLayout(config.state());
        this.clock = clock;
        this.out = out;
        // A run that was full by --full is full again by it: the consent a refusal names must repeat it.
        this.command = "changeq-sync ... --route " + route.name() + (request.forceFull() ? " --full" : "");
        this.guard = new CopyGuard(route, root, layout, request, command);
        this.deletions = new DeletionGuard(route, layout, request, clock, command);
        this.brake = new ChangeBrake(route, layout, request, clock, command);
        this.marker = new DestinationMarker(route, layout, request, Transfer.of(route, root, false), command,
                request.dryRun() ? listDirectory : layout.directory());
        this.listDirectory = listDirectory;
        this.progress = new RunProgress(route.name(), request.dryRun() ? Optional.empty()
                : Optional.of(layout.runProgress(route.name())), SystemdNotifier.fromEnvironment(), clock);
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
        if (request.dryRun()) {
            return runDry(config, request, clock, out);
        }
        RouteSync sync = new RouteSync(config, request, clock, out, RouteFiles.listDirectory(new StateLayout(config.state())));
        Instant started = clock.instant();
        StateLayout layout = new StateLayout(config.state());
        try (RouteLock lock = RouteLock.acquire(layout.routeLock(request.route()), layout.followerLock(request.route()),
                request.route(), request.lockWait())) {
            return sync.runHoldingLock(started);
        } catch (IOException e) {
            throw sync.unfinished(stateUnusable(config, request.route(), e), started);
        } catch (SyncException e) {
            throw sync.unfinished(e, started);
        }
    }

    /**
     * A dry run changes nothing in the state directory, so that anyone who may read it can run one: it takes no
     * lock (it commits nothing a real run could race), and writes its lists to a private temporary directory.
     */
    private static SyncReport runDry(ChangeqConfig config, SyncRequest request, Clock clock, PrintStream out)
            throws SyncException, InterruptedException {
        Path lists;
        try {
            lists = Files.createTempDirectory("changeq-dry-run-");
        } catch (IOException e) {
            throw new SyncException(ExitCodes.SOFTWARE, "route '" + request.route() + "': cannot create a temporary "
                    + "directory for the dry run's lists: " + e + "; check that " + System.getProperty("java.io.tmpdir")
                    + " is writable", e);
        }
        LockHolder holder = LockHolder.of(new StateLayout(config.state()).routeLock(request.route()));
        if (holder.status() != LockHolder.Status.FREE) {
            out.println("route '" + request.route() + "': " + (holder.held() ? "its lock is held"
                    + (holder.pid().isPresent() ? " by process " + holder.pid().getAsLong() : "")
                    + " (a follower or another run)" : "whether a run holds its lock is unknown: " + holder.reason())
                    + "; this dry run takes no lock and shows what a run would do now");
        }
        RouteSync sync = new RouteSync(config, request, clock, out, lists);
        Instant started = clock.instant();
        try {
            return sync.runHoldingLock(started);
        } catch (IOException e) {
            throw sync.unfinished(stateUnusable(config, request.route(), e), started);
        } catch (SyncException e) {
            throw sync.unfinished(e, started);
        } finally {
            deleteLists(lists);
        }
    }

    private static void deleteLists(Path lists) {
        try {
            try (var names = Files.list(lists)) {
                for (Path list : (Iterable<Path>) names::iterator) {
                    Files.delete(list);
                }
            }
            Files.delete(lists);
        } catch (IOException e) {
            LOG.warn("cannot remove the dry run's lists in {} ({}); remove them by hand", lists, e.getMessage());
        }
    }

    /**
     * Runs the route once under a lock the caller took with {@link #lock} and keeps: a follower holds it from start to
     * stop, so that no other run of the route starts between its runs.
     */
    static SyncReport runHolding(RouteLock lock, ChangeqConfig config, SyncRequest request, Clock clock, PrintStream out)
            throws SyncException, InterruptedException {
        assert lock.file().equals(new StateLayout(config.state()).routeLock(request.route())) : lock.file();
        RouteSync sync = new RouteSync(config, request, clock, out, RouteFiles.listDirectory(new StateLayout(config.state())));
        Instant started = clock.instant();
        try {
            return sync.runHoldingLock(started);
        } catch (IOException e) {
            throw sync.unfinished(stateUnusable(config, request.route(), e), started);
        } catch (SyncException e) {
            throw sync.unfinished(e, started);
        }
    }

    /** {@code refused} with the report of the run as far as it got: mode and reason if decided, nothing sent. */
    private SyncException unfinished(SyncException refused, Instant started) {
        return refused.withReport(new SyncReport(route.name(),
                decidedMode == null ? SyncReport.UNDECIDED : decidedMode.token(),
                decidedReason == null ? SyncReport.UNDECIDED : decidedReason.token(), 0, 0, 0, 0,
                seconds(started, clock.instant()), OptionalInt.empty(), refused.exitCode(), decidedBacklog, List.of(),
                List.of(), List.of(), trackerSeenRunning, Optional.empty(), 0));
    }

    static SyncException stateUnusable(ChangeqConfig config, String route, IOException e) {
        Optional<PermissionDenied> denied = PermissionDenied.in(e);
        if (denied.isPresent()) {
            return new SyncException(denied.get().exitCode(), "route '" + route + "': " + denied.get().getMessage(), e);
        }
        return new SyncException(ExitCodes.SOFTWARE, "route '" + route + "': cannot read or write its state: " + e
                + "; the files under " + config.state() + " must belong to the user changeq-sync runs as (changeq"
                + " under systemd; see \"Install on Debian\" in /usr/share/doc/changeq/README.md on running commands"
                + " by hand)", e);
    }

    private SyncReport runHoldingLock(Instant started) throws SyncException, InterruptedException, IOException {
        progress.start();
        try {
            return runReportingProgress(started);
        } finally {
            progress.close();
        }
    }

    private SyncReport runReportingProgress(Instant started)
            throws SyncException, InterruptedException, IOException {
        CopyGuard.Identities identities;
        DestinationMarker.Verdict destination;
        try {
            identities = guard.checkIdentities();
            destination = marker.check();
        } catch (SyncException refused) {
            recordRefusal(refused, started, 0);
            throw refused;
        }
        try {
            QueueIdentity.requireStateDirectory(config.queue(), config.state());
            try (ManifestReader reader = ManifestReader.open(config.queue())) {
                return runLocked(reader, identities, destination, started);
            }
        } catch (QueueNotFoundException e) {
            throw new SyncException(ExitCodes.QUEUE_UNAVAILABLE, e.getMessage(), e);
        }
    }

    private SyncReport runLocked(ManifestReader reader, CopyGuard.Identities identities,
                                 DestinationMarker.Verdict destination, Instant started)
            throws IOException, InterruptedException, SyncException {
        boolean trackerRunning;
        try {
            trackerRunning = WriterLock.isHeld(config.queue());
        } catch (QueueRefusedException unknown) {
            // Believing a stopped tracker alive would trust a queue nobody fills: one that cannot be seen counts as
            // stopped, which costs a failed exit, never a lost change.
            LOG.error("route '{}': {}", route.name(), unknown.getMessage());
            trackerRunning = false;
        }
        trackerSeenRunning = trackerRunning;
        if (!trackerRunning) {
            LOG.error("route '{}': no changeq-tracker holds the queue {}: changes made now are not recorded, and no run"
                    + " can send them. Start it (systemctl start changeq-tracker; journalctl -u changeq-tracker says why"
                    + " it stopped): its catch-up scan records what changed meanwhile. This run sends what the queue"
                    + " holds and exits {}", route.name(), config.queue(), ExitCodes.TRACKER_NOT_RUNNING);
        }
        Optional<String> untracked = trackerRunning ? RootTracking.untracked(root, layout.trackerRoots())
                : Optional.empty();
        untracked.ifPresent(why -> LOG.error("route '{}': {}. The queue does not show the changes below its root, so"
                + " this run is full and exits {}", route.name(), why, ExitCodes.TRACKER_NOT_RUNNING));
        RouteState read = RouteState.read(layout, root, route, reader);
        RouteState state = identities.accepted() || destination.accepted() ? read.identityAccepted() : read;
        state.selectionChanged().ifPresent(why -> LOG.info("route '{}': {}; this run is full", route.name(), why));
        state.queueReplaced().ifPresent(why -> LOG.warn("route '{}': {}; records of the old queue after the cursor may"
                + " never have been sent, so this run is full", route.name(), why));
        Optional<UUID> queueId = state.queue();
        long end = reader.lastIndex();
        if (!request.dryRun()) {
            // Before reading: the writer must not drop a later event for a path whose record we may read now.
            layout.claims().publish(route.name(), end, queueId);
        }
        HeldDeletions held = HeldDeletions.read(layout.heldDeletions(route.name()));
        ChangeScan.Result scan = ChangeScan.scan(reader, route, state.cursorOrStart(), end,
                state.fullRegardless(request.forceFull()) ? ChangeScan.Collect.NONE : ChangeScan.Collect.UNTIL_FULL,
                ReplacedDirectories.withReplacingFiles(state.retry(), held, root.path()), held);
        LocalDate today = LocalDate.now(clock);
        SyncPolicy.Facts facts = state.facts(request.forceFull(), scan, route, today);
        Optional<Reason> fullReason = untracked.isPresent() ? Optional.of(Reason.ROOT_NOT_TRACKED)
                : SyncPolicy.fullSyncReason(facts);
        Transfer commands = Transfer.of(route, root, request.dryRun());
        Optional<String> historyRun = Optional.empty();
        if (route.history().isPresent()) {
            historyRun = Optional.of(historyRun());
            commands = commands.keepingHistoryIn(historyRun.get());
        }
        boolean judged = brake.judges(state.cursor().isEmpty());
        // A destination whose marker could not be fetched gets no pass: the run ends as that connection failure.
        RsyncRunner.Outcome beforePasses = destination.unreachable().orElse(RsyncRunner.Outcome.NOT_RUN);

        Mode mode;
        Reason reason;
        RsyncRunner.Outcome outcome;
        boolean rsyncRan;
        Optional<DeletionGuard.Decision> deletionDecision = Optional.empty();
        // The dry runs that find what a pass left out, for each pass that ended in a partial transfer.
        List<FailureCheck> failureChecks = new ArrayList<>();
        try {
            if (fullReason.isPresent()) {
                mode = Mode.FULL;
                reason = fullReason.get();
                decided(mode, reason, scan.backlog());
                log(mode, reason, scan.backlog(), end);
                outcome = beforePasses;
                RsyncRunner.Outcome previewFailure = RsyncRunner.Outcome.NOT_RUN;
                ChangeBrake.Count changes = brake.counter(null);
                OptionalLong destinationPaths = OptionalLong.empty();
                if (outcome.succeeded() && route.deleteOnFull()) {
                    deletionDecision = Optional.of(decideDeletions("full sync: counting what it deletes",
                            commands.asDryRun().fullPass(), true, null, judged ? changes : line -> { }));
                    outcome = deletionDecision.get().outcome();
                    destinationPaths = OptionalLong.of(outcome.destinationPathsBefore());
                    commands = deletionDecision.get().applyTo(commands);
                    if (outcome.partial()) {
                        // Some paths fail the preview too: what it would delete is unknown, what is new is not.
                        LOG.error("route '{}': the dry run that counts what the full sync deletes failed on some paths"
                                + " (rsync exit 23); the full sync sends without deleting, and its deletions wait for a"
                                + " full sync whose dry run succeeds", route.name());
                        previewFailure = outcome.failureOnly();
                        commands = commands.withoutDeletions();
                        outcome = RsyncRunner.Outcome.NOT_RUN;
                    } else if (!outcome.succeeded()) {
                        outcome = outcome.failureOnly();
                    }
                } else if (outcome.succeeded() && judged) {
                    RsyncRunner.Outcome counting;
                    try (RunProgress.Pass pass = progress.pass("full sync: counting what it changes (dry run)", false)) {
                        counting = commands.asDryRun().fullPass().run(changes, pass);
                    }
                    destinationPaths = OptionalLong.of(Math.max(0, counting.sourcePaths() - counting.created()));
                    outcome = counting.succeeded() || counting.partial() ? outcome : counting.failureOnly();
                }
                if (outcome.succeeded() && judged) {
                    enter(brake.decide(changes, destinationPaths));
                }
                if (!request.dryRun() && deletionDecision.isPresent()) {
                    deletions.enter(deletionDecision.get());
                }
                if (outcome.succeeded()) {
                    outcome = runPass("full sync", commands, Transfer::fullPass, null, null, failureChecks)
                            .plus(previewFailure);
                }
                rsyncRan = true;
            } else {
                DeletionLists deletionLists = RouteFiles.deletionLists(listDirectory, route.name());
                PendingChanges.Lists lists = scan.pending().orElseThrow()
                        .writeLists(RouteFiles.fileList(listDirectory, route.name()), RouteFiles.directoryList(listDirectory, route.name()),
                                RouteFiles.contentList(listDirectory, route.name()), deletionLists, route.propagateDeletes(),
                                new AncestorCheck(root.path(), route.name()));
                renamedDirectories = DeletionGuard.renamedDirectories(deletionLists.renamed());
                mode = Mode.INCREMENTAL;
                reason = lists.isEmpty() ? Reason.NOTHING_TO_DO : Reason.CHANGES;
                decided(mode, reason, scan.backlog());
                if (request.dryRun()) {
                    shownByIncrementalDryRun = new HashSet<>();
                }
                log(mode, reason, scan.backlog(), end);
                LOG.info("route '{}': {} files or subtrees, {} directories, {} deletions, {} written files compared by"
                        + " content to send", route.name(), lists.files(), lists.directories(), lists.deletions(),
                        lists.comparedByContent());
                outcome = beforePasses;
                rsyncRan = destination.unreachable().isPresent();
                if (judged && outcome.succeeded() && !lists.isEmpty()) {
                    // A directory that arrived whole, or one deleted or moved away, is one entry for any number of files.
                    if (lists.subtrees() == 0 && lists.deletions() == 0
                            && brake.precheck(lists.files() + lists.comparedByContent())) {
                        counted = brake.counter(deletionLists.renamed());
                    } else {
                        outcome = countChanges(commands, lists, deletionLists);
                        rsyncRan = true;
                    }
                }
                if (lists.files() + lists.deletions() > 0) {
                    Path fileList = RouteFiles.fileList(listDirectory, route.name());
                    if (outcome.succeeded()) {
                        outcome = runPass("incremental sync: changed files and new directories", commands,
                                pass -> pass.recursivePass(fileList), fileList, RetryList.Kind.FILE, failureChecks);
                    }
                    rsyncRan = true;
                }
                if (lists.comparedByContent() > 0 && (outcome.succeeded() || outcome.partial())) {
                    Path contentList = RouteFiles.contentList(listDirectory, route.name());
                    outcome = outcome.plus(runPass("incremental sync: written files, compared by content", commands,
                            pass -> pass.contentPass(contentList), contentList, RetryList.Kind.CONTENT, failureChecks));
                    rsyncRan = true;
                }
                // After what is new arrived, so that a renamed directory's new name is there before its old one goes.
                if (lists.deletions() > 0 && (outcome.succeeded() || outcome.partial())) {
                    deletionDecision = Optional.of(deletionsCounted.isPresent() ? deletionsCounted.get()
                            : decideDeletions("incremental sync: counting deletions", deletionDryRun(commands,
                            deletionLists), false, deletionLists.renamed(), line -> { }));
                    if (!request.dryRun()) {
                        deletions.enter(deletionDecision.get());
                    }
                    Transfer deleting = deletionDecision.get().applyTo(commands);
                    if (!deletionDecision.get().outcome().succeeded()) {
                        outcome = outcome.plus(deletionDecision.get().outcome().failureOnly());
                    } else if (!deletionDecision.get().refused()) {
                        RsyncRunner.Outcome deletionPass = runPass("incremental sync: deletions", deleting,
                                pass -> pass.deletionPass(deletionLists), deletionLists.directories(), null, failureChecks);
                        // A dry run's deletion pass counts again what the earlier passes would have sent.
                        outcome = outcome.plus(request.dryRun() ? deletionPass.deletionsOnly() : deletionPass);
                    }
                }
                // After the files: writing into a directory changes its time at the destination. After a
                // partial transfer too: the directories still need their times, and this pass its check.
                if (lists.directories() > 0 && (outcome.succeeded() || outcome.partial())) {
                    Path directoryList = RouteFiles.directoryList(listDirectory, route.name());
                    outcome = outcome.plus(runPass("incremental sync: directory attributes", commands,
                            pass -> pass.directoryPass(directoryList), directoryList, RetryList.Kind.DIRECTORY,
                            failureChecks));
                    rsyncRan = true;
                }
            }
        } catch (SyncException refused) {
            recordRefusal(refused, started, scan.backlog());
            throw refused;
        }

        Optional<String> stoppedBy = outcome.succeeded() ? Optional.empty() : stopSignal(outcome);
        if (stoppedBy.isPresent()) {
            return stopped(stoppedBy.get(), mode, reason, outcome, rsyncRan, state, scan.backlog(), started, trackerRunning);
        }
        int exitCode = exitCodeOf(outcome);
        boolean success = exitCode == ExitCodes.OK;
        Optional<RetryList> retryAfter = success ? Optional.of(RetryList.EMPTY) : Optional.empty();
        if (outcome.partial() && !failureChecks.isEmpty() && !request.dryRun()) {
            retryAfter = failedPaths(failureChecks, state.retry(), outcome.errors(), reader, end);
            if (retryAfter.isEmpty() && StopSignals.received().isPresent()) {
                // The stop came during a failure check's dry run, which it ended.
                return stopped(StopSignals.received().get(), mode, reason, outcome, rsyncRan, state, scan.backlog(),
                        started, trackerRunning);
            }
            if (retryAfter.isPresent() && !retryAfter.get().overflowed()
                    && RsyncErrorLines.onlyChangingFiles(outcome.errors())) {
                // Nothing failed: what still differs changed after rsync read it, and is sent again either way.
                retryAfter = Optional.of(changing(retryAfter.get()));
                LOG.info("route '{}': rsync exited with 23 only because files changed while it read them; they are"
                        + " pending again with their newer records{}, so the run succeeded", route.name(),
                        retryAfter.get().entries().isEmpty() ? "" : ", or as changing in the retry list ("
                        + retryAfter.get().entries().size() + " not recorded again yet)");
                exitCode = ExitCodes.OK;
                success = true;
            }
        }
        if (outcome.exitCode() == 24) {
            LOG.info("route '{}': files vanished while rsync read them; their deletions are records of their own:"
                    + " {}", route.name(), String.join(" | ", outcome.errors()));
        }
        if (retryAfter.isEmpty()) {
            LOG.error("route '{}': rsync exited with {}; the cursor stays at {} and the next run retries{}",
                    route.name(), outcome.exitCode(), state.cursor().isPresent() ? state.cursor().getAsLong() : "(none)",
                    outcome.errors().isEmpty() ? "" : "; rsync reported: " + String.join(" | ", outcome.errors()));
        }
        boolean committed = retryAfter.isPresent() && !request.dryRun();
        RetryList retry = committed ? retryAfter.get() : state.retry();
        if (committed) {
            if (!success || !retry.entries().isEmpty()) {
                // Durable before the cursor moves past the records that named these paths.
                retry.write(layout.retryList(route.name()));
            }
            if (!success) {
                if (retry.entries().isEmpty() && !retry.overflowed()) {
                    LOG.warn("route '{}': rsync exited with {}, and every path it left out changed again since: the"
                            + " queue's newer records send them with the next run; the cursor moves on", route.name(),
                            outcome.exitCode());
                } else {
                    reportFailures(retry);
                }
            }
            if (counted != null) {
                // No dry run counted them: the ledger has them before the cursor moves past their records.
                brake.enter(brake.decision(counted));
            }
            deletions.beforeCommit(deletionDecision, outcome, mode == Mode.FULL);
            // Before the cursor: a crash in between repeats the run, which records it again.
            changes.build(started.toEpochMilli()).write(layout.runChanges(route.name()));
            commit(end, queueId, mode, today, state.flags());
            guard.recordAfterSuccess(identities);
            deletions.afterCommit(deletionDecision);
            brake.afterCommit();
            marker.placeAfterSuccess(destination.accepted());
            if (historyRun.isPresent()) {
                retainHistory(commands, historyRun.get(), mode == Mode.FULL);
            }
            if (success && !state.retry().isEmpty() && retry.entries().isEmpty()) {
                // After the commit: a crash in between only sends these paths once more.
                retry.write(layout.retryList(route.name()));
                LOG.info("route '{}': the {} path(s) of its retry list arrived; the list is empty", route.name(),
                        state.retry().entries().size());
            }
        }
        Optional<String> refusal = deletionDecision.flatMap(DeletionGuard.Decision::refusal);
        if (refusal.isPresent()) {
            if (request.dryRun()) {
                out.println("route '" + route.name() + "': " + deletionDecision.get().wouldBeRefused().orElseThrow()
                        + "; a real run sends what is new or changed and holds the deletions until '" + command
                        + " --allow-deletes " + deletionDecision.get().measured() + "'");
            } else {
                LOG.error("{}. {}", refusal.get(), committed ? "The files that are new or changed were sent; the cursor"
                        + " moved on" : "Nothing was deleted; the cursor stays");
            }
            exitCode = exitCode == ExitCodes.OK ? ExitCodes.DELETIONS_REFUSED : exitCode;
        }
        if (success && !request.dryRun() && request.allowDeletes().isPresent()
                && deletionDecision.map(decision -> decision.deletions().isEmpty()).orElse(true)) {
            LOG.warn("route '{}': --allow-deletes {} was not used: {}", route.name(), request.allowDeletes().getAsLong(),
                    mode == Mode.FULL ? route.deleteOnFull() ? "the full sync had nothing to delete"
                    : "the route's full syncs do not delete (delete-on-full: false)" : route.propagateDeletes()
                    ? "the run had nothing to delete" : "an incremental run of a route without propagate-deletes deletes"
                    + " nothing; deletions (held ones too) are made by a full sync: add --full");
        }
        boolean tracked = trackerRunning && untracked.isEmpty();
        if (exitCode == ExitCodes.OK && !tracked) {
            exitCode = ExitCodes.TRACKER_NOT_RUNNING;
        }
        // Committed, the retry list is this run's: empty after a plain success.
        long failedPaths = committed ? retry.entries().size() : 0;
        // rsync counts as transferred a file the receiver then failed to write, and one that vanished before it was read.
        long arrived = Math.max(0, outcome.files() - (committed ? files(retry) : 0)
                - outcome.errors().stream().filter(RsyncErrorLines::vanishedFile).count());
        Instant finished = clock.instant();
        double seconds = seconds(started, finished);
        if (!request.dryRun()) {
            writeMetrics(exitCode, committed && tracked, mode, finished, seconds, arrived, outcome.deletionCount(),
                    scan.backlog(), Optional.of(retry), Optional.of(new SyncMetrics.Tracker(trackerRunning,
                            untracked.isEmpty(), lastRecordSeconds(reader, end))));
            if (committed) {
                applyRetention(reader, finished);
            }
        }
        return new SyncReport(route.name(), mode.token(), reason.token(), arrived, outcome.deletionCount(), failedPaths,
                outcome.bytes(), seconds, rsyncRan ? OptionalInt.of(outcome.exitCode()) : OptionalInt.empty(), exitCode,
                scan.backlog(), outcome.itemized(), outcome.errors(), committed ? describe(retry) : List.of(),
                trackerRunning, Optional.empty(), changes.build(started.toEpochMilli()).changed());
    }

    /** A stop is neither a failure nor a success: no (further) failure check, no commit, no metrics, no alarm. */
    private SyncReport stopped(String signal, Mode mode, Reason reason, RsyncRunner.Outcome outcome, boolean rsyncRan,
                               RouteState state, long backlog, Instant started, boolean trackerRunning) {
        LOG.info("route '{}': the run was stopped ({}) while rsync ran; nothing was committed: the cursor stays at {}"
                + " and the next run sends these changes again", route.name(), signal,
                state.cursor().isPresent() ? state.cursor().getAsLong() : "(none)");
        return new SyncReport(route.name(), mode.token(), reason.token(), outcome.files(), outcome.deletionCount(), 0,
                outcome.bytes(), seconds(started, clock.instant()),
                rsyncRan ? OptionalInt.of(outcome.exitCode()) : OptionalInt.empty(), StopSignals.exitCode(signal), backlog,
                outcome.itemized(), outcome.errors(), List.of(), trackerRunning, Optional.of(signal),
                changes.build(started.toEpochMilli()).changed());
    }

    private void decided(Mode mode, Reason reason, long backlog) {
        decidedMode = mode;
        decidedReason = reason;
        decidedBacklog = backlog;
    }

    /** {@code retry} with a reason for each entry rsync named none for: it changed while rsync read it. */
    private static RetryList changing(RetryList retry) {
        return new RetryList(retry.entries().stream().map(entry -> entry.reason().isEmpty()
                ? new RetryList.Entry(entry.path(), entry.kind(), entry.firstFailedMillis(),
                        "changing: it changed while rsync read it; the next run sends it")
                : entry).toList(), retry.overflowed());
    }

    /** The signal that stopped rsync: noted already, or on its way when rsync got it first (terminal, cgroup). */
    static Optional<String> stopSignal(RsyncRunner.Outcome outcome) throws InterruptedException {
        Optional<String> received = StopSignals.received();
        if (received.isEmpty() && (outcome.exitCode() == RSYNC_SIGNALLED || outcome.exitCode() > 128)) {
            received = StopSignals.await(SIGNAL_GRACE);
        }
        return received;
    }

    /** The entries of {@code retry} that are files: those rsync counts when it transfers them. */
    private static long files(RetryList retry) {
        return retry.entries().stream()
                .filter(entry -> entry.kind() == RetryList.Kind.FILE || entry.kind() == RetryList.Kind.CONTENT).count();
    }

    /**
     * The paths a partial transfer left out: what the dry runs of the passes that ended in 23 still list, each with
     * rsync's message for it. Empty when a check itself fails, or finds no path: then nobody knows what failed.
     */
    private Optional<RetryList> failedPaths(List<FailureCheck> checks, RetryList previous, List<String> errors,
                                            ManifestReader reader, long end)
            throws SyncException, InterruptedException, IOException {
        FailedPaths failed = new FailedPaths(previous, clock.millis(), RetryList.LIMIT);
        List<String> messages = new ArrayList<>(errors);
        for (FailureCheck check : checks) {
            RsyncRunner.Outcome outcome;
            try (RunProgress.Pass pass = progress.pass("finding the paths the partial transfer left out (dry run)",
                    false)) {
                outcome = check.pass().run(
                        check.comparedByContent() ? failed::acceptComparedByContent : failed::accept, pass);
            }
            if (outcome.partial() && check.isolatedAs() != null) {
                LOG.info("route '{}': the dry run that finds what the partial transfer left out ended in a partial"
                        + " transfer too; dry-running parts of the pass's list to find the failing entries", route.name());
                if (new FailureIsolation(check.pass(), check.list(), root.path(), check.isolatedAs(), failed, messages)
                        .isolate()) {
                    continue;
                }
            }
            if (outcome.partial() && check.isolatedAs() == null && new RsyncErrorLines(root.path(), route.dest())
                    .addFailedPaths(List.of(check.passErrors(), outcome.errors()), failed)) {
                LOG.info("route '{}': the dry run that finds what the partial transfer left out ended in a partial"
                        + " transfer too; the paths rsync's error lines name go to the retry list", route.name());
                messages.addAll(outcome.errors());
                continue;
            }
            if (!outcome.succeeded()) {
                if (StopSignals.received().isEmpty()) {
                    LOG.error("route '{}': finding the paths the partial transfer left out failed too (rsync exit {} of"
                            + " the dry run); they cannot be put in the retry list", route.name(), outcome.exitCode());
                }
                return Optional.empty();
            }
            messages.addAll(outcome.errors());
        }
        RetryList result = failed.result(messages);
        if (result.entries().isEmpty() && !result.overflowed() && RsyncErrorLines.onlyChangingFiles(errors)) {
            // What failed were files that changed while rsync read them, and none differs now.
            return Optional.of(result);
        }
        if (result.entries().isEmpty() && !result.overflowed()) {
            LOG.error("route '{}': the partial transfer's dry run found no path that still differs, so nothing says what"
                    + " failed; the cursor stays", route.name());
            return Optional.empty();
        }
        PendingAgain pendingAgain = PendingAgain.read(reader, route.root(), end);
        List<RetryList.Entry> failing = result.entries().stream()
                .filter(entry -> !pendingAgain.covers(entry)).toList();
        if (failing.size() < result.entries().size()) {
            LOG.info("route '{}': {} of the paths that still differ changed since the run read the queue: they are"
                    + " pending again with their newer records, not in the retry list", route.name(),
                    result.entries().size() - failing.size());
        }
        return Optional.of(new RetryList(failing, result.overflowed()));
    }

    /**
     * A dry run that finds what a pass left out; the content pass's failures stay compared by content.
     *
     * @param isolatedAs the retry list's kind of an entry of {@code list} that fails alone; null for a pass whose
     *                   entries cannot be dry-run apart (the full pass, the deletion pass)
     * @param passErrors the error lines of the pass itself, read when its entries cannot be dry-run apart
     */
    private record FailureCheck(Transfer.Pass pass, Path list, RetryList.Kind isolatedAs, List<String> passErrors) {

        boolean comparedByContent() {
            return isolatedAs == RetryList.Kind.CONTENT;
        }
    }

    /**
     * Runs one pass and, when it ends in a partial transfer, keeps the dry run that finds what it left out.
     *
     * @param activity what the pass does, for the progress reports
     * @param pass the pass of a set of commands: applied to the real ones, then to their failure check
     * @param list the pass's file list, printed by a dry run; null for the full pass
     * @param isolatedAs see {@link FailureCheck}
     */
    private RsyncRunner.Outcome runPass(String activity, Transfer commands, Function<Transfer, Transfer.Pass> pass,
                                        Path list, RetryList.Kind isolatedAs, List<FailureCheck> failureChecks)
            throws SyncException, InterruptedException, IOException {
        Transfer.Pass running = pass.apply(commands);
        printPlan(running.command(), list);
        RsyncRunner.Outcome outcome;
        // A dry run sends nothing: what its rsync checks is progress, what it would send is not.
        try (RunProgress.Pass progressed = request.dryRun() ? progress.pass(activity + " (dry run)", false)
                : progress.pass(activity, true)) {
            Consumer<byte[]> shown = request.showsPaths() ? this::show : line -> { };
            Consumer<byte[]> recorded = shown.andThen(this::record);
            outcome = running.run(counted == null || request.dryRun() ? recorded : recorded.andThen(counted), progressed);
        }
        if (outcome.partial()) {
            failureChecks.add(new FailureCheck(pass.apply(commands.asFailureCheck()), list, isolatedAs, outcome.errors()));
        }
        return outcome;
    }

    private void reportFailures(RetryList retry) {
        LOG.error("route '{}': rsync could not send {} path(s){}; they wait in {} and every run sends them again until"
                        + " they arrive or are gone from the source; the cursor moves on", route.name(),
                retry.entries().size(), retry.overflowed() ? " and more (over the retry list's limit of " + RetryList.LIMIT
                        + ": the next run is full)" : "", layout.retryList(route.name()));
        List<String> described = describe(retry);
        for (int i = 0; i < Math.min(described.size(), PRINTED_FAILURES_LIMIT); i++) {
            LOG.error("route '{}': not sent: {}", route.name(), described.get(i));
        }
        if (described.size() > PRINTED_FAILURES_LIMIT) {
            LOG.error("route '{}': ... and {} more: changeq-queue paths --retry --route {} lists them all", route.name(),
                    described.size() - PRINTED_FAILURES_LIMIT, route.name());
        }
    }

    /** {@code path (failing since TIME): rsync's message}, escaped, for the first entries. */
    private static List<String> describe(RetryList retry) {
        List<String> lines = new ArrayList<>();
        for (RetryList.Entry entry : retry.entries().subList(0, Math.min(retry.entries().size(), RsyncRunner.SAMPLE_LIMIT))) {
            lines.add(ByteStrings.escape(entry.path()) + (entry.kind().directory() ? "/" : "")
                    + " (failing since " + Instant.ofEpochMilli(entry.firstFailedMillis()) + "): "
                    + (entry.reason().isEmpty() ? "rsync named no reason for it; see its messages above" : entry.reason()));
        }
        return lines;
    }

    /**
     * The name of this run's directory in the route's history; waits, at most a second, until that second has begun
     * ({@link History#runName}).
     */
    private String historyRun() throws IOException, InterruptedException {
        Optional<Instant> previousFinish = RouteRuns.read(layout.routeRuns(route.name())).last()
                .map(run -> Instant.ofEpochMilli(run.finishedMillis()));
        String name = History.runName(clock.instant(), previousFinish);
        long wait = History.runStart(name).orElseThrow().toEpochMilli() - clock.millis();
        if (wait > 0) {
            Thread.sleep(Math.min(wait, 1000));
        }
        return name;
    }

    /**
     * After the run passed the route's identity checks and committed: removes the history's expired run directories.
     * Listing the history costs a walk of it at the destination, which a follower would pay every batch: a run that is
     * not full lists it only once a run directory can have expired ({@link History.Summary#due}). The run succeeded
     * whatever retention manages; what it cannot remove now goes at a later run.
     */
    private void retainHistory(Transfer commands, String current, boolean full) throws InterruptedException {
        IndexFile due = layout.historyRetentionDue(route.name());
        try {
            OptionalLong next = retentionDue(due);
            if (!full && next.isPresent() && clock.millis() < next.getAsLong()) {
                LOG.debug("route '{}': history: no run directory expires before {}; retention waits until then",
                        route.name(), Instant.ofEpochMilli(next.getAsLong()));
                return;
            }
            Optional<HistoryLock> lock = HistoryLock.retaining(layout.historyLock(route.name()));
            if (lock.isEmpty()) {
                LOG.info("route '{}': history: 'changeq-sync history' or 'restore' is reading it; its retention is left"
                        + " to a later run", route.name());
                return;
            }
            try (HistoryLock retaining = lock.get()) {
                history = Optional.of(commands.history(layout.directory()).retain(clock.instant(), current));
                due.write(history.get().due().toEpochMilli());
            }
        } catch (SyncException | IOException e) {
            LOG.warn("route '{}': the history's retention failed: {}; the next successful run tries again", route.name(),
                    e.getMessage());
        }
    }

    /** When retention is next due; empty, so that it runs now, when the file is unreadable as one. */
    private OptionalLong retentionDue(IndexFile due) throws IOException {
        try {
            return due.read();
        } catch (IllegalStateException e) {
            LOG.info("route '{}': {}; retention runs now and replaces it", route.name(), e.getMessage());
            return OptionalLong.empty();
        }
    }

    /** The run succeeded whatever retention manages: queue files it cannot delete now go at a later run. */
    private void applyRetention(ManifestReader reader, Instant now) {
        try {
            QueueRetention.apply(config, reader, request.retainMinAge(), now);
        } catch (IOException e) {
            LOG.warn("route '{}': old queue files could not be deleted ({}); the queue grows until a later run can:"
                    + " check that the user changeq-sync runs as may write {}", route.name(), e.toString(), config.queue());
        }
    }

    /**
     * A refused run is a failed run for the alerts: it sent nothing, so the last success stays where it was. Its message
     * is logged here, once: callers do not repeat it.
     */
    private void recordRefusal(SyncException refused, Instant started, long backlog) throws SyncException {
        LOG.error("{}", refused.getMessage());
        refused.markLogged();
        if (!request.dryRun()) {
            Instant finished = clock.instant();
            writeMetrics(refused.exitCode(), false, null, finished, seconds(started, finished), 0, 0, backlog,
                    Optional.empty(), Optional.empty());
        }
    }

    /** The time of the queue's last record (0 for an empty queue): how long ago anything was recorded. */
    private static double lastRecordSeconds(ManifestReader reader, long end) {
        double[] seconds = {0};
        if (end != ManifestReader.NO_INDEX) {
            reader.readFrom(end, end, (index, record) -> {
                seconds[0] = record.timeMillis() / 1000.0;
                return false;
            });
        }
        return seconds[0];
    }

    private static double seconds(Instant started, Instant finished) {
        return (finished.toEpochMilli() - started.toEpochMilli()) / 1000.0;
    }

    private void log(Mode mode, Reason reason, long backlog, long end) {
        LOG.info("route '{}': {} sync, reason {}: {} (backlog {} records, queue end {})", route.name(),
                mode.token(), reason.token(), reason.explanation(), backlog, end);
    }

    private void commit(long end, Optional<UUID> queueId, Mode mode, LocalDate today, FullSyncFlags flags)
            throws IOException {
        layout.cursor(route.name()).write(end, queueId);
        LOG.info("route '{}': cursor committed at {}", route.name(), end);
        // After the cursor: a crash in between leaves the old selection recorded, and the next run is full once more.
        layout.routeSelection(route.name()).write(RouteSelection.fingerprint(route, root));
        if (mode == Mode.FULL) {
            layout.lastFullSync(route.name()).write(today);
            if (flags.forceRequested() || flags.legacyRequested()) {
                flags.markHonoured(layout, route.name());
                LOG.info("route '{}': the full sync honoured {}; the flag is not removed (whoever made it may delete it),"
                        + " touching it again asks for another full sync", route.name(),
                        flags.legacyRequested() ? root.path().resolve(RouteState.LEGACY_FLAG_FILE)
                                : layout.forceFullFlag(route.name()));
            }
        }
    }

    /**
     * @param mode    null when the run was refused before it chose one
     * @param retry   the retry list after the run; empty when the run did not get to read it
     * @param tracker whether a tracker records changes, and the time of the queue's last record; empty when unknown
     */
    private void writeMetrics(int exitCode, boolean committed, Mode mode, Instant finished, double seconds, long files,
                              long deleted, long backlog, Optional<RetryList> retry,
                              Optional<SyncMetrics.Tracker> tracker)
            throws SyncException {
        Path file = RouteFiles.metricsFile(layout, request);
        Path directory = file.getParent();
        try {
            RouteRuns.record(layout.routeRuns(route.name()), new RouteRuns.Run(finished.toEpochMilli()
                    - Math.round(seconds * 1000), finished.toEpochMilli(), Optional.ofNullable(mode), exitCode, files),
                    committed);
            SyncMetrics metrics = SyncMetrics.read(file)
                    .after(exitCode, committed, mode == Mode.FULL, finished.toEpochMilli() / 1000.0, seconds, files, deleted,
                            backlog);
            if (history.isPresent()) {
                metrics = metrics.withHistory(history.get().bytes(), history.get().runs());
            }
            metrics = retry.map(metrics::withRetry).orElse(metrics)
                    .withHeldDeletions(HeldDeletions.read(layout.heldDeletions(route.name())).paths().size())
                    .withChanges(changeMetrics());
            tracker.map(metrics::withTracker).orElse(metrics).write(file, route.name());
        } catch (IOException e) {
            throw new SyncException(ExitCodes.SOFTWARE, "route '" + route.name() + "': the run ended with exit code "
                    + exitCode + " but its metrics could not be written to " + file + ": " + e
                    + "; the alerts cannot see this route. Check that the user changeq-sync runs as may write " + directory
                    + (directory.startsWith(config.state()) ? "" : "; under systemd a --metrics-dir outside /var/lib/changeq"
                    + " also needs ReadWritePaths= in a drop-in (see /usr/share/doc/changeq/examples/)"), e);
        }
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

    /**
     * Prints an itemized line of a pass. A dry run's passes do not see what the earlier ones would have sent, so the
     * deletion pass itemizes again the new and changed files of its directories: each path is shown once, as the real
     * run shows it, by the first pass that would send it.
     */
    private void show(byte[] itemized) {
        String line = RsyncRunner.itemizedForDisplay(itemized);
        String path = line.substring(RsyncRunner.ITEMIZE_WIDTH);
        if (shownByIncrementalDryRun == null || shownByIncrementalDryRun.add(line.startsWith("*") ? line : path)) {
            out.println(line);
        }
    }

    /**
     * The deletion guard's decision; a real run enters it in the ledger before its pass deletes.
     *
     * @param itemized hears the dry run's itemized lines too
     */
    private DeletionGuard.Decision decideDeletions(String activity, Transfer.Pass dryRunPass, boolean full,
                                                   Path renamedList, Consumer<byte[]> itemized)
            throws SyncException, IOException, InterruptedException {
        try (RunProgress.Pass pass = progress.pass(activity + " (dry run)", false)) {
            return deletions.decide(dryRunPass, full, renamedList, pass, itemized);
        }
    }

    /** Notes what an itemized line of a real pass changed at the destination. */
    private void record(byte[] itemized) {
        RunChanges.Kind kind = ChangeBrake.kindOf(itemized);
        if (kind != null) {
            byte[] path = ChangeBrake.pathOf(itemized);
            if (changes.add(kind, path) && kind == RunChanges.Kind.DELETED
                    && DeletionGuard.below(path, renamedDirectories)) {
                renamedAway++;
            }
        }
    }

    /** What this run's passes changed, by kind, and the route's max-change window after it, for the metrics. */
    private SyncMetrics.Changes changeMetrics() throws IOException {
        RunChanges run = changes.build(0);
        long used = 0;
        long limit = 0;
        try {
            ChangeBrake.Window window = brake.window();
            used = window.used();
            limit = window.limit();
        } catch (IllegalStateException malformed) {
            // The brake names a malformed ledger when it judges a run; the metrics of this one still go out.
            LOG.debug("route '{}': the max-change window is unknown: {}", route.name(), malformed.getMessage());
        }
        return new SyncMetrics.Changes(run.count(RunChanges.Kind.OVERWRITTEN),
                run.count(RunChanges.Kind.DELETED) - renamedAway, renamedAway, run.count(RunChanges.Kind.NEW), used, limit,
                brake.refusedChanges());
    }

    /** Enters what the change brake let through in its ledger, before the passes: a dry run changes nothing. */
    private void enter(ChangeBrake.Decision decision) throws IOException {
        if (!request.dryRun()) {
            brake.enter(decision);
        }
    }

    /**
     * Counts, by dry runs of the incremental passes that send, delete and compare by content, what the run would
     * change at the destination, and lets the change brake decide before any pass runs.
     *
     * @return how the dry runs ended: a failure is the run's (nothing sent), a partial transfer counts what it listed
     * @throws SyncException {@code MASS_CHANGE_REFUSED} when the changes would pass the route's max-change
     */
    private RsyncRunner.Outcome countChanges(Transfer commands, PendingChanges.Lists lists,
                                             DeletionLists deletionLists)
            throws SyncException, IOException, InterruptedException {
        ChangeBrake.Count changes = brake.counter(deletionLists.renamed());
        Transfer counting = commands.asFailureCheck();
        Map<Transfer.Pass, Consumer<byte[]>> dryRuns = new LinkedHashMap<>();
        if (lists.files() + lists.deletions() > 0) {
            dryRuns.put(counting.recursivePass(RouteFiles.fileList(listDirectory, route.name())), changes);
        }
        if (lists.comparedByContent() > 0) {
            dryRuns.put(counting.contentPass(RouteFiles.contentList(listDirectory, route.name())), changes);
        }
        for (Map.Entry<Transfer.Pass, Consumer<byte[]>> dryRun : dryRuns.entrySet()) {
            RsyncRunner.Outcome outcome;
            try (RunProgress.Pass pass = progress.pass("counting what the run changes (dry run)", false)) {
                outcome = dryRun.getKey().run(dryRun.getValue(), pass);
            }
            if (!outcome.succeeded() && !outcome.partial()) {
                return outcome.failureOnly();
            }
        }
        if (lists.deletions() > 0) {
            // One dry run for both limits: the deletion guard decides by it, and the deletion pass asks no more.
            DeletionGuard.Decision decision = decideDeletions("counting what the run changes and deletes",
                    deletionDryRun(commands, deletionLists), false, deletionLists.renamed(), changes.deletionsOnly());
            deletionsCounted = Optional.of(decision);
            if (!decision.outcome().succeeded() && !decision.outcome().partial()) {
                return decision.outcome().failureOnly();
            }
        }
        enter(brake.decide(changes, OptionalLong.empty()));
        return RsyncRunner.Outcome.NOT_RUN;
    }

    /**
     * The dry run of the incremental deletion pass: what it would delete, and the new and changed files it itemizes
     * again in its directories, which only the deletion guard's caller may ignore.
     */
    private static Transfer.Pass deletionDryRun(Transfer commands, DeletionLists deletionLists) {
        return commands.asDryRun().deletionPass(deletionLists);
    }

    private void printPlan(List<String> command, Path list) throws IOException {
        if (!request.dryRun() || command.isEmpty()) {
            return;
        }
        out.println("command: " + ShellWords.join(command));
        if (list == null) {
            return;
        }
        byte[] bytes = StateDirectory.read(list);
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
            out.println("  ... and " + (printed - PRINTED_ENTRIES_LIMIT) + " more entries; 'changeq-queue paths --route "
                    + route.name() + "' lists them all");
        }
    }
}
