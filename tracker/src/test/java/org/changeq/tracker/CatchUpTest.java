package org.changeq.tracker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import org.changeq.pipeline.manifest.IndexFile;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.manifest.ManifestWriter;
import org.changeq.pipeline.manifest.QueueRecord;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.manifest.WriterLock;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.testing.ExpectLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

/** When a starting tracker catches up from, and when it cannot tell and records OVERFLOW instead. */
class CatchUpTest {

    @TempDir
    Path temp;

    private IndexFile watermarkFile() {
        return new StateLayout(temp.resolve("state")).trackerWatermark();
    }

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
                ManifestWriter.WRITER_THREADS, failure -> { }).close();
        return queue;
    }

    private CatchUp.Decision decide(Path queue, OptionalLong pending, long nowMillis) {
        return CatchUp.decide(queue, pending, watermarkFile(), true, nowMillis);
    }

    @Test
    void theFirstStartHasNothingToCatchUp() {
        CatchUp.Decision decision = CatchUp.decide(temp.resolve("queue"), OptionalLong.empty(), watermarkFile(), false,
                1_000);

        assertFalse(decision.lost());
        assertEquals(TreeWatcher.NO_CATCH_UP, decision.sinceMillis());
    }

    @Test
    void aMissingQueueAfterAnEarlierRunIsALoss() {
        assertTrue(decide(temp.resolve("queue"), OptionalLong.empty(), 1_000).lost());
        assertTrue(CatchUp.decide(temp.resolve("queue"), OptionalLong.of(5), watermarkFile(), false, 1_000).lost());
    }

    @Test
    void withoutAWatermarkItCatchesUpFromTheLastRecordMinusTheMargin() {
        Path queue = queueWithOneSession();
        long last = lastRecordTime(queue);

        CatchUp.Decision decision = decide(queue, OptionalLong.empty(), last + 60_000);

        assertFalse(decision.lost());
        assertEquals(last - CatchUp.SAFETY_MARGIN_MILLIS, decision.sinceMillis());
        assertTrue(decision.description().contains("clean stop"), decision.description());
    }

    @Test
    void anUnfinishedEarlierCatchUpWinsWhenItIsOlder() {
        Path queue = queueWithOneSession();
        long last = lastRecordTime(queue);

        assertEquals(last - 3_600_000, decide(queue, OptionalLong.of(last - 3_600_000), last).sinceMillis());
        assertEquals(last - CatchUp.SAFETY_MARGIN_MILLIS, decide(queue, OptionalLong.of(last), last).sinceMillis());
    }

    @Test
    void aLastRecordInTheFutureMeansTheClockWentBackwards() {
        Path queue = queueWithOneSession();
        long last = lastRecordTime(queue);

        CatchUp.Decision decision = decide(queue, OptionalLong.empty(), last - 10_000);

        assertTrue(decision.lost());
        assertTrue(decision.description().contains("clock went backwards"), decision.description());
    }

    @Test
    void anUnreadableWatermarkIsALoss() throws IOException {
        Path queue = queueWithOneSession();
        // A file renamed into place without fsync can be empty after a power cut.
        Files.createDirectories(watermarkFile().path().getParent());
        Files.writeString(watermarkFile().path(), "");

        CatchUp.Decision decision = decide(queue, OptionalLong.empty(), lastRecordTime(queue) + 1_000);

        assertTrue(decision.lost());
        assertTrue(decision.description().contains(watermarkFile().path().toString()), decision.description());
    }

    /**
     * The reader walks a new tree for 10 s while a change elsewhere waits in the kernel queue; the tracker dies
     * before reading it. The walk's records are stamped long after that change, but the next start still
     * publishes it, because the watermark stayed before it.
     */
    @Test
    @ExpectLog(level = Level.ERROR, logger = "ManifestWriter", contains = "no STOP is appended: killed while walking")
    void aChangeQueuedWhileTheReaderWalkedIsCaughtAfterACrashHoweverLateTheLastRecord() throws Exception {
        Path changed = Files.createDirectories(temp.resolve("root")).resolve("queued-while-walking");
        AtomicLong wallClock = new AtomicLong(System.currentTimeMillis());
        InstantSource clock = () -> Instant.ofEpochMilli(wallClock.get());
        Path queue = temp.resolve("queue");
        ManifestWriter writer = ManifestWriter.start(WriterLock.acquire(queue, temp.resolve("state")), 64,
                ManifestWriter.WRITER_THREADS, clock, failure -> { });
        // The reader found the kernel queue empty, then the change happened, then a new directory appeared.
        writer.publishWatermark(wallClock.get());
        Files.writeString(changed, "x");
        long changeTime = ((FileTime) Files.getAttribute(changed, "unix:ctime")).toMillis();
        wallClock.set(changeTime + 10_000);
        writer.publish(RecordType.CHANGE, "r", false, "new-tree/deep/file".getBytes());
        assertTrue(writer.awaitAppended(Duration.ofSeconds(10)));
        writer.closeWithoutStop("killed while walking");

        CatchUp.Decision decision = decide(queue, OptionalLong.empty(), wallClock.get() + 1_000);

        assertTrue(changeTime < lastRecordTime(queue) - CatchUp.SAFETY_MARGIN_MILLIS,
                "the last record alone would have missed it");
        assertFalse(decision.lost(), decision.description());
        assertTrue(changeTime >= decision.sinceMillis(), "a change at " + changeTime + " is not published by a scan "
                + "since " + decision.sinceMillis() + ": " + decision.description());
    }
}
