package org.changeq.pipeline.state;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.PathBytes;
import org.changeq.pipeline.config.RootConfig;
import org.changeq.pipeline.state.TrackerRootsFile.RootStatus;
import org.changeq.pipeline.state.TrackerRootsFile.Selection;
import org.changeq.pipeline.state.TrackerRootsFile.Snapshot;

/**
 * Whether the running tracker watches a configured root as the configuration says: the queue holds records only
 * for what the tracker selects, so a root it does not watch, watches at another real path or with other excludes
 * has changes the queue never shows. Judged from the roots file the tracker publishes; the caller has already
 * checked that a tracker holds the queue. Thread-safe (stateless).
 */
public final class RootTracking {

    private RootTracking() {
    }

    /** What the tracker would select for this root if it read the configuration now. */
    public static Selection configured(RootConfig root) {
        Path path;
        try {
            // The tracker watches a root given as a symlink at its target.
            path = root.path().toRealPath();
        } catch (IOException e) {
            path = root.path();
        }
        return new Selection(PathBytes.of(path), root.excludes().patterns());
    }

    /**
     * {@link #untracked(RootConfig, Optional)} with the roots file read from {@code file}; a file that cannot be read
     * or is not a roots file means the root is not known to be tracked.
     */
    public static Optional<String> untracked(RootConfig root, TrackerRootsFile file) {
        try {
            return untracked(root, file.read());
        } catch (IOException | StateDirectory.Refused | IllegalStateException e) {
            return Optional.of("cannot read what the running changeq-tracker watches: " + e.getMessage());
        }
    }

    /**
     * Why the running tracker's records cannot be trusted for this root, as one sentence with the fix; empty when
     * the tracker watches it as configured.
     *
     * @param snapshot the tracker's roots file, empty when there is none
     */
    public static Optional<String> untracked(RootConfig root, Optional<Snapshot> snapshot) {
        String reload = "reload the tracker (systemctl reload changeq-tracker) so that it reads the configuration again";
        if (snapshot.isEmpty()) {
            return Optional.of("the running changeq-tracker has not published the roots it watches; " + reload);
        }
        if (ProcessHandle.of(snapshot.get().pid()).isEmpty()) {
            return Optional.of("the roots file was written by a changeq-tracker (pid " + snapshot.get().pid()
                    + ") that has exited, and the running one has not published its roots yet; wait until it is"
                    + " ready, or restart it (systemctl restart changeq-tracker)");
        }
        Optional<RootStatus> published = snapshot.get().roots().stream()
                .filter(status -> status.root().equals(root.name())).findFirst();
        if (published.isEmpty()) {
            return Optional.of("the running changeq-tracker does not watch root '" + root.name() + "' (it was added to"
                    + " the configuration after the tracker read it); " + reload);
        }
        if (published.get().selection().isEmpty()) {
            return Optional.of("the running changeq-tracker is older than this changeq-sync and does not say how it"
                    + " watches root '" + root.name() + "'; restart it (systemctl restart changeq-tracker)");
        }
        Selection watched = published.get().selection().get();
        Selection configured = configured(root);
        if (!Arrays.equals(watched.realPath(), configured.realPath())) {
            return Optional.of("the running changeq-tracker watches root '" + root.name() + "' at "
                    + ByteStrings.escape(watched.realPath()) + ", the configuration says "
                    + ByteStrings.escape(configured.realPath()) + "; " + reload);
        }
        if (!watched.excludes().equals(configured.excludes())) {
            return Optional.of("the running changeq-tracker excludes " + watched.excludes() + " below root '"
                    + root.name() + "', the configuration says " + configured.excludes() + "; " + reload);
        }
        return Optional.empty();
    }
}
