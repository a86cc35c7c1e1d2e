package org.changeq.nativetests.tracker;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.changeq.nativetests.tracker.TrackedTree.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.IntStream;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.ConfigLoader;
import org.changeq.pipeline.manifest.IndexFile;
import org.changeq.pipeline.manifest.QueueRecord;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.tracker.Tracker;
import org.changeq.tracker.TrackerStartException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

/** The tracker against the real kernel: every assertion is on the records in the real queue. */
class TrackerKernelTest {

    @TempDir
    Path temp;

    @Test
    void filesAndDirectoriesAreRecordedAndRenamedDirectoriesReportTheirNewPaths() throws Exception {
        try (TrackedTree tree = TrackedTree.start(temp)) {
            Files.writeString(tree.path("f"), "one");
            tree.await(RecordType.CHANGE, "f");
            Files.delete(tree.path("f"));
            tree.await(RecordType.DELETE, "f");

            Files.createDirectories(tree.path("d/sub"));
            assertTrue(tree.await(RecordType.CHANGE, "d/sub").directory());
            Files.move(tree.path("d"), tree.path("e"));
            assertTrue(tree.await(RecordType.RENAMED_AWAY, "d").directory(), "a directory renamed within the root");
            assertTrue(tree.await(RecordType.SUBTREE, "e").directory());

            Files.writeString(tree.path("e/sub/g"), "two");
            tree.await(RecordType.CHANGE, "e/sub/g");
            Files.createDirectory(tree.path("x"));
            Files.move(tree.path("e/sub"), tree.path("x/moved"));
            Files.writeString(tree.path("x/moved/h"), "three");
            tree.await(RecordType.CHANGE, "x/moved/h");
            Files.move(tree.path("x/moved/h"), tree.path("x/moved/renamed"));
            tree.await(RecordType.CHANGE, "x/moved/renamed");
            tree.await(RecordType.DELETE, "x/moved/h");

            assertFalse(tree.records().stream().anyMatch(record -> text(record.path()).startsWith("e/sub/h")),
                    "an event below a renamed directory carried its old path: " + tree.records());
        }
    }

    @Test
    void directoriesMovedInAndOutOfTheTreeAreSubtreesAndDeletes() throws Exception {
        Path outside = Files.createDirectories(temp.resolve("outside/in/deep"));
        Files.writeString(outside.resolve("f"), "x");
        try (TrackedTree tree = TrackedTree.start(temp)) {
            Files.move(temp.resolve("outside/in"), tree.path("in"));
            tree.await(RecordType.SUBTREE, "in");
            Files.writeString(tree.path("in/deep/new"), "y");
            tree.await(RecordType.CHANGE, "in/deep/new");

            Files.move(tree.path("in"), temp.resolve("outside/back"));
            tree.await(RecordType.DELETE, "in");
            Files.writeString(temp.resolve("outside/back/deep/after"), "z");
            Files.writeString(tree.path("barrier"), "b");
            tree.await(RecordType.CHANGE, "barrier");

            assertFalse(tree.records().stream().anyMatch(record -> text(record.path()).endsWith("after")),
                    "a directory moved out of the tree is still watched: " + tree.records());
        }
    }

    @Test
    void aThousandNewDirectoryRacesLoseNothing() throws Exception {
        int repetitions = 1000;
        try (TrackedTree tree = TrackedTree.start(temp)) {
            for (int i = 0; i < repetitions; i++) {
                Path deepest = Files.createDirectories(tree.path(i + "/a/b/c"));
                Files.write(deepest.resolve("f"), new byte[] {1});
            }
            Set<String> missing = new HashSet<>();
            for (int i = 0; i < repetitions; i++) {
                missing.add(i + "/a/b/c/f");
            }
            TrackedTree.awaitCondition(() -> missing.size() + " files without a record, e.g. "
                    + missing.stream().limit(5).toList(), () -> {
                        for (QueueRecord record : tree.records()) {
                            if (record.type() == RecordType.CHANGE) {
                                missing.remove(text(record.path()));
                            }
                        }
                        return missing.isEmpty();
                    });
            assertFalse(tree.records().stream().anyMatch(record -> record.type() == RecordType.OVERFLOW),
                    "the kernel queue overflowed, so this run proves nothing");
        }
    }

