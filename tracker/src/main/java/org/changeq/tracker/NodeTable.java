package org.changeq.tracker;

import java.util.function.ToIntFunction;
import org.changeq.tracker.WatchTree.Node;

/**
 * A hash set of watch-tree nodes in one array: open addressing with linear probing and backward-shift
 * deletion, so an entry costs one array slot and no entry object. At 200,000 watched directories that is
 * the difference between ~1.6 MB and ~13 MB of map entries. Callers walk the probe sequence themselves
 * ({@link #start}, {@link #next}, {@link #at}) so a lookup compares their own key without allocating.
 */
final class NodeTable {

    private static final int MIN_CAPACITY = 16;

    private final ToIntFunction<Node> hashOf;
    private Node[] slots = new Node[MIN_CAPACITY];
    private int size;

    NodeTable(ToIntFunction<Node> hashOf) {
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

    /** The node in {@code slot}; null ends a probe sequence. */
    Node at(int slot) {
        return slots[slot];
    }

    /** Adds a node the table does not hold. */
    void add(Node node) {
        if (size + 1 > slots.length >> 1) {
            resize(slots.length << 1);
        }
        insert(slots, node);
        size++;
    }

    /** Removes this very node; false if the table does not hold it. */
    boolean remove(Node node) {
        int slot = start(hashOf.applyAsInt(node));
        while (slots[slot] != node) {
            if (slots[slot] == null) {
                return false;
            }
            slot = next(slot);
        }
        slots[slot] = null;
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
        for (int slot = next(freed); slots[slot] != null; slot = next(slot)) {
            int home = start(hashOf.applyAsInt(slots[slot]));
            // The entry may fill the gap unless its home lies cyclically in (freed, slot].
            if (((slot - home) & mask) >= ((slot - freed) & mask)) {
                slots[freed] = slots[slot];
                slots[slot] = null;
                freed = slot;
            }
        }
    }

    private void resize(int capacity) {
        Node[] larger = new Node[capacity];
        for (Node node : slots) {
            if (node != null) {
                insert(larger, node);
            }
        }
        slots = larger;
    }

    private void insert(Node[] table, Node node) {
        int mask = table.length - 1;
        int slot = spread(hashOf.applyAsInt(node)) & mask;
        while (table[slot] != null) {
            slot = (slot + 1) & mask;
        }
        table[slot] = node;
    }

    /** Watch keys are sequential and name hashes weak in their low bits: mix before masking. */
    private static int spread(int hash) {
        int mixed = hash * 0x9E3779B9;
        return mixed ^ (mixed >>> 16);
    }
}
