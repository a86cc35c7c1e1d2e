package org.changeq.tracker;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.mount.Mount;
import org.changeq.pipeline.mount.MountTable;
import org.changeq.pipeline.state.TrackerRootsFile.Condition;
import org.changeq.pipeline.state.TrackerRootsFile.RootStatus;
import org.changeq.tracker.WatchTree.Root;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the roots recursively and turns inotify events into manifest records: new directories (handed to the
 * {@link Walker}, which watches them before it lists them), renames paired by cookie, moves in and out of the
 * tree, and every kind of loss as an OVERFLOW record. Excluded directories are never watched and excluded paths
 * never published. A root that is lost (unmounted, deleted, moved away, replaced, unreadable) is unwatched and
 * recorded as OVERFLOW; a periodic check of each root's identity, timed by {@link CoverageRetry}, notices
 * replacements the kernel does not report and watches a root again once it is back. A file system mounted or
 * unmounted below a root, which inotify does not report (or reports only for the watches inside it), is noticed
 * through the mount table: the root is walked and watched again and an OVERFLOW recorded.
 *
 * <p>Confined to the reader thread: it is the single producer of the records it publishes, and its
 * {@link Listener} is called on that thread.
 */
final class TreeWatcher implements InotifyEventSink {

    private static final Logger LOG = LoggerFactory.getLogger(TreeWatcher.class);

    /** Kernel overflows closer together than this are one burst and logged once. */
    private static final long OVERFLOW_BURST_NANOS = 10_000_000_000L;
    /** No catch-up scan: the initial walk only watches. */
    static final long NO_CATCH_UP = Long.MAX_VALUE;

    private final DirectoryWatches kernel;
    private final RecordSink sink;
    /** Replaced as a whole by {@link #reconfigure}. */
    private List<Root> roots;
    private final BooleanSupplier stopRequested;
    private final LongSupplier nanoClock;
    private final Listener listener;
    private final WatchTree tree = new WatchTree();
    private final CoverageRetry coverage;
    private final Walker walker;
    /**
     * The mounts below each watched root (but in its excluded directories) when its walk began. The tracker's own
     * view, in its own mount namespace: a mount id that changed is another mount, whose files may differ.
     */
    private final Map<Root, List<Mount>> mountsBelow = new IdentityHashMap<>();

    /** MOVED_FROMs waiting for their MOVED_TO, which may come after other events or with a later read. */
    private final PendingMoves pendingMoves = new PendingMoves(tree);
    /**
     * The CHANGE published last, while only more changes followed it within the same read: a file's CREATE,
     * MODIFY and CLOSE_WRITE arrive together and become one record. Only within a read: every event in it
     * happened before the record was published, so a sync that reads the record sees them all. A later read
     * may come after a consumer took the record, and then its change must be recorded again.
     */
    private long lastChangeDirectory = WatchTree.NO_HANDLE;
    private byte[] lastChangeName;
    private boolean lastChangeIsDirectory;
    private boolean lastChangeContentWritten;
    private long lastOverflowNanos;
    private boolean overflowSeen;
    private long kernelOverflows;

    /** What the watcher tells its owner, on the reader thread. */
    interface Listener {
        /**
         * A walk is under way and the reader thread is busy with it: at most once per
         * {@link Walker#WALK_REPORT_INTERVAL_NANOS}.
         */
        void walking(Root root, int watchedDirectories);

        /** A root was lost, came back or was replaced; also once when the initial walk is done. */
        void rootsChanged(List<RootStatus> roots);
    }

    /**
     * @param watchLimit     the inotify watch limit this process runs into
     * @param stopRequested  checked during long walks so a shutdown does not wait for them
     * @param nanoClock      {@link System#nanoTime()}, or a fake one in tests
     */
    TreeWatcher(DirectoryWatches kernel, RecordSink sink, List<Root> roots, Libc.WatchLimit watchLimit,
                BooleanSupplier stopRequested, LongSupplier nanoClock, Listener listener) {
        this.kernel = kernel;
        this.sink = sink;
        this.roots = List.copyOf(roots);
        this.stopRequested = stopRequested;
        this.nanoClock = nanoClock;
        this.listener = listener;
        this.coverage = new CoverageRetry(sink, tree, nanoClock, System::currentTimeMillis);
        this.walker = new Walker(kernel, sink, tree, coverage, watchLimit, stopRequested, nanoClock, listener);
    }

