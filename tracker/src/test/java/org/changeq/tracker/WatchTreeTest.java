package org.changeq.tracker;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import org.changeq.pipeline.config.PathFilter;
import org.junit.jupiter.api.Test;

class WatchTreeTest {

    private final WatchTree tree = new WatchTree();
    private final WatchTree.Root root = new WatchTree.Root("r", bytes("/srv/r"), PathFilter.of(List.of()));

    private static byte[] bytes(String latin1) {
        return latin1.getBytes(ISO_8859_1);
    }

    private static String path(byte[] bytes) {
        return new String(bytes, ISO_8859_1);
    }

    @Test
    void pathsAreBuiltFromTheChainOfNames() {
        WatchTree.Node top = tree.addRoot(root, 1);
        WatchTree.Node a = tree.add(top, bytes("a"), 2);
        WatchTree.Node b = tree.add(a, bytes("b\nc"), 3);

        assertEquals("a/b\nc/f", path(WatchTree.relativePath(b, bytes("f"))));
        assertEquals("a/b\nc", path(WatchTree.relativePath(b, new byte[0])));
        assertEquals("f", path(WatchTree.relativePath(top, bytes("f"))));
        assertEquals("", path(WatchTree.relativePath(top, new byte[0])));
        assertEquals("/srv/r/a", path(WatchTree.absolutePath(root, bytes("a"))));
        assertEquals("/srv/r", path(WatchTree.absolutePath(root, new byte[0])));
    }

    @Test
    void renamingOneNodeRenamesEverythingBelowIt() {
        WatchTree.Node top = tree.addRoot(root, 1);
        WatchTree.Node a = tree.add(top, bytes("a"), 2);
        WatchTree.Node deep = tree.add(tree.add(a, bytes("b"), 3), bytes("c"), 4);
        WatchTree.Node x = tree.add(top, bytes("x"), 5);

        tree.move(a, x, bytes("renamed"));

        assertEquals("x/renamed/b/c/f", path(WatchTree.relativePath(deep, bytes("f"))));
        assertNull(tree.child(top, bytes("a")));
        assertEquals(a, tree.child(x, bytes("renamed")));
        assertEquals(deep, tree.byWatch(4));
    }

    @Test
    void removingASubtreeForgetsEveryWatchBelowIt() {
        WatchTree.Node top = tree.addRoot(root, 1);
        WatchTree.Node a = tree.add(top, bytes("a"), 2);
        tree.add(tree.add(a, bytes("b"), 3), bytes("c"), 4);
        tree.add(top, bytes("keep"), 5);
        List<Integer> removed = new ArrayList<>();

        tree.removeSubtree(a, node -> removed.add(node.watch));

        assertEquals(List.of(2, 3, 4), removed.stream().sorted().toList());
        assertEquals(2, tree.size());
        assertNull(tree.byWatch(3));
        assertNull(tree.child(top, bytes("a")));
    }

    @Test
    void aKeyTheTreeAlreadyHoldsIsNotAddedTwice() {
        WatchTree.Node top = tree.addRoot(root, 1);
        WatchTree.Node a = tree.add(top, bytes("a"), 2);

        assertNull(tree.add(top, bytes("again"), 2));
        assertEquals(a, tree.byWatch(2));
    }

    @Test
    void aDirectoryDeletedAndRecreatedUnderTheSameNameKeepsTheNewNode() {
        WatchTree.Node top = tree.addRoot(root, 1);
        tree.add(top, bytes("a"), 2);
        WatchTree.Node recreated = tree.add(top, bytes("a"), 3);

        tree.forget(2);

        assertEquals(recreated, tree.child(top, bytes("a")));
    }
}
