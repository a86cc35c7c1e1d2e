package org.changeq.tracker;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.RecordType;
import org.changeq.tracker.WatchTree.Node;
import org.changeq.tracker.WatchTree.Root;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the roots recursively and turns inotify events into manifest records: the walk that adds the
 * watches, new directories (watched first, then listed, so nothing created inside them in the meantime is
 * missed), renames paired by cookie, moves in and out of the tree, and every kind of loss as an OVERFLOW
 * record. Excluded directories are never watched and excluded paths never published.
 *
 * <p>Confined to the reader thread: it is the single producer of the records it publishes.
 */
final class TreeWatcher implements InotifyEventSink {

    private static final Logger LOG = LoggerFactory.getLogger(TreeWatcher.class);

    /** How often a long walk reports its progress. */
    private static final long PROGRESS_INTERVAL_NANOS = 5_000_000_000L;
    /** Kernel overflows closer together than this are one burst and logged once. */
    private static final long OVERFLOW_BURST_NANOS = 10_000_000_000L;
    /** Warn once the watches reach this share of {@code fs.inotify.max_user_watches}. */
    private static final double WATCH_LIMIT_WARNING_SHARE = 0.9;
    /** How often directories the watch limit left unwatched are tried again, so a raised limit takes effect. */
    static final long WATCH_RETRY_INTERVAL_NANOS = 60_000_000_000L;
    /** The soonest a retry follows the previous one when deleted directories freed watches. */
    private static final long WATCH_RETRY_AFTER_FREE_NANOS = 1_000_000_000L;
    /**
     * The soonest the roots are walked again after a kernel queue overflow. Directories created while events
     * were lost have no watch yet, and only a walk finds them; spacing the walks keeps an overflow storm from
     * turning into back-to-back walks of the whole tree.
     */
    private static final long REWALK_AFTER_OVERFLOW_NANOS = 5_000_000_000L;
    /** No catch-up scan: the initial walk only watches. */
    static final long NO_CATCH_UP = Long.MAX_VALUE;

    private final DirectoryWatches kernel;
    private final RecordSink sink;
    private final List<Root> roots;
    private final long userWatchLimit;
    private final BooleanSupplier stopRequested;
    private final WatchTree tree = new WatchTree();

    /** A MOVED_FROM waiting for its MOVED_TO, which may arrive with the next read. */
    private PendingMove pendingMove;
    /**
     * The CHANGE published last, while only more changes followed it within the same read: a file's CREATE,
     * MODIFY and CLOSE_WRITE arrive together and become one record. Only within a read: every event in it
     * happened before the record was published, so a sync that reads the record sees them all. A later read
     * may come after a consumer took the record, and then its change must be recorded again.
     */
    private Node lastChangeDirectory;
    private byte[] lastChangeName;
    private boolean lastChangeIsDirectory;
    private boolean watchLimitLogged;
    private boolean watchLimitWarned;
    private long lastOverflowNanos;
    private boolean overflowSeen;
    private long kernelOverflows;
    /**
     * Roots that may have directories without a watch (the watch limit refused them, or their CREATE was lost
     * in a kernel queue overflow), and when to walk them again.
     */
    private final java.util.Set<Root> incompleteRoots = new java.util.LinkedHashSet<>();
    private long lastRetryNanos;
    private long retryDueNanos;
    /** Changes at or after this time are published by the initial walk ({@link #NO_CATCH_UP}: none). */
    private long catchUpSinceMillis = NO_CATCH_UP;
    private long catchUpChanges;
    private long catchUpSubtrees;
    /** An unmount reports on every watch of the file system: one error and one OVERFLOW per root suffice. */
    private Root lastUnmountedRoot;

    private record PendingMove(Node parent, byte[] name, boolean directory, int cookie) {
    }

    /**
     * @param userWatchLimit {@code fs.inotify.max_user_watches}, or -1 if unknown
     * @param stopRequested  checked during long walks so a shutdown does not wait for them
     */
    TreeWatcher(DirectoryWatches kernel, RecordSink sink, List<Root> roots, long userWatchLimit,
                BooleanSupplier stopRequested) {
        this.kernel = kernel;
        this.sink = sink;
        this.roots = List.copyOf(roots);
        this.userWatchLimit = userWatchLimit;
        this.stopRequested = stopRequested;
    }