    /** Every root's condition now. */
    List<RootStatus> rootStatuses() {
        return roots.stream().map(Root::status).toList();
    }

    /** Number of watched directories. Any thread. */
    int watchedDirectories() {
        return tree.size();
    }

    /**
     * The wall-clock time since which some root may have had a directory without a watch (the watch limit, a
     * directory the tracker may not watch, a walk still due after an overflow or a mount change), or
     * {@link Long#MAX_VALUE} when every watched root is whole. Reader thread.
     */
    long incompleteSinceMillis() {
        return coverage.incompleteSinceMillis();
    }

    /** Kernel queue overflows seen (IN_Q_OVERFLOW events). Reader thread. */
    long kernelOverflows() {
        return kernelOverflows;
    }

    /** Paths the last catch-up scan published: files and directories as CHANGE, directories as SUBTREE. */
    long catchUpChanges() {
        return walker.catchUpChanges();
    }

    long catchUpSubtrees() {
        return walker.catchUpSubtrees();
    }

    /** Whether a walk ended early for a stop, leaving changes in its directories unrecorded. */
    boolean walkCutShort() {
        return walker.cutShort();
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
        // What this tracker selects, before the walk: a sync that reads the previous tracker's file meanwhile would
        // judge the roots by a configuration that may no longer be in force.
        listener.rootsChanged(rootStatuses());
        walker.catchUpSince(changedSinceMillis);
        for (Root root : roots) {
            if (stopRequested.getAsBoolean()) {
                return;
            }
            long started = nanoClock.getAsLong();
            int before = tree.size();
            if (!watchTree(root) || stopRequested.getAsBoolean()) {
                continue;
            }
            sink.publishMarker(RecordType.RESCAN, root.name);
            long millis = (nanoClock.getAsLong() - started) / 1_000_000;
            LOG.info("root '{}' ({}): {} directories walked and under watch in {} ms{}", root.name,
                    ByteStrings.escape(root.absolutePath), tree.size() - before, millis,
                    changedSinceMillis == NO_CATCH_UP ? "" : "; catch-up so far: " + walker.catchUpChanges()
                            + " changed paths, " + walker.catchUpSubtrees() + " directories sent whole");
        }
        walker.catchUpSince(NO_CATCH_UP);
        coverage.rootsChecked();
        listener.rootsChanged(rootStatuses());
    }

    /**
     * Takes the roots of a reloaded configuration: a root no longer configured is released (its watches removed); a
     * new root, or one whose real path or excludes changed, is watched anew and gets an OVERFLOW once its watches are
     * in place, so that the next sync of its routes is full (with narrower excludes, paths never recorded are
     * selected now; with wider ones, records of paths now excluded are still in the queue). Roots that did not change
     * keep their watches and their condition.
     *
     * @param next every root of the new configuration, each with its real path
     */
    void reconfigure(List<Root> next) {
        // A waiting MOVED_FROM holds a directory of a root that may be released now: settle it first, as at a stop.
        resolvePendingMove();
        Map<String, Root> current = new LinkedHashMap<>();
        roots.forEach(root -> current.put(root.name, root));
        List<Root> kept = new ArrayList<>();
        List<Root> added = new ArrayList<>();
        for (Root root : next) {
            Root old = current.remove(root.name);
            if (old != null && Arrays.equals(old.absolutePath, root.absolutePath)
                    && old.excludes.patterns().equals(root.excludes.patterns())) {
                kept.add(old);
                continue;
            }
            if (old != null) {
                unwatchRoot(old);
                LOG.warn("root '{}': the reloaded configuration changed it ({} excluding {}, now {} excluding {}); it is"
                        + " walked and watched anew, and the next sync of its routes is full", root.name,
                        ByteStrings.escape(old.absolutePath), old.excludes.patterns(),
                        ByteStrings.escape(root.absolutePath), root.excludes.patterns());
            } else {
                LOG.info("root '{}' ({}) is new in the reloaded configuration; it is walked and watched, and the first"
                        + " sync of its routes is full", root.name, ByteStrings.escape(root.absolutePath));
            }
            kept.add(root);
            added.add(root);
        }
        for (Root removed : current.values()) {
            unwatchRoot(removed);
            LOG.info("root '{}' ({}) is no longer in the configuration; its watches are released", removed.name,
                    ByteStrings.escape(removed.absolutePath));
        }
        roots = List.copyOf(kept);
        for (Root root : added) {
            if (stopRequested.getAsBoolean()) {
                break;
            }
            // A root that cannot be watched records its own OVERFLOW and is tried again by the periodic check.
            if (watchTree(root)) {
                sink.publishMarker(RecordType.OVERFLOW, root.name);
            }
        }
        listener.rootsChanged(rootStatuses());
    }

