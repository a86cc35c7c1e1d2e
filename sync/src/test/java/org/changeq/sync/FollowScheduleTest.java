package org.changeq.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.changeq.pipeline.config.FollowSettings;
import org.changeq.sync.FollowSchedule.Trigger;
import org.junit.jupiter.api.Test;

class FollowScheduleTest {

    private static final long SECOND = 1_000_000_000L;
    /** nanoTime readings may be negative or wrap: start near the end of the range. */
    private static final long T0 = Long.MAX_VALUE - 100 * SECOND;

    private final FollowSchedule schedule = new FollowSchedule(FollowSettings.DEFAULT);

    @Test
    void aChangeIsDueOnceQuietForTwoSeconds() {
        assertEquals(Optional.empty(), schedule.due(T0));
        assertEquals(Long.MAX_VALUE, schedule.nanosUntilDue(T0), "nothing waits: nothing to wake up for");
        schedule.changeArrived(T0);
        schedule.changeArrived(T0 + SECOND);
        assertEquals(Optional.empty(), schedule.due(T0 + 2 * SECOND), "the second change restarted the quiet time");
        assertEquals(SECOND, schedule.nanosUntilDue(T0 + 2 * SECOND));
        assertEquals(Optional.of(Trigger.QUIET), schedule.due(T0 + 3 * SECOND));
        assertEquals(2, schedule.changes());
        schedule.committed();
        assertEquals(Optional.empty(), schedule.due(T0 + 10 * SECOND));
    }

    @Test
    void aFileWrittenWithoutPauseIsSentOnceItsOldestChangeWaitedMaxDelay() {
        List<Long> waited = new ArrayList<>();
        long firstWaiting = T0;
        for (long now = T0; now - T0 < 100 * SECOND; now += SECOND / 2) {
            if (schedule.changes() == 0) {
                firstWaiting = now;
            }
            schedule.changeArrived(now);
            if (schedule.due(now).isPresent()) {
                assertEquals(Optional.of(Trigger.MAX_DELAY), schedule.due(now));
                waited.add((now - firstWaiting) / SECOND);
                schedule.committed();
                schedule.succeeded();
            }
        }
        assertEquals(List.of(30L, 30L, 30L), waited);
    }

    @Test
    void aLargeBatchIsDueAtOnce() {
        for (int i = 0; i < FollowSettings.DEFAULT_MAX_BATCH - 1; i++) {
            schedule.changeArrived(T0);
        }
        assertEquals(Optional.empty(), schedule.due(T0));
        schedule.changeArrived(T0);
        assertEquals(Optional.of(Trigger.MAX_BATCH), schedule.due(T0));
    }

    @Test
    void failedRunsWaitTwiceAsLongEachTimeUpToRetryMaxWhateverArrives() {
        FollowSchedule retrying = new FollowSchedule(new FollowSettings(Duration.ZERO, Duration.ofSeconds(30), 10,
                Duration.ofSeconds(10)));
        long now = T0;
        List<Long> waits = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            waits.add(retrying.failed(now).toSeconds());
            for (int j = 0; j < 20; j++) {
                retrying.changeArrived(now);
            }
            assertTrue(retrying.retrying());
            assertEquals(Optional.empty(), retrying.due(now + waits.get(i) * SECOND - 1), "a batch does not end the wait");
            now += waits.get(i) * SECOND;
            assertEquals(Optional.of(Trigger.RETRY), retrying.due(now));
        }
        assertEquals(List.of(1L, 2L, 4L, 8L, 10L, 10L), waits);
        retrying.committed();
        retrying.succeeded();
        assertFalse(retrying.retrying());
        assertEquals(Optional.empty(), retrying.due(now));
        assertEquals(1, retrying.failed(now).toSeconds(), "after a success the waits start over");
    }

    @Test
    void recordsTheRouteDoesNotSendAreCommittedAfterAnHourOrWithTheNextRun() {
        schedule.otherArrived(T0);
        schedule.otherArrived(T0 + 10 * SECOND);
        assertEquals(Optional.empty(), schedule.due(T0 + 3599 * SECOND));
        assertEquals(SECOND, schedule.nanosUntilDue(T0 + 3599 * SECOND));
        assertEquals(Optional.of(Trigger.HOUSEKEEPING), schedule.due(T0 + 3600 * SECOND));

        schedule.changeArrived(T0 + 3600 * SECOND);
        assertEquals(Optional.empty(), schedule.due(T0 + 3601 * SECOND), "a change waits for quiet, as always");
        schedule.committed();
        assertEquals(Optional.empty(), schedule.due(T0 + 7200 * SECOND), "the run committed the others too");
    }
}
