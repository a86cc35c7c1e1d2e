package org.changeq.pipeline.plan;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.state.StateDirectory;

/**
 * The deduplicated paths one route still has to send, condensed from queue records: one entry per
 * path, decided by the path's last record (a pending SUBTREE is not downgraded by a later CHANGE
 * of the same directory, because its contents are still unsent). A path any of whose records was a
 * content write stays one until it is sent. A path is not handed on below an ancestor whose last
 * record, later than the path's own, says the ancestor stopped being a directory (deleted, or now a
 * file or symbolic link): rsync would resolve the stale name through whatever replaced it. That is
 * known once a directory's deletion (or a record of it as a directory) is among the records read;
 * a directory replaced while no tracker watched it shows only as a non-directory, and the sync's
 * check of every entry's ancestors right before rsync leaves such paths out. Memory grows with
 * distinct paths, not with records. Not thread-safe.
 */
public final class PendingChanges {

    static final byte CHANGE = 1;
    static final byte SUBTREE = 2;
    static final byte DELETE = 3;
    /** A deletion of a directory's old name after a rename within the root ({@link RecordType#RENAMED_AWAY}). */
    static final byte RENAMED_AWAY = 4;
    private static final int TYPE_MASK = 0x07;
    /** A record of the path was a content write ({@link org.changeq.pipeline.manifest.QueueRecord#contentWritten()}). */
    private static final int CONTENT_WRITTEN = 0x08;
    private static final int DIRECTORY = 0x10;
    /** Set once the route took the path in a record of that kind: see {@link #merge}. */
    private static final int CONCERNS_AS_FILE = 0x20;
    private static final int CONCERNS_AS_CHANGED_DIRECTORY = 0x40;
    private static final int CONCERNS_AS_WHOLE_DIRECTORY = 0x80;

    private static final byte[] ENTRY_PREFIX = {'.', '/'};

    /** Records are merged this many at a time: see {@link #mergeBatch}. */
    private static final int BATCH = 64;

    private final PathTable table = new PathTable();
    private final Concern concern;
    private final RecordBatch batch = new RecordBatch();
    private byte[] scratch = new byte[256];
    private long oldestChangeMillis = Long.MAX_VALUE;
    /** Records merged so far: the ordinal that orders a path's last record against its ancestors'. */
    private int merged;
    /** Whether a path was ever a SUBTREE: until one is, no path is carried by an ancestor. */
    private boolean everSubtree;
    /**
     * Whether a directory may have gone: a directory's deletion was merged, or a record naming as a non-directory a
     * path recorded as a directory, or paths of the retry list, whose ancestors' records may lie before the cursor.
     * Until then no path is stale below an ancestor, and plans of file changes alone skip the ancestor lookups. A
     * directory replaced while the writer watched always has its deletion recorded (the writer appends it before the
     * record of what took its name).
     */
    private boolean directoryMayBeGone;

    /**
     * Whether a route's plan takes a path record. For one path the answer may depend on whether the
     * record names a directory and on whether it is a CHANGE, and on nothing else of the record.
     */
    @FunctionalInterface
    interface Concern {
        boolean test(RecordType type, boolean directory, byte[] path, int length);
    }

    /** Collects the records {@code concern} takes, and only those. */
    PendingChanges(Concern concern) {
        this.concern = concern;
    }

    public int distinctPaths() {
        mergeBatch();
        return table.size();
    }

    /** Paths of the retry list were merged: their ancestors may have been replaced before the records read now. */
    void mergedRetried() {
        directoryMayBeGone = true;
    }

    /** The time of the oldest record merged, or {@link Long#MAX_VALUE} when there is none. */
    long oldestChangeMillis() {
        mergeBatch();
        return oldestChangeMillis;
    }