    /**
     * Watches a root and walks its tree. Returns false, with the root's condition telling why, when it cannot
     * be watched; a loss not yet recorded is logged and recorded as OVERFLOW.
     */
    private boolean watchTree(Root root) {
        FileIdentity identity;
        try {
            identity = kernel.identify(root.absolutePath);
        } catch (PathUnavailableException e) {
            return unwatchable(root, Condition.UNREADABLE, "cannot be looked at: " + e.getMessage(), null);
        }
        if (identity == null) {
            return unwatchable(root, Condition.MISSING, "does not exist", null);
        }
        if (!identity.directory()) {
            return unwatchable(root, Condition.NOT_A_DIRECTORY, "is not a directory", identity);
        }
        // Before the walk: a file system mounted during it is then a change the next look at the table finds.
        mountsBelow.put(root, mountsBelow(root, kernel.mountTable()));
        int node;
        try {
            node = tree.addRoot(root, kernel.addWatch(root.absolutePath));
        } catch (PathUnavailableException e) {
            return unwatchable(root, e.reason() == PathUnavailableException.Reason.DENIED ? Condition.UNREADABLE
                    : Condition.MISSING, "cannot be watched: " + e.getMessage(), identity);
        } catch (WatchLimitException e) {
            root.identity = identity;
            walker.walkUnwatchedRoot(root, e);
            return true;
        }
        root.identity = identity;
        walker.walkRoot(root, node);
        return true;
    }

    boolean hasPendingMove() {
        return !pendingMoves.isEmpty();
    }

    /**
     * Settles every MOVED_FROM still waiting for its MOVED_TO as a move out of the watched tree. For when no
     * events came for a while: the kernel queued each MOVED_TO right after its MOVED_FROM, so none is coming.
     */
    void resolvePendingMove() {
        for (PendingMoves.Move move; (move = pendingMoves.takeOldest()) != null; ) {
            movedOut(move);
        }
    }

    /** The entry left the watched tree: its old path is deleted and its watches go. */
    private void movedOut(PendingMoves.Move move) {
        Root root = move.root();
        int parent = tree.live(move.parent());
        byte[] path = leftPath(move, parent);
        if (!root.excluded(path, move.directory())) {
            sink.publish(RecordType.DELETE, root.name, move.directory(), path);
        }
        if (move.directory() && parent != WatchTree.NONE) {
            // Looked up again: a walk may have found the directory at its new place and moved its node there.
            int moved = tree.child(parent, move.name());
            if (moved != WatchTree.NONE) {
                unwatchSubtree(moved);
            }
        }
    }

    /**
     * The path a moved entry left, as its directory's path is now; if that directory left the tree meanwhile (its
     * watches went with it), the path it had when the MOVED_FROM was read.
     */
    private byte[] leftPath(PendingMoves.Move move, int parent) {
        return parent == WatchTree.NONE ? move.path() : tree.relativePath(parent, move.name());
    }

    @Override
    public void onReadEnd() {
        lastChangeDirectory = WatchTree.NO_HANDLE;
        // Under a constant stream of events the reader never waits long enough to settle them all at once.
        for (PendingMoves.Move move; (move = pendingMoves.takeExpired(nanoClock.getAsLong())) != null; ) {
            movedOut(move);
        }
    }

