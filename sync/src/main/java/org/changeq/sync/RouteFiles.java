package org.changeq.sync;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
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

    /**
     * The id of the marker the route placed at its remote destination {@code dest}: see {@link DestinationMarker}. One
     * file per destination: a route pointed at another destination in the config starts unmarked there (its next run
     * is full, as any changed route's), and pointed back finds its old destination's marker still expected.
     */
    static Path destinationMarker(StateLayout state, String route, String dest) {
        byte[] digest;
        try {
            digest = MessageDigest.getInstance("SHA-256").digest(dest.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
        return state.directory().resolve("identity")
                .resolve(route + "." + HexFormat.of().formatHex(digest, 0, 8) + ".dest-marker");
    }

    /** The route's metrics file: in {@code --metrics-dir}, or else in the state directory's. */
    static Path metricsFile(StateLayout state, SyncRequest request) {
        return metricsFile(request.metricsDirectory().orElse(state.metricsDirectory()), request.route());
    }

    static Path metricsFile(Path metricsDirectory, String route) {
        return metricsDirectory.resolve("changeq_sync_" + route + ".prom");
    }
}
