package org.changeq.tracker;

import java.util.function.IntUnaryOperator;

/**
 * A hash set of watch-tree node ids in one {@code int} array: open addressing with linear probing and backward-shift
 * deletion, so an entry costs one slot and no object. Callers walk the probe sequence themselves ({@link #start},
 * {@link #next}, {@link #at}) so a lookup compares their own key without allocating.
 */
final class NodeTable {

    private static final int MIN_CAPACITY = 16;

    /** The hash of the key a node is filed under: its watch, or its parent and name. */
    private final IntUnaryOperator hashOf;
    /** Node ids; {@link WatchTree#NONE} is an empty slot. */
    private int[] slots = new int[MIN_CAPACITY];
    private int size;

    NodeTable(IntUnaryOperator hashOf) {
        this.hashOf = hashOf;
    }

    int size() {
        return size;
    }

    /** The first slot of the probe sequence for {@code hash}. */
    int start(int hash) {
        return spread(hash) & (slots.length - 1);
    }

    int next(int slot) {
        return (slot + 1) & (slots.length - 1);
    }

    /** The node in {@code slot}; {@link WatchTree#NONE} ends a probe sequence. */
    int at(int slot) {
        return slots[slot];
    }

    /** Adds a node the table does not hold. */
    void add(int node) {
        if (size + 1 > slots.length >> 1) {
            resize(slots.length << 1);
        }
        insert(slots, node);
        size++;
    }

    /** Removes this very node, which must still have the key it was added with; false if the table does not hold it. */
    boolean remove(int node) {
        int slot = start(hashOf.applyAsInt(node));
        while (slots[slot] != node) {
            if (slots[slot] == WatchTree.NONE) {
                return false;
            }
            slot = next(slot);
        }
        slots[slot] = WatchTree.NONE;
        size--;
        closeGap(slot);
        if (slots.length > MIN_CAPACITY && size < slots.length >> 3) {
            resize(slots.length >> 1);
        }
        return true;
    }

    /** Moves later entries of the probe run back into the freed slot, so no lookup stops early. */
    private void closeGap(int freed) {
        int mask = slots.length - 1;
        for (int slot = next(freed); slots[slot] != WatchTree.NONE; slot = next(slot)) {
            int home = start(hashOf.applyAsInt(slots[slot]));
            // The entry may fill the gap unless its home lies cyclically in (freed, slot].
            if (((slot - home) & mask) >= ((slot - freed) & mask)) {
                slots[freed] = slots[slot];
                slots[slot] = WatchTree.NONE;
                freed = slot;
            }
        }
    }

    private void resize(int capacity) {
        int[] larger = new int[capacity];
        for (int node : slots) {
            if (node != WatchTree.NONE) {
                insert(larger, node);
            }
        }
        slots = larger;
    }

    private void insert(int[] table, int node) {
        int mask = table.length - 1;
        int slot = spread(hashOf.applyAsInt(node)) & mask;
        while (table[slot] != WatchTree.NONE) {
            slot = (slot + 1) & mask;
        }
        table[slot] = node;
    }

    /** Watch keys and node ids are sequential and name hashes weak in their low bits: mix before masking. */
    private static int spread(int hash) {
        int mixed = hash * 0x9E3779B9;
        return mixed ^ (mixed >>> 16);
    }
}
