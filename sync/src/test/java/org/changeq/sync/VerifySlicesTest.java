package org.changeq.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.changeq.pipeline.state.VerifyState;
import org.junit.jupiter.api.Test;

class VerifySlicesTest {

    private static final long DAY = Duration.ofDays(1).toMillis();

    /**
     * Runs at random times (several a day, or days apart) over a tree that gains and loses paths between them: every
     * path present throughout a cycle is verified exactly once in it, whatever else changed, and the cycle ends.
     */
    @Test
    void overACycleEveryUnchangedPathIsInExactlyOneSlice() {
        for (long seed = 0; seed < 200; seed++) {
            Random random = new Random(seed);
            int slices = 1 + random.nextInt(40);
            List<byte[]> stable = paths(random, 500, "stable");
            Map<ByteBuffer, Integer> verified = new HashMap<>();
            long now = 1_700_000_000_000L + random.nextInt(1_000_000);
            VerifyState state = VerifyState.NONE;
            int runs = 0;
            do {
                List<byte[]> tree = new ArrayList<>(stable);
                tree.addAll(paths(random, random.nextInt(50), "churn" + runs));
                VerifySlices.Due due = VerifySlices.due(state, slices, now);
                for (byte[] path : tree) {
                    if (due.contains(VerifySlices.sliceOf(path, due.slices()))) {
                        verified.merge(ByteBuffer.wrap(path), 1, Integer::sum);
                    }
                }
                state = new VerifyState(due.cycleStartMillis(), due.slices(), due.to(), 0, 0, now, now,
                        due.completesCycle() ? now : state.lastCompleteCycleMillis(), List.of());
                now += random.nextInt(4) == 0 ? random.nextInt(4) * DAY : random.nextLong(DAY / 3, DAY + DAY / 3);
                runs++;
                assertTrue(runs < 10 * slices + 10, "seed " + seed + ": the cycle never ends");
            } while (state.slicesDone() < state.slices());
            for (byte[] path : stable) {
                assertEquals(1, verified.getOrDefault(ByteBuffer.wrap(path), 0), "seed " + seed + ": a path is in"
                        + " exactly one slice of the cycle");
            }
        }
    }

    @Test
    void aDailyRunVerifiesOneSliceAndASecondRunThatDayNone() {
        long start = 1_700_000_000_000L;
        VerifySlices.Due first = VerifySlices.due(VerifyState.NONE, 30, start);
        assertEquals(new VerifySlices.Due(start, 30, 0, 1), first);
        VerifyState after = new VerifyState(start, 30, 1, 0, 0, start, start, 0, List.of());
        assertEquals(new VerifySlices.Due(start, 30, 1, 1), VerifySlices.due(after, 30, start + DAY / 3));
        assertEquals(new VerifySlices.Due(start, 30, 1, 2), VerifySlices.due(after, 30, start + DAY - 60_000));
        assertEquals(new VerifySlices.Due(start, 30, 1, 5), VerifySlices.due(after, 30, start + 4 * DAY),
                "missed days are caught up");
        assertEquals(new VerifySlices.Due(start, 30, 1, 30), VerifySlices.due(after, 60, start + 90 * DAY),
                "a cycle keeps its slices when verify-cycle changes, and never goes past them");
    }

    @Test
    void slicesAreEvenlyFilled() {
        Set<Integer> seen = new HashSet<>();
        int[] counts = new int[30];
        for (byte[] path : paths(new Random(1), 30_000, "photos/2026")) {
            int slice = VerifySlices.sliceOf(path, 30);
            seen.add(slice);
            counts[slice]++;
        }
        assertEquals(30, seen.size());
        for (int count : counts) {
            assertTrue(count > 800 && count < 1200, "one slice holds " + count + " of 30000");
        }
    }

    private static List<byte[]> paths(Random random, int count, String prefix) {
        List<byte[]> paths = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] name = new byte[1 + random.nextInt(12)];
            random.nextBytes(name);
            for (int j = 0; j < name.length; j++) {
                if (name[j] == 0 || name[j] == '/') {
                    name[j] = 'x';
                }
            }
            byte[] path = (prefix + "/" + i + "/").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            byte[] joined = java.util.Arrays.copyOf(path, path.length + name.length);
            System.arraycopy(name, 0, joined, path.length, name.length);
            paths.add(joined);
        }
        return paths;
    }
}
