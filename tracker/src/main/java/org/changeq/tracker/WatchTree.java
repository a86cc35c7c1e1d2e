package org.changeq.tracker;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntConsumer;
import org.changeq.pipeline.config.PathFilter;
import org.changeq.pipeline.state.TrackerRootsFile.Condition;
import org.changeq.pipeline.state.TrackerRootsFile.RootStatus;
import org.changeq.pipeline.state.TrackerRootsFile.Selection;

/**
 * The watched directories: watch key → (parent, name). Paths are never stored, only built on demand
 * from the chain of names, so renaming a directory updates one node and every later event below it
 * carries the new path.
 *
 * <p>Confined to the reader thread, except {@link #size()}.
 */
final class WatchTree {

    /** A configured root as the tracker watches it, and whether it can. */
    static final class Root {
        final String name;
        final byte[] absolutePath;
        final PathFilter excludes;
        /** The root directory's node as a {@link WatchTree#handle}; {@link WatchTree#NO_HANDLE} while unwatched. */
        long node = NO_HANDLE;
        Condition condition = Condition.WATCHED;
        long conditionSinceMillis = System.currentTimeMillis();
        String conditionDetail = "";
        /**
         * What was at the path when it was last looked at: the watched directory while watched; once lost, what
         * took its place (null: nothing), so that the root counts as back only when something else is there.
         */
        FileIdentity identity;

        Root(String name, byte[] absolutePath, PathFilter excludes) {
            this.name = name;
            this.absolutePath = absolutePath;
            this.excludes = excludes;
        }

        boolean watched() {
            return condition == Condition.WATCHED;
        }

        /** Whether an entry below the root (never the root itself) is excluded, or lies in an excluded directory. */
        boolean excluded(byte[] path, boolean directory) {
            return path.length > 0 && excludes.matchesSelfOrAncestor(path, directory);
        }

        /** What the tracker selects below this root, as the roots file publishes it. */
        Selection selection() {
            return new Selection(absolutePath, excludes.patterns());
        }

        RootStatus status() {
            return new RootStatus(name, condition, conditionSinceMillis, conditionDetail, selection());
        }
    }

    private static final byte[] ROOT_NAME = new byte[0];

    /** No node: the parent of a root, the end of a list, an empty table slot. */
    static final int NONE = 0;
    /** A handle that names no node. */
    static final long NO_HANDLE = 0L;
    /** The watch of a node whose watch is gone while directories below it are still in the tree. */
    private static final int NO_WATCH = -1;
    private static final int MIN_ARENA = 1024;

    /*
     * One directory is one id into these columns: 36 bytes, ~66 with its two table slots and its name in the arena
     * (an object and a name array per directory cost ~86), since a tracker watches hundreds of thousands of them for
     * months. Subdirectories hang off firstChild as a doubly linked list so one can be unlinked without a search. A
     * freed id is reused, so a reference that may outlive its node is a handle (see handle) checked on use. The
     * columns keep the size the tree once had.
     */
    private final IntColumn parent = new IntColumn();
    private final IntColumn watch = new IntColumn();
    private final IntColumn firstChild = new IntColumn();
    /** For a free id: the next free one. */
    private final IntColumn nextSibling = new IntColumn();
    private final IntColumn previousSibling = new IntColumn();
    private final IntColumn nameOffset = new IntColumn();
    /**
     * A name is at most NAME_MAX (255) bytes on most file systems but up to 1,024 through FUSE, and never beyond
     * what the 16-bit record length of getdents64 allows.
     */
    private final IntColumn nameLength = new IntColumn();
    /** Counts the times the id was freed: part of every handle. */
    private final IntColumn generation = new IntColumn();
    /** The root the node belongs to, as 1 + its index in {@link #rootsSeen}; 0 for a free id. */
    private final IntColumn rootNumber = new IntColumn();
    /**
     * Every root a node was added for, so that a node holds an int, not a reference: a few entries, one more for each
     * root a reload changes.
     */
    private final List<Root> rootsSeen = new ArrayList<>();
    /** Ids below this were handed out once. Id 0 is {@link #NONE}. */
    private int nextId = 1;
    private int firstFree = NONE;

