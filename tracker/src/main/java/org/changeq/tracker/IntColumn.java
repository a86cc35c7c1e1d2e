package org.changeq.tracker;

import java.util.Arrays;

/**
 * An {@code int} for each node id, in pages of 4,096 allocated as ids are first set: growing copies nothing, so
 * watching a tree of any size leaves no garbage behind (one array grown by copying left ~1.5 times its final size
 * for the collector, in the old generation where it is collected last), and at most one page is unused.
 */
final class IntColumn {

    private static final int PAGE_BITS = 12;
    private static final int PAGE_MASK = (1 << PAGE_BITS) - 1;

    private int[][] pages = new int[1][];

    int get(int id) {
        return pages[id >>> PAGE_BITS][id & PAGE_MASK];
    }

    void set(int id, int value) {
        int page = id >>> PAGE_BITS;
        if (page >= pages.length) {
            pages = Arrays.copyOf(pages, Math.max(page + 1, pages.length * 2));
        }
        if (pages[page] == null) {
            pages[page] = new int[1 << PAGE_BITS];
        }
        pages[page][id & PAGE_MASK] = value;
    }
}
