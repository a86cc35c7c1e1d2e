package org.changeq.sync;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.changeq.pipeline.PathBytes;
import org.changeq.pipeline.state.HeldDeletions;
import org.changeq.pipeline.state.RetryList;

/**
 * Held deletions below a directory that a file (or a link) has since replaced at the source. The run that found the
 * replacement had its deletions held by max-delete and committed, so no record names the file any more; offered
 * again alone, the deletions would name paths below a file, which rsync refuses with ENOTDIR (exit 23) where
 * {@code --ignore-missing-args} forgives only a missing path. Sent again with them, the file is planned as the
 * replaced directory it is: deleted through the deletion pass, under max-delete, and sent in its place. Thread-safe
 * (stateless); reads the root.
 */
final class ReplacedDirectories {

    private ReplacedDirectories() {
    }

    /** {@code retry} and, as files to send, the ancestors of held deletions that are no directory at the source now. */
    static RetryList withReplacingFiles(RetryList retry, HeldDeletions held, Path root) throws IOException {
        Set<ByteBuffer> replacing = new LinkedHashSet<>();
        for (byte[] path : held.paths()) {
            for (int i = 0; i < path.length; i++) {
                if (path[i] == '/' && isNonDirectory(PathBytes.resolve(root, Arrays.copyOf(path, i)))) {
                    replacing.add(ByteBuffer.wrap(Arrays.copyOf(path, i)));
                    break;
                }
            }
        }
        if (replacing.isEmpty()) {
            return retry;
        }
        List<RetryList.Entry> entries = new ArrayList<>(retry.entries());
        for (ByteBuffer path : replacing) {
            entries.add(new RetryList.Entry(path.array(), RetryList.Kind.FILE, held.sinceMillis(), ""));
        }
        return new RetryList(entries, retry.overflowed());
    }

    private static boolean isNonDirectory(Path path) throws IOException {
        try {
            return !Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isDirectory();
        } catch (NoSuchFileException e) {
            return false;
        }
    }
}