    /**
     * Merges one path record (CHANGE, SUBTREE or DELETE) whose path is {@code path[0, length)} if the
     * route's {@link Concern} takes it. A path already pending keeps the answers it got, so a path
     * recorded a thousand times is matched against the route's patterns once per kind of record, not
     * a thousand times.
     */
    void merge(RecordType type, boolean directory, boolean contentWritten, byte[] path, int length, long timeMillis) {
        if (!type.carriesPath()) {
            throw new IllegalArgumentException(type + " names no path");
        }
        batch.add(type, directory, contentWritten, path, length, timeMillis);
        if (batch.size == BATCH) {
            mergeBatch();
        }
    }

    /**
     * Merges the batched records in order, having first loaded the table slots they will probe:
     * with a million distinct paths nearly every lookup misses the CPU caches, and issued together
     * the misses overlap instead of stalling one record after another.
     */
    private void mergeBatch() {
        RecordBatch records = batch;
        for (int i = 0; i < records.size; i++) {
            records.hashes[i] = PathTable.hash(records.paths, records.start(i), records.ends[i]);
        }
        for (int i = 0; i < records.size; i++) {
            table.expect(records.hashes[i]);
        }
        for (int i = 0; i < records.size; i++) {
            mergeOne(records.types[i], records.directories[i], records.contentWrites[i], records.paths,
                    records.start(i), records.ends[i], records.hashes[i], records.times[i]);
        }
        records.size = 0;
    }

    private void mergeOne(RecordType type, boolean directory, boolean contentWritten, byte[] bytes, int from, int to,
                          int hash, long timeMillis) {
        int incoming = switch (type) {
            case CHANGE -> CHANGE;
            case SUBTREE -> SUBTREE;
            case RENAMED_AWAY -> RENAMED_AWAY;
            default -> DELETE;
        };
        int kind = !directory ? CONCERNS_AS_FILE : incoming == CHANGE ? CONCERNS_AS_CHANGED_DIRECTORY
                : CONCERNS_AS_WHOLE_DIRECTORY;
        int entry = table.find(bytes, from, to, hash);
        int state = entry == -1 ? 0 : table.state(entry) & 0xff;
        if ((state & kind) == 0) {
            if (!concern.test(type, directory, fromStart(bytes, from, to), to - from)) {
                return;
            }
            if (entry == -1) {
                entry = table.add(bytes, from, to, hash, (byte) 0);
            }
        }
        int kept = incoming == CHANGE && (state & TYPE_MASK) == SUBTREE ? SUBTREE : incoming;
        everSubtree |= kept == SUBTREE;
        int answers = state & (CONCERNS_AS_FILE | CONCERNS_AS_CHANGED_DIRECTORY | CONCERNS_AS_WHOLE_DIRECTORY);
        int content = contentWritten ? CONTENT_WRITTEN : state & CONTENT_WRITTEN;
        directoryMayBeGone |= incoming == DELETE && directory || (state & DIRECTORY) != 0 && !directory;
        table.setState(entry, (byte) (kept | content | (directory ? DIRECTORY : 0) | answers | kind));
        if (merged == Integer.MAX_VALUE) {
            throw new IllegalStateException("more than " + Integer.MAX_VALUE + " records to plan; lower the route's"
                    + " backlog-threshold so such a backlog becomes a full sync");
        }
        table.setOrdinal(entry, ++merged);
        oldestChangeMillis = Math.min(oldestChangeMillis, timeMillis);
    }

    /** The path {@code bytes[from, to)} from index 0, where route patterns expect it. */
    private byte[] fromStart(byte[] bytes, int from, int to) {
        if (to - from > scratch.length) {
            scratch = new byte[Math.max(to - from, scratch.length * 2)];
        }
        System.arraycopy(bytes, from, scratch, 0, to - from);
        return scratch;
    }

    /** Path records waiting to be merged, their paths back to back in one buffer. */
    private static final class RecordBatch {
        final RecordType[] types = new RecordType[BATCH];
        final boolean[] directories = new boolean[BATCH];
        final boolean[] contentWrites = new boolean[BATCH];
        final long[] times = new long[BATCH];
        final int[] ends = new int[BATCH];
        final int[] hashes = new int[BATCH];
        byte[] paths = new byte[BATCH * 128];
        int size;

