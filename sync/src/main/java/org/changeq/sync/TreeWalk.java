package org.changeq.sync;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.changeq.pipeline.ByteStrings;

/**
 * Lists every path under a root as raw bytes, with its type and size, by reading {@code find ROOT -mindepth 1 -printf
 * '%y %s %P\0'}: names never pass through {@code String} or {@code java.nio.file.Path}, so newline
 * and invalid-UTF-8 names arrive exactly as the kernel has them. Symbolic links are listed, not
 * followed. Blocks the calling thread; find's stderr (unreadable directories) is discarded and
 * its exit status reported.
 */
final class TreeWalk {

    static final String FIND = "/usr/bin/find";

    @FunctionalInterface
    interface Visitor {
        void visit(byte[] relativePath, boolean directory);
    }

    @FunctionalInterface
    interface SizedVisitor {
        /** @param type find's {@code %y}: {@code f} file, {@code d} directory, {@code l} symbolic link, ... */
        void visit(byte[] relativePath, char type, long size);
    }

    private TreeWalk() {
    }

    /** @return find's exit status: non-zero when some directory could not be read */
    static int walk(Path root, Visitor visitor) throws IOException, InterruptedException {
        return walk(root, (path, type, size) -> visitor.visit(path, type == 'd'));
    }

    /** @return find's exit status: non-zero when some directory could not be read */
    static int walk(Path root, SizedVisitor visitor) throws IOException, InterruptedException {
        Process find = new ProcessBuilder(List.of(FIND, root.toString(), "-mindepth", "1", "-printf", "%y %s %P\\0"))
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        find.getOutputStream().close();
        try (InputStream in = new BufferedInputStream(find.getInputStream(), 1 << 16)) {
            ByteArrayOutputStream entry = new ByteArrayOutputStream(256);
            int b;
            while ((b = in.read()) != -1) {
                if (b != 0) {
                    entry.write(b);
                    continue;
                }
                byte[] bytes = entry.toByteArray();
                entry.reset();
                int sizeEnd = bytes.length < 3 || bytes[1] != ' ' ? -1 : ByteStrings.indexOf(bytes, (byte) ' ', 2);
                if (sizeEnd < 0 || sizeEnd == bytes.length - 1) {
                    throw new IOException("unexpected output from " + FIND + ": "
                            + new String(bytes, StandardCharsets.ISO_8859_1));
                }
                long size = Long.parseLong(new String(bytes, 2, sizeEnd - 2, StandardCharsets.US_ASCII));
                byte[] path = new byte[bytes.length - sizeEnd - 1];
                System.arraycopy(bytes, sizeEnd + 1, path, 0, path.length);
                visitor.visit(path, (char) bytes[0], size);
            }
        } catch (IOException | RuntimeException e) {
            find.destroy();
            throw e;
        }
        return find.waitFor();
    }
}
