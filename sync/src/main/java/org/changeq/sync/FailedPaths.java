package org.changeq.sync;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.state.RetryList;
import org.changeq.pipeline.state.RetryList.Kind;

/**
 * Which paths an rsync run that ended in a partial transfer (exit 23) failed to send, read from a second run of the
 * same passes with {@code --dry-run} right after it: whatever still differs between source and destination is what
 * failed. rsync's own error lines cannot tell that reliably: they are human text whose wording changed between
 * versions (a {@code [sender]}/{@code [receiver]} prefix since 3.2.0; a failed file named by its temporary name
 * {@code dir/.name.XXXXXX}; local paths absolute, daemon paths relative with {@code (in MODULE)}), and the
 * {@code --itemize-changes} output of the failed run lists as sent a file the receiver then failed to write. Here the
 * error lines only supply the message shown for each failed path.
 *
 * <p>A directory missing at the destination becomes one {@link Kind#SUBTREE} entry instead of an entry for
 * everything in it. Past {@code limit} paths the list stops growing and is marked overflowed. A path that was in the
 * previous list keeps the time it first failed.
 *
 * <p>Not thread-safe: fed on rsync's stdout thread, read after that thread was joined.
 */
final class FailedPaths {

    /** rsync's {@code %i}: eleven letters, then a space before the name. */
    private static final int NAME_OFFSET = 12;

    private final Map<ByteBuffer, Long> previousFailures = new HashMap<>();
    private final long nowMillis;
    private final int limit;
    private final Map<ByteBuffer, Found> found = new LinkedHashMap<>();
    private final Set<ByteBuffer> subtrees = new HashSet<>();
    private boolean overflowed;

    private static final class Found {
        final Kind kind;
        long firstFailedMillis;

        Found(Kind kind, long firstFailedMillis) {
            this.kind = kind;
            this.firstFailedMillis = firstFailedMillis;
        }
    }

    FailedPaths(RetryList previous, long nowMillis, int limit) {
        for (RetryList.Entry entry : previous.entries()) {
            previousFailures.merge(ByteBuffer.wrap(entry.path()), entry.firstFailedMillis(), Math::min);
        }
        this.nowMillis = nowMillis;
        this.limit = limit;
    }

    /**
     * Takes one line of a dry run's {@code --out-format='%i %n'} output: {@code >f+++++++++ dir/name},
     * {@code .d..t...... dir/}, {@code *deleting   old}, names escaped by rsync as {@code \#ooo}.
     */
    void accept(byte[] line) {
        accept(line, false);
    }

    /**
     * {@link #accept(byte[])} for a line of the content pass: a file that failed there keeps being compared by
     * content, or its retry would trust the quick check that skipped it.
     */
    void acceptComparedByContent(byte[] line) {
        accept(line, true);
    }

    private void accept(byte[] line, boolean comparedByContent) {
        if (line.length <= NAME_OFFSET || line[NAME_OFFSET - 1] != ' ') {
            return;
        }
        byte[] name = unescape(line, NAME_OFFSET);
        boolean directory = name[name.length - 1] == '/';
        byte[] path = relative(name, directory);
        Kind kind;
        if (line[0] == '*') {
            kind = Kind.DELETION;
        } else if (comparedByContent && !directory) {
            kind = Kind.CONTENT;
        } else if (!directory) {
            kind = Kind.FILE;
        } else if (line[0] == 'c' && line[2] == '+') {
            kind = Kind.SUBTREE;
        } else {
            kind = Kind.DIRECTORY;
        }
        add(path, kind);
    }

    /** An entry of a pass's list that fails on its own: see {@link FailureIsolation}. */
    void failedEntry(byte[] path, Kind kind) {
        add(path, kind);
    }

    private void add(byte[] path, Kind kind) {
        ByteBuffer key = ByteBuffer.wrap(path);
        long firstFailed = previousFailures.getOrDefault(key, nowMillis);
        ByteBuffer subtree = enclosingSubtree(path);
        if (subtree != null) {
            Found parent = found.get(subtree);
            parent.firstFailedMillis = Math.min(parent.firstFailedMillis, firstFailed);
            return;
        }
        Found existing = found.get(key);
        if (existing != null) {
            if (kind == Kind.SUBTREE && existing.kind != Kind.SUBTREE) {
                found.put(key, new Found(kind, existing.firstFailedMillis));
                subtrees.add(key);
            }
            return;
        }
        if (found.size() >= limit) {
            overflowed = true;
            return;
        }
        found.put(key, new Found(kind, firstFailed));
        if (kind == Kind.SUBTREE) {
            subtrees.add(key);
        }
    }

