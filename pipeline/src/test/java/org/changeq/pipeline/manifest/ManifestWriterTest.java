package org.changeq.pipeline.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import org.changeq.pipeline.state.StateLayout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;
import java.util.function.BooleanSupplier;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.pipeline.testing.Poll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

class ManifestWriterTest {

    @TempDir
    Path dir;

    private final List<Throwable> appendFailures = new CopyOnWriteArrayList<>();

    @AfterEach
    void noAppendFailed() {
        assertTrue(appendFailures.isEmpty(), appendFailures.toString());
    }

    private ManifestWriter start() {
        return ManifestWriter.start(lock(), 1024, ManifestWriter.WRITER_THREADS, appendFailures::add);
    }

    private WriterLock lock() {
        return WriterLock.acquire(dir.resolve("queue"), dir.resolve("state"));
    }

    private List<QueueRecord> records() {
        return TestQueues.records(dir.resolve("queue"));
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        Poll.until(Duration.ofSeconds(10), "the writer's counters", condition::getAsBoolean);
    }

    @Test
    void recordsArriveInOrderBetweenStartAndStop() {
        try (ManifestWriter writer = start()) {
            writer.publish(RecordType.CHANGE, "nfs", false, bytes("a"));
            writer.publish(RecordType.SUBTREE, "nfs", true, bytes("dir"));
            writer.publish(RecordType.DELETE, "nfs", false, bytes("b"));
            writer.publishMarker(RecordType.OVERFLOW, "nfs");
        }
        List<QueueRecord> records = records();
        assertEquals(List.of(RecordType.START, RecordType.CHANGE, RecordType.SUBTREE, RecordType.DELETE,
                RecordType.OVERFLOW, RecordType.STOP), records.stream().map(QueueRecord::type).toList());
        assertEquals("dir", new String(records.get(2).path(), StandardCharsets.UTF_8));
        assertTrue(records.get(2).directory());
        assertEquals("nfs", records.get(4).root());
    }

    @Test
    void everyOverflowMarkerAppendedIsCountedWhateverItStandsFor() throws InterruptedException {
        try (ManifestWriter writer = start()) {
            writer.publishMarker(RecordType.OVERFLOW, "nfs");
            writer.publish(RecordType.CHANGE, "nfs", false, bytes("a"));
            writer.publishMarker(RecordType.OVERFLOW, "photos");
            writer.publishMarker(RecordType.RESCAN, "nfs");
            await(() -> writer.recordsAppended() == 5);
            assertEquals(2, writer.overflowsAppended());
            assertEquals(0, writer.ringOverflows(), "none of them was the ring's");
        }
    }

    @Test
    void repeatedRewritesWithNoConsumerLeaveOneRecordPerPath() throws InterruptedException {
        int files = 1_000;
        int rewrites = 20;
        // The default ring: the writer releases ring slots a moment after it counts a batch, so a ring barely
        // larger than a round could overflow when the next round starts.
        try (ManifestWriter writer = ManifestWriter.start(lock(),
                ManifestWriter.DEFAULT_RING_SIZE, ManifestWriter.WRITER_THREADS, appendFailures::add)) {
            for (int round = 0; round < rewrites; round++) {
                for (int file = 0; file < files; file++) {
                    writer.publish(RecordType.CHANGE, "nfs", false, bytes("dir/file-" + file));
                }
                // Let the writer catch up so later rounds fall into later batches, not only this one.
                long published = (long) (round + 1) * files;
                await(() -> writer.recordsAppended() + writer.eventsDeduplicated() >= published + 1);
            }
            assertEquals(0, writer.ringOverflows());
        }
        long changes = records().stream().filter(r -> r.type() == RecordType.CHANGE).count();
        assertEquals(files, changes);
    }

    @Test
    void anEventIsNeverDroppedAgainstARecordAConsumerHasClaimed() throws Exception {
        ClaimBoard claims = new ClaimBoard(dir.resolve("state"));
        try (ManifestWriter writer = start()) {
            writer.publish(RecordType.CHANGE, "nfs", false, bytes("f"));
            await(() -> writer.recordsAppended() == 2);
            try (ManifestReader reader = ManifestReader.open(dir.resolve("queue"))) {
                claims.publish("mirror", reader.lastIndex(), java.util.Optional.empty());
            }
            writer.publish(RecordType.CHANGE, "nfs", false, bytes("f"));
            await(() -> writer.recordsAppended() == 3);
            // This one may be dropped: the record just appended lies above every claim.
            writer.publish(RecordType.CHANGE, "nfs", false, bytes("f"));
            await(() -> writer.eventsDeduplicated() == 1);
        }
        assertEquals(2, records().stream().filter(r -> r.type() == RecordType.CHANGE).count());
    }

