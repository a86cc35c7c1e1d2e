package org.changeq.sync;

import java.nio.file.Path;
import org.changeq.pipeline.state.StateLayout;

/**
 * The files only the sync keeps for a route, beside the shared ones of {@link StateLayout}
 * (cursor, claim, lock, force flag, metrics directory).
 */
final class RouteFiles {

    private RouteFiles() {
    }

    /** The {@code --files-from} list of the recursive pass. */
    static Path fileList(StateLayout state, String route) {
        return state.directory().resolve("lists").resolve(route + ".files");
    }

    /** The {@code --files-from} list of the directory pass. */
    static Path directoryList(StateLayout state, String route) {
        return state.directory().resolve("lists").resolve(route + ".dirs");
    }

    /** The {@code --files-from} list of the content pass. */
    static Path contentList(StateLayout state, String route) {
        return state.directory().resolve("lists").resolve(route + ".content");
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
