package org.changeq.tracker;

import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import org.changeq.tracker.WatchTree.Root;

/**
 * MOVED_FROM events waiting for their MOVED_TO, by cookie, oldest first. The kernel queues both halves of a
 * rename during the one {@code rename(2)}, but inotify(7) lets events of other processes come between them; a
 * MOVED_FROM is paired across those, and only one whose MOVED_TO does not come within
 * {@link #PAIRING_NANOS} is taken for a move out of the tree. The table stays small: each entry waits
 * milliseconds at most.
 *
 * <p>Confined to the reader thread.
 */
final class PendingMoves {

    /** How long a MOVED_FROM waits for its MOVED_TO: the rename queued both within microseconds. */
    static final long PAIRING_NANOS = 10_000_000L;
    /** More MOVED_FROMs than this waiting at once: the oldest is taken as a move out without waiting longer. */
    static final int LIMIT = 64;

    /**
     * A MOVED_FROM, holding its directories as {@link WatchTree#handle}s: either may leave the tree before the move
     * is settled, and its id then name another directory.
     *
     * @param parent    the directory the entry left
     * @param path      the entry's path when it left, for when {@code parent} is no longer in the tree by then
     * @param moved     the moved directory, or {@link WatchTree#NO_HANDLE} (a file, or a directory not watched)
     * @param seenNanos when the MOVED_FROM was read
     */
    record Move(Root root, long parent, byte[] name, byte[] path, boolean directory, int cookie, long moved,
                long seenNanos) {
    }

    private final LinkedHashMap<Integer, Move> byCookie = new LinkedHashMap<>();
    private final WatchTree tree;

    PendingMoves(WatchTree tree) {
        this.tree = tree;
    }

    boolean isEmpty() {
        return byCookie.isEmpty();
    }

    /**
     * Adds a MOVED_FROM. Returns a move that no longer waits and is to be settled as a move out: one with the
     * same cookie (the kernel's counter wrapped), or the oldest when more than {@link #LIMIT} wait; else null.
     */
    Move add(Move move) {
        Move sameCookie = byCookie.remove(move.cookie);
        byCookie.put(move.cookie, move);
        if (sameCookie != null) {
            return sameCookie;
        }
        return byCookie.size() > LIMIT ? takeOldest() : null;
    }

    /** The MOVED_FROM with this cookie, which no longer waits; null if none does. */
    Move take(int cookie) {
        return byCookie.remove(cookie);
    }

    /** The longest-waiting MOVED_FROM, which no longer waits; null if none does. */
    Move takeOldest() {
        Iterator<Move> oldest = byCookie.values().iterator();
        if (!oldest.hasNext()) {
            return null;
        }
        Move move = oldest.next();
        oldest.remove();
        return move;
    }

    /** The longest-waiting MOVED_FROM if it has waited {@link #PAIRING_NANOS}, which no longer waits; else null. */
    Move takeExpired(long nowNanos) {
        Iterator<Move> oldest = byCookie.values().iterator();
        if (!oldest.hasNext()) {
            return null;
        }
        Move move = oldest.next();
        if (nowNanos - move.seenNanos < PAIRING_NANOS) {
            return null;
        }
        oldest.remove();
        return move;
    }

    /**
     * A MOVED_FROM that an event about entry {@code name} of {@code directory} cannot pass, which no longer
     * waits; null if none. Such an event comes from inside a moved directory (its paths are the old ones, and a
     * directory created there cannot be found by its old path), or names the entry that left (created again,
     * or written through a file descriptor): settled first, the move out and the event keep their order.
     */
    Move takeTouchedBy(int directory, byte[] name) {
        long directoryHandle = tree.handle(directory);
        Iterator<Move> moves = byCookie.values().iterator();
        while (moves.hasNext()) {
            Move move = moves.next();
            int moved = tree.live(move.moved);
            if (move.parent == directoryHandle && Arrays.equals(move.name, name)
                    || moved != WatchTree.NONE && tree.isSelfOrAncestor(moved, directory)) {
                moves.remove();
                return move;
            }
        }
        return null;
    }
}
