package org.changeq.tracker;

import java.util.ArrayDeque;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.tracker.WatchTree.Root;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Walks directories to watch them: a root when it is first watched or back, a directory created or moved in,
 * and a root again when it may lack watches. Each directory is watched before it is listed, so that whatever is
 * created in it meanwhile is found by the listing or by its own events. The first walk after an unclean stop is
 * also the catch-up scan, publishing what changed while nobody watched as it goes. Directories the watch limit
 * refuses are still listed, and handed to {@link CoverageRetry}.
 *
 * <p>Confined to the reader thread, like the {@link TreeWatcher} that owns it: a walk holds up the reading of
 * events, which wait in the kernel's queue, so it reports to the {@link TreeWatcher.Listener} while it runs and
 * stops early when a shutdown is requested.
 */
final class Walker {

    private static final Logger LOG = LoggerFactory.getLogger(Walker.class);

    /** How often a long walk logs its progress. */
    private static final long PROGRESS_INTERVAL_NANOS = 5_000_000_000L;
    /**
     * How often a walk tells the {@link TreeWatcher.Listener} it is still going: well inside the service's watchdog
     * interval, since a walk of a big tree with cold caches runs on the reader thread for minutes.
     */
    static final long WALK_REPORT_INTERVAL_NANOS = 1_000_000_000L;
    /** Warn once the watches reach this share of the watch limit. */
    private static final double WATCH_LIMIT_WARNING_SHARE = 0.9;

    private final DirectoryWatches kernel;
    private final RecordSink sink;
    private final WatchTree tree;
    private final CoverageRetry coverage;
    private final Libc.WatchLimit watchLimit;
    private final BooleanSupplier stopRequested;
    private boolean cutShort;
    private final LongSupplier nanoClock;
    private final TreeWatcher.Listener listener;
    private boolean watchLimitWarned;
    /** Changes at or after this time are published by the walk ({@link TreeWatcher#NO_CATCH_UP}: none). */
    private long catchUpSinceMillis = TreeWatcher.NO_CATCH_UP;
    private long catchUpChanges;
    private long catchUpSubtrees;

    Walker(DirectoryWatches kernel, RecordSink sink, WatchTree tree, CoverageRetry coverage, Libc.WatchLimit watchLimit,
           BooleanSupplier stopRequested, LongSupplier nanoClock, TreeWatcher.Listener listener) {
        this.kernel = kernel;
        this.sink = sink;
        this.tree = tree;
        this.coverage = coverage;
        this.watchLimit = watchLimit;
        this.stopRequested = stopRequested;
        this.nanoClock = nanoClock;
        this.listener = listener;
    }

    /**
     * Makes the walks of roots a catch-up scan from {@code sinceMillis} on, or, with
     * {@link TreeWatcher#NO_CATCH_UP}, walks that only watch.
     */
    /**
     * Whether a walk stopped before its end because a stop was asked for: what it had not listed yet, and
     * what changed there before its watches existed, is then not recorded.
     */
    boolean cutShort() {
        return cutShort;
    }

    /** Whether a walk with work left must end for a stop; remembered, as the work is then not done. */
    private boolean stopping() {
        if (stopRequested.getAsBoolean()) {
            cutShort = true;
            return true;
        }
        return false;
    }

    void catchUpSince(long sinceMillis) {
        catchUpSinceMillis = sinceMillis;
    }

    /** Paths the catch-up scan published: files and directories as CHANGE, directories as SUBTREE. */
    long catchUpChanges() {
        return catchUpChanges;
    }

    long catchUpSubtrees() {
        return catchUpSubtrees;
    }

    /** Walks a root just watched at {@code node}; a catch-up scan publishes the root itself if it changed. */
    void walkRoot(Root root, int node) {
        if (catchUpSinceMillis != TreeWatcher.NO_CATCH_UP
                && kernel.changeTimeMillis(root.absolutePath) >= catchUpSinceMillis) {
            sink.publish(RecordType.CHANGE, root.name, true, new byte[0]);
            catchUpChanges++;
        }
        walk(root, node, new byte[0], false, null);
    }

