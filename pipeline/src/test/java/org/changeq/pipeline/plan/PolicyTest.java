package org.changeq.pipeline.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.DayOfWeek;
import java.time.LocalDate;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.Collectors;
import org.changeq.pipeline.config.FullWindow;
import org.changeq.pipeline.plan.SyncPolicy.Facts;
import org.changeq.pipeline.plan.SyncPolicy.Reason;
import org.junit.jupiter.api.Test;

class PolicyTest {

    private static final LocalDate TODAY = LocalDate.of(2026, 11, 3);
    private static final FullWindow FIRST_WEEK =
            new FullWindow(IntStream.rangeClosed(1, 7).boxed().collect(Collectors.toSet()), Set.of());

    private static Facts facts() {
        return new Facts(true, true, false, true, false, false, false, false, false, 10, 100, Optional.empty(), Optional.empty(), TODAY);
    }

    private static Optional<Reason> decide(Facts facts) {
        return SyncPolicy.fullSyncReason(facts);
    }

    @Test
    void incrementalWhenNothingDemandsAFullSync() {
        assertEquals(Optional.empty(), decide(facts()));
    }

    @Test
    void eachRuleMakesTheRunFullWithItsReason() {
        Facts f = facts();
        assertEquals(Optional.of(Reason.FIRST_RUN), decide(new Facts(false, true, false, true, false, false, false, false, false, 0, 100,
                Optional.empty(), Optional.empty(), TODAY)));
        assertEquals(Optional.of(Reason.IDENTITY), decide(new Facts(true, false, true, true, true, true, true, true, true, 1000, 100,
                Optional.empty(), Optional.empty(), TODAY)), "an unrecorded root identity wins over every reason but the first run");
        assertEquals(Optional.of(Reason.ROUTE_CHANGED), decide(new Facts(true, true, true, true, true, true, true, true, true,
                1000, 100, Optional.of(FIRST_WEEK), Optional.empty(), TODAY)), "a changed route wins over force, gap and the rest");
        assertEquals(Optional.of(Reason.FORCED), decide(new Facts(true, true, false, true, true, false, false, false, false, 0, 100,
                Optional.empty(), Optional.empty(), TODAY)));
        assertEquals(Optional.of(Reason.FLAG_FILE), decide(new Facts(true, true, false, true, false, true, false, false, false, 0, 100,
                Optional.empty(), Optional.empty(), TODAY)));
        assertEquals(Optional.of(Reason.GAP), decide(new Facts(true, true, false, false, false, false, false, false, false, 0, 100,
                Optional.empty(), Optional.empty(), TODAY)));
        assertEquals(Optional.of(Reason.GAP), decide(new Facts(true, true, false, true, false, false, false, true, false, 0, 100,
                Optional.empty(), Optional.empty(), TODAY)));
        assertEquals(Optional.of(Reason.OVERFLOW), decide(new Facts(true, true, false, true, false, false, true, false, false, 0, 100,
                Optional.empty(), Optional.empty(), TODAY)));
        assertEquals(Optional.of(Reason.RETRY_OVERFLOW), decide(new Facts(true, true, false, true, false, false, false, false, true,
                101, 100, Optional.of(FIRST_WEEK), Optional.empty(), TODAY)), "an overflowed retry list wins over backlog and window");
        assertEquals(Optional.of(Reason.BACKLOG), decide(new Facts(true, true, false, true, false, false, false, false, false, 101, 100,
                Optional.empty(), Optional.empty(), TODAY)));
        assertEquals(Optional.empty(), decide(new Facts(true, true, false, true, false, false, false, false, false, 100, 100,
                Optional.empty(), Optional.empty(), TODAY)), "the threshold itself is still incremental");
        assertEquals(Optional.of(Reason.WINDOW), decide(new Facts(true, true, false, true, false, false, false, false, false, 0, 100,
                Optional.of(FIRST_WEEK), Optional.empty(), TODAY)));
        assertEquals(Optional.empty(), decide(f));
    }

    @Test
    void theFirstRunWinsOverEveryOtherReason() {
        assertEquals(Optional.of(Reason.FIRST_RUN), decide(new Facts(false, true, false, false, true, true, true, true, true, 1000, 100,
                Optional.of(FIRST_WEEK), Optional.empty(), TODAY)));
    }

    @Test
    void aWindowOwesOneFullSyncPerRunOfDays() {
        assertTrue(SyncPolicy.fullSyncDue(FIRST_WEEK, Optional.empty(), TODAY));
        assertTrue(SyncPolicy.fullSyncDue(FIRST_WEEK, Optional.of(LocalDate.of(2026, 10, 7)), TODAY),
                "last month's window does not count");
        assertFalse(SyncPolicy.fullSyncDue(FIRST_WEEK, Optional.of(LocalDate.of(2026, 11, 1)), TODAY));
        assertFalse(SyncPolicy.fullSyncDue(FIRST_WEEK, Optional.of(TODAY), TODAY));
        assertFalse(SyncPolicy.fullSyncDue(FIRST_WEEK, Optional.empty(), LocalDate.of(2026, 11, 8)), "outside the window");
        FullWindow sundays = new FullWindow(Set.of(), Set.of(DayOfWeek.SUNDAY));
        LocalDate sunday = LocalDate.of(2026, 11, 8);
        assertTrue(SyncPolicy.fullSyncDue(sundays, Optional.of(sunday.minusDays(7)), sunday));
        assertFalse(SyncPolicy.fullSyncDue(sundays, Optional.of(sunday), sunday));
    }
}