        int start(int i) {
            return i == 0 ? 0 : ends[i - 1];
        }

        void add(RecordType type, boolean directory, boolean contentWritten, byte[] path, int length, long timeMillis) {
            int from = start(size);
            if (from + length > paths.length) {
                paths = Arrays.copyOf(paths, Math.max(from + length, paths.length * 2));
            }
            System.arraycopy(path, 0, paths, from, length);
            types[size] = type;
            directories[size] = directory;
            contentWrites[size] = contentWritten;
            times[size] = timeMillis;
            ends[size] = from + length;
            size++;
        }
    }

    /**
     * What {@link #writeLists} put where.
     *
     * @param subtrees the SUBTREE directories among {@code files}: sent whole, they may hold any number of files
     */
    public record Lists(long files, long directories, long deletions, long comparedByContent, long subtrees) {
        public boolean isEmpty() {
            return files == 0 && directories == 0 && deletions == 0 && comparedByContent == 0;
        }
    }

    /** The rsync passes of an incremental run. */
    public enum Pass {
        /** Files, SUBTREE directories and (when deletes propagate) deletions, sent with {@code -r}. */
        RECURSIVE,
        /** Directories whose own attributes changed, sent without recursion. */
        DIRECTORY,
        /**
         * Files whose content was written, compared by content: a tool may have put back their old size and
         * modification time, and rsync's quick check would then skip them.
         */
        CONTENT,
        /**
         * A directory replaced by a file (or a link) when deletes propagate: listed in no {@code --files-from} list.
         * The deletion pass deletes the directory and, syncing the directory it was in, sends what replaced it; the
         * recursive pass, which deletes nothing, could not put a file where a directory is (rsync exit 23).
         */
        DELETION
    }

    /** Decides, right before a run, whether an entry may be handed to rsync; a refused one is left out. */
    @FunctionalInterface
    public interface EntryCheck {
        EntryCheck ALL = (path, length, deletion) -> true;

        /** @param path the entry's bytes {@code path[0, length)}, in a buffer that is reused */
        boolean admits(byte[] path, int length, boolean deletion);
    }

    /** Receives entries in a buffer that is reused: the bytes are valid only during the call. */
    @FunctionalInterface
    public interface EntrySink<E extends Exception> {
        void accept(byte[] buffer, int start, int length, Pass pass, boolean deletion) throws E;
    }

    /**
     * Streams what an incremental run sends, in the order the paths were first seen: files, SUBTREE
     * directories and (when deletes propagate) deletions for the recursive pass, and directories replaced by a file
     * for the deletion pass alone; directories whose own
     * attributes changed for the directory pass, so that a changed directory does not cost a walk of its
     * whole subtree; files whose content was written for the content pass, instead of the recursive one.
     * A path inside a pending SUBTREE is left out, the subtree carries it, unless its content was written:
     * the subtree is sent with rsync's quick check, and the destination may hold the file already. A path
     * below an ancestor that later stopped being a directory is left out whatever it is: the ancestor's own
     * entry sends or deletes what is there now.
     */
    public <E extends Exception> Lists forEachEntry(boolean propagateDeletes, EntrySink<E> sink) throws E {
        return forEachEntry(propagateDeletes, EntryCheck.ALL, sink);
    }

