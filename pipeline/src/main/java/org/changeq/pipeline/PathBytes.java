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
}