    @Test
    void excludedPathsNeverReachTheQueueNotEvenBelowExcludedDirectoriesCreatedLater() throws Exception {
        Files.createDirectories(temp.resolve("root/cache/old"));
        try (TrackedTree tree = TrackedTree.start(temp, "cache", "x.tmp")) {
            Files.writeString(tree.path("cache/old/f"), "1");
            Files.writeString(tree.path("x.tmp"), "2");
            Files.createDirectories(tree.path("keep/cache/deeper"));
            Files.writeString(tree.path("keep/cache/deeper/f"), "3");
            Files.createDirectories(tree.path("new/a"));
            Files.move(tree.path("new"), tree.path("keep/cache/moved"));
            Files.writeString(tree.path("keep/cache/moved/a/f"), "4");
            Files.writeString(tree.path("keep/barrier"), "5");
            tree.await(RecordType.CHANGE, "keep/barrier");

            for (QueueRecord record : tree.records()) {
                String path = text(record.path());
                assertFalse(path.contains("cache") || path.contains("x.tmp"), "excluded path recorded: " + record);
            }
        }
    }

    /**
     * {@code mv p/f outside; mv p cache; mkdir -p new/inner/deeper}, back to back: the move of f out of the tree waits
     * for a pair that never comes, p's watches go meanwhile (renamed to an excluded name), and the directories made
     * next are watched in the places p had in the watch tree. Each move out is recorded at the path it left.
     */
    @Test
    void aMoveOutStillWaitingWhenItsDirectoryLeftIsRecordedAtItsOldPathNotUnderTheDirectoriesMadeNext()
            throws Exception {
        int rounds = 20;
        Path outside = Files.createDirectories(temp.resolve("outside"));
        for (int i = 0; i < rounds; i++) {
            Files.writeString(Files.createDirectories(temp.resolve("root/p" + i + "/sub")).resolveSibling("f"), "f");
        }
        try (TrackedTree tree = TrackedTree.start(temp, "cache*/")) {
            for (int i = 0; i < rounds; i++) {
                Files.move(tree.path("p" + i + "/f"), outside.resolve("f" + i));
                Files.move(tree.path("p" + i), tree.path("cache" + i));
                Files.createDirectories(tree.path("new" + i + "/inner/deeper"));
            }
            TrackedTree.awaitCondition(() -> rounds + " moves out of the tree; records: " + tree.records(),
                    () -> movesOut(tree).size() == rounds);
            for (int i = 0; i < rounds; i++) {
                tree.await(RecordType.CHANGE, "new" + i + "/inner/deeper");
            }

            assertEquals(IntStream.range(0, rounds).mapToObj(i -> "p" + i + "/f").toList(), movesOut(tree),
                    "each move out at the path it left: " + tree.records());
            Files.writeString(tree.path("new0/inner/deeper/g"), "watched");
            tree.await(RecordType.CHANGE, "new0/inner/deeper/g");
        }
    }

    private static List<String> movesOut(TrackedTree tree) {
        return tree.records().stream().filter(record -> record.type() == RecordType.DELETE && !record.directory())
                .map(record -> text(record.path())).toList();
    }

    @Test
    void namesArriveByteExactWhateverTheyContain() throws Exception {
        List<byte[]> names = List.of(
                "new\nline".getBytes(ISO_8859_1),
                "carriage\rreturn".getBytes(ISO_8859_1),
                new byte[] {'b', 'a', 'd', (byte) 0xff, (byte) 0xc3, '.', 't', 'x', 't'},
                "-leading-dash".getBytes(ISO_8859_1),
                "#hash".getBytes(ISO_8859_1),
                ";semicolon".getBytes(ISO_8859_1),
                "[bracket".getBytes(ISO_8859_1),
                "*star".getBytes(ISO_8859_1),
                "with spaces  ".getBytes(ISO_8859_1),
                "n".repeat(255).getBytes(ISO_8859_1));
        try (TrackedTree tree = TrackedTree.start(temp)) {
            for (byte[] name : names) {
                Files.write(tree.path(name), name);
            }
            // Close to PATH_MAX (4,096 with its NUL): nested 200-byte directory names, created at once.
            ByteArrayOutputStream deep = new ByteArrayOutputStream();
            int rootLength = tree.root.toString().length() + 1;
            for (int level = 0; rootLength + deep.size() + 200 + 10 < 4090; level++) {
                deep.writeBytes((level + "-" + "d".repeat(197) + "/").getBytes(ISO_8859_1));
            }
            Files.createDirectories(tree.path(deep.toByteArray()));
            deep.writeBytes("deep\nfile".getBytes(ISO_8859_1));
            byte[] deepFile = deep.toByteArray();
            Files.write(tree.path(deepFile), new byte[] {1});

            for (byte[] name : names) {
                tree.await(RecordType.CHANGE, text(name));
            }
            QueueRecord deepRecord = tree.await(RecordType.CHANGE, text(deepFile));
            assertTrue(rootLength + deepRecord.path().length > 3850, "path length " + deepRecord.path().length);
        }
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "TreeWatcher", contains = "inotify queue overflowed")
    void aKernelQueueOverflowIsRecordedAsOverflow() throws Exception {
        Path maxQueued = TrackedTree.MAX_QUEUED_EVENTS;
        // Never take another test's lowered value for the machine's own, or it would be "restored" for good.
        TrackedTree.awaitNormalQueueLimit();
        String original = TrackedTree.readProcFile(maxQueued);
        try {
            Files.writeString(maxQueued, "16");
        } catch (IOException e) {
            Assumptions.abort("cannot lower fs.inotify.max_queued_events (" + e.getMessage()
                    + "); needs root and a writable /proc/sys");
        }
        TrackedTree tree;
        try {
            // The limit applies to inotify instances created afterwards: the tracker's is created in start().
            tree = TrackedTree.startWithCurrentQueueLimit(temp);
        } finally {
            Files.writeString(maxQueued, original);
        }
        try (tree) {
            // Bursts with no pause: 16 queued events last a few file creations, unless the reader is
            // scheduled just then; checking the queue between single writes would pace the burst down.
            for (int burst = 0; burst < 20 && !hasOverflow(tree); burst++) {
                for (int i = 0; i < 1000; i++) {
                    Files.write(tree.path("b" + burst + "-" + i), new byte[] {1});
                }
            }
            tree.await("OVERFLOW", record -> record.type() == RecordType.OVERFLOW
                    && record.root().equals(TrackedTree.ROOT_NAME));
        }
    }

