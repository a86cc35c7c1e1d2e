package org.changeq.pipeline.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class RecentRecordsTest {

    private final RecentRecords recent = new RecentRecords();

    private void remember(String root, byte[] path, int hash, long index, RecordType type) {
        recent.remember(recent.find(root, path, hash), root, path, hash, index, type, false, false);
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void pathsWithTheSameHashStayApart() {
        // Equal hashes on purpose: only the bytes and the root tell these apart.
        remember("r", bytes("a"), 7, 10, RecordType.CHANGE);
        remember("r", bytes("b"), 7, 11, RecordType.DELETE);
        remember("other", bytes("a"), 7, 12, RecordType.SUBTREE);

        assertEquals(10, recent.indexAt(recent.find("r", bytes("a"), 7)));
        assertEquals(RecordType.DELETE, recent.typeAt(recent.find("r", bytes("b"), 7)));
        assertEquals(RecordType.SUBTREE, recent.typeAt(recent.find("other", bytes("a"), 7)));
        assertEquals(RecentRecords.NOT_FOUND, recent.find("r", bytes("c"), 7));
    }

    @Test
    void aLaterRecordReplacesTheEarlierOneOfItsPath() {
        remember("r", bytes("a"), 1, 10, RecordType.CHANGE);
        remember("r", bytes("a"), 1, 20, RecordType.DELETE);

        int slot = recent.find("r", bytes("a"), 1);
        assertEquals(20, recent.indexAt(slot));
        assertEquals(RecordType.DELETE, recent.typeAt(slot));
        assertEquals(1, recent.size());
    }

    @Test
    void theLastDeletionOrNonDirectoryRecordOfAPathOutlivesALaterDirectoryRecord() {
        byte[] a = bytes("a");
        recent.remember(recent.find("r", a, 1), "r", a, 1, 10, RecordType.CHANGE, true, false);
        assertEquals(RecentRecords.NEVER_STOPPED, recent.stoppedAt(recent.find("r", a, 1)));
        recent.remember(recent.find("r", a, 1), "r", a, 1, 11, RecordType.DELETE, true, false);
        recent.remember(recent.find("r", a, 1), "r", a, 1, 12, RecordType.SUBTREE, true, false);
        assertEquals(11, recent.stoppedAt(recent.find("r", a, 1)));
        recent.remember(recent.find("r", a, 1), "r", a, 1, 13, RecordType.CHANGE, false, false);
        assertEquals(13, recent.stoppedAt(recent.find("r", a, 1)));
        assertEquals(recent.find("r", a, 1), recent.find("r", bytes("a/f"), 1, 1), "a prefix is found as its path");
    }

    @Test
    void growingKeepsEveryEntryAndTheLimitForgetsThemAll() {
        for (int i = 0; i < RecentRecords.LIMIT; i++) {
            byte[] path = bytes("dir/" + i);
            remember("r", path, Arrays.hashCode(path), i, RecordType.CHANGE);
        }
        for (int i = 0; i < RecentRecords.LIMIT; i += 997) {
            byte[] path = bytes("dir/" + i);
            assertEquals(i, recent.indexAt(recent.find("r", path, Arrays.hashCode(path))));
        }
        assertEquals(RecentRecords.LIMIT, recent.size());

        byte[] next = bytes("one more");
        remember("r", next, 5, 1, RecordType.CHANGE);

        assertEquals(1, recent.size());
        assertNotEquals(RecentRecords.NOT_FOUND, recent.find("r", next, 5));
        assertEquals(RecentRecords.NOT_FOUND, recent.find("r", bytes("dir/0"), Arrays.hashCode(bytes("dir/0"))));
    }
}