    /** Number of watched directories. Any thread. */
    int watchedDirectories() {
        return tree.size();
    }

    /** Kernel queue overflows seen (IN_Q_OVERFLOW events). Reader thread. */
    long kernelOverflows() {
        return kernelOverflows;
    }

    /** Paths the last catch-up scan published: files and directories as CHANGE, directories as SUBTREE. */
    long catchUpChanges() {
        return catchUpChanges;
    }

    long catchUpSubtrees() {
        return catchUpSubtrees;
    }

    /**
     * Watches every root and everything below it that is not excluded, and appends a RESCAN per root whose
     * walk finished. Publishes nothing else unless coverage is lost or {@code changedSinceMillis} asks for a
     * catch-up scan: then every file whose status-change time is at or after it is published as CHANGE, and
     * every such directory as SUBTREE (a directory created or renamed while nobody watched keeps the old
     * times of the files inside it, so it is sent whole; its contents are not listed one by one).
     *
     * @param changedSinceMillis {@link #NO_CATCH_UP}, or the time from which changes are to be published
     */
    void watchRoots(long changedSinceMillis) {
        catchUpSinceMillis = changedSinceMillis;
        for (Root root : roots) {
            if (stopRequested.getAsBoolean()) {
                return;
            }
            long started = System.nanoTime();
            int before = tree.size();
            Node node = null;
            try {
                node = tree.addRoot(root, kernel.addWatch(root.absolutePath));
            } catch (PathUnavailableException e) {
                LOG.error("root '{}' cannot be watched: {}; its changes are not recorded", root.name, e.getMessage());
                sink.publishMarker(RecordType.OVERFLOW, root.name);
                continue;
            } catch (WatchLimitException e) {
                walk(root, null, new byte[0], false, e);
                continue;
            }
            if (catchUpSinceMillis != NO_CATCH_UP && kernel.changeTimeMillis(root.absolutePath) >= catchUpSinceMillis) {
                sink.publish(RecordType.CHANGE, root.name, true, new byte[0]);
                catchUpChanges++;
            }
            walk(root, node, new byte[0], false, null);
            if (stopRequested.getAsBoolean()) {
                return;
            }
            sink.publishMarker(RecordType.RESCAN, root.name);
            long millis = (System.nanoTime() - started) / 1_000_000;
            LOG.info("root '{}' ({}): {} directories walked and under watch in {} ms{}", root.name,
                    ByteStrings.escape(root.absolutePath), tree.size() - before, millis,
                    catchUpSinceMillis == NO_CATCH_UP ? "" : "; catch-up so far: " + catchUpChanges
                            + " changed paths, " + catchUpSubtrees + " directories sent whole");
        }
        catchUpSinceMillis = NO_CATCH_UP;
    }

    boolean hasPendingMove() {
        return pendingMove != null;
    }

    /** Settles a MOVED_FROM whose MOVED_TO did not follow: the entry left the watched tree. */
    void resolvePendingMove() {
        PendingMove move = pendingMove;
        if (move == null) {
            return;
        }
        pendingMove = null;
        Root root = move.parent.root;
        byte[] path = WatchTree.relativePath(move.parent, move.name);
        if (!excluded(root, path, move.directory)) {
            sink.publish(RecordType.DELETE, root.name, move.directory, path);
        }
        if (move.directory) {
            Node moved = tree.child(move.parent, move.name);
            if (moved != null) {
                unwatchSubtree(moved);
            }
        }
    }

    @Override
    public void onReadEnd() {
        lastChangeDirectory = null;
    }