    /** {@link #forEachEntry(boolean, EntrySink)} without the entries {@code check} refuses. */
    private <E extends Exception> Lists forEachEntry(boolean propagateDeletes, EntryCheck check, EntrySink<E> sink)
            throws E {
        mergeBatch();
        long files = 0;
        long directories = 0;
        long deletions = 0;
        long comparedByContent = 0;
        long subtrees = 0;
        boolean rootIsSubtree = isSubtree(table.find(new byte[0], 0, 0));
        Set<Integer> replaced = propagateDeletes ? replacedDirectories() : Set.of();
        for (int entry = table.first(); entry != -1; entry = table.next(entry)) {
            int state = table.state(entry);
            int type = state & TYPE_MASK;
            byte[] path = table.path(entry);
            int length = table.pathLength(entry);
            int ancestry = everSubtree || directoryMayBeGone
                    ? ancestry(path, length, table.ordinal(entry), rootIsSubtree) : FREE;
            if (ancestry == STALE) {
                continue;
            }
            boolean deletion = type == DELETE || type == RENAMED_AWAY;
            Pass pass;
            if (deletion) {
                // A deletion under a pending SUBTREE still needs its own entry: a recursive
                // send without --delete leaves the destination's copy in place.
                // Under a directory replaced by a file: that directory's deletion takes what it held, and
                // rsync, asked for a path below a file, fails with ENOTDIR (exit 23) where --ignore-missing-args
                // forgives only ENOENT.
                if (!propagateDeletes || underReplacedDirectory(path, length, replaced)) {
                    continue;
                }
                pass = Pass.RECURSIVE;
            } else if (replaced.contains(entry)) {
                pass = Pass.DELETION;
                deletion = true;
            } else if (type == CHANGE && (state & (DIRECTORY | CONTENT_WRITTEN)) == CONTENT_WRITTEN) {
                pass = Pass.CONTENT;
            } else if (ancestry == CARRIED) {
                continue;
            } else {
                pass = type == CHANGE && (state & DIRECTORY) != 0 ? Pass.DIRECTORY : Pass.RECURSIVE;
            }
            if (!check.admits(path, length, deletion)) {
                continue;
            }
            sink.accept(path, 0, length, pass, deletion);
            if (deletion) {
                deletions++;
            } else if (pass == Pass.CONTENT) {
                comparedByContent++;
            } else if (pass == Pass.DIRECTORY) {
                directories++;
            } else {
                files++;
                subtrees += type == SUBTREE ? 1 : 0;
            }
        }
        return new Lists(files, directories, deletions, comparedByContent, subtrees);
    }

    /**
     * Writes the NUL-separated {@code --files-from} lists of the passes (see {@link #forEachEntry}).
     * Entries are prefixed {@code ./}: rsync skips list entries that start with {@code #} or {@code ;}.
     */
    public Lists writeLists(Path recursiveList, Path directoryList, Path contentList, boolean propagateDeletes)
            throws IOException {
        return writeLists(recursiveList, directoryList, contentList, null, propagateDeletes, EntryCheck.ALL);
    }

    /**
     * {@link #writeLists(Path, Path, Path, boolean)} without the entries {@code check} refuses, and the files of the
     * deletion pass: see {@link DeletionLists}.
     */
    public Lists writeLists(Path recursiveList, Path directoryList, Path contentList, DeletionLists deletionLists,
                            boolean propagateDeletes, EntryCheck check) throws IOException {
        try (ListFile recursive = new ListFile(recursiveList); ListFile dirs = new ListFile(directoryList);
             ListFile content = new ListFile(contentList);
             DeletionLists.Writer deletions = deletionLists == null ? null : deletionLists.open()) {
            Lists lists = forEachEntry(propagateDeletes, check, (buffer, start, length, pass, deletion) -> {
                switch (pass) {
                    case RECURSIVE -> recursive.append(buffer, start, length);
                    case DIRECTORY -> dirs.append(buffer, start, length);
                    case CONTENT -> content.append(buffer, start, length);
                    case DELETION -> { }
                }
                if (deletion && deletions != null) {
                    deletions.deleted(buffer, start, length);
                }
            });
            for (int entry = table.first(); deletions != null && propagateDeletes && entry != -1; entry = table.next(entry)) {
                if ((table.state(entry) & TYPE_MASK) == RENAMED_AWAY) {
                    deletions.renamedAway(table.path(entry), table.pathLength(entry));
                }
            }
            return lists;
        }
    }

    /**
     * One list written through one large buffer: a million entries cost three array copies each
     * and a few dozen writes, not three buffered-stream calls each.
     */
    private static final class ListFile implements Closeable {
        private final OutputStream out;
        private byte[] buffer = new byte[1 << 20];
        private int used;