    /** Lists a root whose own watch the limit refused: to count what it lacks, and to retry it later. */
    void walkUnwatchedRoot(Root root, WatchLimitException refused) {
        walk(root, WatchTree.NONE, new byte[0], false, refused);
    }

    /**
     * Watches a directory that appeared (created or moved in) and walks it.
     *
     * @param publishContents publish every entry found (a created directory); otherwise watch only
     */
    void watchAndWalk(int parent, byte[] name, byte[] path, boolean publishContents) {
        Root root = tree.root(parent);
        int node;
        try {
            node = watch(parent, name, path, null);
            if (node == WatchTree.NONE) {
                // Already watched: reached by the listing of a new parent before this event was read.
                return;
            }
        } catch (PathUnavailableException e) {
            if (isGap(root, e)) {
                coverage.notWatched(root);
            }
            return;
        } catch (WatchLimitException e) {
            walk(root, WatchTree.NONE, path, publishContents, e);
            return;
        }
        walk(root, node, path, publishContents, null);
    }

    /**
     * Watches the subdirectory {@code name} of {@code parent} and returns its new node, or {@link WatchTree#NONE}
     * when the kernel says it is watched already. A watched directory found at a new place was moved there by a
     * rename whose MOVED_TO never came (it went to a directory not yet watched, e.g. {@code mkdir x && mv
     * a/sub x/}). Within its root, its node moves here, so later events inside it carry the new path and
     * settling the unpaired MOVED_FROM does not unwatch it; a SUBTREE sends it whole from its new place.
     * From another root, its watches belong to that root's tree: they go, and it is watched anew as a new
     * directory of this root, whose walk then lists it; {@code steps}, when given, gets the SUBTREE that sends it
     * whole once the walk has watched everything in it (otherwise the caller's own record covers it).
     */
    private int watch(int parent, byte[] name, byte[] path, ArrayDeque<Step> steps)
            throws PathUnavailableException, WatchLimitException {
        Root root = tree.root(parent);
        byte[] absolutePath = WatchTree.absolutePath(root, path);
        int watch = kernel.addWatch(absolutePath);
        int existing = tree.byWatch(watch);
        if (existing == WatchTree.NONE) {
            return tree.add(parent, name, watch);
        }
        boolean elsewhere = tree.parent(existing) != parent || !tree.hasName(existing, name);
        if (elsewhere && tree.root(existing) == root) {
            tree.move(existing, parent, name);
            sink.publish(RecordType.SUBTREE, root.name, true, path);
        } else if (elsewhere && !tree.isRoot(existing)) {
            tree.removeSubtree(existing, kernel::removeWatch);
            int rehomed = tree.add(parent, name, kernel.addWatch(absolutePath));
            if (steps != null) {
                steps.push(new SendWhole(path));
            }
            return rehomed;
        }
        return WatchTree.NONE;
    }

    /** What a walk still has to do, on one stack: a step pushed before another is done after it and all it adds. */
    private sealed interface Step permits Pending, SendWhole {
    }

    /**
     * One directory the walk still has to list; {@code node} is its {@link WatchTree#handle}, or
     * {@link WatchTree#NO_HANDLE} when it could not be watched. {@code covered}: a SUBTREE sends it whole, so the
     * catch-up scan publishes nothing below it.
     */
    private record Pending(long node, byte[] path, boolean covered) implements Step {
    }

    /**
     * The SUBTREE of a directory the catch-up scan found changed, or of one moved in from another root, pushed
     * below the directory's own step: it is reached once everything in that directory is watched, and only then
     * may a sync copy the tree.
     */
    private record SendWhole(byte[] path) implements Step {
    }

