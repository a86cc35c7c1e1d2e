package org.changeq.pipeline.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import org.changeq.pipeline.state.RetryList.Entry;
import org.changeq.pipeline.state.RetryList.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RetryListTest {

    @TempDir
    Path dir;

    /** Newline, space, backslash, invalid UTF-8 and a leading '#': bytes that a line format or rsync would mangle. */
    private static final byte[] AWKWARD = {'#', 'a', ' ', 'b', '\n', 'c', '\\', (byte) 0xff, '/', 'd'};

    @Test
    void roundTripsRawBytesKindsTimesAndReasons() throws IOException {
        RetryList list = new RetryList(List.of(
                new Entry(AWKWARD, Kind.FILE, 1_700_000_000_123L, "rsync: [receiver] mkstemp \"x\" failed: Permission denied (13)"),
                new Entry("stuck".getBytes(StandardCharsets.US_ASCII), Kind.DIRECTORY, 5, ""),
                new Entry("new dir".getBytes(StandardCharsets.US_ASCII), Kind.SUBTREE, 6, "é \\x00"),
                new Entry(new byte[0], Kind.DIRECTORY, 7, "the root"),
                new Entry("rewritten".getBytes(StandardCharsets.US_ASCII), Kind.CONTENT, 8, ""),
                new Entry("undeletable".getBytes(StandardCharsets.US_ASCII), Kind.DELETION, 9, "")), false);
        Path file = new StateLayout(dir).retryList("offsite");
        list.write(file);

        RetryList read = RetryList.read(file);
        assertEquals(list, read);
        assertArrayEquals(AWKWARD, read.entries().get(0).path());
        assertFalse(read.overflowed());
        assertEquals(OptionalLong.of(5), read.oldestFailureMillis());
        try (var files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList(), "no temporary file is left behind");
        }
    }

    @Test
    void theOverflowMarkRoundTrips() throws IOException {
        Path file = dir.resolve("r");
        new RetryList(List.of(new Entry(new byte[] {'a'}, Kind.FILE, 1, "")), true).write(file);
        RetryList read = RetryList.read(file);
        assertTrue(read.overflowed());
        assertFalse(read.isEmpty());
    }

    @Test
    void theFileFormatIsNulSeparatedRawBytesAfterAVersionedHeader() {
        byte[] encoded = new RetryList(List.of(new Entry(AWKWARD, Kind.FILE, 42, "why")), false).encode();
        byte[] expected = concat("changeq-retry 3 complete\nf 42 ".getBytes(StandardCharsets.US_ASCII), AWKWARD,
                new byte[] {0, 'w', 'h', 'y', 0});
        assertArrayEquals(expected, encoded);
    }

    @Test
    void aListWrittenInVersionOneIsStillRead() {
        byte[] version1 = concat("changeq-retry 1 overflowed\nd 42 ".getBytes(StandardCharsets.US_ASCII), AWKWARD,
                new byte[] {0, 'w', 'h', 'y', 0, 's', ' ', '7', ' ', 'n', 0, 0});
        assertEquals(new RetryList(List.of(new Entry(AWKWARD, Kind.DIRECTORY, 42, "why"),
                new Entry(new byte[] {'n'}, Kind.SUBTREE, 7, "")), true), RetryList.decode(version1, dir.resolve("r")));
    }

    @Test
    void anEmptyListRemovesTheFileAndAMissingFileIsEmpty() throws IOException {
        Path file = dir.resolve("r");
        new RetryList(List.of(new Entry(new byte[] {'a'}, Kind.FILE, 1, "")), false).write(file);
        assertTrue(Files.exists(file));
        RetryList.EMPTY.write(file);
        assertFalse(Files.exists(file));
        assertEquals(RetryList.EMPTY, RetryList.read(file));
    }

    @Test
    void aTruncatedForeignOrNewerFileIsRefusedWithTheWayOut() {
        byte[] whole = new RetryList(List.of(new Entry(new byte[] {'a'}, Kind.FILE, 1, "x")), false).encode();
        Path source = dir.resolve("r");
        IllegalStateException cut = assertThrows(IllegalStateException.class,
                () -> RetryList.decode(Arrays.copyOf(whole, whole.length - 1), source));
        assertTrue(cut.getMessage().contains("cut off") && cut.getMessage().contains("--full"), cut.getMessage());
        assertThrows(IllegalStateException.class,
                () -> RetryList.decode("something else\n".getBytes(StandardCharsets.US_ASCII), source));
        IllegalStateException newer = assertThrows(IllegalStateException.class,
                () -> RetryList.decode("changeq-retry 4 complete\n".getBytes(StandardCharsets.US_ASCII), source));
        assertTrue(newer.getMessage().contains("version 4"), newer.getMessage());
        assertThrows(IllegalStateException.class,
                () -> RetryList.decode("changeq-retry 1 complete\nz 1 a\0\0".getBytes(StandardCharsets.US_ASCII), source));
    }

    private static byte[] concat(byte[]... parts) {
        int length = Arrays.stream(parts).mapToInt(part -> part.length).sum();
        byte[] all = new byte[length];
        int at = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, all, at, part.length);
            at += part.length;
        }
        return all;
    }
}