    /** Every name, back to back. A rename or a removal leaves its old bytes as garbage until the arena is compacted. */
    private byte[] names = new byte[MIN_ARENA];
    private int namesUsed;
    private int namesGarbage;

    private final NodeTable byWatch = new NodeTable(node -> watch.get(node));
    /** Every linked non-root node, keyed by (parent, name): how a directory entry finds its watch. */
    private final NodeTable byParentAndName = new NodeTable(node -> childHash(parent.get(node),
            nameHash(names, nameOffset.get(node), nameOffset.get(node) + length(node))));
    private volatile int size;

    /** Number of watched directories. Any thread. */
    int size() {
        return size;
    }

    int addRoot(Root root, int watchKey) {
        int seen = rootsSeen.indexOf(root);
        if (seen < 0) {
            rootsSeen.add(root);
            seen = rootsSeen.size() - 1;
        }
        int node = allocate(seen + 1, NONE, ROOT_NAME, watchKey);
        root.node = handle(node);
        put(node);
        return node;
    }

    /**
     * Records a watched subdirectory. If the kernel answered with a key already in the tree, the
     * directory is watched already (reached again by a listing racing its creation event, or moved by a
     * rename not yet processed): the existing node wins and {@link #NONE} is returned.
     */
    int add(int parentNode, byte[] name, int watchKey) {
        if (byWatch(watchKey) != NONE) {
            return NONE;
        }
        int node = allocate(rootNumber.get(parentNode), parentNode, name, watchKey);
        attach(parentNode, node, name);
        put(node);
        return node;
    }

    int byWatch(int watchKey) {
        for (int slot = byWatch.start(watchKey); ; slot = byWatch.next(slot)) {
            int node = byWatch.at(slot);
            if (node == NONE || watch.get(node) == watchKey) {
                return node;
            }
        }
    }

    /** The watched subdirectory {@code name} of {@code parentNode}, or {@link #NONE}. */
    int child(int parentNode, byte[] name) {
        int hash = childHash(parentNode, nameHash(name, 0, name.length));
        for (int slot = byParentAndName.start(hash); ; slot = byParentAndName.next(slot)) {
            int node = byParentAndName.at(slot);
            if (node == NONE || parent.get(node) == parentNode && hasName(node, name)) {
                return node;
            }
        }
    }

    /**
     * A reference to a node that stays valid while the node is in the tree: for whatever holds a node beyond the
     * event it came with (a waiting move, a walk's pending step, the last change). Its id may be reused once the
     * node is removed, which {@link #live} tells by the generation the handle carries.
     */
    long handle(int node) {
        return (long) generation.get(node) << 32 | node;
    }

    /** The node a handle names, or {@link #NONE} if it left the tree since (its id may name another node now). */
    int live(long handle) {
        int node = (int) handle;
        if (node <= NONE || node >= nextId || generation.get(node) != (int) (handle >>> 32)
                || rootNumber.get(node) == 0) {
            return NONE;
        }
        return node;
    }

    Root root(int node) {
        return rootsSeen.get(rootNumber.get(node) - 1);
    }

    int watch(int node) {
        return watch.get(node);
    }

    int parent(int node) {
        return parent.get(node);
    }

    boolean isRoot(int node) {
        return parent.get(node) == NONE;
    }

    boolean hasName(int node, byte[] name) {
        int offset = nameOffset.get(node);
        return length(node) == name.length && Arrays.equals(names, offset, offset + name.length, name, 0, name.length);
    }

    /** Whether {@code candidate} is {@code node} or one of the directories above it. */
    boolean isSelfOrAncestor(int candidate, int node) {
        for (int at = node; at != NONE; at = parent.get(at)) {
            if (at == candidate) {
                return true;
            }
        }
        return false;
    }

    /** Moves a node within its root: one node changes, its subtree follows. */
    void move(int node, int newParent, byte[] newName) {
        assert rootNumber.get(node) == rootNumber.get(newParent) : "moves across roots are unwatched and re-watched";
        detach(node);
        namesGarbage += length(node);
        // Stored before the compaction a store may run, which would otherwise keep the old name.
        nameLength.set(node, 0);
        nameOffset.set(node, storeName(newName));
        nameLength.set(node, newName.length);
        attach(newParent, node, newName);
    }

