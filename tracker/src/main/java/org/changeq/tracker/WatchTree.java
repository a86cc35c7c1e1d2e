package org.changeq.tracker;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.changeq.pipeline.config.PathFilter;

/**
 * The watched directories: watch key → (parent, name). Paths are never stored, only built on demand
 * from the chain of names, so renaming a directory updates one node and every later event below it
 * carries the new path.
 *
 * <p>Confined to the reader thread, except {@link #size()}.
 */
final class WatchTree {

    /** A configured root as the tracker watches it. */
    static final class Root {
        final String name;
        final byte[] absolutePath;
        final PathFilter excludes;
        Node node;

        Root(String name, byte[] absolutePath, PathFilter excludes) {
            this.name = name;
            this.absolutePath = absolutePath;
            this.excludes = excludes;
        }
    }

    /** A watched directory. */
    static final class Node {
        final int watch;
        final Root root;
        Node parent;
        Name name;
        /** Watched subdirectories by name; null while there are none (most directories). */
        Map<Name, Node> children;

        Node(int watch, Root root, Node parent, Name name) {
            this.watch = watch;
            this.root = root;
            this.parent = parent;
            this.name = name;
        }

        boolean isRoot() {
            return parent == null;
        }
    }

    /** A directory entry name as a map key: raw bytes with their hash. */
    record Name(byte[] bytes, int hash) {
        static Name of(byte[] bytes) {
            return new Name(bytes, Arrays.hashCode(bytes));
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Name that && hash == that.hash && Arrays.equals(bytes, that.bytes);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    private static final Name ROOT_NAME = Name.of(new byte[0]);

    private final Map<Integer, Node> byWatch = new HashMap<>();
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
        if (byWatch.containsKey(watch)) {
            return null;
        }
        Name key = Name.of(name);
        Node node = new Node(watch, parent.root, parent, key);
        attach(parent, node);
        put(node);
        return node;
    }

    Node byWatch(int watch) {
        return byWatch.get(watch);
    }

    /** The watched subdirectory {@code name} of {@code parent}, or null. */
    Node child(Node parent, byte[] name) {
        return parent.children == null ? null : parent.children.get(Name.of(name));
    }

    /** Moves a node within its root: one node changes, its subtree follows. */
    void move(Node node, Node newParent, byte[] newName) {
        assert node.root == newParent.root : "moves across roots are unwatched and re-watched";
        detach(node);
        node.name = Name.of(newName);
        attach(newParent, node);
    }

    /** Forgets a watch the kernel dropped. Returns the node it belonged to, or null. */
    Node forget(int watch) {
        Node node = byWatch.remove(watch);
        if (node != null) {
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
            if (node.children != null) {
                node.children.values().forEach(pending::push);
            }
            byWatch.remove(node.watch);
            removed.accept(node);
        }
        size = byWatch.size();
    }

    /** The path of {@code directory}'s entry {@code name} relative to its root (empty name: the directory). */
    static byte[] relativePath(Node directory, byte[] name) {
        int length = name.length;
        for (Node node = directory; !node.isRoot(); node = node.parent) {
            length += node.name.bytes.length + 1;
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
            byte[] segment = node.name.bytes;
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
        byWatch.put(node.watch, node);
        size = byWatch.size();
    }

    private static void attach(Node parent, Node node) {
        if (parent.children == null) {
            parent.children = new HashMap<>(4);
        }
        node.parent = parent;
        // A directory renamed over an empty one replaces it; the replaced one's watch ends with IGNORED.
        parent.children.put(node.name, node);
    }

    private static void detach(Node node) {
        Node parent = node.parent;
        if (parent != null && parent.children != null && parent.children.get(node.name) == node) {
            parent.children.remove(node.name);
        }
    }
}