    @Override
    public void onEvent(int watch, EventKind kind, boolean directory, int cookie, byte[] name) {
        if (kind != EventKind.CREATE && kind != EventKind.MODIFY && kind != EventKind.CLOSE_WRITE
                && kind != EventKind.ATTRIB) {
            lastChangeDirectory = WatchTree.NO_HANDLE;
        }
        if (kind == EventKind.OVERFLOW) {
            // Lost events may include the MOVED_TOs.
            resolvePendingMove();
            kernelQueueOverflowed();
            return;
        }
        int node = tree.byWatch(watch);
        if (node == WatchTree.NONE) {
            // A watch removed a moment ago (its directory left the tree): its last events are stale.
            return;
        }
        if (!pendingMoves.isEmpty()) {
            for (PendingMoves.Move move; (move = pendingMoves.takeTouchedBy(node, name)) != null; ) {
                movedOut(move);
            }
            if (tree.byWatch(watch) != node) {
                // It was inside a directory that moved out: stale, like the events of any watch removed.
                return;
            }
        }
        switch (kind) {
            case CREATE -> {
                if (directory) {
                    directoryAppeared(node, name, false);
                } else {
                    // A content write too: a hard link gives the name another file's content without a write.
                    changed(node, name, false, true);
                }
            }
            case MODIFY, CLOSE_WRITE -> changed(node, name, directory, !directory);
            case ATTRIB -> {
                // A subdirectory's own ATTRIB repeats the one its parent reports; only a root has no parent.
                if (name.length > 0 || tree.isRoot(node)) {
                    changed(node, name, directory || name.length == 0, false);
                }
            }
            case DELETE -> deleted(node, name, directory);
            case MOVED_FROM -> {
                int moved = directory ? tree.child(node, name) : WatchTree.NONE;
                PendingMoves.Move unpaired = pendingMoves.add(new PendingMoves.Move(tree.root(node), tree.handle(node),
                        name, tree.relativePath(node, name), directory, cookie,
                        moved == WatchTree.NONE ? WatchTree.NO_HANDLE : tree.handle(moved), nanoClock.getAsLong()));
                if (unpaired != null) {
                    movedOut(unpaired);
                }
            }
            case MOVED_TO -> movedTo(node, name, directory, cookie);
            case DELETE_SELF, MOVE_SELF -> {
                if (tree.isRoot(node)) {
                    rootLost(tree.root(node), Condition.MISSING, kind == EventKind.DELETE_SELF ? "was deleted"
                            : "was moved away");
                }
            }
            case UNMOUNT -> unmounted(node);
            case IGNORED -> {
                tree.forget(watch);
                coverage.watchFreed();
            }
            default -> throw new IllegalStateException("unexpected event kind " + kind);
        }
    }

    /**
     * @param contentWritten the file's content was written (or its name newly has content): its sync compares it
     *                       by content, since a tool may have put back the old size and modification time
     */
    private void changed(int directory, byte[] name, boolean isDirectory, boolean contentWritten) {
        // By handle: within a read, the directory may leave the tree and its id go to a new one.
        long directoryHandle = tree.handle(directory);
        if (directoryHandle == lastChangeDirectory && isDirectory == lastChangeIsDirectory
                && Arrays.equals(name, lastChangeName)
                && (lastChangeContentWritten || !contentWritten)) {
            return;
        }
        lastChangeDirectory = directoryHandle;
        lastChangeName = name;
        lastChangeIsDirectory = isDirectory;
        lastChangeContentWritten = contentWritten;
        Root root = tree.root(directory);
        byte[] path = tree.relativePath(directory, name);
        if (!root.excluded(path, isDirectory)) {
            sink.publishChange(root.name, isDirectory, contentWritten, path);
        }
    }

    private void deleted(int directory, byte[] name, boolean isDirectory) {
        Root root = tree.root(directory);
        byte[] path = tree.relativePath(directory, name);
        if (root.excluded(path, isDirectory)) {
            return;
        }
        sink.publish(RecordType.DELETE, root.name, isDirectory, path);
        if (isDirectory) {
            int child = tree.child(directory, name);
            if (child != WatchTree.NONE) {
                // The kernel drops the watch itself (IGNORED follows); free the name for a re-creation now.
                tree.forget(tree.watch(child));
            }
        }
    }

