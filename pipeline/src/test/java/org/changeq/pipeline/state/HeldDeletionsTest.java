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
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HeldDeletionsTest {

    /** Newline, space, backslash, invalid UTF-8 and a leading '#': bytes that a line format or rsync would mangle. */
    private static final byte[] AWKWARD = {'#', 'a', ' ', 'b', '\n', 'c', '\\', (byte) 0xff, '/', 'd'};

    @TempDir
    Path dir;

    @Test
    void roundTripsRawBytesAndTheTimeTheyWereFirstHeld() throws IOException {
        Path file = new StateLayout(dir).heldDeletions("offsite");
        new HeldDeletions(List.of(AWKWARD, "dir/f1".getBytes(StandardCharsets.US_ASCII)), 1_700_000_000_123L).write(file);

        HeldDeletions read = HeldDeletions.read(file);
        assertEquals(2, read.paths().size());
        assertArrayEquals(AWKWARD, read.paths().get(0));
        assertArrayEquals("dir/f1".getBytes(StandardCharsets.US_ASCII), read.paths().get(1));
        assertEquals(1_700_000_000_123L, read.sinceMillis());
        byte[] expected = "changeq-held-deletions 1 1700000000123\n".getBytes(StandardCharsets.US_ASCII);
        assertArrayEquals(expected, java.util.Arrays.copyOf(Files.readAllBytes(file), expected.length));
    }

    @Test
    void anEmptyListRemovesTheFileAndAMissingFileIsEmpty() throws IOException {
        Path file = dir.resolve("held");
        new HeldDeletions(List.of(new byte[] {'a'}), 1).write(file);
        assertFalse(HeldDeletions.read(file).isEmpty());
        HeldDeletions.EMPTY.write(file);
        assertFalse(Files.exists(file));
        assertTrue(HeldDeletions.read(file).isEmpty());
    }

    @Test
    void aCutOffOrUnknownFileIsRefusedWithTheFix() {
        Path file = dir.resolve("held");
        IllegalStateException cut = assertThrows(IllegalStateException.class, () -> HeldDeletions.decode(
                "changeq-held-deletions 1 5\na\0b".getBytes(StandardCharsets.US_ASCII), file));
        assertTrue(cut.getMessage().contains("the last path is cut off"), cut.getMessage());
        assertTrue(cut.getMessage().contains("move it away"), cut.getMessage());
        IllegalStateException newer = assertThrows(IllegalStateException.class, () -> HeldDeletions.decode(
                "changeq-held-deletions 2 5\n".getBytes(StandardCharsets.US_ASCII), file));
        assertTrue(newer.getMessage().contains("version 2; this build reads version 1"), newer.getMessage());
    }
}
