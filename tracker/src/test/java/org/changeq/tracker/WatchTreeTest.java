package org.changeq.tracker;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        int top = tree.addRoot(root, 1);
        int a = tree.add(top, bytes("a"), 2);
        int b = tree.add(a, bytes("b\nc"), 3);

        assertEquals("a/b\nc/f", path(tree.relativePath(b, bytes("f"))));
        assertEquals("a/b\nc", path(tree.relativePath(b, new byte[0])));
        assertEquals("f", path(tree.relativePath(top, bytes("f"))));
        assertEquals("", path(tree.relativePath(top, new byte[0])));
        assertEquals("/srv/r/a", path(WatchTree.absolutePath(root, bytes("a"))));
        assertEquals("/srv/r", path(WatchTree.absolutePath(root, new byte[0])));
    }

    @Test
    void aNameLongerThanNameMaxAsFuseAllowsKeepsEveryByte() {
        int top = tree.addRoot(root, 1);
        String longName = "n".repeat(1_000) + "\377";
        int a = tree.add(top, bytes(longName), 2);

        assertEquals(longName + "/f", path(tree.relativePath(a, bytes("f"))));
        assertEquals(a, tree.child(top, bytes(longName)));
    }

    @Test
    void renamingOneNodeRenamesEverythingBelowIt() {
        int top = tree.addRoot(root, 1);
        int a = tree.add(top, bytes("a"), 2);
        int deep = tree.add(tree.add(a, bytes("b"), 3), bytes("c"), 4);
        int x = tree.add(top, bytes("x"), 5);

        tree.move(a, x, bytes("renamed"));

        assertEquals("x/renamed/b/c/f", path(tree.relativePath(deep, bytes("f"))));
        assertEquals(WatchTree.NONE, tree.child(top, bytes("a")));
        assertEquals(a, tree.child(x, bytes("renamed")));
        assertEquals(deep, tree.byWatch(4));
    }

    @Test
    void removingASubtreeForgetsEveryWatchBelowIt() {
        int top = tree.addRoot(root, 1);
        int a = tree.add(top, bytes("a"), 2);
        tree.add(tree.add(a, bytes("b"), 3), bytes("c"), 4);
        tree.add(top, bytes("keep"), 5);
        List<Integer> removed = new ArrayList<>();

        tree.removeSubtree(a, removed::add);

        assertEquals(List.of(2, 3, 4), removed.stream().sorted().toList());
        assertEquals(2, tree.size());
        assertEquals(WatchTree.NONE, tree.byWatch(3));
        assertEquals(WatchTree.NONE, tree.child(top, bytes("a")));
    }

    @Test
    void aKeyTheTreeAlreadyHoldsIsNotAddedTwice() {
        int top = tree.addRoot(root, 1);
        int a = tree.add(top, bytes("a"), 2);

        assertEquals(WatchTree.NONE, tree.add(top, bytes("again"), 2));
        assertEquals(a, tree.byWatch(2));
    }

    @Test
    void aDirectoryDeletedAndRecreatedUnderTheSameNameKeepsTheNewNode() {
        int top = tree.addRoot(root, 1);
        tree.add(top, bytes("a"), 2);
        int recreated = tree.add(top, bytes("a"), 3);

        tree.forget(2);

        assertEquals(recreated, tree.child(top, bytes("a")));
    }

    @Test
    void aReplacedDirectoryIsForgottenWithoutUnlinkingItsReplacement() {
        int top = tree.addRoot(root, 1);
        tree.add(top, bytes("old"), 2);
        int moved = tree.add(top, bytes("new"), 3);

        tree.move(moved, top, bytes("old"));
        tree.forget(2);

        assertEquals(moved, tree.child(top, bytes("old")));
        assertEquals(WatchTree.NONE, tree.child(top, bytes("new")));
        assertEquals(2, tree.size());
    }

    @Test
    void aRemovedDirectorysIdMayGoToANewOneButItsHandleThenNamesNothing() {
        int top = tree.addRoot(root, 1);
        int a = tree.add(top, bytes("a"), 2);
        long handle = tree.handle(a);
        assertEquals(a, tree.live(handle));

        tree.removeSubtree(a, watch -> { });
        int b = tree.add(top, bytes("b"), 3);

        assertEquals(a, b, "the id is reused");
        assertEquals(WatchTree.NONE, tree.live(handle));
        assertEquals(b, tree.live(tree.handle(b)));
        assertEquals(WatchTree.NONE, tree.live(WatchTree.NO_HANDLE));
    }

    @Test
    void aDirectoryWhoseWatchWentStaysForThePathsOfTheDirectoriesBelowItUntilTheyAreGone() {
        int top = tree.addRoot(root, 1);
        int a = tree.add(top, bytes("a"), 2);
        int b = tree.add(tree.add(a, bytes("b"), 3), bytes("c"), 4);
        long handle = tree.handle(a);

        assertTrue(tree.forget(2));
        assertFalse(tree.forget(2));
        int recreated = tree.add(top, bytes("a"), 5);

        assertNotEquals(a, recreated);
        assertEquals(recreated, tree.child(top, bytes("a")));
        assertEquals("a/b/c", path(tree.relativePath(b, new byte[0])));
        assertEquals(a, tree.live(handle));
        assertEquals(4, tree.size());

        tree.forget(4);
        assertEquals(a, tree.live(handle), "b is still below it");
        tree.forget(3);
        assertEquals(WatchTree.NONE, tree.live(handle));
        assertEquals(2, tree.size());
        List<Integer> removed = new ArrayList<>();
        tree.removeSubtree(top, removed::add);
        assertEquals(List.of(1, 5), removed.stream().sorted().toList());
    }

    @Test
    void removingATreeReleasesTheWatchesBelowADirectoryWhoseOwnWatchWent() {
        int top = tree.addRoot(root, 1);
        int a = tree.add(top, bytes("a"), 2);
        int b = tree.add(a, bytes("b"), 3);
        tree.add(b, bytes("c"), 4);
        long handle = tree.handle(a);
        tree.forget(2);

        List<Integer> removed = new ArrayList<>();
        tree.removeSubtree(top, removed::add);

        assertEquals(List.of(1, 3, 4), removed.stream().sorted().toList());
        assertEquals(WatchTree.NONE, tree.live(handle));
        assertEquals(0, tree.size());
    }

    @Test
    void namesStayExactWhileRenamesFillTheArenaWithOldNames() {
        int top = tree.addRoot(root, 1);
        int keep = tree.add(top, bytes("keep"), 2);
        int moving = tree.add(top, bytes("m"), 3);
        int below = tree.add(moving, bytes("below"), 4);
        String last = "";
        for (int i = 0; i <= 5_000; i++) {
            last = "renamed-" + i + "-" + "x".repeat(i % 199);
            tree.move(moving, i % 2 == 0 ? keep : top, bytes(last));
        }

        assertEquals("keep/" + last + "/below", path(tree.relativePath(below, new byte[0])));
        assertEquals(moving, tree.child(keep, bytes(last)));
        assertEquals(WatchTree.NONE, tree.child(top, bytes(last)));
        assertEquals(keep, tree.child(top, bytes("keep")));
    }

    @Test
    void lookupsStayExactThroughManyAddsRenamesAndRemovals() {
        // Sibling names that collide in the low bits of their hash and keys that are dense integers:
        // what probe runs and backward-shift deletion must survive.
        int top = tree.addRoot(root, 1);
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
            assertEquals(name, path(tree.relativePath(tree.byWatch(watch), new byte[0])));
            assertEquals(watch, tree.watch(tree.child(top, bytes(name))));
        });
        for (int i = 0; i < 3_000; i++) {
            if (!expectedChildren.containsKey("d" + i)) {
                assertEquals(WatchTree.NONE, tree.child(top, bytes("d" + i)));
            }
        }
        for (int watch = 2; watch < nextWatch; watch++) {
            if (!expectedNames.containsKey(watch)) {
                assertEquals(WatchTree.NONE, tree.byWatch(watch));
            }
        }
        List<Integer> removed = new ArrayList<>();
        tree.removeSubtree(top, removed::add);
        assertEquals(expectedNames.size() + 1, removed.size());
        assertEquals(0, tree.size());
    }
}