    /**
     * Forgets a watch the kernel dropped; returns whether it was in the tree. A directory whose watch went while
     * directories below it are still watched stays, without a watch, until the last of them is gone: their
     * paths lead through it.
     */
    boolean forget(int watchKey) {
        int node = byWatch(watchKey);
        if (node == NONE) {
            return false;
        }
        byWatch.remove(node);
        size = byWatch.size();
        if (isLinked(node)) {
            byParentAndName.remove(node);
        }
        watch.set(node, NO_WATCH);
        if (firstChild.get(node) == NONE) {
            unlinkAndFree(node);
        }
        return true;
    }

    /** Detaches a node and its whole subtree from the tree, handing every watch key to {@code removedWatch}. */
    void removeSubtree(int top, IntConsumer removedWatch) {
        detach(top);
        int[] pending = new int[16];
        int count = 0;
        pending[count++] = top;
        while (count > 0) {
            int node = pending[--count];
            for (int child = firstChild.get(node); child != NONE; child = nextSibling.get(child)) {
                if (count == pending.length) {
                    pending = Arrays.copyOf(pending, count * 2);
                }
                pending[count++] = child;
            }
            if (watch.get(node) != NO_WATCH) {
                if (node != top) {
                    byParentAndName.remove(node);
                }
                byWatch.remove(node);
                removedWatch.accept(watch.get(node));
            }
            free(node);
        }
        size = byWatch.size();
    }

    /** The path of {@code directory}'s entry {@code name} relative to its root (empty name: the directory). */
    byte[] relativePath(int directory, byte[] name) {
        int length = name.length;
        for (int node = directory; !isRoot(node); node = parent.get(node)) {
            length += length(node) + 1;
        }
        if (name.length == 0 && length > 0) {
            length--;
        }
        byte[] path = new byte[length];
        int end = length;
        if (name.length > 0) {
            end -= name.length;
            System.arraycopy(name, 0, path, end, name.length);
            if (end > 0) {
                path[--end] = '/';
            }
        }
        for (int node = directory; !isRoot(node); node = parent.get(node)) {
            end -= length(node);
            System.arraycopy(names, nameOffset.get(node), path, end, length(node));
            if (end > 0) {
                path[--end] = '/';
            }
        }
        return path;
    }

    /** The absolute path of a path relative to {@code root}. */
    static byte[] absolutePath(Root root, byte[] relativePath) {
        if (relativePath.length == 0) {
            return root.absolutePath;
        }
        byte[] rootPath = root.absolutePath;
        boolean slash = rootPath.length == 0 || rootPath[rootPath.length - 1] != '/';
        byte[] path = new byte[rootPath.length + (slash ? 1 : 0) + relativePath.length];
        System.arraycopy(rootPath, 0, path, 0, rootPath.length);
        if (slash) {
            path[rootPath.length] = '/';
        }
        System.arraycopy(relativePath, 0, path, path.length - relativePath.length, relativePath.length);
        return path;
    }

    /** {@code parent + "/" + name} for relative paths, where an empty parent is the root. */
    static byte[] childPath(byte[] parentPath, byte[] name) {
        if (parentPath.length == 0) {
            return name;
        }
        byte[] path = new byte[parentPath.length + 1 + name.length];
        System.arraycopy(parentPath, 0, path, 0, parentPath.length);
        path[parentPath.length] = '/';
        System.arraycopy(name, 0, path, parentPath.length + 1, name.length);
        return path;
    }

    private void put(int node) {
        byWatch.add(node);
        size = byWatch.size();
    }

    private void attach(int parentNode, int node, byte[] name) {
        // A directory renamed over an empty one replaces it; the replaced one's watch ends with IGNORED.
        int replaced = child(parentNode, name);
        if (replaced != NONE) {
            detach(replaced);
        }
        parent.set(node, parentNode);
        nextSibling.set(node, firstChild.get(parentNode));
        if (firstChild.get(parentNode) != NONE) {
            previousSibling.set(firstChild.get(parentNode), node);
        }
        firstChild.set(parentNode, node);
        byParentAndName.add(node);
    }