    @Override
    public void onEvent(int watch, EventKind kind, boolean directory, int cookie, byte[] name) {
        if (kind != EventKind.CREATE && kind != EventKind.MODIFY && kind != EventKind.CLOSE_WRITE
                && kind != EventKind.ATTRIB) {
            lastChangeDirectory = null;
        }
        if (pendingMove != null && !(kind == EventKind.MOVED_TO && cookie == pendingMove.cookie)) {
            resolvePendingMove();
        }
        if (kind == EventKind.OVERFLOW) {
            kernelQueueOverflowed();
            return;
        }
        Node node = tree.byWatch(watch);
        if (node == null) {
            // A watch removed a moment ago (its directory left the tree): its last events are stale.
            return;
        }
        switch (kind) {
            case CREATE -> {
                if (directory) {
                    directoryAppeared(node, name, false);
                } else {
                    changed(node, name, false);
                }
            }
            case MODIFY, CLOSE_WRITE -> changed(node, name, directory);
            case ATTRIB -> {
                // A subdirectory's own ATTRIB repeats the one its parent reports; only a root has no parent.
                if (name.length > 0 || node.isRoot()) {
                    changed(node, name, directory || name.length == 0);
                }
            }
            case DELETE -> deleted(node, name, directory);
            case MOVED_FROM -> pendingMove = new PendingMove(node, name, directory, cookie);
            case MOVED_TO -> movedTo(node, name, directory, cookie);
            case DELETE_SELF, MOVE_SELF -> {
                if (node.isRoot()) {
                    rootLost(node, kind == EventKind.DELETE_SELF ? "was deleted" : "was moved away");
                }
            }
            case UNMOUNT -> unmounted(node);
            case IGNORED -> {
                tree.forget(watch);
                if (!incompleteRoots.isEmpty()) {
                    // A freed watch may be enough for a directory the limit left unwatched.
                    retryDueNanos = Math.min(retryDueNanos, lastRetryNanos + WATCH_RETRY_AFTER_FREE_NANOS);
                }
            }
            default -> throw new IllegalStateException("unexpected event kind " + kind);
        }
    }

    private void changed(Node directory, byte[] name, boolean isDirectory) {
        if (directory == lastChangeDirectory && isDirectory == lastChangeIsDirectory && Arrays.equals(name, lastChangeName)) {
            return;
        }
        lastChangeDirectory = directory;
        lastChangeName = name;
        lastChangeIsDirectory = isDirectory;
        Root root = directory.root;
        byte[] path = WatchTree.relativePath(directory, name);
        if (!excluded(root, path, isDirectory)) {
            sink.publish(RecordType.CHANGE, root.name, isDirectory, path);
        }
    }

    private void deleted(Node directory, byte[] name, boolean isDirectory) {
        Root root = directory.root;
        byte[] path = WatchTree.relativePath(directory, name);
        if (excluded(root, path, isDirectory)) {
            return;
        }
        sink.publish(RecordType.DELETE, root.name, isDirectory, path);
        if (isDirectory) {
            Node child = tree.child(directory, name);
            if (child != null) {
                // The kernel drops the watch itself (IGNORED follows); free the name for a re-creation now.
                tree.forget(child.watch);
            }
        }
    }

    private void movedTo(Node directory, byte[] name, boolean isDirectory, int cookie) {
        PendingMove from = pendingMove != null && pendingMove.cookie == cookie ? pendingMove : null;
        pendingMove = null;
        Root root = directory.root;
        byte[] path = WatchTree.relativePath(directory, name);
        boolean targetExcluded = excluded(root, path, isDirectory);
        if (from == null) {
            if (!targetExcluded) {
                movedIn(directory, name, isDirectory, path);
            }
            return;
        }
        byte[] oldPath = WatchTree.relativePath(from.parent, from.name);
        if (!excluded(from.parent.root, oldPath, isDirectory)) {
            sink.publish(RecordType.DELETE, from.parent.root.name, isDirectory, oldPath);
        }
        Node moved = isDirectory ? tree.child(from.parent, from.name) : null;
        if (moved != null && !targetExcluded && moved.root == root) {
            tree.move(moved, directory, name);
            sink.publish(RecordType.SUBTREE, root.name, true, path);
            return;
        }
        if (moved != null) {
            unwatchSubtree(moved);
        }
        if (!targetExcluded) {
            movedIn(directory, name, isDirectory, path);
        }
    }

    private void movedIn(Node directory, byte[] name, boolean isDirectory, byte[] path) {
        if (isDirectory) {
            directoryAppeared(directory, name, true);
        } else {
            sink.publish(RecordType.CHANGE, directory.root.name, false, path);
        }
    }

