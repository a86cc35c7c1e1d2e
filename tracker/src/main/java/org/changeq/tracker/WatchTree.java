package org.changeq.tracker;

import java.util.Arrays;
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
        /** The root directory's node as a {@link WatchTree#handle}, or {@link WatchTree#NO_HANDLE} while not watched. */
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
    private static final int MIN_NODES = 16;
    private static final int MIN_ARENA = 1024;

    /*
     * One directory is one id into these parallel arrays: ~35 bytes, with the arrays' room to grow, its two table
     * slots and its name in the arena ~70 (an object and a name array per directory cost ~93), since a tracker
     * watches hundreds of thousands of them for months. Subdirectories hang off firstChild as a doubly linked list so
     * one can be unlinked without a search. A freed id is reused, so a reference that may outlive its node is a
     * handle (see handle) checked on use. The arrays keep the size the tree once had.
     */
    private int[] parent = new int[MIN_NODES];
    private int[] watch = new int[MIN_NODES];
    private int[] firstChild = new int[MIN_NODES];
    /** For a free id: the next free one. */
    private int[] nextSibling = new int[MIN_NODES];
    private int[] previousSibling = new int[MIN_NODES];
    private int[] nameOffset = new int[MIN_NODES];
    /**
     * Unsigned: a name is at most NAME_MAX (255) bytes on most file systems but up to 1,024 through FUSE, and never
     * beyond what the 16-bit record length of getdents64 allows.
     */
    private char[] nameLength = new char[MIN_NODES];
    /** Counts the times the id was freed: part of every handle. */
    private int[] generation = new int[MIN_NODES];
    /** The root the node belongs to; null for a free id. */
    private Root[] rootOf = new Root[MIN_NODES];
    /** Ids below this were handed out once. Id 0 is {@link #NONE}. */
    private int nextId = 1;
    private int firstFree = NONE;

    /** Every name, back to back. A rename or a removal leaves its old bytes as garbage until the arena is compacted. */
    private byte[] names = new byte[MIN_ARENA];
    private int namesUsed;
    private int namesGarbage;

    private final NodeTable byWatch = new NodeTable(node -> watch[node]);
    /** Every linked non-root node, keyed by (parent, name): how a directory entry finds its watch. */
    private final NodeTable byParentAndName = new NodeTable(node -> childHash(parent[node],
            nameHash(names, nameOffset[node], nameOffset[node] + length(node))));
    private volatile int size;

    /** Number of watched directories. Any thread. */
    int size() {
        return size;
    }

    int addRoot(Root root, int watchKey) {
        int node = allocate(root, NONE, ROOT_NAME, watchKey);
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
        int node = allocate(rootOf[parentNode], parentNode, name, watchKey);
        attach(parentNode, node, name);
        put(node);
        return node;
    }

    int byWatch(int watchKey) {
        for (int slot = byWatch.start(watchKey); ; slot = byWatch.next(slot)) {
            int node = byWatch.at(slot);
            if (node == NONE || watch[node] == watchKey) {
                return node;
            }
        }
    }

    /** The watched subdirectory {@code name} of {@code parentNode}, or {@link #NONE}. */
    int child(int parentNode, byte[] name) {
        int hash = childHash(parentNode, nameHash(name, 0, name.length));
        for (int slot = byParentAndName.start(hash); ; slot = byParentAndName.next(slot)) {
            int node = byParentAndName.at(slot);
            if (node == NONE || parent[node] == parentNode && hasName(node, name)) {
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
        return (long) generation[node] << 32 | node;
    }

    /** The node a handle names, or {@link #NONE} if it left the tree since (its id may name another node now). */
    int live(long handle) {
        int node = (int) handle;
        if (node <= NONE || node >= nextId || generation[node] != (int) (handle >>> 32) || rootOf[node] == null) {
            return NONE;
        }
        return node;
    }

    Root root(int node) {
        return rootOf[node];
    }

    int watch(int node) {
        return watch[node];
    }

    int parent(int node) {
        return parent[node];
    }

    boolean isRoot(int node) {
        return parent[node] == NONE;
    }

    boolean hasName(int node, byte[] name) {
        int offset = nameOffset[node];
        return length(node) == name.length && Arrays.equals(names, offset, offset + name.length, name, 0, name.length);
    }

    /** Whether {@code candidate} is {@code node} or one of the directories above it. */
    boolean isSelfOrAncestor(int candidate, int node) {
        for (int at = node; at != NONE; at = parent[at]) {
            if (at == candidate) {
                return true;
            }
        }
        return false;
    }

    /** Moves a node within its root: one node changes, its subtree follows. */
    void move(int node, int newParent, byte[] newName) {
        assert rootOf[node] == rootOf[newParent] : "moves across roots are unwatched and re-watched";
        detach(node);
        namesGarbage += length(node);
        // Stored before the compaction a store may run, which would otherwise keep the old name.
        nameLength[node] = 0;
        nameOffset[node] = storeName(newName);
        nameLength[node] = (char) newName.length;
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
        watch[node] = NO_WATCH;
        if (firstChild[node] == NONE) {
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
            for (int child = firstChild[node]; child != NONE; child = nextSibling[child]) {
                if (count == pending.length) {
                    pending = Arrays.copyOf(pending, count * 2);
                }
                pending[count++] = child;
            }
            if (watch[node] != NO_WATCH) {
                if (node != top) {
                    byParentAndName.remove(node);
                }
                byWatch.remove(node);
                removedWatch.accept(watch[node]);
            }
            free(node);
        }
        size = byWatch.size();
    }

    /** The path of {@code directory}'s entry {@code name} relative to its root (empty name: the directory). */
    byte[] relativePath(int directory, byte[] name) {
        int length = name.length;
        for (int node = directory; !isRoot(node); node = parent[node]) {
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
        for (int node = directory; !isRoot(node); node = parent[node]) {
            end -= length(node);
            System.arraycopy(names, nameOffset[node], path, end, length(node));
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
        parent[node] = parentNode;
        nextSibling[node] = firstChild[parentNode];
        if (firstChild[parentNode] != NONE) {
            previousSibling[firstChild[parentNode]] = node;
        }
        firstChild[parentNode] = node;
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
        if (watch[node] != NO_WATCH) {
            byParentAndName.remove(node);
        }
        unlinkSibling(node);
        releaseIfEmpty(parent[node]);
    }

    /** In its parent's list of subdirectories. */
    private boolean isLinked(int node) {
        int parentNode = parent[node];
        return parentNode != NONE && (previousSibling[node] != NONE || firstChild[parentNode] == node);
    }

    private void unlinkSibling(int node) {
        if (previousSibling[node] != NONE) {
            nextSibling[previousSibling[node]] = nextSibling[node];
        } else {
            firstChild[parent[node]] = nextSibling[node];
        }
        if (nextSibling[node] != NONE) {
            previousSibling[nextSibling[node]] = previousSibling[node];
        }
        nextSibling[node] = NONE;
        previousSibling[node] = NONE;
    }

    /** Frees a node without a watch once no directory below it is left, and so on upwards. */
    private void releaseIfEmpty(int node) {
        if (node != NONE && watch[node] == NO_WATCH && firstChild[node] == NONE) {
            unlinkAndFree(node);
        }
    }

    private void unlinkAndFree(int node) {
        int parentNode = parent[node];
        boolean linked = isLinked(node);
        if (linked) {
            unlinkSibling(node);
        }
        free(node);
        if (linked) {
            releaseIfEmpty(parentNode);
        }
    }

    private int allocate(Root root, int parentNode, byte[] name, int watchKey) {
        int node = firstFree;
        if (node != NONE) {
            firstFree = nextSibling[node];
        } else {
            if (nextId == parent.length) {
                grow(parent.length + (parent.length >> 1));
            }
            node = nextId++;
        }
        parent[node] = parentNode;
        watch[node] = watchKey;
        firstChild[node] = NONE;
        nextSibling[node] = NONE;
        previousSibling[node] = NONE;
        rootOf[node] = root;
        nameLength[node] = 0;
        nameOffset[node] = storeName(name);
        nameLength[node] = (char) name.length;
        return node;
    }

    private void free(int node) {
        namesGarbage += length(node);
        nameLength[node] = 0;
        rootOf[node] = null;
        watch[node] = NO_WATCH;
        parent[node] = NONE;
        firstChild[node] = NONE;
        previousSibling[node] = NONE;
        nextSibling[node] = firstFree;
        firstFree = node;
        generation[node]++;
    }

    private void grow(int capacity) {
        parent = Arrays.copyOf(parent, capacity);
        watch = Arrays.copyOf(watch, capacity);
        firstChild = Arrays.copyOf(firstChild, capacity);
        nextSibling = Arrays.copyOf(nextSibling, capacity);
        previousSibling = Arrays.copyOf(previousSibling, capacity);
        nameOffset = Arrays.copyOf(nameOffset, capacity);
        nameLength = Arrays.copyOf(nameLength, capacity);
        generation = Arrays.copyOf(generation, capacity);
        rootOf = Arrays.copyOf(rootOf, capacity);
    }

    private int length(int node) {
        return nameLength[node];
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
            if (rootOf[node] != null && length > 0) {
                System.arraycopy(names, nameOffset[node], compacted, used, length);
                nameOffset[node] = used;
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
