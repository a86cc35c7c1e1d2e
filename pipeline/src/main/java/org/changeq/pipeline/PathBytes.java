package org.changeq.pipeline;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;

/** The raw bytes of a {@link Path}, without a round trip through {@code String} (which breaks non-UTF-8 names). */
public final class PathBytes {

    private PathBytes() {
    }

    /**
     * The absolute path's bytes, no trailing slash (except for {@code /} itself). The default file system's
     * {@code file:} URI escapes every byte outside ASCII as {@code %XX}, so decoding it gives the bytes back exactly.
     */
    public static byte[] of(Path path) {
        String raw = path.toAbsolutePath().toUri().getRawPath();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                bytes.write(Integer.parseInt(raw, i + 1, i + 3, 16));
                i += 2;
            } else {
                bytes.write(c);
            }
        }
        byte[] result = bytes.toByteArray();
        int length = result.length;
        while (length > 1 && result[length - 1] == '/') {
            length--;
        }
        return length == result.length ? result : java.util.Arrays.copyOf(result, length);
    }

    /** The path {@code relative} (raw bytes) below {@code directory}, built through a {@code file:} URI so no byte is decoded. */
    public static Path resolve(Path directory, byte[] relative) {
        StringBuilder uri = new StringBuilder(directory.toAbsolutePath().toUri().getRawPath());
        if (uri.charAt(uri.length() - 1) != '/') {
            uri.append('/');
        }
        for (byte b : relative) {
            int c = b & 0xff;
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "/-._~".indexOf(c) >= 0) {
                uri.append((char) c);
            } else {
                uri.append('%').append(String.format("%02X", c));
            }
        }
        return Path.of(java.net.URI.create("file://" + uri));
    }
}
