package org.changeq.sync;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.changeq.pipeline.PathBytes;
import org.changeq.pipeline.state.RetryList;
import org.changeq.pipeline.state.StateDirectory;

/**
 * Finds the failing entries of a pass whose failure check (its dry run) ended in a partial transfer too: a NAS
 * directory the daemon user cannot search, a name too long for the share, a source directory that cannot be opened.
 * The dry run cannot say what still differs then, and rsync's error lines are human text. So the list is split in
 * halves and each half dry-run again: a half that passes contributes what it still lists, a single entry that fails
 * alone is a failing entry. One permanently failing path then costs a few dry runs per run instead of the whole
 * route's cursor. Not thread-safe: one per failure check.
 */
final class FailureIsolation {

    /** Past this many dry runs, so many entries fail that isolating them costs more than it saves: nothing is known. */
    static final int MAX_DRY_RUNS = 256;

    private static final byte[] ENTRY_PREFIX = {'.', '/'};

    private final Transfer.Pass check;
    private final Path list;
    private final Path root;
    private final RetryList.Kind kind;
    private final FailedPaths failed;
    private final List<String> messages;
    private int dryRuns;

    /**
     * @param check    the failure check, reading {@code list}
     * @param list     the pass's {@code --files-from} list; rewritten while isolating and restored afterwards
     * @param kind     what a failing entry is in the retry list ({@link RetryList.Kind#FILE} is a SUBTREE for a
     *                 directory)
     * @param failed   receives what passing halves list and the failing entries
     * @param messages receives rsync's errors, the reasons of the retry list's entries
     */
    FailureIsolation(Transfer.Pass check, Path list, Path root, RetryList.Kind kind, FailedPaths failed,
                     List<String> messages) {
        this.check = check;
        this.list = list;
        this.root = root;
        this.kind = kind;
        this.failed = failed;
        this.messages = messages;
    }

    /** @return false when a dry run failed otherwise than partially, or the dry runs ran out: nothing is known */
    boolean isolate() throws IOException, SyncException, InterruptedException {
        byte[] original = StateDirectory.read(list);
        try {
            return isolate(entries(original));
        } finally {
            StateDirectory.replace(list, original, false);
        }
    }

    private boolean isolate(List<byte[]> entries) throws IOException, SyncException, InterruptedException {
        if (++dryRuns > MAX_DRY_RUNS) {
            return false;
        }
        StateDirectory.replace(list, join(entries), false);
        List<byte[]> lines = new ArrayList<>();
        RsyncRunner.Outcome outcome = check.run(lines::add);
        messages.addAll(outcome.errors());
        if (outcome.succeeded()) {
            lines.forEach(kind == RetryList.Kind.CONTENT ? failed::acceptComparedByContent : failed::accept);
            return true;
        }
        if (!outcome.partial()) {
            return false;
        }
        if (entries.size() == 1) {
            byte[] path = Arrays.copyOfRange(entries.get(0), ENTRY_PREFIX.length, entries.get(0).length);
            failed.failedEntry(path, kind == RetryList.Kind.FILE && isDirectory(path) ? RetryList.Kind.SUBTREE : kind);
            return true;
        }
        int half = entries.size() / 2;
        return isolate(entries.subList(0, half)) && isolate(entries.subList(half, entries.size()));
    }

    private boolean isDirectory(byte[] path) {
        return Files.isDirectory(PathBytes.resolve(root, path), LinkOption.NOFOLLOW_LINKS);
    }

    /** The NUL-terminated entries, each with its {@code ./} prefix. */
    private static List<byte[]> entries(byte[] list) {
        List<byte[]> entries = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < list.length; i++) {
            if (list[i] == 0) {
                entries.add(Arrays.copyOfRange(list, start, i));
                start = i + 1;
            }
        }
        return entries;
    }

    private static byte[] join(List<byte[]> entries) {
        int length = entries.stream().mapToInt(entry -> entry.length + 1).sum();
        byte[] joined = new byte[length];
        int at = 0;
        for (byte[] entry : entries) {
            System.arraycopy(entry, 0, joined, at, entry.length);
            at += entry.length + 1;
        }
        return joined;
    }
}