    /**
     * A directory was created or moved in: watch it first, then list it, so that entries created between
     * its creation and the watch are found by the listing and later ones by their own events.
     *
     * @param movedIn a moved-in directory is published as one SUBTREE; a created one with its contents
     */
    private void directoryAppeared(Node parent, byte[] name, boolean movedIn) {
        Root root = parent.root;
        byte[] path = WatchTree.relativePath(parent, name);
        if (excluded(root, path, true)) {
            return;
        }
        sink.publish(movedIn ? RecordType.SUBTREE : RecordType.CHANGE, root.name, true, path);
        Node node;
        try {
            node = watch(parent, name, path);
            if (node == null) {
                // Already watched: reached by the listing of a new parent before this event was read.
                return;
            }
        } catch (PathUnavailableException e) {
            unavailable(root, e);
            return;
        } catch (WatchLimitException e) {
            walk(root, null, path, !movedIn, e);
            return;
        }
        walk(root, node, path, !movedIn, null);
    }

    /**
     * Watches the subdirectory {@code name} of {@code parent} and returns its new node, or null when the
     * kernel says it is watched already. A watched directory found at a new place was moved there by a
     * rename whose MOVED_TO never came (it went to a directory not yet watched, e.g. {@code mkdir x && mv
     * a/sub x/}): its node moves here, so later events inside it carry the new path and settling the
     * unpaired MOVED_FROM does not unwatch it; a SUBTREE sends it whole from its new place.
     */
    private Node watch(Node parent, byte[] name, byte[] path) throws PathUnavailableException, WatchLimitException {
        int watch = kernel.addWatch(WatchTree.absolutePath(parent.root, path));
        Node existing = tree.byWatch(watch);
        if (existing == null) {
            return tree.add(parent, name, watch);
        }
        boolean elsewhere = existing.parent != parent || !existing.hasName(name);
        if (elsewhere && existing.root == parent.root) {
            tree.move(existing, parent, name);
            sink.publish(RecordType.SUBTREE, parent.root.name, true, path);
        }
        return null;
    }

    /**
     * One directory the walk still has to list; {@code node} is null when it could not be watched.
     * {@code covered}: a SUBTREE already sends it whole, so the catch-up scan publishes nothing below it.
     */
    private record Pending(Node node, byte[] path, boolean covered) {
    }

    /**
     * Lists {@code top} and everything below it, watching each subdirectory before it is listed.
     * Directories the watch limit left unwatched are still listed: to publish their contents, and to tell
     * how many watches would be needed.
     *
     * @param top             the watched directory at {@code topPath}, or null if the watch limit refused it
     * @param publishContents publish every entry found (a created directory); otherwise watch only
     * @param limitReached    the refusal of {@code top}'s watch, if it was refused
     */
    private void walk(Root root, Node top, byte[] topPath, boolean publishContents, WatchLimitException limitReached) {
        WalkProgress progress = new WalkProgress(root);
        progress.limitReached = limitReached;
        if (top == null) {
            progress.unwatched++;
        }
        ArrayDeque<Pending> pending = new ArrayDeque<>();
        pending.push(new Pending(top, topPath, false));
        boolean catchingUp = !publishContents && catchUpSinceMillis != NO_CATCH_UP;
        while (!pending.isEmpty() && !stopRequested.getAsBoolean()) {
            Pending directory = pending.pop();
            byte[] absolutePath = WatchTree.absolutePath(root, directory.path);
            try {
                if (catchingUp && !directory.covered) {
                    kernel.listWithChangeTimes(absolutePath, (name, isDirectory, changeTimeMillis) -> {
                        byte[] path = WatchTree.childPath(directory.path, name);
                        if (excluded(root, path, isDirectory)) {
                            return;
                        }
                        boolean changed = changeTimeMillis >= catchUpSinceMillis;
                        if (changed) {
                            sink.publish(isDirectory ? RecordType.SUBTREE : RecordType.CHANGE, root.name, isDirectory,
                                    path);
                            if (isDirectory) {
                                catchUpSubtrees++;
                            } else {
                                catchUpChanges++;
                            }
                        }
                        if (isDirectory) {
                            watchDuringWalk(directory.node, name, path, pending, progress, changed);
                        }
                    });
                } else {
                    kernel.list(absolutePath, !publishContents, (name, isDirectory) -> {
                        byte[] path = WatchTree.childPath(directory.path, name);
                        if (excluded(root, path, isDirectory)) {
                            return;
                        }
                        if (publishContents) {
                            sink.publish(RecordType.CHANGE, root.name, isDirectory, path);
                        }
                        if (isDirectory) {
                            watchDuringWalk(directory.node, name, path, pending, progress, directory.covered);
                        }
                    });
                }
            } catch (PathUnavailableException e) {
                unavailable(root, e);
            }
            progress.listed();
        }
        if (progress.limitReached != null) {
            watchLimitReached(root, progress.limitReached, progress.unwatched);
        }
    }

