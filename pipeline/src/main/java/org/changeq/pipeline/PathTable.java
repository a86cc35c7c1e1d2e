package org.changeq.pipeline;

import java.util.Arrays;

/**
 * A compact hash table of raw paths with a little state each, for millions of pending paths:
 * the path bytes live in one growing arena and the per-path fields in parallel primitive arrays,
 * so a million 30-byte paths take about 60 MB instead of the ~200 MB of boxed map entries.
 * Entries are numbered in insertion order and never removed. Not thread-safe.
 */
final class PathTable {

    private static final int EMPTY = -1;

    private byte[] arena = new byte[1 << 16];
    private int arenaUsed;
    private int[] offsets = new int[1024];
    private int[] lengths = new int[1024];
    private int[] hashes = new int[1024];
    private byte[] states = new byte[1024];
    private long[] firstSeen = new long[1024];
    private int size;
    private int[] slots = newSlots(2048);

    private static int[] newSlots(int capacity) {
        int[] slots = new int[capacity];
        Arrays.fill(slots, EMPTY);
        return slots;
    }

    int size() {
        return size;
    }

    /** The entry for the path, or -1. */
    int find(byte[] bytes, int offset, int length) {
        int hash = hash(bytes, offset, length);
        int mask = slots.length - 1;
        for (int slot = hash & mask; ; slot = (slot + 1) & mask) {
            int entry = slots[slot];
            if (entry == EMPTY) {
                return EMPTY;
            }
            if (hashes[entry] == hash && lengths[entry] == length
                    && Arrays.equals(arena, offsets[entry], offsets[entry] + length, bytes, offset, offset + length)) {
                return entry;
            }
        }
    }

    /** The entry for the path, added with the given state and time when absent. */
    int findOrAdd(byte[] path, byte state, long timeMillis) {
        int hash = hash(path, 0, path.length);
        int mask = slots.length - 1;
        int slot = hash & mask;
        for (; ; slot = (slot + 1) & mask) {
            int entry = slots[slot];
            if (entry == EMPTY) {
                break;
            }
            if (hashes[entry] == hash && lengths[entry] == path.length
                    && Arrays.equals(arena, offsets[entry], offsets[entry] + path.length, path, 0, path.length)) {
                return entry;
            }
        }
        int entry = append(path, hash, state, timeMillis);
        slots[slot] = entry;
        if (size * 2 > slots.length) {
            rehash();
        }
        return entry;
    }

    private int append(byte[] path, int hash, byte state, long timeMillis) {
        if (size == offsets.length) {
            int capacity = size * 2;
            offsets = Arrays.copyOf(offsets, capacity);
            lengths = Arrays.copyOf(lengths, capacity);
            hashes = Arrays.copyOf(hashes, capacity);
            states = Arrays.copyOf(states, capacity);
            firstSeen = Arrays.copyOf(firstSeen, capacity);
        }
        if (arena.length - arenaUsed < path.length) {
            long wanted = Math.max((long) arena.length * 2, (long) arenaUsed + path.length);
            if (wanted > Integer.MAX_VALUE - 8) {
                throw new IllegalStateException("more than 2 GiB of pending path names; run a full sync");
            }
            arena = Arrays.copyOf(arena, (int) wanted);
        }
        System.arraycopy(path, 0, arena, arenaUsed, path.length);
        int entry = size++;
        offsets[entry] = arenaUsed;
        lengths[entry] = path.length;
        hashes[entry] = hash;
        states[entry] = state;
        firstSeen[entry] = timeMillis;
        arenaUsed += path.length;
        return entry;
    }

    private void rehash() {
        int[] larger = newSlots(slots.length * 2);
        int mask = larger.length - 1;
        for (int entry = 0; entry < size; entry++) {
            int slot = hashes[entry] & mask;
            while (larger[slot] != EMPTY) {
                slot = (slot + 1) & mask;
            }
            larger[slot] = entry;
        }
        slots = larger;
    }

    private static int hash(byte[] bytes, int offset, int length) {
        int hash = 1;
        for (int i = offset; i < offset + length; i++) {
            hash = 31 * hash + bytes[i];
        }
        // Spread the bits: linear probing suffers from the clustered low bits of string hashes.
        return hash ^ (hash >>> 16) * 0x85ebca6b;
    }

    byte state(int entry) {
        return states[entry];
    }

    void state(int entry, byte state) {
        states[entry] = state;
    }

    long firstSeen(int entry) {
        return firstSeen[entry];
    }

    byte[] arena() {
        return arena;
    }

    int offset(int entry) {
        return offsets[entry];
    }

    int length(int entry) {
        return lengths[entry];
    }
}
