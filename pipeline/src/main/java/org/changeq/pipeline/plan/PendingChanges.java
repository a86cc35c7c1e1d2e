package org.changeq.pipeline.plan;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.changeq.pipeline.RecordType;

/**
 * The deduplicated paths one route still has to send, condensed from queue records: one entry per
 * path, decided by the path's last record (a pending SUBTREE is not downgraded by a later CHANGE
 * of the same directory, because its contents are still unsent). Memory grows with distinct
 * paths, not with records. Not thread-safe.
 */
public final class PendingChanges {

    static final byte CHANGE = 1;
    static final byte SUBTREE = 2;
    static final byte DELETE = 3;
    private static final byte TYPE_MASK = 0x0f;
    private static final byte DIRECTORY = 0x10;

    private static final byte[] ENTRY_PREFIX = {'.', '/'};

    private final PathTable table = new PathTable();

    public int distinctPaths() {
        return table.size();
    }

    /** Merges one path record (CHANGE, SUBTREE or DELETE). */
    void add(RecordType type, boolean directory, byte[] path) {
        byte incoming = switch (type) {
            case CHANGE -> CHANGE;
            case SUBTREE -> SUBTREE;
            case DELETE -> DELETE;
            default -> throw new IllegalArgumentException(type + " names no path");
        };
        int entry = table.add(path, (byte) 0);
        byte previous = (byte) (table.state(entry) & TYPE_MASK);
        byte merged = incoming == CHANGE && previous == SUBTREE ? SUBTREE : incoming;
        table.setState(entry, (byte) (merged | (directory ? DIRECTORY : 0)));
    }

    /** What {@link #writeLists} put where. */
    public record Lists(long files, long directories, long deletions) {
        public boolean isEmpty() {
            return files == 0 && directories == 0 && deletions == 0;
        }
    }

    /** The two rsync passes of an incremental run. */
    public enum Pass {
        /** Files, SUBTREE directories and (when deletes propagate) deletions, sent with {@code -r}. */
        RECURSIVE,
        /** Directories whose own attributes changed, sent without recursion. */
        DIRECTORY
    }

    /** Receives entries without copying them: the bytes are valid only during the call. */
    @FunctionalInterface
    public interface EntrySink<E extends Exception> {
        void accept(byte[] buffer, int start, int length, Pass pass, boolean deletion) throws E;
    }

    /**
     * Streams what an incremental run sends, in the order the paths were first seen: files, SUBTREE
     * directories and (when deletes propagate) deletions for the recursive pass; directories whose own
     * attributes changed for the directory pass, so that a changed directory does not cost a walk of its
     * whole subtree. A path inside a pending SUBTREE is left out: the subtree carries it.
     */
    public <E extends Exception> Lists forEachEntry(boolean propagateDeletes, EntrySink<E> sink) throws E {
        long files = 0;
        long directories = 0;
        long deletions = 0;
        boolean rootIsSubtree = isSubtree(table.find(new byte[0], 0, 0));
        boolean anySubtree = anySubtree();
        byte[] arena = table.arena();
        for (int entry = table.first(); entry != -1; entry = table.next(entry)) {
            byte state = table.state(entry);
            byte type = (byte) (state & TYPE_MASK);
            if (type == DELETE) {
                // A deletion under a pending SUBTREE still needs its own entry: a recursive
                // send without --delete leaves the destination's copy in place.
                if (propagateDeletes) {
                    sink.accept(arena, table.pathStart(entry), table.pathLength(entry), Pass.RECURSIVE, true);
                    deletions++;
                }
            } else if (!anySubtree || !underPendingSubtree(entry, rootIsSubtree)) {
                if (type == CHANGE && (state & DIRECTORY) != 0) {
                    sink.accept(arena, table.pathStart(entry), table.pathLength(entry), Pass.DIRECTORY, false);
                    directories++;
                } else {
                    sink.accept(arena, table.pathStart(entry), table.pathLength(entry), Pass.RECURSIVE, false);
                    files++;
                }
            }
        }
        return new Lists(files, directories, deletions);
    }

    /**
     * Writes the NUL-separated {@code --files-from} lists of the two passes (see {@link #forEachEntry}).
     * Entries are prefixed {@code ./}: rsync skips list entries that start with {@code #} or {@code ;}.
     */
    public Lists writeLists(Path recursiveList, Path directoryList, boolean propagateDeletes) throws IOException {
        Files.createDirectories(recursiveList.toAbsolutePath().getParent());
        Files.createDirectories(directoryList.toAbsolutePath().getParent());
        try (OutputStream recursive = new BufferedOutputStream(Files.newOutputStream(recursiveList), 1 << 16);
             OutputStream dirs = new BufferedOutputStream(Files.newOutputStream(directoryList), 1 << 16)) {
            return forEachEntry(propagateDeletes, (buffer, start, length, pass, deletion) -> {
                OutputStream out = pass == Pass.RECURSIVE ? recursive : dirs;
                out.write(ENTRY_PREFIX);
                out.write(buffer, start, length);
                out.write(0);
            });
        }
    }

    private boolean underPendingSubtree(int entry, boolean rootIsSubtree) {
        int length = table.pathLength(entry);
        if (length == 0) {
            return false;
        }
        if (rootIsSubtree) {
            return true;
        }
        byte[] arena = table.arena();
        int start = table.pathStart(entry);
        for (int i = start; i < start + length; i++) {
            if (arena[i] == '/' && isSubtree(table.find(arena, start, i))) {
                return true;
            }
        }
        return false;
    }

    /** One pass over the states spares the ancestor lookups of every path when nothing is a SUBTREE. */
    private boolean anySubtree() {
        for (int entry = table.first(); entry != -1; entry = table.next(entry)) {
            if ((table.state(entry) & TYPE_MASK) == SUBTREE) {
                return true;
            }
        }
        return false;
    }

    private boolean isSubtree(int entry) {
        return entry != -1 && (table.state(entry) & TYPE_MASK) == SUBTREE;
    }
}
