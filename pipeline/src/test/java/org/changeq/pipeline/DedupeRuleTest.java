package org.changeq.pipeline;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;

class DedupeRuleTest {

    private static LongSupplier claim(long index) {
        return () -> index;
    }

    private static final LongSupplier CLAIMS_NOT_TO_BE_READ = () -> {
        throw new AssertionError("the claims were read although the earlier record does not cover the event");
    };

    @Test
    void aRepeatAboveTheHighestClaimIsDropped() {
        assertTrue(DedupeRule.mayDrop(RecordType.CHANGE, 11, RecordType.CHANGE, claim(10)));
        assertTrue(DedupeRule.mayDrop(RecordType.CHANGE, 11, RecordType.CHANGE, claim(ClaimBoard.NO_CLAIM)));
    }

    @Test
    void aRepeatOfARecordAConsumerHasClaimedIsKept() {
        assertFalse(DedupeRule.mayDrop(RecordType.CHANGE, 10, RecordType.CHANGE, claim(10)));
        assertFalse(DedupeRule.mayDrop(RecordType.CHANGE, 9, RecordType.CHANGE, claim(10)));
        assertFalse(DedupeRule.mayDrop(RecordType.SUBTREE, 9, RecordType.SUBTREE, claim(Long.MAX_VALUE)));
    }

    @Test
    void onlyACoveringEarlierRecordCanDropAnEvent() {
        assertTrue(DedupeRule.mayDrop(RecordType.SUBTREE, 11, RecordType.CHANGE, claim(10)));
        assertTrue(DedupeRule.mayDrop(RecordType.SUBTREE, 11, RecordType.SUBTREE, claim(10)));
        assertFalse(DedupeRule.mayDrop(RecordType.CHANGE, 11, RecordType.SUBTREE, CLAIMS_NOT_TO_BE_READ));
        assertFalse(DedupeRule.mayDrop(RecordType.DELETE, 11, RecordType.CHANGE, CLAIMS_NOT_TO_BE_READ));
        assertFalse(DedupeRule.mayDrop(RecordType.CHANGE, 11, RecordType.DELETE, CLAIMS_NOT_TO_BE_READ));
        assertFalse(DedupeRule.mayDrop(RecordType.DELETE, 11, RecordType.DELETE, CLAIMS_NOT_TO_BE_READ));
    }
}
