package org.changeq.sync;

import java.time.Duration;
import org.changeq.pipeline.state.VerifyState;

/**
 * The rotating slices of {@code changeq-sync verify}: a path belongs to the slice its bytes hash to (FNV-1a, 64 bits),
 * so it stays in its slice whatever else in the tree changes, and a cycle of {@code verify-cycle} days verifies its
 * slices in order, one a day. A run verifies every slice that has come due since the last one: runs missed for days
 * are caught up, a second run on one day verifies no slice. Stateless.
 */
final class VerifySlices {

    private static final long DAY_MILLIS = Duration.ofDays(1).toMillis();
    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    /**
     * The slices one run verifies.
     *
     * @param cycleStartMillis when the cycle began: now, if this run begins it
     * @param slices           the slices of that cycle
     * @param from             the first slice this run verifies
     * @param to               one past the last; {@code from == to} when none is due
     */
    record Due(long cycleStartMillis, int slices, int from, int to) {

        boolean contains(int slice) {
            return slice >= from && slice < to;
        }

        boolean completesCycle() {
            return to == slices && from < to;
        }
    }

    private VerifySlices() {
    }

    /** The slice of {@code path} among {@code slices}. */
    static int sliceOf(byte[] path, int slices) {
        long hash = FNV_OFFSET;
        for (byte b : path) {
            hash ^= b & 0xff;
            hash *= FNV_PRIME;
        }
        return (int) Math.floorMod(hash, (long) slices);
    }

    /**
     * The slices due at {@code nowMillis} after {@code state}: a route verified for the first time, or whose last cycle
     * is complete, begins a cycle of {@code configuredSlices} now. Half a day of slack lets a daily timer that fires a
     * little early still find its slice due.
     */
    static Due due(VerifyState state, int configuredSlices, long nowMillis) {
        if (state.slices() == 0 || state.slicesDone() == state.slices()) {
            return new Due(nowMillis, configuredSlices, 0, 1);
        }
        long days = Math.max(0, (nowMillis - state.cycleStartMillis() + DAY_MILLIS / 2) / DAY_MILLIS);
        int dueTo = (int) Math.min(state.slices(), days + 1);
        return new Due(state.cycleStartMillis(), state.slices(), state.slicesDone(),
                Math.max(state.slicesDone(), dueTo));
    }
}