    private void movedTo(int directory, byte[] name, boolean isDirectory, int cookie) {
        PendingMoves.Move from = pendingMoves.take(cookie);
        Root root = tree.root(directory);
        byte[] path = tree.relativePath(directory, name);
        boolean targetExcluded = root.excluded(path, isDirectory);
        if (from == null) {
            if (!targetExcluded) {
                movedIn(directory, name, isDirectory, path);
            }
            return;
        }
        int fromParent = tree.live(from.parent());
        byte[] oldPath = leftPath(from, fromParent);
        int moved = isDirectory && fromParent != WatchTree.NONE ? tree.child(fromParent, from.name()) : WatchTree.NONE;
        boolean renamedWithin = moved != WatchTree.NONE && !targetExcluded && tree.root(moved) == root;
        if (!from.root().excluded(oldPath, isDirectory)) {
            // Only a watched directory that keeps its watches here is a rename: its SUBTREE follows at once. A file
            // renamed is a deletion like any, so that renaming many files away still counts against max-delete.
            sink.publish(renamedWithin ? RecordType.RENAMED_AWAY : RecordType.DELETE, from.root().name,
                    isDirectory, oldPath);
        }
        if (renamedWithin) {
            tree.move(moved, directory, name);
            sink.publish(RecordType.SUBTREE, root.name, true, path);
            return;
        }
        if (moved != WatchTree.NONE) {
            unwatchSubtree(moved);
        }
        if (!targetExcluded) {
            movedIn(directory, name, isDirectory, path);
        }
    }

    private void movedIn(int directory, byte[] name, boolean isDirectory, byte[] path) {
        if (isDirectory) {
            directoryAppeared(directory, name, true);
        } else {
            // Renamed over an existing file (rsync's and many editors' way to write), the name has the moved file's
            // content, whose size and time may be the old ones.
            sink.publishContentWrite(tree.root(directory).name, path);
        }
    }

    /**
     * A directory was created or moved in: watch it first, then list it, so that entries created between
     * its creation and the watch are found by the listing and later ones by their own events.
     *
     * @param movedIn a moved-in directory is published as one SUBTREE once every directory in it is watched; a
     *                created one with its contents
     */
    private void directoryAppeared(int parent, byte[] name, boolean movedIn) {
        Root root = tree.root(parent);
        byte[] path = tree.relativePath(parent, name);
        if (root.excluded(path, true)) {
            return;
        }
        if (!movedIn) {
            sink.publish(RecordType.CHANGE, root.name, true, path);
        }
        walker.watchAndWalk(parent, name, path, !movedIn);
        if (movedIn) {
            // Not before the walk: a sync could copy the tree while the walk runs, and a change in a directory
            // not yet watched would then reach neither that copy nor an event. Published now, the copy comes after
            // every watch, and whatever it may miss is reported by those watches.
            sink.publish(RecordType.SUBTREE, root.name, true, path);
        }
    }

    /** Nanoseconds until {@link #runDueChecks()} has work: the next root check or watch retry. */
    long nanosUntilDue() {
        return coverage.nanosUntilDue();
    }

    /** Checks the roots' identities and retries unwatched directories, each when due. */
    void runDueChecks() {
        if (coverage.rootCheckDue()) {
            checkRoots();
            coverage.rootsChecked();
        }
        coverage.retryIfDue(walker::watchMissing);
    }

    /**
     * Compares each root with what is at its path now. A watched root that is gone, or whose directory is
     * another one (a file system mounted over it, or unmounted from under it without the kernel telling, or a
     * directory renamed into its place), is lost or replaced; a lost root with a directory at its path again
     * is watched again.
     */
    private void checkRoots() {
        for (Root root : roots) {
            if (stopRequested.getAsBoolean()) {
                return;
            }
            FileIdentity now;
            try {
                now = kernel.identify(root.absolutePath);
            } catch (PathUnavailableException e) {
                if (root.watched()) {
                    rootLost(root, Condition.UNREADABLE, "cannot be looked at any more: " + e.getMessage());
                }
                continue;
            }
            if (root.watched()) {
                if (now == null) {
                    rootLost(root, Condition.MISSING, "is gone (deleted, or moved away with a directory above it)");
                } else if (!now.directory()) {
                    rootLost(root, Condition.NOT_A_DIRECTORY, "was replaced by something that is not a directory");
                } else if (!now.equals(root.identity)) {
                    replaced(root, now);
                }
            } else if (now != null && now.directory()
                    && (root.condition == Condition.UNREADABLE || !now.equals(root.identity))) {
                watchAgain(root, "it was " + describe(root.condition));
            }
        }
    }

