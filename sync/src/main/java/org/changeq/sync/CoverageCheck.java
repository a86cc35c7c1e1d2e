package org.changeq.sync;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.PermissionDenied;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.RootConfig;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.pipeline.manifest.WriterLock;
import org.changeq.pipeline.plan.RouteSelection;
import org.changeq.pipeline.plan.SyncPolicy;
import org.changeq.pipeline.state.RootTracking;
import org.changeq.pipeline.state.StateLayout;

/**
 * {@code changeq-sync check}: proves that routes sharing a pattern list (one excludes it, another
 * includes it) together send every non-excluded path of their root exactly once, by walking the
 * real tree; names a root the running tracker does not watch as configured, and a root no route reads; and, for
 * every route, dry-runs a full sync as {@code changeq-sync --full --dry-run} does, deletion guard included: a
 * destination that cannot be reached fails the check, and so do deletions a full sync would be refused, and a full
 * sync max-change would refuse.
 *
 * <p>Paths are matched as bytes; names that are not valid UTF-8 are counted and shown escaped.
 * Blocks the calling thread (tree walks, rsync); writes its report to the given stream.
 */
public final class CoverageCheck {

    private final ChangeqConfig config;
    private final int examples;
    private final PrintStream out;
    private boolean failed;

    private CoverageCheck(ChangeqConfig config, int examples, PrintStream out) {
        this.config = config;
        this.examples = examples;
        this.out = out;
    }

    /**
     * @param examples how many example paths to print per finding
     * @return {@code ExitCodes.OK}, or {@code ExitCodes.CHECK_FAILED} on any gap, overlap, unreadable root, root
     *         the running tracker does not watch as configured, full sync whose dry run fails (a destination that
     *         cannot be reached), or full sync that max-delete or max-change would refuse
     * @throws SyncException when rsync cannot be started
     */
    public static int run(ChangeqConfig config, int examples, PrintStream out)
            throws IOException, InterruptedException, SyncException {
        return new CoverageCheck(config, examples, out).run();
    }

    private int run() throws IOException, InterruptedException, SyncException {
        out.println("config: " + config.roots().size() + " roots, " + config.routes().size() + " routes, "
                + config.lists().size() + " lists: valid");
        for (RootConfig root : config.roots().values()) {
            checkCoverage(root);
        }
        reportUnreadRoots();
        for (RouteConfig route : config.routes().values()) {
            try {
                reportChangedSelection(route);
                previewFullSync(route);
            } catch (IOException e) {
                // The state is the service account's: a user outside its group is told so as every program tells it.
                Optional<PermissionDenied> denied = PermissionDenied.in(e);
                if (denied.isPresent()) {
                    throw denied.get();
                }
                failed = true;
                out.println("route '" + route.name() + "': FAILED: cannot read its state under " + config.state()
                        + " to preview its full sync (" + e.getMessage() + "): run check as the user the syncs run as"
                        + " (changeq), or as root");
            }
        }
        out.println(failed ? "check: FAILED" : "check: OK");
        return failed ? ExitCodes.CHECK_FAILED : ExitCodes.OK;
    }

    /** Routes of one root that name the same list: together they must cover the root exactly once. */
    private Map<String, List<RouteConfig>> groupsSharingAList(RootConfig root) {
        Map<String, List<RouteConfig>> byList = new LinkedHashMap<>();
        for (RouteConfig route : config.routes().values()) {
            if (route.root().equals(root.name())) {
                route.includeList().ifPresent(list -> byList.computeIfAbsent(list, k -> new ArrayList<>()).add(route));
                route.excludeList().ifPresent(list -> byList.computeIfAbsent(list, k -> new ArrayList<>()).add(route));
            }
        }
        byList.values().removeIf(routes -> routes.size() < 2);
        return byList;
    }

