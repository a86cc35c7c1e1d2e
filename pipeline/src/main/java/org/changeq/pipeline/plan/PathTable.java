package org.changeq.pipeline.plan;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A compact set of raw paths, each with a one-byte state and an int ordinal (when the owner last
 * touched it), in insertion order. Paths are stored once in an arena of byte-array chunks
 * ({@code [int length][byte state][int ordinal][path bytes]}), and found
 * through an open-addressing table whose slots hold each entry's hash beside its arena reference,
 * so a probe reads one slot and touches the arena only on a full hash match. A million pending
 * paths cost their bytes plus 25 to 41 bytes each, and no object per path. All of it is on the
 * Java heap, so a backlog too large for the heap cap fails as an {@link OutOfMemoryError} instead
 * of growing the process unseen. The first chunk starts small and doubles, so that a small backlog
 * stays small; past it the arena grows by adding full chunks, never by copying what it holds.
 * Not thread-safe.
 */
final class PathTable {

    /** Little-endian whatever the platform, so that a path hashes alike everywhere. */
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INTS = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private static final int HEADER = 9;
    private static final int ORDINAL = 5;
    private static final int CHUNK_BITS = 22;
    private static final int CHUNK_SIZE = 1 << CHUNK_BITS;
    private static final int OFFSET_MASK = CHUNK_SIZE - 1;
    private static final int FIRST_CHUNK_SIZE = 1 << 16;
    /** References ({@code chunk << CHUNK_BITS | offset}) stay positive ints. */
    private static final int MAX_CHUNKS = 1 << (31 - CHUNK_BITS);
    /** Reference 0 is never an entry, so that 0 can mean "empty slot". */
    private static final int FIRST = 1;

    private byte[][] chunks = {new byte[FIRST_CHUNK_SIZE]};
    /** Where each chunk's entries end: an entry that does not fit a chunk's rest starts the next chunk. */
    private int[] chunkEnds = new int[8];
    private int end = FIRST;
    /** A power-of-two count of slots, each {@code hash << 32 | reference}, 0 when empty. */
    private long[] slots = new long[1 << 12];
    private int size;
    private byte[] pathCopy = new byte[256];
    /** What {@link #expect} loaded, kept so that the loads are not optimised away. */
    private long touched;

    int size() {
        return size;
    }

    /** The entry of the path {@code bytes[from, to)}, or -1. */
    int find(byte[] bytes, int from, int to) {
        return find(bytes, from, to, hash(bytes, from, to));
    }

    /** {@link #find(byte[], int, int)} for a path whose {@link #hash} is known. */
    int find(byte[] bytes, int from, int to, int hash) {
        long[] slots = this.slots;
        int mask = slots.length - 1;
        for (int slot = hash & mask; ; slot = (slot + 1) & mask) {
            long content = slots[slot];
            if (content == 0) {
                return -1;
            }
            if ((int) (content >>> 32) == hash && equalsAt((int) content, bytes, from, to)) {
                return (int) content;
            }
        }
    }

    /** Adds the path {@code path[0, length)} with {@code state} if absent; returns its entry either way. */
    int add(byte[] path, int length, byte state) {
        return add(path, 0, length, hash(path, 0, length), state);
    }

    /** {@link #add(byte[], int, byte)} for the path {@code bytes[from, to)} whose {@link #hash} is known. */
    int add(byte[] bytes, int from, int to, int hash, byte state) {
        long[] slots = this.slots;
        int mask = slots.length - 1;
        int slot = hash & mask;
        for (long content = slots[slot]; content != 0; content = slots[slot]) {
            if ((int) (content >>> 32) == hash && equalsAt((int) content, bytes, from, to)) {
                return (int) content;
            }
            slot = (slot + 1) & mask;
        }
        int entry = append(bytes, from, to - from, state);
        slots[slot] = (long) hash << 32 | entry;
        if (++size * 2 > slots.length) {
            grow();
        }
        return entry;
    }

    byte state(int entry) {
        return chunk(entry)[(entry & OFFSET_MASK) + 4];
    }

    void setState(int entry, byte state) {
        chunk(entry)[(entry & OFFSET_MASK) + 4] = state;
    }

    int ordinal(int entry) {
        return (int) INTS.get(chunk(entry), (entry & OFFSET_MASK) + ORDINAL);
    }

    void setOrdinal(int entry, int ordinal) {
        INTS.set(chunk(entry), (entry & OFFSET_MASK) + ORDINAL, ordinal);
    }

    int pathLength(int entry) {
        return (int) INTS.get(chunk(entry), entry & OFFSET_MASK);
    }

    /** The entry's path, from index 0 of a buffer this table reuses: valid until the next call. */
    byte[] path(int entry) {
        byte[] chunk = chunk(entry);
        int offset = entry & OFFSET_MASK;
        int length = (int) INTS.get(chunk, offset);
        if (length > pathCopy.length) {
            pathCopy = new byte[Math.max(length, pathCopy.length * 2)];
        }
        System.arraycopy(chunk, offset + HEADER, pathCopy, 0, length);
        return pathCopy;
    }

