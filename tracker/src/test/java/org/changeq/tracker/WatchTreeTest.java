package org.changeq.tracker;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
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

    @Test
    void aReplacedDirectoryIsForgottenWithoutUnlinkingItsReplacement() {
        WatchTree.Node top = tree.addRoot(root, 1);
        tree.add(top, bytes("old"), 2);
        WatchTree.Node moved = tree.add(top, bytes("new"), 3);

        tree.move(moved, top, bytes("old"));
        tree.forget(2);

        assertEquals(moved, tree.child(top, bytes("old")));
        assertNull(tree.child(top, bytes("new")));
        assertEquals(2, tree.size());
    }

    @Test
    void lookupsStayExactThroughManyAddsRenamesAndRemovals() {
        // Sibling names that collide in the low bits of their hash and keys that are dense integers:
        // what probe runs and backward-shift deletion must survive.
        WatchTree.Node top = tree.addRoot(root, 1);
        Map<Integer, String> expectedNames = new HashMap<>();
        Map<String, Integer> expectedChildren = new HashMap<>();
        Random random = new Random(7);
        int nextWatch = 2;
        for (int step = 0; step < 20_000; step++) {
            String name = "d" + random.nextInt(3_000);
            Integer existing = expectedChildren.get(name);
            if (existing == null) {
                int watch = nextWatch++;
                tree.add(top, bytes(name), watch);
                expectedChildren.put(name, watch);
                expectedNames.put(watch, name);
            } else if (random.nextBoolean()) {
                tree.forget(existing);
                expectedChildren.remove(name);
                expectedNames.remove(existing);
            } else {
                String renamed = "r" + random.nextInt(3_000);
                if (!expectedChildren.containsKey(renamed)) {
                    tree.move(tree.byWatch(existing), top, bytes(renamed));
                    expectedChildren.remove(name);
                    expectedChildren.put(renamed, existing);
                    expectedNames.put(existing, renamed);
                }
            }
        }

        assertEquals(expectedNames.size() + 1, tree.size());
        expectedNames.forEach((watch, name) -> {
            assertEquals(name, path(WatchTree.relativePath(tree.byWatch(watch), new byte[0])));
            assertEquals(watch, tree.child(top, bytes(name)).watch);
        });
        for (int i = 0; i < 3_000; i++) {
            if (!expectedChildren.containsKey("d" + i)) {
                assertNull(tree.child(top, bytes("d" + i)));
            }
        }
        for (int watch = 2; watch < nextWatch; watch++) {
            if (!expectedNames.containsKey(watch)) {
                assertNull(tree.byWatch(watch));
            }
        }
        List<Integer> removed = new ArrayList<>();
        tree.removeSubtree(top, node -> removed.add(node.watch));
        assertEquals(expectedNames.size() + 1, removed.size());
        assertEquals(0, tree.size());
    }
}