    private void watchDuringWalk(Node parent, byte[] name, byte[] path, ArrayDeque<Pending> pending,
                                 WalkProgress progress, boolean covered) {
        if (parent == null || progress.limitReached != null) {
            progress.unwatched++;
            pending.push(new Pending(null, path, covered));
            return;
        }
        try {
            Node child = watch(parent, name, path);
            if (child != null) {
                pending.push(new Pending(child, path, covered));
                warnNearWatchLimit();
            }
        } catch (PathUnavailableException e) {
            unavailable(parent.root, e);
        } catch (WatchLimitException e) {
            progress.limitReached = e;
            progress.unwatched++;
            pending.push(new Pending(null, path, covered));
        }
    }

    /** Nanoseconds until unwatched directories are to be tried again; {@link Long#MAX_VALUE} when there are none. */
    long nanosUntilWatchRetry() {
        return incompleteRoots.isEmpty() ? Long.MAX_VALUE : Math.max(0, retryDueNanos - System.nanoTime());
    }

    /**
     * Tries again to watch the directories the watch limit left unwatched, when due. Either way it appends an
     * OVERFLOW for each such root: changes in unwatched directories since the last one are known only to a
     * full sync, also the changes made until the watch that now succeeded was added.
     */
    void retryUnwatchedIfDue() {
        if (incompleteRoots.isEmpty() || System.nanoTime() - retryDueNanos < 0) {
            return;
        }
        lastRetryNanos = System.nanoTime();
        retryDueNanos = lastRetryNanos + WATCH_RETRY_INTERVAL_NANOS;
        var iterator = incompleteRoots.iterator();
        while (iterator.hasNext()) {
            Root root = iterator.next();
            long unwatched = watchMissing(root);
            sink.publishMarker(RecordType.OVERFLOW, root.name);
            if (unwatched == 0) {
                iterator.remove();
                LOG.info("root '{}': every directory is watched again ({} watches); its next sync is full once more",
                        root.name, tree.size());
            } else {
                LOG.debug("root '{}': {} directories still not watched: fs.inotify.max_user_watches", root.name,
                        unwatched);
            }
        }
    }

    /** Walks a root's directories, watching those without a watch; returns how many still have none. */
    private long watchMissing(Root root) {
        if (root.node == null) {
            try {
                tree.addRoot(root, kernel.addWatch(root.absolutePath));
            } catch (PathUnavailableException | WatchLimitException e) {
                return 1;
            }
        }
        long unwatched = 0;
        ArrayDeque<Node> pending = new ArrayDeque<>();
        pending.push(root.node);
        while (!pending.isEmpty() && !stopRequested.getAsBoolean()) {
            Node directory = pending.pop();
            byte[] directoryPath = WatchTree.relativePath(directory, new byte[0]);
            long[] refused = {0};
            try {
                kernel.list(WatchTree.absolutePath(root, directoryPath), true, (name, isDirectory) -> {
                    byte[] path = WatchTree.childPath(directoryPath, name);
                    if (excluded(root, path, true)) {
                        return;
                    }
                    Node child = tree.child(directory, name);
                    if (child == null) {
                        try {
                            child = watch(directory, name, path);
                        } catch (PathUnavailableException e) {
                            unavailable(root, e);
                        } catch (WatchLimitException e) {
                            refused[0]++;
                        }
                    }
                    if (child != null) {
                        pending.push(child);
                    }
                });
            } catch (PathUnavailableException e) {
                unavailable(root, e);
            }
            unwatched += refused[0];
        }
        return unwatched;
    }

    /** Counts and reports a walk's progress every few seconds; long walks are otherwise silent. */
    private final class WalkProgress {
        private final Root root;
        private final long started = System.nanoTime();
        private long nextReport = started + PROGRESS_INTERVAL_NANOS;
        private long listed;
        long unwatched;
        WatchLimitException limitReached;

        WalkProgress(Root root) {
            this.root = root;
        }

