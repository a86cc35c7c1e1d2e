package org.changeq.sync;

import java.nio.file.Path;
import org.changeq.pipeline.plan.DeletionLists;
import org.changeq.pipeline.state.StateLayout;

/**
 * The files only the sync keeps for a route, beside the shared ones of {@link StateLayout}
 * (cursor, claim, lock, force flag, metrics directory).
 */
final class RouteFiles {

    private RouteFiles() {
    }

    /** Where a run writes its {@code --files-from} lists (a dry run uses a private directory instead). */
    static Path listDirectory(StateLayout state) {
        return state.directory().resolve("lists");
    }

    /** The {@code --files-from} list of the recursive pass, in {@code lists}. */
    static Path fileList(Path lists, String route) {
        return lists.resolve(route + ".files");
    }

    /** The {@code --files-from} list of the directory pass, in {@code lists}. */
    static Path directoryList(Path lists, String route) {
        return lists.resolve(route + ".dirs");
    }

    /** The {@code --files-from} list of the content pass, in {@code lists}. */
    static Path contentList(Path lists, String route) {
        return lists.resolve(route + ".content");
    }

    /** The files of the deletion pass, in {@code lists}. */
    static DeletionLists deletionLists(Path lists, String route) {
        return new DeletionLists(lists.resolve(route + ".deletions"), lists.resolve(route + ".deletion-filter"),
                lists.resolve(route + ".renamed"));
    }

    /** The id of the marker the route placed at its remote destination: see {@link DestinationMarker}. */
    static Path destinationMarker(StateLayout state, String route) {
        return state.directory().resolve("identity").resolve(route + ".dest-marker");
    }

    /** The route's metrics file: in {@code --metrics-dir}, or else in the state directory's. */
    static Path metricsFile(StateLayout state, SyncRequest request) {
        return metricsFile(request.metricsDirectory().orElse(state.metricsDirectory()), request.route());
    }

    static Path metricsFile(Path metricsDirectory, String route) {
        return metricsDirectory.resolve("changeq_sync_" + route + ".prom");
    }
}
