package org.changeq.tracker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.OptionalLong;
import org.changeq.pipeline.ManifestReader;
import org.changeq.pipeline.ManifestWriter;
import org.changeq.pipeline.QueueRecord;
import org.changeq.pipeline.WriterLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When a starting tracker catches up from, and when it cannot tell and records OVERFLOW instead. */
class CatchUpTest {

    @TempDir
    Path temp;

    private long lastRecordTime(Path queue) {
        try (ManifestReader reader = ManifestReader.open(queue)) {
            long last = reader.lastIndex();
            QueueRecord[] found = new QueueRecord[1];
            reader.readFrom(last, last, (index, record) -> {
                found[0] = record;
                return false;
            });
            return found[0].timeMillis();
        }
    }

    private Path queueWithOneSession() {
        Path queue = temp.resolve("queue");
        ManifestWriter.start(WriterLock.acquire(queue, temp.resolve("state")), 64,
                runnable -> new Thread(runnable, "changeq-writer"),
                failure -> { }).close();
        return queue;
    }

    @Test
    void theFirstStartHasNothingToCatchUp() {
        CatchUp.Decision decision = CatchUp.decide(temp.resolve("queue"), OptionalLong.empty(), false, 1_000);

        assertFalse(decision.lost());
        assertEquals(TreeWatcher.NO_CATCH_UP, decision.sinceMillis());
    }

    @Test
    void aMissingQueueAfterAnEarlierRunIsALoss() {
        assertTrue(CatchUp.decide(temp.resolve("queue"), OptionalLong.empty(), true, 1_000).lost());
        assertTrue(CatchUp.decide(temp.resolve("queue"), OptionalLong.of(5), false, 1_000).lost());
    }

    @Test
    void itCatchesUpFromTheLastRecordMinusTheMargin() {
        Path queue = queueWithOneSession();
        long last = lastRecordTime(queue);

        CatchUp.Decision decision = CatchUp.decide(queue, OptionalLong.empty(), true, last + 60_000);

        assertFalse(decision.lost());
        assertEquals(last - CatchUp.SAFETY_MARGIN_MILLIS, decision.sinceMillis());
        assertTrue(decision.description().contains("clean stop"), decision.description());
    }

    @Test
    void anUnfinishedEarlierCatchUpWinsWhenItIsOlder() {
        Path queue = queueWithOneSession();
        long last = lastRecordTime(queue);

        assertEquals(last - 3_600_000, CatchUp.decide(queue, OptionalLong.of(last - 3_600_000), true, last).sinceMillis());
        assertEquals(last - CatchUp.SAFETY_MARGIN_MILLIS, CatchUp.decide(queue, OptionalLong.of(last), true, last)
                .sinceMillis());
    }

    @Test
    void aLastRecordInTheFutureMeansTheClockWentBackwards() {
        Path queue = queueWithOneSession();
        long last = lastRecordTime(queue);

        CatchUp.Decision decision = CatchUp.decide(queue, OptionalLong.empty(), true, last - 10_000);

        assertTrue(decision.lost());
        assertTrue(decision.description().contains("clock went backwards"), decision.description());
    }
}