    private ByteBuffer enclosingSubtree(byte[] path) {
        if (subtrees.isEmpty()) {
            return null;
        }
        if (path.length > 0 && subtrees.contains(ByteBuffer.wrap(new byte[0]))) {
            return ByteBuffer.wrap(new byte[0]);
        }
        for (int i = 0; i < path.length; i++) {
            if (path[i] == '/') {
                ByteBuffer ancestor = ByteBuffer.wrap(path, 0, i).slice();
                if (subtrees.contains(ancestor)) {
                    return ancestor;
                }
            }
        }
        return null;
    }

    /**
     * The failed paths, each with the first of {@code errors} (rsync's stderr, escaped) that names it. Entries a
     * subtree found later covers are folded into it.
     */
    RetryList result(List<String> errors) {
        List<RetryList.Entry> entries = new ArrayList<>(found.size());
        for (Iterator<Map.Entry<ByteBuffer, Found>> it = found.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<ByteBuffer, Found> next = it.next();
            byte[] path = bytes(next.getKey());
            ByteBuffer subtree = enclosingSubtree(path);
            if (subtree != null && !subtree.equals(next.getKey())) {
                Found parent = found.get(subtree);
                parent.firstFailedMillis = Math.min(parent.firstFailedMillis, next.getValue().firstFailedMillis);
                it.remove();
            }
        }
        for (Map.Entry<ByteBuffer, Found> next : found.entrySet()) {
            byte[] path = bytes(next.getKey());
            entries.add(new RetryList.Entry(path, next.getValue().kind, next.getValue().firstFailedMillis,
                    reason(path, errors)));
        }
        return new RetryList(entries, overflowed);
    }

    /**
     * The first error line that names {@code path} as rsync prints names: the path itself, quoted, after a quote or a
     * slash (relative at a daemon, absolute locally), or the temporary file the receiver could not create for it.
     */
    static String reason(byte[] path, List<String> errors) {
        String name = ByteStrings.escape(rsyncEscape(path.length == 0 ? new byte[] {'.'} : path));
        int slash = name.lastIndexOf('/');
        String temporary = name.substring(0, slash + 1) + "." + name.substring(slash + 1) + ".";
        for (String error : errors) {
            if (namesAt(error, name + "\"") || namesAt(error, temporary)) {
                return error;
            }
        }
        return "";
    }

    private static boolean namesAt(String error, String needle) {
        for (int at = error.indexOf(needle); at >= 0; at = error.indexOf(needle, at + 1)) {
            if (at > 0 && (error.charAt(at - 1) == '"' || error.charAt(at - 1) == '/')) {
                return true;
            }
        }
        return false;
    }

    /** rsync's escaping of names in messages: unprintable bytes as {@code \#ooo}, and a backslash that would look like one. */
    static byte[] rsyncEscape(byte[] name) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(name.length + 8);
        for (int i = 0; i < name.length; i++) {
            int b = name[i] & 0xff;
            boolean lookalike = b == '\\' && i + 4 < name.length && name[i + 1] == '#'
                    && isDigit(name[i + 2]) && isDigit(name[i + 3]) && isDigit(name[i + 4]);
            if (lookalike || b != '\t' && (b < 0x20 || b >= 0x7f)) {
                out.writeBytes(String.format("\\#%03o", b).getBytes(StandardCharsets.US_ASCII));
            } else {
                out.write(b);
            }
        }
        return out.toByteArray();
    }

    /** The bytes rsync escaped as {@code \#ooo} back; everything else as printed. */
    static byte[] unescape(byte[] line, int from) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(line.length - from);
        for (int i = from; i < line.length; i++) {
            if (line[i] == '\\' && i + 4 < line.length && line[i + 1] == '#'
                    && isOctal(line[i + 2]) && isOctal(line[i + 3]) && isOctal(line[i + 4])) {
                out.write(((line[i + 2] - '0') << 6) | ((line[i + 3] - '0') << 3) | (line[i + 4] - '0'));
                i += 4;
            } else {
                out.write(line[i]);
            }
        }
        return out.toByteArray();
    }

    /** A name as rsync prints it, relative to the root: no trailing slash, the root itself empty. */
    private static byte[] relative(byte[] name, boolean directory) {
        int length = directory ? name.length - 1 : name.length;
        if (length == 1 && name[0] == '.') {
            return new byte[0];
        }
        return Arrays.copyOf(name, length);
    }

    private static byte[] bytes(ByteBuffer key) {
        byte[] copy = new byte[key.remaining()];
        key.duplicate().get(copy);
        return copy;
    }

    private static boolean isDigit(byte b) {
        return b >= '0' && b <= '9';
    }

    private static boolean isOctal(byte b) {
        return b >= '0' && b <= '7';
    }
}
