package org.changeq.pipeline.plan;

import java.util.Arrays;

/**
 * A compact set of raw paths, each with a one-byte state, in insertion order. Paths are stored
 * once in a byte arena ({@code [int length][byte state][path bytes]}) and found through an
 * open-addressing table of arena offsets, so a million pending paths cost roughly their bytes plus
 * a dozen bytes each, not a Java object graph per path. Not thread-safe.
 */
final class PathTable {

    /** Entries start at offset 1 so that 0 can mean "empty slot". */
    private static final int HEADER = 5;
    private static final int MAX_ARENA = Integer.MAX_VALUE - 16;

    private byte[] arena = new byte[1 << 16];
    private int arenaEnd = 1;
    private int[] slots = new int[1 << 12];
    private int[] hashes = new int[1 << 12];
    private int size;

    int size() {
        return size;
    }

    /** The offset of the path's entry, or -1. */
    int find(byte[] bytes, int from, int to) {
        int hash = hash(bytes, from, to);
        int mask = slots.length - 1;
        for (int slot = hash & mask; slots[slot] != 0; slot = (slot + 1) & mask) {
            if (hashes[slot] == hash && equalsAt(slots[slot], bytes, from, to)) {
                return slots[slot];
            }
        }
        return -1;
    }

    /** Adds the path with {@code state} if absent; returns its entry offset either way. */
    int add(byte[] path, byte state) {
        int hash = hash(path, 0, path.length);
        int mask = slots.length - 1;
        int slot = hash & mask;
        for (; slots[slot] != 0; slot = (slot + 1) & mask) {
            if (hashes[slot] == hash && equalsAt(slots[slot], path, 0, path.length)) {
                return slots[slot];
            }
        }
        int entry = append(path, state);
        slots[slot] = entry;
        hashes[slot] = hash;
        if (++size * 2 > slots.length) {
            grow();
        }
        return entry;
    }

    byte state(int entry) {
        return arena[entry + 4];
    }

    void setState(int entry, byte state) {
        arena[entry + 4] = state;
    }

    int pathLength(int entry) {
        return readInt(entry);
    }

    int pathStart(int entry) {
        return entry + HEADER;
    }

    /** The bytes the entry offsets point into; valid until the next {@link #add}. */
    byte[] arena() {
        return arena;
    }

    /** The first entry in insertion order, or -1. */
    int first() {
        return size == 0 ? -1 : 1;
    }

    /** The entry after {@code entry} in insertion order, or -1. */
    int next(int entry) {
        int next = entry + HEADER + readInt(entry);
        return next >= arenaEnd ? -1 : next;
    }

    private int append(byte[] path, byte state) {
        long needed = (long) arenaEnd + HEADER + path.length;
        if (needed > MAX_ARENA) {
            throw new IllegalStateException("more than 2 GiB of distinct pending path names; "
                    + "lower the route's backlog-threshold so such a backlog becomes a full sync");
        }
        if (needed > arena.length) {
            arena = Arrays.copyOf(arena, (int) Math.min(MAX_ARENA, Math.max(needed, (long) arena.length * 2)));
        }
        int entry = arenaEnd;
        arena[entry] = (byte) (path.length >>> 24);
        arena[entry + 1] = (byte) (path.length >>> 16);
        arena[entry + 2] = (byte) (path.length >>> 8);
        arena[entry + 3] = (byte) path.length;
        arena[entry + 4] = state;
        System.arraycopy(path, 0, arena, entry + HEADER, path.length);
        arenaEnd = (int) needed;
        return entry;
    }

    private void grow() {
        int[] oldSlots = slots;
        int[] oldHashes = hashes;
        slots = new int[oldSlots.length * 2];
        hashes = new int[oldSlots.length * 2];
        int mask = slots.length - 1;
        for (int i = 0; i < oldSlots.length; i++) {
            if (oldSlots[i] != 0) {
                int slot = oldHashes[i] & mask;
                while (slots[slot] != 0) {
                    slot = (slot + 1) & mask;
                }
                slots[slot] = oldSlots[i];
                hashes[slot] = oldHashes[i];
            }
        }
    }

    private boolean equalsAt(int entry, byte[] bytes, int from, int to) {
        int length = readInt(entry);
        return length == to - from
                && Arrays.equals(arena, entry + HEADER, entry + HEADER + length, bytes, from, to);
    }

    private int readInt(int at) {
        return (arena[at] & 0xff) << 24 | (arena[at + 1] & 0xff) << 16 | (arena[at + 2] & 0xff) << 8 | (arena[at + 3] & 0xff);
    }

    private static int hash(byte[] bytes, int from, int to) {
        int h = 1;
        for (int i = from; i < to; i++) {
            h = 31 * h + bytes[i];
        }
        int mixed = h * 0x9E3779B9;
        return mixed ^ (mixed >>> 16);
    }
}
