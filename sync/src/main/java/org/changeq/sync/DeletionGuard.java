package org.changeq.sync;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Consumer;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.pipeline.state.DeletionLedger;
import org.changeq.pipeline.state.HeldDeletions;
import org.changeq.pipeline.state.StateDirectory;
import org.changeq.pipeline.state.StateLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps what a route deletes at its destination within its {@code max-delete}, counted over its
 * {@code max-delete-window} across all its runs, full and incremental alike ({@link DeletionLedger}), and measured
 * against the destination as it is now. A run whose deletions would pass the limit still sends what is new or changed;
 * only its deletions wait, in the route's {@link HeldDeletions}, until an operator consents with
 * {@code --allow-deletes N}, and every later deleting run offers them again.
 *
 * <p>{@link #decide} only reads the state, so a real run, its dry run and {@code changeq-sync check} reach the same
 * decision by the same code; a real run then {@link #enter enters} it in the ledger before it deletes. Confined to the
 * run's thread.
 */
final class DeletionGuard {

    private static final Logger LOG = LoggerFactory.getLogger(DeletionGuard.class);
    private static final int NAMED_DELETIONS = 10;
    /** rsync's {@code %i} of a deletion, padded to the width of the change letters, then the name. */
    private static final byte[] DELETING = "*deleting   ".getBytes(StandardCharsets.US_ASCII);

    private final RouteConfig route;
    private final StateLayout layout;
    private final SyncRequest request;
    private final Clock clock;
    private final String command;

    /**
     * @param command how the operator runs this route by hand, for the consent the messages name
     */
    DeletionGuard(RouteConfig route, StateLayout layout, SyncRequest request, Clock clock, String command) {
        this.route = route;
        this.layout = layout;
        this.request = request;
        this.clock = clock;
        this.command = command;
    }

    /**
     * What the dry run of a deleting pass said, and what the real pass may do.
     *
     * @param outcome   the dry run's; when it failed (destination unreachable, say) it is the run's outcome
     * @param allowed   the deletions the real pass may make, for rsync's {@code --max-delete}
     * @param refusal   why the pass must not delete, naming the consent; empty when it may
     * @param deletions every path the dry run would delete, raw and relative to the root: held when refused
     * @param counted   the deletions a run enters in the ledger before the pass (none with consent, none refused)
     * @param renamed   the deletions that are old names of renamed directories and what they held, counted nowhere
     * @param limit     the limit the deletions were measured against, briefly ({@code max-delete 25% = 15 paths})
     * @param measured  the deletions measured against it (those of renamed directories left out)
     */
    record Decision(RsyncRunner.Outcome outcome, long allowed, Optional<String> refusal, List<byte[]> deletions,
                    long counted, long renamed, String limit, long measured) {

        boolean refused() {
            return refusal.isPresent();
        }

        /** {@code would be refused: 31 deletions > max-delete 25% = 15 paths}: what a dry run or check says. */
        Optional<String> wouldBeRefused() {
            return refusal.map(why -> "would be refused: " + measured + " deletions > " + limit);
        }

        /** The passes the run may make: limited to the allowed deletions, or with none when they must wait. */
        Transfer applyTo(Transfer commands) {
            return refused() ? commands.withoutDeletions() : commands.limitingDeletions(allowed);
        }
    }

    /**
     * Asks rsync what {@code dryRunPass} would delete and decides whether the real pass may. Writes nothing.
     *
     * @param full        whether the pass is a full sync, whose dry run also tells how many paths the destination holds
     * @param renamedList the old names of directories renamed within the root, raw and NUL-terminated: deleting them
     *                    and what they held is no loss and does not count; null when none are known
     * @param progress    hears the dry run while it runs
     * @param itemized    hears each itemized line of the dry run too, raw (the change brake counts them)
     */
    Decision decide(Transfer.Pass dryRunPass, boolean full, Path renamedList, RsyncProgress progress,
                    Consumer<byte[]> itemized) throws SyncException, IOException, InterruptedException {
        List<byte[]> paths = new ArrayList<>();
        RsyncRunner.Outcome preview = dryRunPass.run(line -> {
            itemized.accept(line);
            if (line.length > DELETING.length && Arrays.equals(line, 0, DELETING.length, DELETING, 0, DELETING.length)) {
                paths.add(withoutTrailingSlash(FailedPaths.unescape(line, DELETING.length)));
            }
        }, progress);
        if (!preview.succeeded()) {
            return new Decision(preview, 0, Optional.empty(), List.of(), 0, 0, "", 0);
        }
        long deletions = Math.max(preview.deletionCount(), paths.size());
        long renamed = renamedAway(paths, renamedList);
        if (renamed > 0) {
            LOG.info("route '{}': {} of the {} deletions at {} are the old names of renamed directories and what they"
                    + " held, which max-delete does not count", route.name(), renamed, deletions, route.dest());
        }
        if (request.allowDeletes().isPresent()) {
            long consented = request.allowDeletes().getAsLong();
            Optional<String> refusal = deletions - renamed <= consented ? Optional.empty() : Optional.of(refusal(
                    deletions - renamed, paths, "more than --allow-deletes " + consented + " lets this run delete"));
            if (refusal.isEmpty()) {
                LOG.info("route '{}': the run deletes {} paths at {}, within --allow-deletes {}; consented deletions do"
                        + " not count against max-delete", route.name(), deletions, route.dest(), consented);
            }
            return new Decision(preview, consented + renamed, refusal, paths, 0, renamed, "--allow-deletes " + consented,
                    deletions - renamed);
        }
        OptionalLong destinationPaths = full ? OptionalLong.of(preview.destinationPathsBefore())
                : layout.destinationPaths(route.name()).read();
        long now = clock.millis();
        Path ledgerFile = layout.deletionLedger(route.name());
        DeletionLedger recent = DeletionLedger.read(ledgerFile).within(route.maxDeleteWindow(), now);
        Budget budget = budget(route, destinationPaths, recent.total());
        long counted = deletions - renamed;
        String limit = budget.brief(route, recent.total());
        if (counted > budget.remaining()) {
            return new Decision(preview, 0, Optional.of(refusal(counted, paths, budget.describe(route, recent.total()))),
                    paths, 0, renamed, limit, counted);
        }
        LOG.info("route '{}': the run deletes {} paths at {}, within {}", route.name(), counted, route.dest(),
                budget.describe(route, recent.total()));
        return new Decision(preview, budget.remaining() + renamed, Optional.empty(), paths, counted, renamed, limit,
                counted);
    }

    /**
     * Enters the deletions a real pass may make in the ledger, durably, before it runs: a crash after rsync deleted
     * still counts them.
     */
    void enter(Decision decision) throws IOException {
        if (decision.counted() > 0) {
            long now = clock.millis();
            Path ledgerFile = layout.deletionLedger(route.name());
            DeletionLedger.read(ledgerFile).within(route.maxDeleteWindow(), now).plus(now, decision.counted())
                    .write(ledgerFile);
        }
    }

    /**
     * What the route may still delete in its window.
     *
     * @param limit     max-delete in paths, of the destination as it was before the window's deletions; empty when a
     *                  percentage cannot be honoured because the destination's size is not known
     * @param remaining the paths a run may delete now
     */
    record Budget(OptionalLong destinationPaths, OptionalLong limit, long remaining) {

        /** {@code max-delete 25% = 15 paths}, and what the window's earlier deletions used of it. */
        String brief(RouteConfig route, long deletedInWindow) {
            if (limit.isEmpty()) {
                return "max-delete " + route.maxDelete() + " (the destination's size is not known before the route's"
                        + " next full sync)";
            }
            return "max-delete " + route.maxDelete() + (route.maxDelete().percent() ? " = " + limit.getAsLong()
                    + " paths" : "") + (deletedInWindow > 0 ? " (" + deletedInWindow + " used by runs in the last "
                    + window(route) + ", " + remaining + " left)" : "");
        }

        private static String window(RouteConfig route) {
            return route.maxDeleteWindow().toHours() % 24 == 0 ? route.maxDeleteWindow().toDays() + "d"
                    : route.maxDeleteWindow().toHours() + "h";
        }

        String describe(RouteConfig route, long deletedInWindow) {
            String window = window(route);
            String base = destinationPaths.isPresent()
                    ? "the destination holds " + destinationPaths.getAsLong() + " paths; " : "";
            String limitText = limit.isEmpty() ? "the route's max-delete " + route.maxDelete() + " (the destination's"
                    + " size is not known before the route's next full sync)"
                    : "the route's max-delete " + route.maxDelete() + " (" + limit.getAsLong() + " paths"
                    + (route.maxDelete().percent() ? " of the " + (destinationPaths.getAsLong() + deletedInWindow)
                    + " it held before them" : "") + ")";
            return base + "its runs deleted " + deletedInWindow + " in the last " + window + " (max-delete-window), "
                    + remaining + " more are within " + limitText;
        }
    }

    /**
     * A percentage counts against what the destination held before the window's deletions: the paths it holds now
     * plus those deleted since, so that each deletion does not shrink the base the next one is measured against.
     */
    static Budget budget(RouteConfig route, OptionalLong destinationPaths, long deletedInWindow) {
        if (route.maxDelete().percent() && destinationPaths.isEmpty()) {
            return new Budget(destinationPaths, OptionalLong.empty(), 0);
        }
        long limit = route.maxDelete().allowed(destinationPaths.orElse(0) + deletedInWindow);
        return new Budget(destinationPaths, OptionalLong.of(limit), Math.max(0, limit - deletedInWindow));
    }

    /** @param full whether a full sync refused them: its consent must ask for one again, as incremental runs may not delete */
    private String refusal(long deletions, List<byte[]> paths, String limit) {
        List<String> named = paths.subList(0, Math.min(NAMED_DELETIONS, paths.size())).stream()
                .map(org.changeq.pipeline.ByteStrings::escape).toList();
        return "route '" + route.name() + "': the run would delete " + deletions + " paths at " + route.dest() + "; "
                + limit + ". The deletions wait for consent in " + layout.heldDeletions(route.name()) + "; every run"
                + " offers them again, and one that exists at the source again is sent instead. If the root was emptied"
                + " or replaced by mistake, restore it. If the deletions are wanted, let them through once: '" + command
                + " --allow-deletes " + deletions + "' (a follower of the route must be stopped for it). Would delete: "
                + String.join(", ", named) + (deletions > named.size() ? ", ..." : "");
    }

    /**
     * Before the cursor commits: the deletions rsync made beyond those the ledger already counts, the destination's
     * size as the run left it, and the held deletions of a refused run.
     *
     * @param decision the decision of the run's deleting pass, empty when it had none
     * @param outcome  the run's passes
     */
    void beforeCommit(Optional<Decision> decision, RsyncRunner.Outcome outcome, boolean full) throws IOException {
        long deleted = outcome.deletionCount();
        long announced = decision.map(made -> made.counted() + made.renamed()).orElse(0L);
        if (decision.isPresent() && request.allowDeletes().isEmpty() && deleted > announced) {
            // The source changed between the dry run and the pass: the ledger counts what was deleted.
            long now = clock.millis();
            Path ledgerFile = layout.deletionLedger(route.name());
            DeletionLedger.read(ledgerFile).within(route.maxDeleteWindow(), now).plus(now, deleted - announced)
                    .write(ledgerFile);
        }
        long held = decision.filter(Decision::refused).map(refused -> (long) refused.deletions().size()).orElse(0L);
        if (full) {
            if (outcome.sourcePaths() > 0) {
                layout.destinationPaths(route.name()).write(outcome.sourcePaths() + held);
            }
        } else {
            OptionalLong before = layout.destinationPaths(route.name()).read();
            if (before.isPresent() && outcome.created() + deleted > 0) {
                layout.destinationPaths(route.name()).write(Math.max(0, before.getAsLong() + outcome.created() - deleted));
            }
        }
        if (decision.isPresent() && decision.get().refused()) {
            HeldDeletions previous = HeldDeletions.read(layout.heldDeletions(route.name()));
            new HeldDeletions(decision.get().deletions(), previous.isEmpty() ? clock.millis() : previous.sinceMillis())
                    .write(layout.heldDeletions(route.name()));
        }
    }

    /** After the cursor committed: a pass that was let delete offered every held deletion, so none waits any more. */
    void afterCommit(Optional<Decision> decision) throws IOException {
        if (decision.isPresent() && !decision.get().refused()) {
            HeldDeletions.EMPTY.write(layout.heldDeletions(route.name()));
        }
    }

    /** How many of {@code deleted} are, or lie below, a path of {@code renamedList}. */
    private static long renamedAway(List<byte[]> deleted, Path renamedList) throws IOException {
        Set<ByteBuffer> renamed = renamedDirectories(renamedList);
        return renamed.isEmpty() ? 0 : deleted.stream().filter(path -> below(path, renamed)).count();
    }

    /** The old names of directories renamed within the root, from a raw NUL-terminated list; none when null or gone. */
    static Set<ByteBuffer> renamedDirectories(Path renamedList) throws IOException {
        if (renamedList == null) {
            return Set.of();
        }
        byte[] bytes;
        try {
            bytes = StateDirectory.read(renamedList);
        } catch (NoSuchFileException e) {
            return Set.of();
        }
        Set<ByteBuffer> renamed = new HashSet<>();
        for (int start = 0, i = 0; i < bytes.length; i++) {
            if (bytes[i] == 0) {
                renamed.add(ByteBuffer.wrap(Arrays.copyOfRange(bytes, start, i)));
                start = i + 1;
            }
        }
        return renamed;
    }

    /** Whether {@code path} is, or lies below, one of {@code directories}. */
    static boolean below(byte[] path, Set<ByteBuffer> directories) {
        for (int end = path.length; end > 0 && !directories.isEmpty(); end--) {
            if ((end == path.length || path[end] == '/') && directories.contains(ByteBuffer.wrap(path, 0, end))) {
                return true;
            }
        }
        return false;
    }

    private static byte[] withoutTrailingSlash(byte[] name) {
        return name.length > 1 && name[name.length - 1] == '/' ? Arrays.copyOf(name, name.length - 1) : name;
    }
}
