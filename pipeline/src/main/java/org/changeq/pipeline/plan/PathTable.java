package org.changeq.pipeline.plan;

import java.lang.ref.Cleaner;
import java.util.Arrays;
import net.openhft.chronicle.core.UnsafeMemory;
import sun.misc.Unsafe;

/**
 * A compact set of raw paths, each with a one-byte state, in insertion order. Paths are stored
 * once in an arena of fixed-size chunks ({@code [int length][byte state][path bytes]}), and found
 * through an open-addressing table whose slots hold each entry's hash beside its arena reference,
 * so a probe reads one slot and touches the arena only on a full hash match. A million pending
 * paths cost their bytes plus 21 to 37 bytes each, all of it off the Java heap: the planner's heap
 * stays a few megabytes however large the backlog. The arena grows by adding a chunk, never by
 * copying. The memory is freed by {@link #free}, or once the table is unreachable. Not thread-safe.
 */
final class PathTable {

    private static final Unsafe UNSAFE = UnsafeMemory.UNSAFE;
    private static final long BYTES = Unsafe.ARRAY_BYTE_BASE_OFFSET;
    private static final Cleaner CLEANER = Cleaner.create(task -> new Thread(task, "changeq-path-arena-cleaner"));

    private static final int HEADER = 5;
    private static final int CHUNK_BITS = 22;
    private static final int CHUNK_SIZE = 1 << CHUNK_BITS;
    private static final int OFFSET_MASK = CHUNK_SIZE - 1;
    /** References ({@code chunk << CHUNK_BITS | offset}) stay positive ints. */
    private static final int MAX_CHUNKS = 1 << (31 - CHUNK_BITS);
    /** Reference 0 is never an entry, so that 0 can mean "empty slot". */
    private static final int FIRST = 1;

    private final Memory memory = new Memory();
    private final Cleaner.Cleanable freeing = CLEANER.register(this, memory);
    /** Where each chunk's entries end: an entry that does not fit a chunk's rest starts the next chunk. */
    private int[] chunkEnds = new int[8];
    private int end = FIRST;
    /** The slot count, a power of two; each slot is {@code hash << 32 | reference}, 0 when empty. */
    private int slotCount = 1 << 12;
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
        long slots = slots();
        int mask = slotCount - 1;
        for (int slot = hash & mask; ; slot = (slot + 1) & mask) {
            long content = slot(slots, slot);
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
        long slots = slots();
        int mask = slotCount - 1;
        int slot = hash & mask;
        for (long content = slot(slots, slot); content != 0; content = slot(slots, slot)) {
            if ((int) (content >>> 32) == hash && equalsAt((int) content, bytes, from, to)) {
                return (int) content;
            }
            slot = (slot + 1) & mask;
        }
        int entry = append(bytes, from, to - from, state);
        UNSAFE.putLong(slots + ((long) slot << 3), (long) hash << 32 | entry);
        if (++size * 2 > slotCount) {
            grow();
        }
        return entry;
    }

    byte state(int entry) {
        return UNSAFE.getByte(address(entry) + 4);
    }

    void setState(int entry, byte state) {
        UNSAFE.putByte(address(entry) + 4, state);
    }

    int pathLength(int entry) {
        return UNSAFE.getInt(address(entry));
    }