        void listed() {
            listed++;
            long now = System.nanoTime();
            if (now >= nextReport) {
                nextReport = now + PROGRESS_INTERVAL_NANOS;
                double seconds = (now - started) / 1e9;
                LOG.info("root '{}': {} directories listed in {} s ({} per second), {} watched in total",
                        root.name, listed, Math.round(seconds), Math.round(listed / seconds), tree.size());
            }
        }
    }

    private void warnNearWatchLimit() {
        if (!watchLimitWarned && userWatchLimit > 0 && tree.size() >= userWatchLimit * WATCH_LIMIT_WARNING_SHARE) {
            watchLimitWarned = true;
            LOG.warn("watching {} directories, close to fs.inotify.max_user_watches={} (shared by all inotify users "
                    + "of this user); raise it before it runs out, e.g. in /etc/sysctl.d/", tree.size(), userWatchLimit);
        }
    }

    /** Directories left unwatched: record the loss and say once which limit to raise, and to what. */
    private void watchLimitReached(Root root, WatchLimitException e, long unwatched) {
        if (!watchLimitLogged) {
            watchLimitLogged = true;
            LOG.error("{}, needed about {}; {} directories under root '{}' are not watched and their changes are "
                    + "covered only by full syncs until the limit is raised (the tracker tries again every "
                    + WATCH_RETRY_INTERVAL_NANOS / 1_000_000_000L + " s and when directories are deleted)",
                    e.getMessage(), tree.size() + unwatched, unwatched, root.name);
        } else {
            LOG.debug("{} more directories under root '{}' not watched: watch limit", unwatched, root.name);
        }
        sink.publishMarker(RecordType.OVERFLOW, root.name);
        if (incompleteRoots.isEmpty()) {
            lastRetryNanos = System.nanoTime();
            retryDueNanos = lastRetryNanos + WATCH_RETRY_INTERVAL_NANOS;
        }
        incompleteRoots.add(root);
    }

    private void unavailable(Root root, PathUnavailableException e) {
        switch (e.reason()) {
            case GONE -> LOG.debug("{}", e.getMessage());
            case DENIED -> LOG.warn("{}; not watched", e.getMessage());
            case NAME_TOO_LONG -> {
                LOG.error("{}; changes below it are covered only by full syncs", e.getMessage());
                sink.publishMarker(RecordType.OVERFLOW, root.name);
            }
        }
    }

    private void unwatchSubtree(Node top) {
        tree.removeSubtree(top, node -> kernel.removeWatch(node.watch));
    }

    private void kernelQueueOverflowed() {
        long now = System.nanoTime();
        if (!overflowSeen || now - lastOverflowNanos > OVERFLOW_BURST_NANOS) {
            LOG.error("the kernel's inotify queue overflowed and events were lost; an OVERFLOW is recorded for every "
                    + "root, so the next sync of each route is full. If this repeats, raise "
                    + "fs.inotify.max_queued_events (current {})", Libc.kernelLimit("max_queued_events"));
        }
        kernelOverflows++;
        overflowSeen = true;
        lastOverflowNanos = now;
        for (Root root : roots) {
            sink.publishMarker(RecordType.OVERFLOW, root.name);
            // Without the lost CREATE events, new directories stay unwatched: walk again to find them.
            incompleteRoots.add(root);
        }
        retryDueNanos = Math.min(retryDueNanos, Math.max(now, lastRetryNanos + REWALK_AFTER_OVERFLOW_NANOS));
    }

    private void rootLost(Node rootNode, String what) {
        Root root = rootNode.root;
        LOG.error("root '{}' ({}) {}: its changes are no longer recorded; restore it and restart changeq-tracker",
                root.name, ByteStrings.escape(root.absolutePath), what);
        unwatchSubtree(rootNode);
        sink.publishMarker(RecordType.OVERFLOW, root.name);
    }

    private void unmounted(Node node) {
        Root root = node.root;
        if (root == lastUnmountedRoot) {
            return;
        }
        lastUnmountedRoot = root;
        byte[] path = WatchTree.absolutePath(root, WatchTree.relativePath(node, new byte[0]));
        LOG.error("the file system holding {} (root '{}') was unmounted: changes on it are no longer recorded",
                ByteStrings.escape(path), root.name);
        sink.publishMarker(RecordType.OVERFLOW, root.name);
    }

    private static boolean excluded(Root root, byte[] path, boolean directory) {
        return path.length > 0 && root.excludes.matchesSelfOrAncestor(path, directory);
    }
}
