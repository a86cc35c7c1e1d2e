package org.changeq.sync;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.changeq.pipeline.config.RootConfig;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.pipeline.plan.DeletionLists;

/**
 * A destination kind: the passes one route's run, its check, its verification and its identity marker make at the
 * destination, and how each of them runs. The run decides which passes run and in which order, reads the queue and
 * commits; the transfer only knows how to move the listed paths. ARCHITECTURE.md ("Destinations") describes the
 * contract and what a second kind has to offer.
 *
 * <p>What a pass reports is in rsync's terms, whatever the kind: an {@link RsyncRunner.Outcome} (rsync's exit
 * statuses, its counts) and one {@code --itemize-changes} line per path changed ({@code YXcstpoguax path}), which the
 * deletion guard, the change brake, the failure checks and verification read. Immutable: the variants are new
 * transfers.
 */
interface Transfer {

    /** The transfer of {@code route}'s destination kind. */
    static Transfer of(RouteConfig route, RootConfig root, boolean dryRun) {
        return route.rclone().isPresent() ? new RcloneTransfer(route, root.path(), dryRun)
                : new RsyncTransfer(route, root, dryRun);
    }

    /** One invocation at the destination, ready to run; a dry run prints its command. */
    interface Pass {

        /** The argument vector, never run through a shell: what a dry run prints and the log names. */
        List<String> command();

        /**
         * Runs the pass and hands every itemized line, raw and unbounded, to {@code itemized}.
         *
         * @throws SyncException when the pass cannot be started at all (its program not installed, not on PATH)
         */
        RsyncRunner.Outcome run(Consumer<byte[]> itemized, RsyncProgress progress)
                throws SyncException, InterruptedException;

        default RsyncRunner.Outcome run(Consumer<byte[]> itemized) throws SyncException, InterruptedException {
            return run(itemized, RsyncProgress.NONE);
        }

        default RsyncRunner.Outcome run() throws SyncException, InterruptedException {
            return run(line -> { });
        }
    }

    /** The same passes as dry runs: what a pass would do, without doing it. */
    Transfer asDryRun();

    /** The same passes as dry runs whose itemized lines carry the plain path alone ({@link FailedPaths} reads it). */
    Transfer asFailureCheck();

    /** The same passes deleting no more than {@code limit} paths (a fence: the deletion guard has decided before). */
    Transfer limitingDeletions(long limit);

    /** The same full pass sending what is new or changed and deleting nothing, whatever the route says. */
    Transfer withoutDeletions();

    /** The same passes keeping what they overwrite or delete at the destination in the history's run {@code run}. */
    Transfer keepingHistoryIn(String run);

    /** The whole tree, deleting at the destination what the source lacks when the route deletes on full syncs. */
    Pass fullPass();

    /** The whole tree, deleting what the source lacks when {@code delete}. */
    Pass fullPass(boolean delete);

    /** The NUL-separated files and subtrees of {@code list}, recursively; a listed path that is gone is skipped. */
    Pass recursivePass(Path list);

    /** The files of {@code list} whose content was written, compared by content; a gone path is skipped. */
    Pass contentPass(Path list);

    /** The deletions of {@code lists}: each directory of it one level deep, deleting only the deleted paths. */
    Pass deletionPass(DeletionLists lists);

    /** The attributes of the directories of {@code list}, without recursion. */
    Pass directoryPass(Path list);

    /** A dry run only: what the destination holds in the directories of {@code directories} that the source does not. */
    Pass extraPass(Path directories);

    /** Copies the destination's {@link DestinationMarker} into {@code directory}; copies nothing when it is missing. */
    Pass fetchMarker(Path directory);

    /** Puts the marker {@code file} at the top of the destination. */
    Pass placeMarker(Path file);

    /** The route's history at the destination, with {@code scratch} for the local files reading it needs. */
    History history(Path scratch);
}