    private void checkCoverage(RootConfig root) throws IOException, InterruptedException {
        Map<String, List<RouteConfig>> groups = groupsSharingAList(root);
        if (!Files.isDirectory(root.path())) {
            out.println("root '" + root.name() + "' (" + root.path() + "): MISSING or not a directory");
            failed = true;
            return;
        }
        List<Finding> gaps = new ArrayList<>();
        List<Finding> overlaps = new ArrayList<>();
        for (int g = 0; g < groups.size(); g++) {
            gaps.add(new Finding());
            overlaps.add(new Finding());
        }
        long[] counts = new long[3]; // paths, excluded by the root, not valid UTF-8
        List<List<RouteConfig>> routeGroups = List.copyOf(groups.values());
        int findStatus = TreeWalk.walk(root.path(), (path, directory) -> {
            counts[0]++;
            if (!ByteStrings.isValidUtf8(path)) {
                counts[2]++;
            }
            if (root.excludes().matchesSelfOrAncestor(path, directory)) {
                counts[1]++;
                return;
            }
            for (int g = 0; g < routeGroups.size(); g++) {
                int senders = 0;
                for (RouteConfig route : routeGroups.get(g)) {
                    if (route.sends(path, directory)) {
                        senders++;
                    }
                }
                if (senders == 0) {
                    gaps.get(g).add(path, directory, examples);
                } else if (senders > 1) {
                    overlaps.get(g).add(path, directory, examples);
                }
            }
        });
        out.println("root '" + root.name() + "' (" + root.path() + "): " + counts[0] + " paths, " + counts[1]
                + " excluded by the root, " + counts[2] + " with names that are not valid UTF-8 (matched as bytes)");
        if (WriterLock.isHeld(config.queue())) {
            Optional<String> untracked = RootTracking.untracked(root, new StateLayout(config.state()).trackerRoots());
            if (untracked.isPresent()) {
                out.println("  NOT TRACKED: " + untracked.get() + "; until then every run of its routes is full"
                        + " (reason root-not-tracked) and exits " + ExitCodes.TRACKER_NOT_RUNNING);
                failed = true;
            }
        }
        if (findStatus != 0) {
            out.println("  WARNING: " + TreeWalk.FIND + " exited with " + findStatus
                    + ": some directories could not be read, so the check is incomplete; run it as the tracker's user");
            failed = true;
        }
        int g = 0;
        for (Map.Entry<String, List<RouteConfig>> group : groups.entrySet()) {
            out.println("  routes sharing list '" + group.getKey() + "': "
                    + group.getValue().stream().map(RouteConfig::name).toList());
            report("gaps (sent by no route)", gaps.get(g));
            report("overlaps (sent by more than one route)", overlaps.get(g));
            g++;
        }
    }

    private void report(String what, Finding finding) {
        out.println("    " + what + ": " + finding.count);
        for (String example : finding.examples) {
            out.println("      " + example);
        }
        if (finding.count > finding.examples.size()) {
            out.println("      ... and " + (finding.count - finding.examples.size()) + " more");
        }
        if (finding.count > 0) {
            failed = true;
        }
    }

    /** A changed route is no failure of the configuration, but its next run is full, which the operator should expect. */
    private void reportChangedSelection(RouteConfig route) throws IOException {
        StateLayout layout = new StateLayout(config.state());
        if (layout.cursor(route.name()).readEntry().isEmpty()) {
            return;
        }
        Optional<String> why = RouteSelection.whyChanged(layout, config.root(route.root()), route);
        why.ifPresent(reason -> out.println("route '" + route.name() + "': " + reason + ": its next run is full (reason "
                + SyncPolicy.Reason.ROUTE_CHANGED.token() + ")"));
    }