    /** The entry's path, from index 0 of a buffer this table reuses: valid until the next call. */
    byte[] path(int entry) {
        long address = address(entry);
        int length = UNSAFE.getInt(address);
        if (length > pathCopy.length) {
            pathCopy = new byte[Math.max(length, pathCopy.length * 2)];
        }
        UNSAFE.copyMemory(null, address + HEADER, pathCopy, BYTES, length);
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

    /** Frees the memory now rather than when the table becomes unreachable; the table is unusable after. */
    void free() {
        freeing.clean();
    }

    private long address(int entry) {
        return memory.chunks[entry >>> CHUNK_BITS] + (entry & OFFSET_MASK);
    }

    /** The slots' address, checked: a lookup in freed memory would not fail but crash the process. */
    private long slots() {
        long slots = memory.slots;
        if (slots == 0) {
            throw new IllegalStateException("the path table was freed");
        }
        return slots;
    }

    private static long slot(long slots, int slot) {
        return UNSAFE.getLong(slots + ((long) slot << 3));
    }

    /**
     * Loads the slot a lookup of {@code hash} starts at, and the entry it names. Called for a batch of
     * paths before looking them up, it lets their cache misses overlap instead of waiting one by one.
     */
    void expect(int hash) {
        long content = slot(slots(), hash & (slotCount - 1));
        if (content != 0 && (int) (content >>> 32) == hash) {
            touched += UNSAFE.getByte(address((int) content));
        }
    }

    private int append(byte[] path, int from, int length, byte state) {
        int needed = HEADER + length;
        if (needed > CHUNK_SIZE || needed < 0) {
            throw new IllegalArgumentException("a path of " + length + " bytes is longer than any file system allows");
        }
        int chunk = end >>> CHUNK_BITS;
        if ((end & OFFSET_MASK) + needed > CHUNK_SIZE) {
            chunkEnds[chunk] = end & OFFSET_MASK;
            chunk++;
            if (chunk == MAX_CHUNKS) {
                throw new IllegalStateException("more than 2 GiB of distinct pending path names; "
                        + "lower the route's backlog-threshold so such a backlog becomes a full sync");
            }
            end = chunk << CHUNK_BITS;
        }
        if (chunk == memory.chunkCount) {
            memory.allocateChunk();
            if (chunk == chunkEnds.length) {
                chunkEnds = Arrays.copyOf(chunkEnds, chunk * 2);
            }
        }
        int entry = end;
        long address = address(entry);
        UNSAFE.putInt(address, length);
        UNSAFE.putByte(address + 4, state);
        UNSAFE.copyMemory(path, BYTES + from, null, address + HEADER, length);
        end += needed;
        return entry;
    }

    private void grow() {
        long old = memory.slots;
        int oldCount = slotCount;
        long slots = Memory.allocateSlots(oldCount * 2);
        int mask = oldCount * 2 - 1;
        for (int i = 0; i < oldCount; i++) {
            long content = slot(old, i);
            if (content != 0) {
                int slot = (int) (content >>> 32) & mask;
                while (slot(slots, slot) != 0) {
                    slot = (slot + 1) & mask;
                }
                UNSAFE.putLong(slots + ((long) slot << 3), content);
            }
        }
        memory.slots = slots;
        slotCount = oldCount * 2;
        UNSAFE.freeMemory(old);
    }

    /** Compares eight bytes at a time: most probes that reach here are the same path seen again. */
    private boolean equalsAt(int entry, byte[] bytes, int from, int to) {
        long address = address(entry);
        int length = UNSAFE.getInt(address);
        if (length != to - from) {
            return false;
        }
        long stored = address + HEADER;
        long given = BYTES + from;
        int i = 0;
        for (; i + 8 <= length; i += 8) {
            if (UNSAFE.getLong(stored + i) != UNSAFE.getLong(bytes, given + i)) {
                return false;
            }
        }
        for (; i < length; i++) {
            if (UNSAFE.getByte(stored + i) != bytes[from + i]) {
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
            long at = BYTES + from;
            long last = BYTES + to - 8;
            for (; at < last; at += 8) {
                h = (h ^ UNSAFE.getLong(bytes, at)) * 0xBF58476D1CE4E5B9L;
                h ^= h >>> 29;
            }
            h = (h ^ UNSAFE.getLong(bytes, last)) * 0xBF58476D1CE4E5B9L;
        } else {
            for (int i = from; i < to; i++) {
                h = (h ^ (bytes[i] & 0xff)) * 0xBF58476D1CE4E5B9L;
            }
        }
        h ^= h >>> 31;
        h *= 0x94D049BB133111EBL;
        return (int) (h ^ (h >>> 32));
    }

    /** The table's memory, apart from the table so that freeing it does not keep the table reachable. */
    private static final class Memory implements Runnable {
        private long[] chunks = new long[8];
        private int chunkCount;
        private long slots = allocateSlots(1 << 12);

        static long allocateSlots(int count) {
            long address = UNSAFE.allocateMemory((long) count << 3);
            UNSAFE.setMemory(address, (long) count << 3, (byte) 0);
            return address;
        }

        void allocateChunk() {
            if (chunkCount == chunks.length) {
                chunks = Arrays.copyOf(chunks, chunkCount * 2);
            }
            chunks[chunkCount] = UNSAFE.allocateMemory(CHUNK_SIZE);
            chunkCount++;
        }

        @Override
        public void run() {
            for (int i = 0; i < chunkCount; i++) {
                UNSAFE.freeMemory(chunks[i]);
            }
            UNSAFE.freeMemory(slots);
            // A table used after free fails on these instead of reading freed memory.
            chunks = new long[0];
            chunkCount = 0;
            slots = 0;
        }
    }
}
