package org.changeq.tracker;

import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import org.changeq.tracker.WatchTree.Node;

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
     * @param moved     the watch tree's node of a moved directory, or null (a file, or a directory not watched)
     * @param seenNanos when the MOVED_FROM was read
     */
    record Move(Node parent, byte[] name, boolean directory, int cookie, Node moved, long seenNanos) {
    }

    private final LinkedHashMap<Integer, Move> byCookie = new LinkedHashMap<>();

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
    Move takeTouchedBy(Node directory, byte[] name) {
        Iterator<Move> moves = byCookie.values().iterator();
        while (moves.hasNext()) {
            Move move = moves.next();
            if (move.parent == directory && Arrays.equals(move.name, name)
                    || move.moved != null && isSelfOrAncestor(move.moved, directory)) {
                moves.remove();
                return move;
            }
        }
        return null;
    }

    private static boolean isSelfOrAncestor(Node candidate, Node node) {
        for (Node at = node; at != null; at = at.parent) {
            if (at == candidate) {
                return true;
            }
        }
        return false;
    }
}
