package org.changeq.pipeline.plan;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;
import org.changeq.pipeline.state.StateDirectory;

/**
 * The files of an incremental run's deletion pass. rsync's own {@code --delete-missing-args} would take the deleted
 * paths as they are, but Debian's rsync 3.2.7-1+deb12u6 rejects the entries it sends for them ("invalid file mode
 * 00", exit 2), locally and through a daemon. So the pass syncs each directory a deleted path was in one level deep
 * with {@code --dirs --delete}, and filter rules for the receiver let it delete the deleted paths there and protect
 * everything else: a directory that also holds what another route or program put there loses only what was deleted
 * at the source.
 *
 * @param directories the {@code --files-from} list: each such directory once, as {@code ./DIR/.} (the root as
 *                    {@code ./.}), NUL-terminated
 * @param filter      a merge file of rules read with {@code --from0}: {@code R /PATH} for each deleted path, then
 *                    {@code P /DIR/*} for each directory, NUL-terminated, names escaped as rsync patterns
 * @param renamed     the deleted paths that are old names of directories renamed within the root, raw and
 *                    NUL-terminated: their deletion is no loss
 */
public record DeletionLists(Path directories, Path filter, Path renamed) {

    /** Collects deleted paths and writes the files when closed. Not thread-safe. */
    final class Writer implements Closeable {
        private final Set<ByteBuffer> parents = new LinkedHashSet<>();
        private final OutputStream risks;
        private final OutputStream renamedOut;
        private final OutputStream deletedOut;

        private Writer() throws IOException {
            risks = new BufferedOutputStream(StateDirectory.newFile(filter));
            renamedOut = new BufferedOutputStream(StateDirectory.newFile(renamed));
            deletedOut = new BufferedOutputStream(StateDirectory.newFile(deletedPaths()));
        }

        /** A deleted path, {@code buffer[start, start + length)}. */
        void deleted(byte[] buffer, int start, int length) throws IOException {
            byte[] path = Arrays.copyOfRange(buffer, start, start + length);
            rule(risks, "R /", path, false);
            deletedOut.write(path);
            deletedOut.write(0);
            int slash = path.length - 1;
            while (slash >= 0 && path[slash] != '/') {
                slash--;
            }
            parents.add(ByteBuffer.wrap(Arrays.copyOf(path, Math.max(slash, 0))));
        }

        /** One of the deleted paths is the old name of a directory renamed within the root. */
        void renamedAway(byte[] path, int length) throws IOException {
            renamedOut.write(path, 0, length);
            renamedOut.write(0);
        }

        @Override
        public void close() throws IOException {
            try (OutputStream rules = risks; OutputStream renamedPaths = renamedOut;
                 OutputStream deletedPaths = deletedOut;
                 OutputStream list = new BufferedOutputStream(StateDirectory.newFile(directories))) {
                for (ByteBuffer parent : parents) {
                    byte[] directory = parent.array();
                    // After every R rule: rsync takes the first rule that matches.
                    rule(rules, directory.length == 0 ? "P " : "P /", directory, true);
                    list.write(new byte[] {'.', '/'});
                    list.write(directory);
                    list.write(directory.length == 0 ? new byte[] {'.', 0} : new byte[] {'/', '.', 0});
                }
            }
        }
    }

    /**
     * The deleted paths themselves, raw and NUL-terminated, beside {@code filter}: for a destination that deletes by
     * name instead of by rsync's rules.
     */
    public Path deletedPaths() {
        return filter.resolveSibling(filter.getFileName() + ".paths");
    }

    /** Opens the files for writing: whatever they held is replaced. */
    Writer open() throws IOException {
        return new Writer();
    }

    /**
     * {@code prefix}, the path as an rsync pattern, {@code /*} when {@code everythingIn}, and a NUL. A backslash escapes
     * a wildcard character only in a pattern that holds a wildcard, so names with {@code *?[} have those and every
     * backslash escaped, and other names stay as they are.
     */
    private static void rule(OutputStream out, String prefix, byte[] path, boolean everythingIn) throws IOException {
        boolean wildcards = everythingIn;
        for (byte b : path) {
            wildcards |= b == '*' || b == '?' || b == '[';
        }
        ByteArrayOutputStream rule = new ByteArrayOutputStream(prefix.length() + path.length + 4);
        rule.writeBytes(prefix.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        for (byte b : path) {
            if (wildcards && (b == '*' || b == '?' || b == '[' || b == '\\')) {
                rule.write('\\');
            }
            rule.write(b);
        }
        if (everythingIn) {
            rule.writeBytes(new byte[] {'/', '*'});
        }
        rule.write(0);
        out.write(rule.toByteArray());
    }
}