    @Test
    void aClaimPublishedAfterTheEventWasObservedButBeforeTheClaimsAreReadKeepsTheRepeat() throws Exception {
        ClaimBoard claims = new ClaimBoard(dir.resolve("state"));
        java.util.concurrent.atomic.AtomicBoolean holdClaimRead = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.CountDownLatch readingClaims = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch claimPublished = new java.util.concurrent.CountDownLatch(1);
        java.util.function.LongSupplier heldClaims = () -> {
            if (holdClaimRead.get()) {
                readingClaims.countDown();
                try {
                    assertTrue(claimPublished.await(10, java.util.concurrent.TimeUnit.SECONDS));
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }
            return claims.highestClaim();
        };
        try (ManifestWriter writer = ManifestWriter.start(lock(), heldClaims, 1024, ManifestWriter.WRITER_THREADS,
                java.time.InstantSource.system(), appendFailures::add)) {
            writer.publish(RecordType.CHANGE, "nfs", false, bytes("f"));
            await(() -> writer.recordsAppended() == 2);
            long earlier;
            try (ManifestReader reader = ManifestReader.open(dir.resolve("queue"))) {
                earlier = reader.lastIndex();
            }
            holdClaimRead.set(true);

            writer.publish(RecordType.CHANGE, "nfs", false, bytes("f"));
            assertTrue(readingClaims.await(10, java.util.concurrent.TimeUnit.SECONDS));
            // A consumer claims the earlier record (and may read and sync it) after the event was observed.
            claims.publish("mirror", earlier, java.util.Optional.empty());
            claimPublished.countDown();
            await(() -> writer.recordsAppended() + writer.eventsDeduplicated() == 3);

            assertEquals(0, writer.eventsDeduplicated());
        }
        assertEquals(2, records().stream().filter(r -> r.type() == RecordType.CHANGE).count());
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "ManifestAppender", contains = "cannot read consumer claims")
    void unreadableClaimsWarnOnceUntilTheyAreReadableAgain() throws InterruptedException {
        java.util.concurrent.atomic.AtomicBoolean claimsBroken = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.function.LongSupplier claims = () -> {
            if (claimsBroken.get()) {
                throw new IllegalStateException("claims/mirror is not a changeq claim file");
            }
            return -1;
        };
        ch.qos.logback.classic.Logger log =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(ManifestAppender.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> events =
                new ch.qos.logback.core.read.ListAppender<>();
        events.start();
        log.addAppender(events);
        try (ManifestWriter writer = ManifestWriter.start(lock(), claims, 1024, ManifestWriter.WRITER_THREADS,
                java.time.InstantSource.system(), appendFailures::add)) {
            // Each repeat of the path is a batch of its own that asks for the claims.
            for (int batch = 1; batch <= 3; batch++) {
                publishAndAwait(writer, batch);
            }
            claimsBroken.set(false);
            publishAndAwait(writer, 4);
            claimsBroken.set(true);
            publishAndAwait(writer, 5);
            publishAndAwait(writer, 6);
        } finally {
            log.detachAppender(events);
        }
        List<String> warnings = events.list.stream().filter(event -> event.getLevel() == ch.qos.logback.classic.Level.WARN)
                .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList();
        assertEquals(2, warnings.size(), "once when the claims broke, once when they broke again: " + warnings);
    }

    private void publishAndAwait(ManifestWriter writer, int published) throws InterruptedException {
        writer.publish(RecordType.CHANGE, "nfs", false, bytes("f"));
        await(() -> writer.recordsAppended() + writer.eventsDeduplicated() == published + 1);
    }

    @Test
    void aDeleteIsKeptAndAChangeAfterItIsNotDropped() throws InterruptedException {
        try (ManifestWriter writer = start()) {
            writer.publish(RecordType.CHANGE, "nfs", false, bytes("f"));
            await(() -> writer.recordsAppended() == 2);
            writer.publish(RecordType.DELETE, "nfs", false, bytes("f"));
            await(() -> writer.recordsAppended() == 3);
            writer.publish(RecordType.CHANGE, "nfs", false, bytes("f"));
            await(() -> writer.recordsAppended() == 4);
        }
        assertEquals(List.of(RecordType.START, RecordType.CHANGE, RecordType.DELETE, RecordType.CHANGE,
                RecordType.STOP), records().stream().map(QueueRecord::type).toList());
    }

    @Test
    void aChangeBelowADirectoryDeletedOrReplacedSinceItsEarlierRecordIsKept() throws InterruptedException {
        try (ManifestWriter writer = start()) {
            writer.publish(RecordType.CHANGE, "nfs", false, bytes("a/f"));
            writer.publish(RecordType.CHANGE, "nfs", false, bytes("link/f"));
            writer.publish(RecordType.CHANGE, "nfs", false, bytes("kept/f"));
            await(() -> writer.recordsAppended() == 4);
            writer.publish(RecordType.DELETE, "nfs", true, bytes("a"));
            writer.publish(RecordType.CHANGE, "nfs", false, bytes("link"));
            writer.publish(RecordType.CHANGE, "nfs", true, bytes("kept"));
            await(() -> writer.recordsAppended() == 7);
            writer.publish(RecordType.CHANGE, "nfs", false, bytes("a/f"));
            writer.publish(RecordType.CHANGE, "nfs", false, bytes("link/f"));
            writer.publish(RecordType.CHANGE, "nfs", false, bytes("kept/f"));
            await(() -> writer.recordsAppended() + writer.eventsDeduplicated() == 10);
            assertEquals(1, writer.eventsDeduplicated(), "kept/ is still a directory: its repeat goes");
        }
        assertEquals(List.of("a/f", "link/f", "kept/f", "a", "link", "kept", "a/f", "link/f"), records().stream()
                .filter(r -> r.type().carriesPath()).map(r -> new String(r.path(), StandardCharsets.UTF_8)).toList());
    }

    @Test
    void aDirectoryReplacedWithinOneBatchIsDeletedAfterThePathsBelowItAndBeforeWhatTookItsName() {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        try (ManifestWriter writer = ManifestWriter.start(lock(), 1024, stalledUntil(release), appendFailures::add)) {
            // mkdir x; echo decoy > x/shadow; mv x x.old; ln -s /elsewhere x
            writer.publish(RecordType.SUBTREE, "nfs", true, bytes("x"));
            writer.publishContentWrite("nfs", bytes("x/shadow"));
            writer.publish(RecordType.DELETE, "nfs", true, bytes("x"));
            writer.publish(RecordType.SUBTREE, "nfs", true, bytes("x.old"));
            writer.publish(RecordType.CHANGE, "nfs", false, bytes("x"));
            writer.publish(RecordType.CHANGE, "nfs", false, bytes("f"));
            writer.publish(RecordType.CHANGE, "nfs", false, bytes("f"));
            release.countDown();
        }
        List<QueueRecord> paths = records().stream().filter(r -> r.type().carriesPath()).toList();
        assertEquals(List.of("x/shadow", "x", "x.old", "x", "f"),
                paths.stream().map(r -> new String(r.path(), StandardCharsets.UTF_8)).toList());
        assertEquals(List.of(RecordType.CHANGE, RecordType.DELETE, RecordType.SUBTREE, RecordType.CHANGE,
                RecordType.CHANGE), paths.stream().map(QueueRecord::type).toList());
        assertTrue(paths.get(1).directory(), "the directory's deletion is kept apart from the link that took its name");
        assertFalse(paths.get(3).directory());
    }

    @Test
    void aContentWriteSurvivesMergingAndDedupeAgainstChangesWithoutOne() throws InterruptedException {
        try (ManifestWriter writer = start()) {
            // Merged in one batch or deduplicated across batches, whichever the writer thread's timing makes it.
            writer.publish(RecordType.CHANGE, "nfs", false, bytes("f"));
            writer.publishContentWrite("nfs", bytes("f"));
            writer.publish(RecordType.CHANGE, "nfs", false, bytes("f"));
            await(() -> writer.recordsAppended() + writer.eventsDeduplicated() >= 4);

            writer.publish(RecordType.CHANGE, "nfs", false, bytes("g"));
            await(() -> writer.recordsAppended() + writer.eventsDeduplicated() >= 5);
            writer.publishContentWrite("nfs", bytes("g"));
        }
        List<QueueRecord> changes = records().stream().filter(r -> r.type() == RecordType.CHANGE).toList();
        for (String path : List.of("f", "g")) {
            List<QueueRecord> ofPath = changes.stream().filter(r -> new String(r.path(), StandardCharsets.UTF_8)
                    .equals(path)).toList();
            assertTrue(ofPath.get(ofPath.size() - 1).contentWritten(), path + ": " + changes);
        }
    }

    @Test
    void sameNameInAnotherRootIsAnotherPath() throws InterruptedException {
        try (ManifestWriter writer = start()) {
            writer.publish(RecordType.CHANGE, "nfs", false, bytes("f"));
            writer.publish(RecordType.CHANGE, "backup", false, bytes("f"));
        }
        assertEquals(2, records().stream().filter(r -> r.type() == RecordType.CHANGE).count());
    }

    @Test
    void anOverflowStormInOneBatchIsOneRecordPerRootButAChangeBetweenKeepsBoth() throws InterruptedException {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        ThreadFactory stalled = stalledUntil(release);
        try (ManifestWriter writer = ManifestWriter.start(lock(), 1024,
                stalled, appendFailures::add)) {
            for (int i = 0; i < 100; i++) {
                writer.publishMarker(RecordType.OVERFLOW, "nfs");
            }
            for (int i = 0; i < 100; i++) {
                writer.publishMarker(RecordType.OVERFLOW, "backup");
            }
            writer.publish(RecordType.CHANGE, "nfs", false, bytes("between"));
            writer.publishMarker(RecordType.OVERFLOW, "nfs");
            release.countDown();
        }
        List<String> markers = records().stream().filter(r -> r.type() == RecordType.OVERFLOW)
                .map(QueueRecord::root).toList();
        // The stalled writer sees everything as one batch.
        assertEquals(List.of("nfs", "backup", "nfs"), markers);
    }

    /** A link planted at the watermark is neither followed nor a reason to stop recording; the next start refuses it. */
    @Test
    @ExpectLog(level = Level.WARN, logger = "ManifestAppender", contains = "is a symbolic link")
    void aLinkAtTheWatermarkIsNotFollowedAndTheWriterGoesOn() throws Exception {
        Path victim = Files.writeString(dir.resolve("victim"), "root's file\n");
        Path watermark = new StateLayout(dir.resolve("state")).trackerWatermark().path();
        Files.createDirectories(watermark.getParent());
        // As installed, the state directory belongs to the service account: root's own links are followed.
        if ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0) {
            Files.setOwner(dir.resolve("state"), dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
        }
        Files.createSymbolicLink(watermark, victim);
        try (ManifestWriter writer = ManifestWriter.start(lock(), 1024, ManifestWriter.WRITER_THREADS, appendFailures::add)) {
            writer.publishWatermark(1_234);
            writer.publish(RecordType.CHANGE, "r", false, bytes("after"));
            assertTrue(writer.awaitAppended(Duration.ofSeconds(10)));
        }
        assertEquals(List.of(), appendFailures);
        assertEquals(List.of("START", "CHANGE after", "STOP"), summary(records()));
        assertEquals("root's file\n", Files.readString(victim));
    }

    @Test
    void aWatermarkIsStoredOnlyOnceEverythingPublishedBeforeItIsAppended() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        ThreadFactory stalled = stalledUntil(release);
        IndexFile watermark = new StateLayout(dir.resolve("state")).trackerWatermark();
        try (ManifestWriter writer = ManifestWriter.start(lock(), 1024, stalled, appendFailures::add)) {
            writer.publish(RecordType.CHANGE, "r", false, bytes("before"));
            writer.publishWatermark(1_234);
            assertEquals(OptionalLong.empty(), watermark.read(), "stored before the records it vouches for");

            release.countDown();
            assertTrue(writer.awaitAppended(Duration.ofSeconds(10)));

            assertEquals(OptionalLong.of(1_234), watermark.read());
            assertEquals(List.of("START", "CHANGE before"), summary(records()));
        }
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "ManifestWriter", contains = "ring buffer is full")
    void aFullRingRecordsAnOverflowInsteadOfBlockingOrLosingSilently() throws InterruptedException {
        Thread[] writerThread = new Thread[1];
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        ThreadFactory stalledOnce = runnable -> {
            Thread thread = ManifestWriter.WRITER_THREADS.newThread(() -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                runnable.run();
            });
            writerThread[0] = thread;
            return thread;
        };
        try (ManifestWriter writer = ManifestWriter.start(lock(), 64,
                stalledOnce, appendFailures::add)) {
            for (int i = 0; i < 200; i++) {
                writer.publish(RecordType.CHANGE, "nfs", false, bytes("f" + i));
            }
            assertTrue(writer.ringOverflows() > 0);
            release.countDown();
        }
        List<QueueRecord> records = records();
        assertTrue(records.stream().anyMatch(r -> r.type() == RecordType.OVERFLOW && r.root().equals("nfs")),
                records.toString());
        assertEquals(RecordType.STOP, records.get(records.size() - 1).type());
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "ManifestWriter", contains = "failed to start")
    @ExpectLog(level = Level.ERROR, logger = "ManifestWriter", contains = "no STOP was appended: an append failed")
    void aQueueThatCannotBeOpenedIsReportedAndNothingHangs() throws Exception {
        Path queue = dir.resolve("queue");
        WriterLock lock = WriterLock.acquire(queue, dir.resolve("state"));
        // Chronicle cannot create its metadata file where a directory of that name is.
        Files.createDirectories(queue.resolve("metadata.cq4t/x"));
        List<Throwable> failures = new CopyOnWriteArrayList<>();

        try (ManifestWriter writer = ManifestWriter.start(lock, 1024, ManifestWriter.WRITER_THREADS, failures::add)) {
            writer.publish(RecordType.CHANGE, "r", false, bytes("a"));

            assertFalse(writer.awaitQueueOpen(Duration.ofSeconds(10)));
            assertEquals(1, failures.size(), failures.toString());
            assertInstanceOf(ManifestWriter.QueueOpenException.class, failures.get(0));
            assertTrue(failures.get(0).getMessage().contains(queue.toString()), failures.get(0).getMessage());
            assertEquals(0, writer.recordsAppended());
        }
    }