    private static boolean hasOverflow(TrackedTree tree) {
        return tree.records().stream().anyMatch(record -> record.type() == RecordType.OVERFLOW);
    }

    @Test
    void aSecondTrackerOnTheSameQueueIsRefusedWhateverItsStateDirectory() throws Exception {
        try (TrackedTree tree = TrackedTree.start(temp)) {
            for (String state : List.of("state", "queue.state")) {
                TrackerStartException refused = assertThrows(TrackerStartException.class,
                        () -> Tracker.start(ConfigLoader.quick(tree.root, tree.queue, temp.resolve(state), List.of())));

                assertEquals(ExitCodes.ALREADY_RUNNING, refused.exitCode());
                assertTrue(refused.getMessage().contains("another changeq-tracker"), refused.getMessage());
                assertTrue(refused.getMessage().contains("writing to the queue " + tree.queue), refused.getMessage());
            }
            assertFalse(Files.exists(temp.resolve("queue.state")), "a refused tracker left state behind");
        }
    }

    @Test
    void aStoppedTrackersQueueRefusesAnotherStateDirectoryNamingBoth() throws Exception {
        TrackedTree.start(temp).close();

        ChangeqConfig otherState = ConfigLoader.quick(temp.resolve("root"), temp.resolve("queue"),
                temp.resolve("queue.state"), List.of());

        TrackerStartException refused = assertThrows(TrackerStartException.class, () -> Tracker.start(otherState));

        assertEquals(ExitCodes.QUEUE_UNAVAILABLE, refused.exitCode());
        assertTrue(refused.getMessage().contains(temp.resolve("state").toString()), refused.getMessage());
        assertTrue(refused.getMessage().contains(temp.resolve("queue.state").toString()), refused.getMessage());
    }

    @Test
    void theWatermarkPassesEveryChangeOnceTheReaderHasCaughtUp() throws Exception {
        try (TrackedTree tree = TrackedTree.start(temp)) {
            IndexFile watermark = new StateLayout(tree.state).trackerWatermark();
            long beforeChange = System.currentTimeMillis();
            Files.write(tree.path("f"), new byte[] {1});
            tree.await(RecordType.CHANGE, "f");

            // Stored by the writer about once a second, the last one included although nothing follows it.
            TrackedTree.awaitCondition(() -> "the watermark to pass " + beforeChange + "; it is " + read(watermark),
                    () -> read(watermark).orElse(Long.MIN_VALUE) > beforeChange);
        }
    }

    private static OptionalLong read(IndexFile file) {
        try {
            return file.read();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void closingAppendsEverythingObservedAndThenStop() throws Exception {
        TrackedTree tree = TrackedTree.start(temp);
        for (int i = 0; i < 100; i++) {
            Files.write(tree.path("f" + i), new byte[] {1});
        }

        // No waiting for the records: their events are in the kernel queue or the ring when close() begins.
        tree.tracker.close();

        try (tree) {
            List<QueueRecord> records = tree.records();
            Set<String> missing = new HashSet<>();
            for (int i = 0; i < 100; i++) {
                missing.add("f" + i);
            }
            records.forEach(record -> missing.remove(text(record.path())));
            assertEquals(Set.of(), missing, "changes made before close() were not appended");
            assertEquals(RecordType.START, records.get(0).type());
            assertEquals(RecordType.STOP, records.get(records.size() - 1).type());
            assertEquals(ExitCodes.OK, tree.tracker.awaitTermination());
        }
    }
}
