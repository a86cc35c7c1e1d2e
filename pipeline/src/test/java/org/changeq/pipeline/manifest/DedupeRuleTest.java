package org.changeq.pipeline.manifest;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;

class DedupeRuleTest {

    private static LongSupplier claim(long index) {
        return () -> index;
    }

    private static final LongSupplier NO_ANCESTOR_RECORD = () -> RecentRecords.NEVER_STOPPED;

    private static LongSupplier ancestorStopped(long index) {
        return () -> index;
    }

    private static final LongSupplier CLAIMS_NOT_TO_BE_READ = () -> {
        throw new AssertionError("the claims were read although the earlier record does not cover the event");
    };

    @Test
    void aRepeatAboveTheHighestClaimIsDropped() {
        assertTrue(DedupeRule.mayDrop(RecordType.CHANGE, false, 11, RecordType.CHANGE, false, NO_ANCESTOR_RECORD, claim(10)));
        assertTrue(DedupeRule.mayDrop(RecordType.CHANGE, false, 11, RecordType.CHANGE, false, NO_ANCESTOR_RECORD, claim(ClaimBoard.NO_CLAIM)));
    }

    @Test
    void aRepeatOfARecordAConsumerHasClaimedIsKept() {
        assertFalse(DedupeRule.mayDrop(RecordType.CHANGE, false, 10, RecordType.CHANGE, false, NO_ANCESTOR_RECORD, claim(10)));
        assertFalse(DedupeRule.mayDrop(RecordType.CHANGE, false, 9, RecordType.CHANGE, false, NO_ANCESTOR_RECORD, claim(10)));
        assertFalse(DedupeRule.mayDrop(RecordType.SUBTREE, false, 9, RecordType.SUBTREE, false, NO_ANCESTOR_RECORD, claim(Long.MAX_VALUE)));
    }

    @Test
    void onlyACoveringEarlierRecordCanDropAnEvent() {
        assertTrue(DedupeRule.mayDrop(RecordType.SUBTREE, false, 11, RecordType.CHANGE, false, NO_ANCESTOR_RECORD, claim(10)));
        assertTrue(DedupeRule.mayDrop(RecordType.SUBTREE, false, 11, RecordType.SUBTREE, false, NO_ANCESTOR_RECORD, claim(10)));
        assertFalse(DedupeRule.mayDrop(RecordType.CHANGE, false, 11, RecordType.SUBTREE, false, NO_ANCESTOR_RECORD, CLAIMS_NOT_TO_BE_READ));
        assertFalse(DedupeRule.mayDrop(RecordType.DELETE, false, 11, RecordType.CHANGE, false, NO_ANCESTOR_RECORD, CLAIMS_NOT_TO_BE_READ));
        assertFalse(DedupeRule.mayDrop(RecordType.CHANGE, false, 11, RecordType.DELETE, false, NO_ANCESTOR_RECORD, CLAIMS_NOT_TO_BE_READ));
        assertFalse(DedupeRule.mayDrop(RecordType.DELETE, false, 11, RecordType.DELETE, false, NO_ANCESTOR_RECORD, CLAIMS_NOT_TO_BE_READ));
    }

    @Test
    void aContentWriteIsCoveredOnlyByAnEarlierContentWrite() {
        assertTrue(DedupeRule.mayDrop(RecordType.CHANGE, true, 11, RecordType.CHANGE, true, NO_ANCESTOR_RECORD, claim(10)));
        assertTrue(DedupeRule.mayDrop(RecordType.CHANGE, true, 11, RecordType.CHANGE, false, NO_ANCESTOR_RECORD, claim(10)),
                "a metadata change after a content write is compared by content anyway");
        assertFalse(DedupeRule.mayDrop(RecordType.CHANGE, false, 11, RecordType.CHANGE, true, NO_ANCESTOR_RECORD, CLAIMS_NOT_TO_BE_READ),
                "the earlier record lets the sync trust rsync's quick check, which misses this write");
        assertFalse(DedupeRule.mayDrop(RecordType.SUBTREE, false, 11, RecordType.CHANGE, true, NO_ANCESTOR_RECORD, CLAIMS_NOT_TO_BE_READ),
                "a subtree is sent with the quick check");
    }

    @Test
    void aRepeatIsKeptWhenAnAncestorWasDeletedOrReplacedAfterTheEarlierRecord() {
        // CHANGE a/f (11), DELETE a/ (12), CHANGE a/f: a sync leaves the record at 11 out, so it sends nothing.
        assertFalse(DedupeRule.mayDrop(RecordType.CHANGE, false, 11, RecordType.CHANGE, false, ancestorStopped(12),
                CLAIMS_NOT_TO_BE_READ));
        assertFalse(DedupeRule.mayDrop(RecordType.SUBTREE, false, 11, RecordType.SUBTREE, false, ancestorStopped(12),
                CLAIMS_NOT_TO_BE_READ));
        assertTrue(DedupeRule.mayDrop(RecordType.CHANGE, false, 13, RecordType.CHANGE, false, ancestorStopped(12),
                claim(10)), "the earlier record is already after the ancestor's deletion");
    }

    @Test
    void theAncestorsAreLookedUpOnlyForACoveringEarlierRecord() {
        LongSupplier ancestorsNotToBeRead = () -> {
            throw new AssertionError("the ancestors were looked up although the earlier record does not cover the event");
        };
        assertFalse(DedupeRule.mayDrop(RecordType.DELETE, false, 11, RecordType.CHANGE, false, ancestorsNotToBeRead,
                CLAIMS_NOT_TO_BE_READ));
    }
}