    private void unwatchSubtree(int top) {
        tree.removeSubtree(top, kernel::removeWatch);
    }

    private void kernelQueueOverflowed() {
        long now = nanoClock.getAsLong();
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
            if (root.watched()) {
                // Without the lost CREATE events, new directories stay unwatched: walk again to find them.
                coverage.walkAgain(root);
            }
        }
        coverage.eventsLost(now);
    }

    /**
     * An IN_UNMOUNT arrives on every watch of the unmounted file system. When that is the root's own, the root
     * is lost. When it was mounted below the root, the mount table tells: its mount point shows the directory
     * beneath, which is watched by walking the root again.
     */
    private void unmounted(int node) {
        Root root = tree.root(node);
        if (!root.watched()) {
            return;
        }
        FileIdentity now = identifyQuietly(root);
        if (tree.isRoot(node) || now == null || !now.equals(root.identity)) {
            rootLost(root, Condition.UNMOUNTED, "was unmounted (or the file system holding it)");
            return;
        }
        mountTableChanged();
    }

    /**
     * Something was mounted or unmounted. A root with other file systems mounted below it than at its walk is walked
     * and watched again: a file system mounted over a watched directory hides it from its watches, and one unmounted
     * shows the directory beneath, which nothing watches yet. Its OVERFLOW, recorded once every directory is watched,
     * makes the next sync full. A root whose own directory changed is left to IN_UNMOUNT and the periodic check.
     */
    void mountTableChanged() {
        MountTable table = kernel.mountTable();
        for (Root root : roots) {
            if (stopRequested.getAsBoolean()) {
                return;
            }
            // The table changes before the kernel queues IN_UNMOUNT for the root's own file system: what its path
            // shows for that moment is the bare mount point, which must not be taken for the root.
            if (!root.watched() || root.node == WatchTree.NO_HANDLE || !root.identity.equals(identifyQuietly(root))) {
                continue;
            }
            List<Mount> before = mountsBelow.getOrDefault(root, List.of());
            List<Mount> now = mountsBelow(root, table);
            if (describeChange(before, now).isEmpty()) {
                continue;
            }
            LOG.warn("root '{}' ({}): the file systems mounted below it changed ({}); its tree is walked and watched "
                    + "again, and the next sync of its routes is full", root.name, ByteStrings.escape(root.absolutePath),
                    describeChange(before, now));
            unwatchRoot(root);
            if (watchTree(root)) {
                sink.publishMarker(RecordType.OVERFLOW, root.name);
            }
        }
    }

    private static List<Mount> mountsBelow(Root root, MountTable table) {
        List<Mount> below = new ArrayList<>();
        for (Mount mount : table.visibleBelow(root.absolutePath)) {
            if (!root.excluded(Mount.pathBelow(root.absolutePath, mount.point()), true)) {
                below.add(mount);
            }
        }
        return below;
    }

    /** What was unmounted and mounted between the two lists; empty when nothing was. */
    private static String describeChange(List<Mount> before, List<Mount> now) {
        List<String> changes = new ArrayList<>();
        for (Mount gone : before) {
            if (now.stream().noneMatch(mount -> sameMount(mount, gone))) {
                changes.add("unmounted: " + gone);
            }
        }
        for (Mount added : now) {
            if (before.stream().noneMatch(mount -> sameMount(mount, added))) {
                changes.add("mounted: " + added);
            }
        }
        return String.join("; ", changes);
    }

    /** A remount (read-only, other options) keeps the mount and its files; a new mount id is another mount. */
    private static boolean sameMount(Mount a, Mount b) {
        return a.id() == b.id() && Arrays.equals(a.point(), b.point());
    }

    /** A watched root can no longer be watched: its watches go, the loss is recorded, and the log says the fix. */
    private void rootLost(Root root, Condition condition, String what) {
        unwatchRoot(root);
        unwatchable(root, condition, what, identifyQuietly(root));
    }

    /** A watched root's path holds another directory now: watch that one instead. */
    private void replaced(Root root, FileIdentity now) {
        boolean otherFileSystem = now.device() != root.identity.device() || now.mountId() != root.identity.mountId();
        String what = otherFileSystem ? "was replaced by another file system (one was mounted over it, or unmounted "
                + "from under it)" : "was replaced by another directory";
        LOG.warn("root '{}' ({}) {}: the new tree is walked and watched; the next sync of its routes is full",
                root.name, ByteStrings.escape(root.absolutePath), what);
        unwatchRoot(root);
        sink.publishMarker(RecordType.OVERFLOW, root.name);
        watchAgain(root, "it " + what);
    }

    /**
     * Watches a root again and, once its watches are in place, records an OVERFLOW: a sync that reads it starts
     * after every directory is watched, so no change falls between its full sync and the watches.
     */
    private void watchAgain(Root root, String cause) {
        long started = nanoClock.getAsLong();
        if (!watchTree(root)) {
            return;
        }
        setCondition(root, Condition.WATCHED, "watched again since " + cause);
        sink.publishMarker(RecordType.OVERFLOW, root.name);
        LOG.warn("root '{}' ({}) is watched again since {}: {} directories walked in {} ms; the next sync of its "
                + "routes is full", root.name, ByteStrings.escape(root.absolutePath), cause, tree.size(),
                (nanoClock.getAsLong() - started) / 1_000_000);
        listener.rootsChanged(rootStatuses());
    }

    private void unwatchRoot(Root root) {
        mountsBelow.remove(root);
        int node = tree.live(root.node);
        if (node != WatchTree.NONE) {
            unwatchSubtree(node);
        }
        root.node = WatchTree.NO_HANDLE;
        coverage.forget(root);
    }

    /**
     * The root cannot be watched, for the reason {@code condition} names. Entering that condition is logged with
     * the fix and recorded as OVERFLOW; staying in it (a retry that failed the same way) is silent.
     *
     * @param found what is at the root's path now: the root counts as back once something else is there
     * @return false, for callers that return whether the root is watched
     */
    private boolean unwatchable(Root root, Condition condition, String what, FileIdentity found) {
        root.identity = found;
        if (root.condition == condition) {
            return false;
        }
        String path = ByteStrings.escape(root.absolutePath);
        setCondition(root, condition, path + " " + what + "; " + fix(condition, path));
        LOG.error("root '{}' ({}) {}: its changes are not recorded and the next sync of its routes is full; {}",
                root.name, path, what, fix(condition, path));
        sink.publishMarker(RecordType.OVERFLOW, root.name);
        listener.rootsChanged(rootStatuses());
        return false;
    }

    private static void setCondition(Root root, Condition condition, String detail) {
        root.condition = condition;
        root.conditionSinceMillis = System.currentTimeMillis();
        root.conditionDetail = detail;
    }

    private static String fix(Condition condition, String path) {
        String again = "the tracker watches it again on its own";
        return switch (condition) {
            case WATCHED -> "";
            case UNMOUNTED -> "mount " + path + "; " + again;
            case MISSING -> "restore " + path + " (or mount the file system holding it); " + again;
            case NOT_A_DIRECTORY -> "put the directory back at " + path + "; " + again;
            case UNREADABLE -> "grant the tracker's user read and search permission on " + path
                    + " and the directories above it; " + again;
        };
    }

    private static String describe(Condition condition) {
        return switch (condition) {
            case WATCHED -> "watched";
            case UNMOUNTED -> "unmounted";
            case MISSING -> "missing";
            case NOT_A_DIRECTORY -> "not a directory";
            case UNREADABLE -> "unreadable";
        };
    }

    /** What is at the root's path, or null when nothing is or it cannot be looked at. */
    private FileIdentity identifyQuietly(Root root) {
        try {
            return kernel.identify(root.absolutePath);
        } catch (PathUnavailableException e) {
            return null;
        }
    }
}
