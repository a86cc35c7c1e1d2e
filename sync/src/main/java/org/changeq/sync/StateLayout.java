package org.changeq.sync;

import java.nio.file.Path;
import java.util.regex.Pattern;
import org.changeq.pipeline.IndexFile;

/**
 * Where a route's state lives under the state directory. The route name becomes part of file
 * names and of a metrics label, so it is restricted to a safe alphabet.
 */
final class StateLayout {

    private static final Pattern ROUTE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    static final String CURSOR_KIND = "cursor";

    private final Path state;
    private final String route;

    StateLayout(Path state, String route) {
        if (!ROUTE_NAME.matcher(route).matches()) {
            throw new IllegalArgumentException("route name '" + route
                    + "' cannot name state files; use letters, digits, '.', '_' and '-' (starting with a letter or digit)");
        }
        this.state = state;
        this.route = route;
    }

    Path lockFile() {
        return state.resolve("locks").resolve(route + ".lock");
    }

    IndexFile cursor() {
        return cursorOf(state, route);
    }

    static IndexFile cursorOf(Path state, String route) {
        return new IndexFile(state.resolve("cursors").resolve(route + ".cursor"), CURSOR_KIND);
    }

    Path lastFullSyncFile() {
        return state.resolve("cursors").resolve(route + ".last-full");
    }

    /** changeq's own force flag: {@code touch} it to make the next run full. */
    Path forceFlag() {
        return state.resolve("flags").resolve(route + ".force-full");
    }

    Path fileList() {
        return state.resolve("lists").resolve(route + ".files");
    }

    Path directoryList() {
        return state.resolve("lists").resolve(route + ".dirs");
    }

    static Path defaultMetricsDirectory(Path state) {
        return state.resolve("metrics");
    }

    static Path metricsFile(Path metricsDirectory, String route) {
        return metricsDirectory.resolve("changeq_sync_" + route + ".prom");
    }
}