    /**
     * What a full sync of the route would do, decided by the dry run's own {@link DeletionGuard} (the ledger's window
     * included): it fails the check when it cannot run (the destination cannot be reached) or would be refused.
     */
    private void previewFullSync(RouteConfig route) throws SyncException, InterruptedException, IOException {
        RootConfig root = config.root(route.root());
        if (!Files.isDirectory(root.path())) {
            return;
        }
        String command = "changeq-sync --config ... --route " + route.name() + " --full";
        Path holder = route.localDestination() ? Path.of(route.dest()).getParent() : null;
        if (holder != null && !Files.isDirectory(holder)) {
            // rsync creates the destination's last directory only; its dry run creates none and does not notice.
            failed = true;
            out.println("route '" + route.name() + "': FAILED: the directory " + holder
                    + " that would hold the destination " + route.dest() + " does not exist; runs of the route would"
                    + " fail: mount the backup disk, or create it (mkdir -p)");
            return;
        }
        StateLayout layout = new StateLayout(config.state());
        SyncRequest request = SyncRequest.of(route.name());
        ChangeBrake brake = new ChangeBrake(route, layout, request, Clock.systemDefaultZone(), command);
        boolean judged = brake.judges(layout.cursor(route.name()).readEntry().isEmpty());
        ChangeBrake.Count changes = brake.counter(null);
        DeletionGuard.Decision decision = new DeletionGuard(route, layout, request, Clock.systemDefaultZone(), command)
                .decide(Transfer.of(route, root, true).fullPass(), true, null, RsyncProgress.NONE,
                        judged ? changes : line -> { });
        RsyncRunner.Outcome outcome = decision.outcome();
        if (!outcome.succeeded()) {
            failed = true;
            out.println("route '" + route.name() + "': FAILED: the dry run of a full sync to " + route.dest()
                    + " exited with " + outcome.exitCode() + (outcome.errors().isEmpty() ? "" : " (" + outcome.errors()
                    .get(0) + ")") + "; runs of the route would fail the same way: check that the destination can be"
                    + " reached and written with the route's rsync-args");
            return;
        }
        previewBrake(route, brake, judged, changes, outcome.destinationPathsBefore());
        if (!route.deleteOnFull()) {
            out.println("route '" + route.name() + "': " + route.dest() + " can be reached; full syncs delete nothing"
                    + " there (delete-on-full is off)");
            return;
        }
        long deleted = decision.deletions().size();
        if (deleted == 0) {
            out.println("route '" + route.name() + "': a full sync would delete nothing at " + route.dest());
            return;
        }
        if (decision.refused()) {
            failed = true;
            out.println("route '" + route.name() + "': a full sync " + decision.wouldBeRefused().orElseThrow() + " at "
                    + route.dest() + "; restore the root if that is a mistake, or let one run through with '"
                    + command + " --allow-deletes " + decision.measured() + "':");
        } else {
            out.println("route '" + route.name() + "': WARNING: a full sync (delete-on-full) would DELETE " + deleted
                    + " paths at " + route.dest() + " (within " + decision.limit() + "); if that destination holds"
                    + " anything else, set delete-on-full: false or point the route at a directory of its own:");
        }
        decision.deletions().stream().limit(examples).forEach(path -> out.println("      " + ByteStrings.escape(path)));
        if (deleted > examples) {
            out.println("      ... and " + (deleted - examples) + " more");
        }
    }

    /**
     * What max-change would say of the full sync the dry run counted, by the brake's own judgement: every file that
     * differs between the root and the destination (deletions where full syncs delete), of which an incremental run
     * changes what its queue records name. A refusal fails the check.
     */
    private void previewBrake(RouteConfig route, ChangeBrake brake, boolean judged, ChangeBrake.Count changes,
                              long destinationPaths) throws IOException {
        if (!judged) {
            out.println("route '" + route.name() + "': max-change does not judge its next run: the route's first sync");
            return;
        }
        ChangeBrake.Verdict verdict;
        try {
            verdict = brake.judge(changes, OptionalLong.of(destinationPaths));
        } catch (IllegalStateException malformed) {
            failed = true;
            out.println("route '" + route.name() + "': FAILED: max-change cannot be previewed: " + malformed.getMessage());
            return;
        }
        String counted = "route '" + route.name() + "': max-change: a full sync would change " + changes.total()
                + " files that exist at " + route.dest() + " (" + changes.kinds() + "), ";
        if (verdict.refused()) {
            failed = true;
            out.println(counted + "more than " + verdict.budget().brief() + ": it would be REFUSED (exit "
                    + ExitCodes.MASS_CHANGE_REFUSED + ") and send nothing; if the source was encrypted or rewritten by"
                    + " mistake, restore it there; if the change is wanted, let it through once: "
                    + brake.consent(changes.total()));
        } else {
            out.println(counted + "within " + verdict.budget().brief());
        }
    }

    /** A root no route reads is recorded by the tracker and sent nowhere: worth a word, not a failure. */
    private void reportUnreadRoots() {
        for (RootConfig root : config.roots().values()) {
            if (config.routes().values().stream().noneMatch(route -> route.root().equals(root.name()))) {
                out.println("root '" + root.name() + "' (" + root.path() + "): WARNING: no route reads it; the tracker"
                        + " records its changes, but nothing sends them anywhere");
            }
        }
    }

    /** A count with its first examples, escaped. */
    private static final class Finding {
        final List<String> examples = new ArrayList<>();
        long count;

        void add(byte[] path, boolean directory, int limit) {
            count++;
            if (examples.size() < limit) {
                examples.add(ByteStrings.escape(path) + (directory ? "/" : ""));
            }
        }
    }
}