        ListFile(Path path) throws IOException {
            out = StateDirectory.newFile(path);
        }

        void append(byte[] path, int start, int length) throws IOException {
            int needed = ENTRY_PREFIX.length + length + 1;
            if (used + needed > buffer.length) {
                flush();
                if (needed > buffer.length) {
                    buffer = new byte[needed];
                }
            }
            System.arraycopy(ENTRY_PREFIX, 0, buffer, used, ENTRY_PREFIX.length);
            System.arraycopy(path, start, buffer, used + ENTRY_PREFIX.length, length);
            buffer[used + needed - 1] = 0;
            used += needed;
        }

        private void flush() throws IOException {
            out.write(buffer, 0, used);
            used = 0;
        }

        @Override
        public void close() throws IOException {
            try (out) {
                flush();
            }
        }
    }

    /**
     * The entries of directories replaced by a file (or a link): a path whose last record is a CHANGE of a non-directory,
     * and which a record of the route named as a directory before, or below which a path is pending deletion. The
     * writer coalesces a directory's DELETE with the CHANGE of the file that took its name, so the deletions of what the
     * directory held are often the only sign. An empty directory leaves none, and needs none: rsync replaces an empty
     * directory by a file without being asked to delete.
     */
    private Set<Integer> replacedDirectories() {
        Set<Integer> replaced = new HashSet<>();
        for (int entry = table.first(); entry != -1; entry = table.next(entry)) {
            int state = table.state(entry);
            int type = state & TYPE_MASK;
            if (isFileChange(state) && (state & (CONCERNS_AS_CHANGED_DIRECTORY | CONCERNS_AS_WHOLE_DIRECTORY)) != 0) {
                replaced.add(entry);
            } else if (type == DELETE || type == RENAMED_AWAY) {
                byte[] path = table.path(entry);
                for (int i = 0; i < table.pathLength(entry); i++) {
                    int ancestor = path[i] == '/' ? table.find(path, 0, i) : -1;
                    if (ancestor != -1 && isFileChange(table.state(ancestor))) {
                        replaced.add(ancestor);
                    }
                }
            }
        }
        return replaced;
    }

    private static boolean isFileChange(int state) {
        return (state & TYPE_MASK) == CHANGE && (state & DIRECTORY) == 0;
    }

    private boolean underReplacedDirectory(byte[] path, int length, Set<Integer> replaced) {
        if (replaced.isEmpty()) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if (path[i] == '/' && replaced.contains(table.find(path, 0, i))) {
                return true;
            }
        }
        return false;
    }

    /** What a path's ancestors say of it: see {@link #ancestry}. */
    private static final int FREE = 0;
    /** An ancestor is a pending SUBTREE, which sends the path too. */
    private static final int CARRIED = 1;
    /** An ancestor's record after the path's last one says it is no longer a directory. */
    private static final int STALE = 2;

    /**
     * One lookup per ancestor, as many as the path has slashes: planning stays linear in the paths.
     *
     * @param ordinal when the path's last record was merged
     */
    private int ancestry(byte[] path, int length, int ordinal, boolean rootIsSubtree) {
        if (length == 0) {
            return FREE;
        }
        boolean carried = rootIsSubtree;
        for (int i = 0; i < length; i++) {
            if (path[i] != '/') {
                continue;
            }
            int ancestor = table.find(path, 0, i);
            if (ancestor == -1) {
                continue;
            }
            int state = table.state(ancestor);
            if (isNonDirectory(state) && table.ordinal(ancestor) > ordinal) {
                return STALE;
            }
            carried |= (state & TYPE_MASK) == SUBTREE;
        }
        return carried ? CARRIED : FREE;
    }

    /** A path whose last record deletes it or names something other than a directory. */
    private static boolean isNonDirectory(int state) {
        return (state & TYPE_MASK) == DELETE || (state & DIRECTORY) == 0;
    }

    private boolean isSubtree(int entry) {
        return entry != -1 && (table.state(entry) & TYPE_MASK) == SUBTREE;
    }
}
