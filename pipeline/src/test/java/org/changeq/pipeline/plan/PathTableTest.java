package org.changeq.pipeline.plan;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class PathTableTest {

    private static int add(PathTable table, byte[] path, int state) {
        return table.add(path, path.length, (byte) state);
    }

    private static int find(PathTable table, byte[] path) {
        return table.find(path, 0, path.length);
    }

    private static List<byte[]> inOrder(PathTable table) {
        List<byte[]> paths = new ArrayList<>();
        for (int entry = table.first(); entry != -1; entry = table.next(entry)) {
            paths.add(Arrays.copyOf(table.path(entry), table.pathLength(entry)));
        }
        return paths;
    }

    @Test
    void findsEveryPathAfterGrowingPastSeveralArenaChunks() {
        PathTable table = new PathTable();
        List<byte[]> added = new ArrayList<>();
        // About 12 MiB of names: the slots grow many times and the arena spans several chunks.
        for (int i = 0; i < 300_000; i++) {
            byte[] path = ("srv/photos/album-" + (i % 97) + "/IMG_" + i + ".jpg").getBytes(UTF_8);
            added.add(path);
            add(table, path, i & 7);
        }
        assertEquals(300_000, table.size());
        for (int i = 0; i < added.size(); i += 101) {
            assertEquals(i & 7, table.state(find(table, added.get(i))));
        }
        assertEquals(-1, find(table, "srv/photos/absent".getBytes(UTF_8)));
        List<byte[]> listed = inOrder(table);
        assertEquals(added.size(), listed.size());
        for (int i = 0; i < added.size(); i++) {
            assertArrayEquals(added.get(i), listed.get(i));
        }
    }

    @Test
    void addingAPathAgainKeepsItsEntryAndState() {
        PathTable table = new PathTable();
        byte[] path = "a/b".getBytes(UTF_8);
        int entry = add(table, path, 3);
        assertEquals(entry, add(table, path.clone(), 5));
        assertEquals(3, table.state(entry));
        table.setState(entry, (byte) 0xe2);
        assertEquals((byte) 0xe2, table.state(find(table, path)));
        assertEquals(1, table.size());
    }

    @Test
    void pathsWithTheSameHashStayDistinct() {
        PathTable table = new PathTable();
        byte[] first = "dir/25758".getBytes(UTF_8);
        byte[] second = "dir/47969".getBytes(UTF_8);
        assertEquals(PathTable.hash(first, 0, first.length), PathTable.hash(second, 0, second.length));
        int a = add(table, first, 1);
        int b = add(table, second, 2);
        assertNotEquals(a, b);
        assertEquals(1, table.state(find(table, first)));
        assertEquals(2, table.state(find(table, second)));
        assertEquals(2, table.size());
    }

    @Test
    void theHashReadsEveryByteOfPathsShortAndLong() {
        for (int length = 0; length < 40; length++) {
            byte[] path = new byte[length + 2];
            int hash = PathTable.hash(path, 1, 1 + length);
            for (int i = 1; i < 1 + length; i++) {
                path[i] = 1;
                assertNotEquals(hash, PathTable.hash(path, 1, 1 + length), "length " + length + ", byte " + i);
                path[i] = 0;
            }
            path[0] = 7;
            path[length + 1] = 7;
            assertEquals(hash, PathTable.hash(path, 1, 1 + length), "only the range counts");
        }
    }

    @Test
    void pathsOfFourThousandBytesFillChunksAndSurviveTheirBoundaries() {
        PathTable table = new PathTable();
        List<byte[]> added = new ArrayList<>();
        for (int i = 0; i < 3_000; i++) {
            byte[] path = new byte[4_000 + i % 7];
            Arrays.fill(path, (byte) ('a' + i % 26));
            byte[] number = Integer.toString(i).getBytes(UTF_8);
            System.arraycopy(number, 0, path, 0, number.length);
            path[number.length] = '/';
            added.add(path);
            add(table, path, 1);
        }
        assertEquals(added.size(), table.size());
        List<byte[]> listed = inOrder(table);
        for (int i = 0; i < added.size(); i++) {
            assertArrayEquals(added.get(i), listed.get(i));
            assertNotEquals(-1, find(table, added.get(i)));
        }
    }

    @Test
    void namesAreRawBytes() {
        PathTable table = new PathTable();
        byte[] newline = {'a', '\n', 'b'};
        byte[] invalidUtf8 = {'x', (byte) 0xff, (byte) 0xc3, '(', 0};
        byte[] empty = {};
        add(table, newline, 1);
        add(table, invalidUtf8, 2);
        add(table, empty, 3);
        assertEquals(1, table.state(find(table, newline)));
        assertEquals(2, table.state(find(table, invalidUtf8)));
        assertEquals(3, table.state(find(table, empty)));
        assertEquals(-1, find(table, new byte[] {'a', '\n'}));
        List<byte[]> listed = inOrder(table);
        assertArrayEquals(newline, listed.get(0));
        assertArrayEquals(invalidUtf8, listed.get(1));
        assertArrayEquals(empty, listed.get(2));
    }

    @Test
    void findLooksAtARangeOfTheGivenBytes() {
        PathTable table = new PathTable();
        add(table, "dir".getBytes(UTF_8), 4);
        byte[] child = "dir/file".getBytes(UTF_8);
        assertEquals(4, table.state(table.find(child, 0, 3)));
        assertEquals(-1, table.find(child, 4, child.length));
    }
}
