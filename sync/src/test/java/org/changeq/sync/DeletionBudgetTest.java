package org.changeq.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.OptionalLong;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.pipeline.config.TestConfigs;
import org.junit.jupiter.api.Test;

/** What a route may still delete within its max-delete-window. */
class DeletionBudgetTest {

    private static final RouteConfig QUARTER = TestConfigs.route("{root: nfs, dest: /dst}");

    @Test
    void aPercentageIsOfWhatTheDestinationHeldBeforeTheWindowsDeletions() {
        // 202 paths; two runs deleted 20 each: the destination holds 162 now, 25 % of 202 is 51.
        DeletionGuard.Budget budget = DeletionGuard.budget(QUARTER, OptionalLong.of(162), 40);
        assertEquals(OptionalLong.of(51), budget.limit());
        assertEquals(11, budget.remaining(), "a third run of 20 passes the limit");
        assertEquals(51, DeletionGuard.budget(QUARTER, OptionalLong.of(202), 0).remaining());
    }

    @Test
    void aRouteThatGrewIsMeasuredAtItsSizeNow() {
        RouteConfig all = TestConfigs.route("{root: nfs, dest: /dst, max-delete: \"100%\"}");
        assertEquals(4004, DeletionGuard.budget(all, OptionalLong.of(4004), 0).remaining());
    }

    @Test
    void aCountIsACountAndAnUnknownSizeAllowsNoPercentage() {
        RouteConfig counted = TestConfigs.route("{root: nfs, dest: /dst, max-delete: 100}");
        assertEquals(30, DeletionGuard.budget(counted, OptionalLong.empty(), 70).remaining());
        assertEquals(0, DeletionGuard.budget(counted, OptionalLong.of(10), 170).remaining(), "never below zero");
        assertEquals(0, DeletionGuard.budget(QUARTER, OptionalLong.empty(), 0).remaining());
        assertEquals(OptionalLong.empty(), DeletionGuard.budget(QUARTER, OptionalLong.empty(), 0).limit());
    }
}