    /**
     * Lists {@code top} and everything below it, watching each subdirectory before it is listed.
     * Directories the watch limit left unwatched are still listed: to publish their contents, and to tell
     * how many watches would be needed.
     *
     * @param top             the watched directory at {@code topPath}, or {@link WatchTree#NONE} if the watch limit
     *                        refused it
     * @param publishContents publish every entry found (a created directory); otherwise watch only
     * @param limitReached    the refusal of {@code top}'s watch, if it was refused
     */
    private void walk(Root root, int top, byte[] topPath, boolean publishContents, WatchLimitException limitReached) {
        WalkProgress progress = new WalkProgress(root);
        progress.limitReached = limitReached;
        if (top == WatchTree.NONE) {
            progress.unwatched++;
        }
        ArrayDeque<Step> steps = new ArrayDeque<>();
        steps.push(pending(top, topPath, false));
        boolean catchingUp = !publishContents && catchUpSinceMillis != TreeWatcher.NO_CATCH_UP;
        while (!steps.isEmpty() && !stopping()) {
            Step step = steps.pop();
            if (step instanceof SendWhole whole) {
                sink.publish(RecordType.SUBTREE, root.name, true, whole.path);
                continue;
            }
            Pending directory = (Pending) step;
            int node = tree.live(directory.node);
            if (node == WatchTree.NONE && directory.node != WatchTree.NO_HANDLE) {
                // Left the tree while it waited (its id may be another directory's now): not walked, but not lost.
                progress.refused++;
                continue;
            }
            byte[] absolutePath = WatchTree.absolutePath(root, directory.path);
            try {
                if (catchingUp && !directory.covered) {
                    kernel.listWithChangeTimes(absolutePath, (name, isDirectory, changeTimeMillis) -> {
                        byte[] path = WatchTree.childPath(directory.path, name);
                        if (root.excluded(path, isDirectory)) {
                            return;
                        }
                        boolean changed = changeTimeMillis >= catchUpSinceMillis;
                        if (changed && !isDirectory) {
                            // Nobody saw what changed it: a write moves the change time as much as a chmod does.
                            sink.publishContentWrite(root.name, path);
                            catchUpChanges++;
                        }
                        if (isDirectory) {
                            if (changed) {
                                steps.push(new SendWhole(path));
                                catchUpSubtrees++;
                            }
                            watchDuringWalk(node, name, path, steps, progress, changed);
                        }
                    });
                } else {
                    kernel.list(absolutePath, !publishContents, (name, isDirectory) -> {
                        byte[] path = WatchTree.childPath(directory.path, name);
                        if (root.excluded(path, isDirectory)) {
                            return;
                        }
                        if (publishContents) {
                            // Written before the directory's watch, unseen: as new to the name as a created file.
                            sink.publishChange(root.name, isDirectory, !isDirectory, path);
                        }
                        if (isDirectory) {
                            watchDuringWalk(node, name, path, steps, progress, directory.covered);
                        }
                    });
                }
            } catch (PathUnavailableException e) {
                progress.refused(e);
            }
            progress.listed();
        }
        if (progress.limitReached != null) {
            coverage.watchLimitReached(root, progress.limitReached, progress.unwatched);
        } else if (progress.refused > 0) {
            coverage.notWatched(root);
        }
    }

    private void watchDuringWalk(int parent, byte[] name, byte[] path, ArrayDeque<Step> steps,
                                 WalkProgress progress, boolean covered) {
        if (parent == WatchTree.NONE || progress.limitReached != null) {
            progress.unwatched++;
            steps.push(pending(WatchTree.NONE, path, covered));
            return;
        }
        try {
            int child = watch(parent, name, path, steps);
            if (child != WatchTree.NONE) {
                steps.push(pending(child, path, covered));
                warnNearWatchLimit();
            }
        } catch (PathUnavailableException e) {
            progress.refused(e);
        } catch (WatchLimitException e) {
            progress.limitReached = e;
            progress.unwatched++;
            steps.push(pending(WatchTree.NONE, path, covered));
        }
    }

    private Pending pending(int node, byte[] path, boolean covered) {
        return new Pending(node == WatchTree.NONE ? WatchTree.NO_HANDLE : tree.handle(node), path, covered);
    }

