package org.changeq.tracker;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.function.Consumer;
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
        Node node;
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

    /**
     * A watched directory. Kept small on purpose (one object and one name array per directory, ~100 bytes
     * with its two table slots): a tracker watches hundreds of thousands of them for months. Subdirectories
     * hang off {@link #firstChild} as a doubly linked list so one can be unlinked without a search.
     */
    static final class Node {
        final int watch;
        final Root root;
        Node parent;
        byte[] name;
        int nameHash;
        private Node firstChild;
        private Node nextSibling;
        private Node previousSibling;

        Node(int watch, Root root, Node parent, byte[] name) {
            this.watch = watch;
            this.root = root;
            this.parent = parent;
            this.name = name;
            this.nameHash = Arrays.hashCode(name);
        }

        boolean isRoot() {
            return parent == null;
        }

        boolean hasName(byte[] other) {
            return Arrays.equals(name, other);
        }
    }

    private static final byte[] ROOT_NAME = new byte[0];

    private final NodeTable byWatch = new NodeTable(node -> node.watch);
    /** Every linked non-root node, keyed by (parent, name): how a directory entry finds its watch. */
    private final NodeTable byParentAndName = new NodeTable(node -> childHash(node.parent, node.nameHash));
    private volatile int size;

    /** Number of watched directories. Any thread. */
    int size() {
        return size;
    }

    Node addRoot(Root root, int watch) {
        Node node = new Node(watch, root, null, ROOT_NAME);
        root.node = node;
        put(node);
        return node;
    }

    /**
     * Records a watched subdirectory. If the kernel answered with a key already in the tree, the
     * directory is watched already (reached again by a listing racing its creation event, or moved by a
     * rename not yet processed): the existing node wins and null is returned.
     */
    Node add(Node parent, byte[] name, int watch) {
        if (byWatch(watch) != null) {
            return null;
        }
        Node node = new Node(watch, parent.root, parent, name);
        attach(parent, node);
        put(node);
        return node;
    }

    Node byWatch(int watch) {
        for (int slot = byWatch.start(watch); ; slot = byWatch.next(slot)) {
            Node node = byWatch.at(slot);
            if (node == null || node.watch == watch) {
                return node;
            }
        }
    }

    /** The watched subdirectory {@code name} of {@code parent}, or null. */
    Node child(Node parent, byte[] name) {
        return child(parent, name, Arrays.hashCode(name));
    }

    private Node child(Node parent, byte[] name, int nameHash) {
        for (int slot = byParentAndName.start(childHash(parent, nameHash)); ; slot = byParentAndName.next(slot)) {
            Node node = byParentAndName.at(slot);
            if (node == null || node.parent == parent && node.nameHash == nameHash && node.hasName(name)) {
                return node;
            }
        }
    }

    /** Moves a node within its root: one node changes, its subtree follows. */
    void move(Node node, Node newParent, byte[] newName) {
        assert node.root == newParent.root : "moves across roots are unwatched and re-watched";
        detach(node);
        node.name = newName;
        node.nameHash = Arrays.hashCode(newName);
        attach(newParent, node);
    }

    /** Forgets a watch the kernel dropped. Returns the node it belonged to, or null. */
    Node forget(int watch) {
        Node node = byWatch(watch);
        if (node != null) {
            byWatch.remove(node);
            detach(node);
            size = byWatch.size();
        }
        return node;
    }

    /** Detaches a node and its whole subtree from the tree, handing every watch key to {@code removed}. */
    void removeSubtree(Node top, Consumer<Node> removed) {
        detach(top);
        ArrayDeque<Node> pending = new ArrayDeque<>();
        pending.push(top);
        while (!pending.isEmpty()) {
            Node node = pending.pop();
            for (Node child = node.firstChild; child != null; child = child.nextSibling) {
                pending.push(child);
            }
            if (node != top) {
                byParentAndName.remove(node);
            }
            byWatch.remove(node);
            removed.accept(node);
        }
        size = byWatch.size();
    }

    /** The path of {@code directory}'s entry {@code name} relative to its root (empty name: the directory). */
    static byte[] relativePath(Node directory, byte[] name) {
        int length = name.length;
        for (Node node = directory; !node.isRoot(); node = node.parent) {
            length += node.name.length + 1;
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
        for (Node node = directory; !node.isRoot(); node = node.parent) {
            byte[] segment = node.name;
            end -= segment.length;
            System.arraycopy(segment, 0, path, end, segment.length);
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

    private void put(Node node) {
        byWatch.add(node);
        size = byWatch.size();
    }

    private void attach(Node parent, Node node) {
        // A directory renamed over an empty one replaces it; the replaced one's watch ends with IGNORED.
        Node replaced = child(parent, node.name, node.nameHash);
        if (replaced != null) {
            detach(replaced);
        }
        node.parent = parent;
        node.nextSibling = parent.firstChild;
        if (parent.firstChild != null) {
            parent.firstChild.previousSibling = node;
        }
        parent.firstChild = node;
        byParentAndName.add(node);
    }

    /** Unlinks a node from its parent; a node already unlinked (replaced by a rename) is left as it is. */
    private void detach(Node node) {
        Node parent = node.parent;
        if (parent == null || !byParentAndName.remove(node)) {
            return;
        }
        if (node.previousSibling != null) {
            node.previousSibling.nextSibling = node.nextSibling;
        } else {
            parent.firstChild = node.nextSibling;
        }
        if (node.nextSibling != null) {
            node.nextSibling.previousSibling = node.previousSibling;
        }
        node.nextSibling = null;
        node.previousSibling = null;
    }

    private static int childHash(Node parent, int nameHash) {
        return parent.watch * 31 + nameHash;
    }
}
