package org.changeq.pipeline.manifest;

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
        assertTrue(DedupeRule.mayDrop(RecordType.CHANGE, false, 11, RecordType.CHANGE, false, claim(10)));
        assertTrue(DedupeRule.mayDrop(RecordType.CHANGE, false, 11, RecordType.CHANGE, false, claim(ClaimBoard.NO_CLAIM)));
    }

    @Test
    void aRepeatOfARecordAConsumerHasClaimedIsKept() {
        assertFalse(DedupeRule.mayDrop(RecordType.CHANGE, false, 10, RecordType.CHANGE, false, claim(10)));
        assertFalse(DedupeRule.mayDrop(RecordType.CHANGE, false, 9, RecordType.CHANGE, false, claim(10)));
        assertFalse(DedupeRule.mayDrop(RecordType.SUBTREE, false, 9, RecordType.SUBTREE, false, claim(Long.MAX_VALUE)));
    }

    @Test
    void onlyACoveringEarlierRecordCanDropAnEvent() {
        assertTrue(DedupeRule.mayDrop(RecordType.SUBTREE, false, 11, RecordType.CHANGE, false, claim(10)));
        assertTrue(DedupeRule.mayDrop(RecordType.SUBTREE, false, 11, RecordType.SUBTREE, false, claim(10)));
        assertFalse(DedupeRule.mayDrop(RecordType.CHANGE, false, 11, RecordType.SUBTREE, false, CLAIMS_NOT_TO_BE_READ));
        assertFalse(DedupeRule.mayDrop(RecordType.DELETE, false, 11, RecordType.CHANGE, false, CLAIMS_NOT_TO_BE_READ));
        assertFalse(DedupeRule.mayDrop(RecordType.CHANGE, false, 11, RecordType.DELETE, false, CLAIMS_NOT_TO_BE_READ));
        assertFalse(DedupeRule.mayDrop(RecordType.DELETE, false, 11, RecordType.DELETE, false, CLAIMS_NOT_TO_BE_READ));
    }

    @Test
    void aContentWriteIsCoveredOnlyByAnEarlierContentWrite() {
        assertTrue(DedupeRule.mayDrop(RecordType.CHANGE, true, 11, RecordType.CHANGE, true, claim(10)));
        assertTrue(DedupeRule.mayDrop(RecordType.CHANGE, true, 11, RecordType.CHANGE, false, claim(10)),
                "a metadata change after a content write is compared by content anyway");
        assertFalse(DedupeRule.mayDrop(RecordType.CHANGE, false, 11, RecordType.CHANGE, true, CLAIMS_NOT_TO_BE_READ),
                "the earlier record lets the sync trust rsync's quick check, which misses this write");
        assertFalse(DedupeRule.mayDrop(RecordType.SUBTREE, false, 11, RecordType.CHANGE, true, CLAIMS_NOT_TO_BE_READ),
                "a subtree is sent with the quick check");
    }
}