    /** The first entry in insertion order, or -1. */
    int first() {
        return size == 0 ? -1 : FIRST;
    }

    /** The entry after {@code entry} in insertion order, or -1. */
    int next(int entry) {
        int next = entry + HEADER + pathLength(entry);
        if (next == end) {
            return -1;
        }
        int chunk = entry >>> CHUNK_BITS;
        return (next >>> CHUNK_BITS) == chunk && (next & OFFSET_MASK) == chunkEnds[chunk]
                ? (chunk + 1) << CHUNK_BITS
                : next;
    }

    private byte[] chunk(int entry) {
        return chunks[entry >>> CHUNK_BITS];
    }

    /**
     * Loads the slot a lookup of {@code hash} starts at, and the entry it names. Called for a batch of
     * paths before looking them up, it lets their cache misses overlap instead of waiting one by one.
     */
    void expect(int hash) {
        long[] slots = this.slots;
        long content = slots[hash & (slots.length - 1)];
        if (content != 0 && (int) (content >>> 32) == hash) {
            touched += chunk((int) content)[(int) content & OFFSET_MASK];
        }
    }

    private int append(byte[] path, int from, int length, byte state) {
        int needed = HEADER + length;
        if (needed > CHUNK_SIZE || needed < 0) {
            throw new IllegalArgumentException("a path of " + length + " bytes is longer than any file system allows");
        }
        byte[][] chunks = this.chunks;
        int chunk = end >>> CHUNK_BITS;
        int offset = end & OFFSET_MASK;
        if (offset + needed > CHUNK_SIZE) {
            chunkEnds[chunk] = offset;
            chunk++;
            if (chunk == MAX_CHUNKS) {
                throw new IllegalStateException("more than 2 GiB of distinct pending path names; "
                        + "lower the route's backlog-threshold so such a backlog becomes a full sync");
            }
            if (chunk == chunks.length) {
                chunks = this.chunks = Arrays.copyOf(chunks, chunk * 2);
            }
            if (chunk == chunkEnds.length) {
                chunkEnds = Arrays.copyOf(chunkEnds, chunk * 2);
            }
            chunks[chunk] = new byte[CHUNK_SIZE];
            end = chunk << CHUNK_BITS;
            offset = 0;
        } else if (offset + needed > chunks[chunk].length) {
            chunks[chunk] = Arrays.copyOf(chunks[chunk],
                    Math.min(CHUNK_SIZE, Math.max(chunks[chunk].length * 2, offset + needed)));
        }
        byte[] target = chunks[chunk];
        INTS.set(target, offset, length);
        target[offset + 4] = state;
        INTS.set(target, offset + ORDINAL, 0);
        System.arraycopy(path, from, target, offset + HEADER, length);
        int entry = end;
        end += needed;
        return entry;
    }

    private void grow() {
        long[] old = slots;
        long[] grown = new long[old.length * 2];
        int mask = grown.length - 1;
        for (long content : old) {
            if (content != 0) {
                int slot = (int) (content >>> 32) & mask;
                while (grown[slot] != 0) {
                    slot = (slot + 1) & mask;
                }
                grown[slot] = content;
            }
        }
        slots = grown;
    }

    /** Compares eight bytes at a time: most probes that reach here are the same path seen again. */
    private boolean equalsAt(int entry, byte[] bytes, int from, int to) {
        byte[] chunk = chunk(entry);
        int offset = entry & OFFSET_MASK;
        int length = (int) INTS.get(chunk, offset);
        if (length != to - from) {
            return false;
        }
        int stored = offset + HEADER;
        int i = 0;
        for (; i + 8 <= length; i += 8) {
            if ((long) LONGS.get(chunk, stored + i) != (long) LONGS.get(bytes, from + i)) {
                return false;
            }
        }
        for (; i < length; i++) {
            if (chunk[stored + i] != bytes[from + i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Hashes eight bytes a step: a byte-at-a-time hash is a chain of one multiply per byte, which
     * for a million paths of forty bytes was a visible share of the scan. A path of eight bytes or
     * more ends with the (overlapping) last eight; a shorter one is read byte by byte.
     */
    static int hash(byte[] bytes, int from, int to) {
        int length = to - from;
        long h = length * 0x9E3779B97F4A7C15L;
        if (length >= 8) {
            int last = to - 8;
            for (int at = from; at < last; at += 8) {
                h = (h ^ (long) LONGS.get(bytes, at)) * 0xBF58476D1CE4E5B9L;
                h ^= h >>> 29;
            }
            h = (h ^ (long) LONGS.get(bytes, last)) * 0xBF58476D1CE4E5B9L;
        } else {
            for (int i = from; i < to; i++) {
                h = (h ^ (bytes[i] & 0xff)) * 0xBF58476D1CE4E5B9L;
            }
        }
        h ^= h >>> 31;
        h *= 0x94D049BB133111EBL;
        return (int) (h ^ (h >>> 32));
    }
}
