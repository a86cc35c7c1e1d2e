package org.changeq.pipeline.manifest;

import java.util.Arrays;

/**
 * The record the writer appended last for each recent path: what cross-batch dedupe compares against.
 * Exact (keys compare root and bytes, never only a hash: a false match would drop a change) and bounded:
 * when {@link #LIMIT} paths are remembered it forgets them all, which only costs dedupe. Parallel arrays
 * with open addressing, so an entry adds no object beyond the path array the record already had; the
 * old map of boxed entries made a burst of new paths grow the old generation by ~130 bytes each and
 * drove full collections.
 *
 * <p>Confined to the writer thread.
 */
final class RecentRecords {

    /** Paths remembered at most; their arrays take ~25 bytes a slot at twice this many slots. */
    static final int LIMIT = 1 << 17;
    private static final int INITIAL_SLOTS = 1 << 10;
    static final int NOT_FOUND = -1;
    /** {@link #stoppedAt} of a path no remembered record deleted or named as a non-directory. */
    static final long NEVER_STOPPED = Long.MIN_VALUE;

    private int[] hashes;
    private String[] roots;
    private byte[][] paths;
    private long[] indexes;
    private RecordType[] types;
    private boolean[] contentWrites;
    private long[] stops;
    private int size;

    RecentRecords() {
        allocate(INITIAL_SLOTS);
    }

    int size() {
        return size;
    }

    /** The slot remembering {@code root}/{@code path}, or {@link #NOT_FOUND}. */
    int find(String root, byte[] path, int hash) {
        return find(root, path, path.length, hash);
    }

    /** {@link #find(String, byte[], int)} for the path {@code path[0, length)}, e.g. an ancestor of a longer one. */
    int find(String root, byte[] path, int length, int hash) {
        int mask = hashes.length - 1;
        for (int slot = spread(hash) & mask; paths[slot] != null; slot = (slot + 1) & mask) {
            if (hashes[slot] == hash && roots[slot].equals(root)
                    && Arrays.equals(paths[slot], 0, paths[slot].length, path, 0, length)) {
                return slot;
            }
        }
        return NOT_FOUND;
    }

    long indexAt(int slot) {
        return indexes[slot];
    }

    RecordType typeAt(int slot) {
        return types[slot];
    }

    boolean contentWrittenAt(int slot) {
        return contentWrites[slot];
    }

    /**
     * The index of the last record remembered that deleted the path or named it as something other than a
     * directory (a later record may have made it a directory again), or {@link #NEVER_STOPPED}.
     */
    long stoppedAt(int slot) {
        return stops[slot];
    }

    /**
     * Remembers the record just appended for {@code root}/{@code path}, replacing an older one.
     *
     * @param found what {@link #find} returned for this path since the last change to this object
     */
    void remember(int found, String root, byte[] path, int hash, long index, RecordType type, boolean directory,
                  boolean contentWritten) {
        int slot = found;
        if (slot == NOT_FOUND) {
            if (size >= LIMIT) {
                allocate(INITIAL_SLOTS);
                size = 0;
            } else if (size + 1 > hashes.length >> 1) {
                grow();
            }
            slot = freeSlot(hashes, paths, hash);
            hashes[slot] = hash;
            roots[slot] = root;
            paths[slot] = path;
            stops[slot] = NEVER_STOPPED;
            size++;
        }
        if (type == RecordType.DELETE || !directory) {
            stops[slot] = index;
        }
        indexes[slot] = index;
        types[slot] = type;
        contentWrites[slot] = contentWritten;
    }

    private void grow() {
        int[] oldHashes = hashes;
        String[] oldRoots = roots;
        byte[][] oldPaths = paths;
        long[] oldIndexes = indexes;
        RecordType[] oldTypes = types;
        boolean[] oldContentWrites = contentWrites;
        long[] oldStops = stops;
        allocate(hashes.length << 1);
        for (int old = 0; old < oldPaths.length; old++) {
            if (oldPaths[old] != null) {
                int slot = freeSlot(hashes, paths, oldHashes[old]);
                hashes[slot] = oldHashes[old];
                roots[slot] = oldRoots[old];
                paths[slot] = oldPaths[old];
                indexes[slot] = oldIndexes[old];
                types[slot] = oldTypes[old];
                contentWrites[slot] = oldContentWrites[old];
                stops[slot] = oldStops[old];
            }
        }
    }

    private void allocate(int slots) {
        hashes = new int[slots];
        roots = new String[slots];
        paths = new byte[slots][];
        indexes = new long[slots];
        types = new RecordType[slots];
        contentWrites = new boolean[slots];
        stops = new long[slots];
    }

    private static int freeSlot(int[] hashes, byte[][] paths, int hash) {
        int mask = hashes.length - 1;
        int slot = spread(hash) & mask;
        while (paths[slot] != null) {
            slot = (slot + 1) & mask;
        }
        return slot;
    }

    /** Path hashes share prefixes and differ in few bits: mix before masking. */
    private static int spread(int hash) {
        int mixed = hash * 0x9E3779B9;
        return mixed ^ (mixed >>> 16);
    }
}
