package org.changeq.pipeline;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Visible, unforgeable renderings of raw file-name bytes for logs and human output. */
public final class ByteStrings {

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private ByteStrings() {
    }

    /**
     * Renders bytes as text with control characters, backslash and invalid UTF-8 escaped
     * ({@code \n}, {@code \t}, {@code \\}, {@code \xff}), so one path is always one line and
     * nothing in a file name can forge output.
     */
    public static String escape(byte[] bytes) {
        return escape(bytes, 0, bytes.length);
    }

    public static String escape(byte[] bytes, int from, int to) {
        StringBuilder out = new StringBuilder(to - from + 8);
        int i = from;
        while (i < to) {
            int b = bytes[i] & 0xff;
            if (b < 0x80) {
                appendAscii(out, b);
                i++;
                continue;
            }
            int length = validUtf8SequenceLength(bytes, i, to);
            if (length == 0) {
                appendHex(out, b);
                i++;
            } else {
                String decoded = new String(bytes, i, length, StandardCharsets.UTF_8);
                int codePoint = decoded.codePointAt(0);
                if (Character.isISOControl(codePoint) || codePoint == 0x2028 || codePoint == 0x2029) {
                    for (int k = 0; k < length; k++) {
                        appendHex(out, bytes[i + k] & 0xff);
                    }
                } else {
                    out.append(decoded);
                }
                i += length;
            }
        }
        return out.toString();
    }

    /** The index of the first {@code value} in {@code bytes} at or after {@code from}, or -1. */
    public static int indexOf(byte[] bytes, byte value, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == value) {
                return i;
            }
        }
        return -1;
    }

    /** The bytes {@link #escape(byte[])} rendered as {@code text}: its exact inverse. */
    public static byte[] unescape(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(utf8.length);
        for (int i = 0; i < utf8.length; i++) {
            if (utf8[i] != '\\' || i + 1 == utf8.length) {
                out.write(utf8[i]);
                continue;
            }
            byte next = utf8[++i];
            switch (next) {
                case 'n' -> out.write('\n');
                case 'r' -> out.write('\r');
                case 't' -> out.write('\t');
                case 'x' -> {
                    out.write(Integer.parseInt(new String(utf8, i + 1, 2, StandardCharsets.US_ASCII), 16));
                    i += 2;
                }
                default -> out.write(next);
            }
        }
        return out.toByteArray();
    }

    /** Whether the bytes are well-formed UTF-8 (no overlongs, no surrogates). */
    public static boolean isValidUtf8(byte[] bytes) {
        int i = 0;
        while (i < bytes.length) {
            if ((bytes[i] & 0x80) == 0) {
                i++;
            } else {
                int length = validUtf8SequenceLength(bytes, i, bytes.length);
                if (length == 0) {
                    return false;
                }
                i += length;
            }
        }
        return true;
    }

    private static void appendAscii(StringBuilder out, int b) {
        switch (b) {
            case '\n' -> out.append("\\n");
            case '\r' -> out.append("\\r");
            case '\t' -> out.append("\\t");
            case '\\' -> out.append("\\\\");
            default -> {
                if (b < 0x20 || b == 0x7f) {
                    appendHex(out, b);
                } else {
                    out.append((char) b);
                }
            }
        }
    }

    private static void appendHex(StringBuilder out, int b) {
        out.append("\\x").append(HEX[b >>> 4]).append(HEX[b & 0xf]);
    }

    /** Length of the well-formed UTF-8 sequence starting at {@code i}, or 0 if it is not one. */
    private static int validUtf8SequenceLength(byte[] bytes, int i, int to) {
        int b0 = bytes[i] & 0xff;
        int length;
        int min;
        if (b0 >= 0xc2 && b0 <= 0xdf) {
            length = 2;
            min = 0x80;
        } else if (b0 >= 0xe0 && b0 <= 0xef) {
            length = 3;
            min = 0x800;
        } else if (b0 >= 0xf0 && b0 <= 0xf4) {
            length = 4;
            min = 0x10000;
        } else {
            return 0;
        }
        if (i + length > to) {
            return 0;
        }
        int codePoint = b0 & (0xff >>> (length + 1));
        for (int k = 1; k < length; k++) {
            int b = bytes[i + k] & 0xff;
            if ((b & 0xc0) != 0x80) {
                return 0;
            }
            codePoint = (codePoint << 6) | (b & 0x3f);
        }
        if (codePoint < min || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) {
            return 0;
        }
        return length;
    }
}
