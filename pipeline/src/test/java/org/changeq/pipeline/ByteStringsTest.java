package org.changeq.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ByteStringsTest {

    @Test
    void controlCharactersAndInvalidUtf8AreVisible() {
        byte[] name = {'a', '\n', 'b', (byte) 0xff, '\\', 0x01, 'c'};
        assertEquals("a\\nb\\xff\\\\\\x01c", ByteStrings.escape(name));
    }

    @Test
    void unescapeIsTheInverse() {
        byte[] name = {'a', '\n', '\r', '\t', 'b', (byte) 0xff, '\\', 'x', '4', '1', 0x01, (byte) 0xc3, (byte) 0xa9, 0x7f};
        assertArrayEquals(name, ByteStrings.unescape(ByteStrings.escape(name)));
        assertArrayEquals(new byte[0], ByteStrings.unescape(""));
    }

    @Test
    void validUtf8IsKept() {
        byte[] name = "héllo wörld €".getBytes(StandardCharsets.UTF_8);
        assertEquals("héllo wörld €", ByteStrings.escape(name));
        assertTrue(ByteStrings.isValidUtf8(name));
    }

    @Test
    void overlongsAndSurrogatesAreInvalid() {
        assertFalse(ByteStrings.isValidUtf8(new byte[] {(byte) 0xc0, (byte) 0xaf}));
        assertFalse(ByteStrings.isValidUtf8(new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}));
        assertFalse(ByteStrings.isValidUtf8(new byte[] {(byte) 0xe2, (byte) 0x82}));
        assertEquals("\\xed\\xa0\\x80", ByteStrings.escape(new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}));
    }

    @Test
    void unicodeLineSeparatorsCannotForgeLines() {
        byte[] name = "a\u2028b\u0085c".getBytes(StandardCharsets.UTF_8);
        assertEquals("a\\xe2\\x80\\xa8b\\xc2\\x85c", ByteStrings.escape(name));
    }
}