    /** Walks a root's directories, watching those without a watch; returns how many still have none. */
    long watchMissing(Root root) {
        if (tree.live(root.node) == WatchTree.NONE) {
            try {
                tree.addRoot(root, kernel.addWatch(root.absolutePath));
            } catch (PathUnavailableException | WatchLimitException e) {
                return 1;
            }
        }
        long unwatched = 0;
        WalkProgress progress = new WalkProgress(root);
        // Handles: a directory may leave the tree (its id then reused) before it is listed.
        ArrayDeque<Long> pending = new ArrayDeque<>();
        pending.push(root.node);
        while (!pending.isEmpty() && !stopping()) {
            progress.listed();
            int directory = tree.live(pending.pop());
            if (directory == WatchTree.NONE) {
                unwatched++;
                continue;
            }
            byte[] directoryPath = tree.relativePath(directory, new byte[0]);
            long[] refused = {0};
            try {
                kernel.list(WatchTree.absolutePath(root, directoryPath), true, (name, isDirectory) -> {
                    byte[] path = WatchTree.childPath(directoryPath, name);
                    if (root.excluded(path, true)) {
                        return;
                    }
                    int child = tree.child(directory, name);
                    if (child == WatchTree.NONE) {
                        try {
                            child = watch(directory, name, path, null);
                        } catch (PathUnavailableException e) {
                            if (isGap(root, e)) {
                                refused[0]++;
                            }
                        } catch (WatchLimitException e) {
                            refused[0]++;
                        }
                    }
                    if (child != WatchTree.NONE) {
                        pending.push(tree.handle(child));
                    }
                });
            } catch (PathUnavailableException e) {
                if (isGap(root, e)) {
                    refused[0]++;
                }
            }
            unwatched += refused[0];
        }
        return unwatched;
    }

    /**
     * Counts a walk's progress: tells the {@link TreeWatcher.Listener} every second that the reader thread is busy
     * walking (long walks would otherwise starve the watchdog) and logs every few seconds.
     */
    private final class WalkProgress {
        private final Root root;
        private final long started = nanoClock.getAsLong();
        private long nextLog = started + PROGRESS_INTERVAL_NANOS;
        private long nextReport = started + WALK_REPORT_INTERVAL_NANOS;
        private long listed;
        long unwatched;
        WatchLimitException limitReached;
        /** Directories the walk could not watch or list for another reason than that they are gone. */
        long refused;

        WalkProgress(Root root) {
            this.root = root;
        }

        void refused(PathUnavailableException e) {
            if (isGap(root, e)) {
                refused++;
            }
        }

        void listed() {
            listed++;
            long now = nanoClock.getAsLong();
            if (now - nextReport >= 0) {
                nextReport = now + WALK_REPORT_INTERVAL_NANOS;
                listener.walking(root, tree.size());
            }
            if (now - nextLog >= 0) {
                nextLog = now + PROGRESS_INTERVAL_NANOS;
                double seconds = (now - started) / 1e9;
                LOG.info("root '{}': {} directories listed in {} s ({} per second), {} watched in total",
                        root.name, listed, Math.round(seconds), Math.round(listed / seconds), tree.size());
            }
        }
    }

    private void warnNearWatchLimit() {
        if (!watchLimitWarned && watchLimit.value() > 0
                && tree.size() >= watchLimit.value() * WATCH_LIMIT_WARNING_SHARE) {
            watchLimitWarned = true;
            LOG.warn("watching {} directories, close to {}={} (shared by all inotify users of this user); raise it "
                    + "before it runs out, e.g. in /etc/sysctl.d/", tree.size(), watchLimit.sysctl(), watchLimit.value());
        }
    }

    /**
     * Whether a directory that could not be watched or listed leaves a gap in the root's coverage (logged once by
     * {@link CoverageRetry#refused}; the caller records it), rather than being simply gone.
     */
    private boolean isGap(Root root, PathUnavailableException e) {
        if (e.reason() == PathUnavailableException.Reason.GONE) {
            LOG.debug("{}", e.getMessage());
            return false;
        }
        coverage.refused(root, e);
        return true;
    }
}