    /**
     * Unlinks a node from its parent; a node already unlinked (a root, or replaced by a rename) is left as it is. Its
     * parent link stays, so its path can still be built.
     */
    private void detach(int node) {
        if (!isLinked(node)) {
            return;
        }
        if (watch.get(node) != NO_WATCH) {
            byParentAndName.remove(node);
        }
        unlinkSibling(node);
        releaseIfEmpty(parent.get(node));
    }

    /** In its parent's list of subdirectories. */
    private boolean isLinked(int node) {
        int parentNode = parent.get(node);
        return parentNode != NONE && (previousSibling.get(node) != NONE || firstChild.get(parentNode) == node);
    }

    private void unlinkSibling(int node) {
        if (previousSibling.get(node) != NONE) {
            nextSibling.set(previousSibling.get(node), nextSibling.get(node));
        } else {
            firstChild.set(parent.get(node), nextSibling.get(node));
        }
        if (nextSibling.get(node) != NONE) {
            previousSibling.set(nextSibling.get(node), previousSibling.get(node));
        }
        nextSibling.set(node, NONE);
        previousSibling.set(node, NONE);
    }

    /** Frees a node without a watch once no directory below it is left, and so on upwards. */
    private void releaseIfEmpty(int node) {
        if (node != NONE && watch.get(node) == NO_WATCH && firstChild.get(node) == NONE) {
            unlinkAndFree(node);
        }
    }

    private void unlinkAndFree(int node) {
        int parentNode = parent.get(node);
        boolean linked = isLinked(node);
        if (linked) {
            unlinkSibling(node);
        }
        free(node);
        if (linked) {
            releaseIfEmpty(parentNode);
        }
    }

    private int allocate(int number, int parentNode, byte[] name, int watchKey) {
        int node = firstFree;
        if (node != NONE) {
            firstFree = nextSibling.get(node);
        } else {
            node = nextId++;
            generation.set(node, 0);
        }
        parent.set(node, parentNode);
        watch.set(node, watchKey);
        firstChild.set(node, NONE);
        nextSibling.set(node, NONE);
        previousSibling.set(node, NONE);
        rootNumber.set(node, number);
        nameLength.set(node, 0);
        nameOffset.set(node, storeName(name));
        nameLength.set(node, name.length);
        return node;
    }

    private void free(int node) {
        namesGarbage += length(node);
        nameLength.set(node, 0);
        rootNumber.set(node, 0);
        watch.set(node, NO_WATCH);
        parent.set(node, NONE);
        firstChild.set(node, NONE);
        previousSibling.set(node, NONE);
        nextSibling.set(node, firstFree);
        firstFree = node;
        generation.set(node, generation.get(node) + 1);
    }

    private int length(int node) {
        return nameLength.get(node);
    }

    /** Appends a name to the arena and returns its offset; compacts the arena first when half of it is garbage. */
    private int storeName(byte[] name) {
        if (namesUsed + name.length > names.length) {
            if (namesGarbage > namesUsed >> 1) {
                compactNames(name.length);
            } else {
                names = Arrays.copyOf(names, Math.max(namesUsed + name.length, names.length + (names.length >> 1)));
            }
        }
        int offset = namesUsed;
        System.arraycopy(name, 0, names, offset, name.length);
        namesUsed += name.length;
        return offset;
    }

    /** Copies the names of the nodes in the tree to a new arena with room for {@code room} more bytes. */
    private void compactNames(int room) {
        int live = namesUsed - namesGarbage;
        byte[] compacted = new byte[Math.max(MIN_ARENA, live + room + (live >> 1))];
        int used = 0;
        for (int node = 1; node < nextId; node++) {
            int length = length(node);
            if (rootNumber.get(node) != 0 && length > 0) {
                System.arraycopy(names, nameOffset.get(node), compacted, used, length);
                nameOffset.set(node, used);
                used += length;
            }
        }
        names = compacted;
        namesUsed = used;
        namesGarbage = 0;
    }

    private static int childHash(int parentNode, int nameHash) {
        return parentNode * 31 + nameHash;
    }

    /** {@link Arrays#hashCode(byte[])} of a range, so a name in the arena hashes as the same name in an array. */
    private static int nameHash(byte[] bytes, int from, int to) {
        int hash = 1;
        for (int i = from; i < to; i++) {
            hash = 31 * hash + bytes[i];
        }
        return hash;
    }
}