    @Test
    void eventsPublishedWhileTheQueueOpensAreAppendedOnceItIs() throws Exception {
        try (ManifestWriter writer = start()) {
            writer.publish(RecordType.CHANGE, "r", false, bytes("early"));
            assertTrue(writer.awaitQueueOpen(Duration.ofSeconds(30)));
        }

        assertEquals(List.of("START", "CHANGE early", "STOP"), summary(records()));
    }

    @Test
    void onlyTheFirstThreadToPublishMayPublishAtAll() throws Exception {
        try (ManifestWriter writer = start()) {
            Thread producer = new Thread(() -> writer.publish(RecordType.CHANGE, "r", false, bytes("a")), "producer");
            producer.start();
            producer.join();

            IllegalStateException refused = assertThrows(IllegalStateException.class,
                    () -> writer.publishMarker(RecordType.OVERFLOW, "r"));
            assertTrue(refused.getMessage().contains("single producer"), refused.getMessage());
        }
        assertEquals(List.of("START", "CHANGE a", "STOP"), summary(records()));
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "ManifestWriter", contains = "producer thread stuck producer is still running")
    void closingWhileTheProducerStillRunsPublishesNothingFromTheClosingThreadAndLeavesOutStop() throws Exception {
        java.util.concurrent.CountDownLatch published = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch resume = new java.util.concurrent.CountDownLatch(1);
        List<Throwable> producerFailures = new CopyOnWriteArrayList<>();
        ManifestWriter writer = start();
        Thread stuck = new Thread(() -> {
            try {
                writer.publish(RecordType.CHANGE, "r", false, bytes("before"));
                published.countDown();
                // Stuck, as in a walk of a hung mount, past the owner's join timeout.
                resume.await();
                writer.publish(RecordType.CHANGE, "r", false, bytes("after-close"));
            } catch (Throwable failure) {
                producerFailures.add(failure);
            }
        }, "stuck producer");
        stuck.start();
        assertTrue(published.await(10, java.util.concurrent.TimeUnit.SECONDS));

        writer.close();
        resume.countDown();
        stuck.join();

        assertEquals(List.of(), producerFailures);
        assertEquals(List.of("START", "CHANGE before"), summary(records()));
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "ManifestWriter", contains = "the producer failed")
    void closingWithoutStopAppendsEverythingPublishedAndNoStop() {
        try (ManifestWriter writer = start()) {
            writer.publish(RecordType.CHANGE, "r", false, bytes("a"));
            writer.closeWithoutStop("the producer failed");
        }
        assertEquals(List.of("START", "CHANGE a"), summary(records()));
    }

    private static List<String> summary(List<QueueRecord> records) {
        return records.stream()
                .map(r -> r.type() + (r.type().carriesPath() ? " " + new String(r.path(), StandardCharsets.UTF_8) : ""))
                .toList();
    }

    /** The writer's thread, held before it takes its first batch until {@code release} opens: all is one batch. */
    private static ThreadFactory stalledUntil(java.util.concurrent.CountDownLatch release) {
        return runnable -> ManifestWriter.WRITER_THREADS.newThread(() -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            runnable.run();
        });
    }
}
