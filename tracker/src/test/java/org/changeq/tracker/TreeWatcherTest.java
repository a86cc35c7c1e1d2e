package org.changeq.tracker;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.config.PathFilter;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.mount.MountTable;
import org.changeq.pipeline.state.TrackerRootsFile.Condition;
import org.changeq.pipeline.state.TrackerRootsFile.RootStatus;
import org.changeq.pipeline.testing.ExpectLog;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/** Event translation against a fake kernel: records, watches, move pairing, excludes, loss. */
class TreeWatcherTest {

    private final FakeDirectories kernel = new FakeDirectories("/r");
    private final List<String> records = new ArrayList<>();
    /** The paths of the CHANGE records (also in {@link #records}) that said the content was written. */
    private final List<String> contentWrites = new ArrayList<>();
    /**
     * For each record, how many kernel operations came before its latest publication: tells whether it followed a
     * watch.
     */
    private final Map<String, Integer> operationsBefore = new HashMap<>();
    private final RecordSink sink = new RecordSink() {
        @Override
        public void publish(RecordType type, String root, boolean directory, byte[] path) {
            record(type + " " + root + " " + ByteStrings.escape(path) + (directory ? "/" : ""));
        }

        @Override
        public void publishContentWrite(String root, byte[] path) {
            publish(RecordType.CHANGE, root, false, path);
            contentWrites.add(ByteStrings.escape(path));
        }

        @Override
        public void publishMarker(RecordType type, String root) {
            record(type + " " + root);
        }

        private void record(String record) {
            records.add(record);
            operationsBefore.put(record, kernel.operations.size());
        }
    };
    /** A fake {@link System#nanoTime()}: far from zero, as the real one is. */
    private long nanos = 1_000_000_000_000L;
    private final List<Long> walkReports = new ArrayList<>();
    private List<RootStatus> statuses = List.of();
    private final TreeWatcher.Listener listener = new TreeWatcher.Listener() {
        @Override
        public void walking(WatchTree.Root root, int watchedDirectories) {
            walkReports.add(nanos);
        }

        @Override
        public void rootsChanged(List<RootStatus> roots) {
            statuses = roots;
        }
    };

    private TreeWatcher newWatcher(WatchTree.Root root) {
        return new TreeWatcher(kernel, sink, List.of(root), Libc.WatchLimit.UNKNOWN, () -> false, () -> nanos, listener);
    }

    private TreeWatcher watcher(String... excludes) {
        WatchTree.Root root = new WatchTree.Root("r", bytes("/r"), PathFilter.of(List.of(excludes)));
        TreeWatcher watcher = newWatcher(root);
        watcher.watchRoots(TreeWatcher.NO_CATCH_UP);
        assertEquals("RESCAN r", records.remove(records.size() - 1), "the walk ends with a RESCAN: " + records);
        return watcher;
    }

    private void event(TreeWatcher watcher, String directory, EventKind kind, boolean isDirectory, int cookie,
                       String name) {
        watcher.onEvent(kernel.watchOf(directory), kind, isDirectory, cookie, bytes(name));
    }

    private static byte[] bytes(String latin1) {
        return latin1.getBytes(ISO_8859_1);
    }

    @Test
    void theInitialWalkWatchesEveryDirectoryAndPublishesNothing() {
        kernel.mkdir("/r/a").mkdir("/r/a/b").touch("/r/a/f").mkdir("/r/c");

        TreeWatcher watcher = watcher();

        assertEquals(4, watcher.watchedDirectories());
        assertTrue(kernel.isWatched("/r/a/b"));
        assertEquals(List.of(), records);
    }

    /** Asserts that {@code record} was published after every kernel operation so far: after its whole walk. */
    private void assertPublishedLast(String record) {
        assertEquals(kernel.operations.size(), operationsBefore.get(record),
                record + " is published once every directory in it is watched: " + kernel.operations);
    }

    @Test
    void aCatchUpWalkSendsChangedFilesAndChangedDirectoriesWholeThenRescan() {
        kernel.mkdir("/r/a").mkdir("/r/a/b").mkdir("/r/a/b/c").touch("/r/a/b/f").touch("/r/g").mkdir("/r/skip")
                .touch("/r/skip/x");
        WatchTree.Root root = new WatchTree.Root("r", bytes("/r"), PathFilter.of(List.of("skip/")));
        TreeWatcher watcher = newWatcher(root);

        // Everything was made after time 0.
        watcher.watchRoots(0);

        assertEquals(List.of("CHANGE r /", "CHANGE r g", "SUBTREE r a/", "RESCAN r"), records);
        assertTrue(kernel.isWatched("/r/a/b/c"), "directories inside a subtree sent whole are still watched");
        assertEquals(4, watcher.watchedDirectories());
        assertPublishedLast("SUBTREE r a/");
    }

    /** A time later than every change made so far, once the wall clock, which stamps the fake's changes, is there. */
    private static long aMillisecondFromNow() {
        long later = System.currentTimeMillis() + 1;
        while (System.currentTimeMillis() < later) {
            Thread.onSpinWait();
        }
        return later;
    }

    @Test
    void aCatchUpWalkPublishesOnlyWhatChangedAtOrAfterItsTime() {
        kernel.mkdir("/r/old").touch("/r/old/f").mkdir("/r/a").touch("/r/a/kept");
        long since = aMillisecondFromNow();
        kernel.touch("/r/a/new").touch("/r/old/f");
        WatchTree.Root root = new WatchTree.Root("r", bytes("/r"), PathFilter.of(List.of()));

        newWatcher(root).watchRoots(since);

        assertEquals(List.of("CHANGE r old/f", "SUBTREE r a/", "RESCAN r"), records,
                "a file added changes its directory's time, so the directory goes whole; a file touched goes alone");
    }

    @Test
    void aCatchUpWalkFindingNothingNewOnlyRescans() {
        kernel.mkdir("/r/a").touch("/r/a/f");
        WatchTree.Root root = new WatchTree.Root("r", bytes("/r"), PathFilter.of(List.of()));

        newWatcher(root).watchRoots(aMillisecondFromNow());

        assertEquals(List.of("RESCAN r"), records);
    }

    @Test
    void fileEventsBecomeChangesAndDeletes() {
        kernel.mkdir("/r/a");
        TreeWatcher watcher = watcher();

        event(watcher, "/r/a", EventKind.CREATE, false, 0, "f");
        watcher.onReadEnd();
        event(watcher, "/r/a", EventKind.CLOSE_WRITE, false, 0, "f");
        event(watcher, "/r", EventKind.ATTRIB, false, 0, "g");
        event(watcher, "/r/a", EventKind.DELETE, false, 0, "f");

        assertEquals(List.of("CHANGE r a/f", "CHANGE r a/f", "CHANGE r g", "DELETE r a/f"), records);
    }

    @Test
    void writesCreationsAndRenamesOverAFileAreContentWritesButMetadataAloneIsNot() {
        kernel.mkdir("/r/a");
        TreeWatcher watcher = watcher();

        event(watcher, "/r/a", EventKind.ATTRIB, false, 0, "touched");
        event(watcher, "/r/a", EventKind.ATTRIB, false, 0, "written");
        event(watcher, "/r/a", EventKind.MODIFY, false, 0, "written");
        event(watcher, "/r/a", EventKind.ATTRIB, false, 0, "written");
        event(watcher, "/r/a", EventKind.CLOSE_WRITE, false, 0, "closed");
        event(watcher, "/r/a", EventKind.CREATE, false, 0, "linked");
        event(watcher, "/r/a", EventKind.MOVED_FROM, false, 7, ".renamed.tmp");
        event(watcher, "/r/a", EventKind.MOVED_TO, false, 7, "renamed");
        event(watcher, "/r", EventKind.ATTRIB, true, 0, "a");

        assertEquals(List.of("CHANGE r a/touched", "CHANGE r a/written", "CHANGE r a/written", "CHANGE r a/closed",
                "CHANGE r a/linked", "DELETE r a/.renamed.tmp", "CHANGE r a/renamed", "CHANGE r a/"), records,
                "a write after a metadata change of the same file within one read is recorded again");
        assertEquals(List.of("a/written", "a/closed", "a/linked", "a/renamed"), contentWrites);
    }

    @Test
    void changesOfOneFileWithinOneReadAreOneRecordButANewReadRecordsAgain() {
        kernel.mkdir("/r/a");
        TreeWatcher watcher = watcher();

        event(watcher, "/r/a", EventKind.CREATE, false, 0, "f");
        event(watcher, "/r/a", EventKind.MODIFY, false, 0, "f");
        event(watcher, "/r/a", EventKind.CLOSE_WRITE, false, 0, "f");
        event(watcher, "/r/a", EventKind.MODIFY, false, 0, "other");
        event(watcher, "/r/a", EventKind.MODIFY, false, 0, "f");
        event(watcher, "/r/a", EventKind.DELETE, false, 0, "f");
        event(watcher, "/r/a", EventKind.CREATE, false, 0, "f");
        watcher.onReadEnd();
        // Read after a consumer may have taken the record above: this change must reach the queue again.
        event(watcher, "/r/a", EventKind.MODIFY, false, 0, "f");

        assertEquals(List.of("CHANGE r a/f", "CHANGE r a/other", "CHANGE r a/f", "DELETE r a/f", "CHANGE r a/f",
                "CHANGE r a/f"), records);
    }

    @Test
    void aNewDirectoryIsWatchedBeforeItIsListedAndItsContentsArePublished() {
        TreeWatcher watcher = watcher();
        // mkdir -p a/b/c && touch a/b/c/f, all before the tracker reads the first event
        kernel.mkdir("/r/a").mkdir("/r/a/b").mkdir("/r/a/b/c").touch("/r/a/b/c/f");
        kernel.operations.clear();

        event(watcher, "/r", EventKind.CREATE, true, 0, "a");

        assertEquals(List.of("CHANGE r a/", "CHANGE r a/b/", "CHANGE r a/b/c/", "CHANGE r a/b/c/f"), records);
        assertEquals(List.of("watch /r/a", "list /r/a", "watch /r/a/b", "list /r/a/b", "watch /r/a/b/c",
                "list /r/a/b/c"), kernel.operations);
    }

    @Test
    void aCreateEventForADirectoryTheListingAlreadyWatchedIsNotWalkedAgain() {
        TreeWatcher watcher = watcher();
        kernel.mkdir("/r/a").mkdir("/r/a/b");
        event(watcher, "/r", EventKind.CREATE, true, 0, "a");
        records.clear();
        kernel.operations.clear();

        event(watcher, "/r/a", EventKind.CREATE, true, 0, "b");

        assertEquals(List.of("CHANGE r a/b/"), records);
        assertEquals(List.of("watch /r/a/b"), kernel.operations);
    }

    @Test
    void aDirectoryRenamedInsideTheTreeKeepsItsWatchesAndLaterEventsCarryTheNewPath() {
        kernel.mkdir("/r/a").mkdir("/r/a/deep").mkdir("/r/x");
        TreeWatcher watcher = watcher();
        int deepWatch = kernel.watchOf("/r/a/deep");

        kernel.rename("/r/a", "/r/x/b");
        event(watcher, "/r", EventKind.MOVED_FROM, true, 7, "a");
        event(watcher, "/r/x", EventKind.MOVED_TO, true, 7, "b");
        watcher.onEvent(deepWatch, EventKind.CREATE, false, 0, bytes("f"));

        assertEquals(List.of("RENAMED_AWAY r a/", "SUBTREE r x/b/", "CHANGE r x/b/deep/f"), records);
        assertFalse(kernel.operations.stream().anyMatch(operation -> operation.startsWith("unwatch")));
    }

    @Test
    void aDirectoryMovedIntoADirectoryNotYetWatchedKeepsItsWatchAtTheNewPath() {
        kernel.mkdir("/r/e").mkdir("/r/e/sub");
        TreeWatcher watcher = watcher();
        int subWatch = kernel.watchOf("/r/e/sub");
        // mkdir x && mv e/sub x/moved before the tracker reads CREATE x: the MOVED_TO went to an unwatched x.
        kernel.mkdir("/r/x");
        kernel.rename("/r/e/sub", "/r/x/moved");

        event(watcher, "/r", EventKind.CREATE, true, 0, "x");
        watcher.onEvent(kernel.watchOf("/r/e"), EventKind.MOVED_FROM, true, 5, bytes("sub"));
        watcher.resolvePendingMove();
        watcher.onEvent(subWatch, EventKind.CREATE, false, 0, bytes("h"));

        assertEquals(List.of("CHANGE r x/", "CHANGE r x/moved/", "SUBTREE r x/moved/", "DELETE r e/sub/",
                "CHANGE r x/moved/h"), records);
        assertFalse(kernel.operations.stream().anyMatch(operation -> operation.startsWith("unwatch")),
                kernel.operations.toString());
    }

    @Test
    void aDirectoryMovedFromAnotherRootIntoANewDirectoryIsWatchedUnderItsNewRootAndSentWhole() {
        kernel.mkdir("/r/a").mkdir("/r/a/D").mkdir("/r/a/D/sub").touch("/r/a/D/sub/p1").touch("/r/a/D/p0")
                .mkdir("/r/b");
        WatchTree.Root a = new WatchTree.Root("a", bytes("/r/a"), PathFilter.of(List.of()));
        WatchTree.Root b = new WatchTree.Root("b", bytes("/r/b"), PathFilter.of(List.of()));
        TreeWatcher watcher = new TreeWatcher(kernel, sink, List.of(a, b), Libc.WatchLimit.UNKNOWN, () -> false,
                () -> nanos, listener);
        watcher.watchRoots(TreeWatcher.NO_CATCH_UP);
        records.clear();
        int oldWatch = kernel.watchOf("/r/a/D");
        // mkdir b/x && mv a/D b/x/ before the tracker reads CREATE x: the MOVED_TO went to an unwatched x.
        kernel.mkdir("/r/b/x");
        kernel.rename("/r/a/D", "/r/b/x/D");

        // CREATE x in b, MOVED_FROM D in a, MOVE_SELF on D's watch: no MOVED_TO.
        kernel.deliverEvents(watcher);
        watcher.resolvePendingMove();

        assertTrue(records.indexOf("SUBTREE b x/D/") > records.indexOf("CHANGE b x/D/sub/p1"),
                "D is sent whole under root b once all of it is watched: " + records);
        assertTrue(records.contains("DELETE a D/"), records.toString());
        assertTrue(kernel.isWatched("/r/b/x/D/sub"));
        assertNotEquals(oldWatch, kernel.watchOf("/r/b/x/D"), "watched anew under root b");
        records.clear();
        kernel.touch("/r/b/x/D/sub/p2");
        kernel.deliverEvents(watcher);
        assertEquals(List.of("CHANGE b x/D/sub/p2"), records, "later writes in D are recorded under root b");
    }

    /**
     * A reload releases a removed root, watches a new one and a changed one anew (each with an OVERFLOW once its
     * watches are in place), and leaves an unchanged one alone; a MOVED_FROM waiting in the removed root is settled
     * first, so no later event reaches a directory that is no longer watched.
     */
    @Test
    @ExpectLog(level = Level.WARN, logger = "TreeWatcher", contains = "root 'b': the reloaded configuration changed it")
    void aReloadReleasesRemovedRootsAndWatchesNewAndChangedOnesBeforeTheirOverflow() {
        kernel.mkdir("/r/a").mkdir("/r/a/D").mkdir("/r/b").mkdir("/r/b/cache").mkdir("/r/c").mkdir("/r/c/x");
        WatchTree.Root a = new WatchTree.Root("a", bytes("/r/a"), PathFilter.of(List.of()));
        WatchTree.Root b = new WatchTree.Root("b", bytes("/r/b"), PathFilter.of(List.of("cache/")));
        TreeWatcher watcher = new TreeWatcher(kernel, sink, List.of(a, b), Libc.WatchLimit.UNKNOWN, () -> false,
                () -> nanos, listener);
        watcher.watchRoots(TreeWatcher.NO_CATCH_UP);
        assertTrue(!kernel.isWatched("/r/b/cache"));
        int unchangedWatch = kernel.watchOf("/r/b");
        // mv a/D out of every root: its MOVED_FROM was read last, the rest is still in the kernel's queue.
        event(watcher, "/r/a", EventKind.MOVED_FROM, true, 77, "D");
        assertTrue(watcher.hasPendingMove());
        records.clear();

        watcher.reconfigure(List.of(
                new WatchTree.Root("b", bytes("/r/b"), PathFilter.of(List.of())),
                new WatchTree.Root("c", bytes("/r/c"), PathFilter.of(List.of()))));

        assertTrue(!watcher.hasPendingMove());
        assertTrue(records.contains("DELETE a D/"), "the move out of root a is settled: " + records);
        assertTrue(!kernel.isWatched("/r/a"), "root a is released");
        assertTrue(kernel.isWatched("/r/b/cache") && kernel.isWatched("/r/c/x"));
        assertNotEquals(unchangedWatch, kernel.watchOf("/r/b"), "root b, with other excludes, is watched anew");
        assertPublishedLast("OVERFLOW c");
        assertTrue(records.indexOf("OVERFLOW b") >= 0 && records.indexOf("OVERFLOW b") < records.indexOf("OVERFLOW c"),
                records.toString());
        assertEquals(List.of("b", "c"), statuses.stream().map(RootStatus::root).toList());
        assertEquals(4, watcher.watchedDirectories(), "b, b/cache, c and c/x");

        records.clear();
        watcher.reconfigure(List.of(
                new WatchTree.Root("b", bytes("/r/b"), PathFilter.of(List.of())),
                new WatchTree.Root("c", bytes("/r/c"), PathFilter.of(List.of()))));
        assertEquals(List.of(), records, "an unchanged configuration changes nothing");
    }

    @Test
    void aMovePairSplitAcrossTwoReadsIsStillPaired() {
        kernel.mkdir("/r/a");
        TreeWatcher watcher = watcher();

        event(watcher, "/r", EventKind.MOVED_FROM, false, 9, "f");
        assertTrue(watcher.hasPendingMove());
        // the next read delivers the MOVED_TO
        event(watcher, "/r/a", EventKind.MOVED_TO, false, 9, "g");

        assertFalse(watcher.hasPendingMove());
        assertEquals(List.of("DELETE r f", "CHANGE r a/g"), records);
    }

    @Test
    void aMovedFromWithoutItsPairIsAMoveOutOfTheTreeAndDropsTheSubtreesWatches() {
        kernel.mkdir("/r/a").mkdir("/r/a/b");
        TreeWatcher watcher = watcher();
        int bWatch = kernel.watchOf("/r/a/b");

        event(watcher, "/r", EventKind.MOVED_FROM, true, 5, "a");
        watcher.resolvePendingMove();
        watcher.onEvent(bWatch, EventKind.CREATE, false, 0, bytes("late"));

        assertEquals(List.of("DELETE r a/"), records);
        assertFalse(kernel.isWatched("/r/a"));
        assertFalse(kernel.isWatched("/r/a/b"));
        assertEquals(1, watcher.watchedDirectories());
    }

    @Test
    void anEventForTheNameThatMovedAwaySettlesTheMoveFirstSoRecordsKeepTheirOrder() {
        TreeWatcher watcher = watcher();

        event(watcher, "/r", EventKind.MOVED_FROM, false, 5, "f");
        event(watcher, "/r", EventKind.CREATE, false, 0, "f");

        assertEquals(List.of("DELETE r f", "CHANGE r f"), records);
    }

    /** Renames {@code /r/a} (with {@code a/deep}) to {@code /r/x/b}; {@code /r/other} sees unrelated changes. */
    private TreeWatcher treeWithADirectoryToRename() {
        kernel.mkdir("/r/a").mkdir("/r/a/deep").mkdir("/r/x").mkdir("/r/other");
        TreeWatcher watcher = watcher();
        kernel.rename("/r/a", "/r/x/b");
        kernel.operations.clear();
        return watcher;
    }

    private void assertRenamedWithoutAWalk(TreeWatcher watcher, int deepWatch) {
        assertFalse(watcher.hasPendingMove());
        assertEquals(List.of(), kernel.operations, "no watch removed, no directory listed again");
        records.clear();
        watcher.onEvent(deepWatch, EventKind.CREATE, false, 0, bytes("f"));
        assertEquals(List.of("CHANGE r x/b/deep/f"), records, "later events carry the new path");
    }

    @Test
    void aRenameIsPairedAcrossEventsOfOtherDirectoriesBetweenItsHalves() {
        TreeWatcher watcher = treeWithADirectoryToRename();
        int deepWatch = kernel.watchOf("/r/x/b/deep");

        event(watcher, "/r", EventKind.MOVED_FROM, true, 7, "a");
        event(watcher, "/r/other", EventKind.CREATE, false, 0, "f");
        event(watcher, "/r/other", EventKind.CLOSE_WRITE, false, 0, "f");
        event(watcher, "/r/x", EventKind.MOVED_TO, true, 7, "b");

        assertEquals(List.of("CHANGE r other/f", "RENAMED_AWAY r a/", "SUBTREE r x/b/"), records);
        assertRenamedWithoutAWalk(watcher, deepWatch);
    }

    @Test
    void aRenameIsPairedAcrossReadsWithOtherEventsBetweenItsHalves() {
        TreeWatcher watcher = treeWithADirectoryToRename();
        int deepWatch = kernel.watchOf("/r/x/b/deep");

        event(watcher, "/r", EventKind.MOVED_FROM, true, 7, "a");
        watcher.onReadEnd();
        nanos += PendingMoves.PAIRING_NANOS / 2;
        event(watcher, "/r/other", EventKind.MODIFY, false, 0, "f");
        watcher.onReadEnd();
        event(watcher, "/r/x", EventKind.MOVED_TO, true, 7, "b");

        assertEquals(List.of("CHANGE r other/f", "RENAMED_AWAY r a/", "SUBTREE r x/b/"), records);
        assertRenamedWithoutAWalk(watcher, deepWatch);
    }

    @Test
    void aRenameAsTheKernelReportsItWithTheMovedDirectorysOwnMoveSelfKeepsItsWatches() {
        TreeWatcher watcher = treeWithADirectoryToRename();
        int deepWatch = kernel.watchOf("/r/x/b/deep");
        kernel.rename("/r/x/b", "/r/c");
        kernel.operations.clear();

        kernel.deliverEvents(watcher);

        assertEquals(List.of("RENAMED_AWAY r a/", "SUBTREE r x/b/", "RENAMED_AWAY r x/b/", "SUBTREE r c/"), records);
        records.clear();
        watcher.onEvent(deepWatch, EventKind.CREATE, false, 0, bytes("f"));
        assertEquals(List.of("CHANGE r c/deep/f"), records);
        assertEquals(List.of(), kernel.operations);
    }

    @Test
    void interleavedRenamesArePairedByTheirCookies() {
        kernel.mkdir("/r/a").mkdir("/r/c");
        TreeWatcher watcher = watcher();
        kernel.rename("/r/a", "/r/b");
        kernel.rename("/r/c", "/r/d");
        kernel.operations.clear();

        event(watcher, "/r", EventKind.MOVED_FROM, true, 1, "a");
        event(watcher, "/r", EventKind.MOVED_FROM, true, 2, "c");
        event(watcher, "/r", EventKind.MOVED_TO, true, 2, "d");
        event(watcher, "/r", EventKind.MOVED_TO, true, 1, "b");

        assertEquals(List.of("RENAMED_AWAY r c/", "SUBTREE r d/", "RENAMED_AWAY r a/", "SUBTREE r b/"), records);
        assertEquals(List.of(), kernel.operations);
    }

    @Test
    void aMovedFromWhoseMovedToDoesNotComeIsAMoveOutOnceThePairingTimeHasPassedEvenUnderAStreamOfEvents() {
        kernel.mkdir("/r/a").mkdir("/r/a/deep").mkdir("/r/other");
        TreeWatcher watcher = watcher();

        event(watcher, "/r", EventKind.MOVED_FROM, true, 7, "a");
        watcher.onReadEnd();
        nanos += PendingMoves.PAIRING_NANOS - 1;
        event(watcher, "/r/other", EventKind.MODIFY, false, 0, "f");
        watcher.onReadEnd();
        assertTrue(watcher.hasPendingMove(), "still within the pairing time");
        nanos += 1;
        event(watcher, "/r/other", EventKind.MODIFY, false, 0, "f");
        watcher.onReadEnd();

        assertFalse(watcher.hasPendingMove());
        assertEquals(List.of("CHANGE r other/f", "CHANGE r other/f", "DELETE r a/"), records);
        assertFalse(kernel.isWatched("/r/a") || kernel.isWatched("/r/a/deep"), kernel.operations.toString());
    }

    @Test
    void anEventFromInsideADirectoryWhoseMovedToHasNotComeSettlesItAndTheMovedToWalksItAgain() {
        TreeWatcher watcher = treeWithADirectoryToRename();
        int deepWatch = kernel.watchOf("/r/x/b/deep");
        kernel.mkdir("/r/x/b/deep/new");

        event(watcher, "/r", EventKind.MOVED_FROM, true, 7, "a");
        // Created after the rename, inside the moved directory: its old path no longer leads to it.
        watcher.onEvent(deepWatch, EventKind.CREATE, true, 0, bytes("new"));
        event(watcher, "/r/x", EventKind.MOVED_TO, true, 7, "b");

        assertEquals(List.of("DELETE r a/", "SUBTREE r x/b/"), records);
        assertTrue(kernel.isWatched("/r/x/b/deep/new"), kernel.operations.toString());
        assertPublishedLast("SUBTREE r x/b/");
    }

    @Test
    void beyondTheLimitOfWaitingMovedFromsTheOldestIsAMoveOut() {
        TreeWatcher watcher = watcher();

        for (int cookie = 1; cookie <= PendingMoves.LIMIT + 1; cookie++) {
            event(watcher, "/r", EventKind.MOVED_FROM, false, cookie, "f" + cookie);
        }

        assertEquals(List.of("DELETE r f1"), records);
        event(watcher, "/r", EventKind.MOVED_TO, false, PendingMoves.LIMIT + 1, "g");
        assertEquals(List.of("DELETE r f1", "DELETE r f" + (PendingMoves.LIMIT + 1), "CHANGE r g"), records);
    }

    @Test
    void aDirectoryMovedInFromOutsideIsOneSubtreeAndIsWatched() {
        TreeWatcher watcher = watcher();
        kernel.mkdir("/r/in").mkdir("/r/in/sub").mkdir("/r/in/sub/deep").touch("/r/in/sub/f");

        event(watcher, "/r", EventKind.MOVED_TO, true, 3, "in");

        assertEquals(List.of("SUBTREE r in/"), records);
        assertTrue(kernel.isWatched("/r/in/sub/deep"));
        assertPublishedLast("SUBTREE r in/");
    }

    @Test
    void excludedDirectoriesAreNeverWatchedAndExcludedPathsNeverPublished() {
        kernel.mkdir("/r/cache").mkdir("/r/cache/deep").mkdir("/r/keep");
        TreeWatcher watcher = watcher("cache/", "*.tmp");

        assertFalse(kernel.isWatched("/r/cache"));
        assertFalse(kernel.isWatched("/r/cache/deep"));
        event(watcher, "/r/keep", EventKind.CREATE, false, 0, "x.tmp");
        kernel.mkdir("/r/keep/cache").touch("/r/keep/cache/f");
        event(watcher, "/r/keep", EventKind.CREATE, true, 0, "cache");
        event(watcher, "/r/keep", EventKind.CREATE, false, 0, "kept");

        assertEquals(List.of("CHANGE r keep/kept"), records);
        assertFalse(kernel.isWatched("/r/keep/cache"));
    }

    @Test
    void renamingADirectoryToAnExcludedNameIsAMoveOut() {
        kernel.mkdir("/r/a");
        TreeWatcher watcher = watcher("cache/");

        kernel.rename("/r/a", "/r/cache");
        event(watcher, "/r", EventKind.MOVED_FROM, true, 4, "a");
        event(watcher, "/r", EventKind.MOVED_TO, true, 4, "cache");

        assertEquals(List.of("DELETE r a/"), records);
        assertFalse(kernel.isWatched("/r/cache"));
    }

    /**
     * {@code mv p/sub /elsewhere; mv p cache; mkdir -p new/inner}, read at once: p's watches go while the MOVED_FROM
     * of sub still waits, and the directories created next take their places in the watch tree. The waiting move is
     * settled at the path it left, never under the new directories.
     */
    @Test
    void aMovedFromWhoseDirectoryLeftTheTreeBeforeItWasSettledKeepsItsOldPathWhenNewDirectoriesAreWatched() {
        kernel.mkdir("/r/p").mkdir("/r/p/sub").mkdir("/r/p/keep");
        TreeWatcher watcher = watcher("cache/");
        int subWatch = kernel.watchOf("/r/p/sub");

        kernel.rename("/r/p/sub", "/r/elsewhere");
        event(watcher, "/r/p", EventKind.MOVED_FROM, true, 3, "sub");
        kernel.rename("/r/p", "/r/cache");
        event(watcher, "/r", EventKind.MOVED_FROM, true, 4, "p");
        event(watcher, "/r", EventKind.MOVED_TO, true, 4, "cache");
        kernel.mkdir("/r/new").mkdir("/r/new/inner").mkdir("/r/new/inner/deeper");
        event(watcher, "/r", EventKind.CREATE, true, 0, "new");
        watcher.onEvent(kernel.watchOf("/r/new/inner"), EventKind.CREATE, false, 0, bytes("f"));
        watcher.onEvent(subWatch, EventKind.CREATE, false, 0, bytes("late"));
        watcher.onReadEnd();
        nanos += PendingMoves.PAIRING_NANOS;
        watcher.onReadEnd();

        assertEquals(List.of("DELETE r p/", "CHANGE r new/", "CHANGE r new/inner/", "CHANGE r new/inner/deeper/",
                "CHANGE r new/inner/f", "DELETE r p/sub/"), records);
        assertTrue(kernel.isWatched("/r/new/inner/deeper"));
        assertFalse(watcher.hasPendingMove());
        assertEquals(4, watcher.watchedDirectories());
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "TreeWatcher", contains = "inotify queue overflowed")
    void aKernelOverflowIsAnOverflowRecordForEveryRoot() {
        TreeWatcher watcher = watcher();

        watcher.onEvent(InotifyEventSink.NO_WATCH, EventKind.OVERFLOW, false, 0, new byte[0]);

        assertEquals(List.of("OVERFLOW r"), records);
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "TreeWatcher", contains = "inotify queue overflowed")
    void directoriesCreatedWhileEventsWereLostAreWatchedByTheWalkAfterAnOverflow() {
        kernel.mkdir("/r/a");
        TreeWatcher watcher = watcher();
        // Their CREATE events are the ones the kernel dropped.
        kernel.mkdir("/r/new").mkdir("/r/a/deeper");

        watcher.onEvent(InotifyEventSink.NO_WATCH, EventKind.OVERFLOW, false, 0, new byte[0]);
        assertEquals(0, watcher.nanosUntilDue(), "the first walk after an overflow is due at once");
        watcher.runDueChecks();

        assertTrue(kernel.isWatched("/r/new") && kernel.isWatched("/r/a/deeper"), kernel.operations.toString());
        assertTrue(records.stream().allMatch(record -> record.equals("OVERFLOW r")), records.toString());
        int recorded = records.size();
        nanos += CoverageRetry.WATCH_RETRY_INTERVAL_NANOS;
        watcher.runDueChecks();
        assertEquals(recorded, records.size(), "nothing left to walk, so no retry and no OVERFLOW: " + records);
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "CoverageRetry", contains = "failed: ENOSPC")
    void theWatchLimitRecordsAnOverflowAndTheTrackerKeepsGoing() {
        kernel.mkdir("/r/a").mkdir("/r/b").mkdir("/r/c");
        kernel.watchLimit = 2;

        TreeWatcher watcher = watcher();

        assertEquals(List.of("OVERFLOW r"), records);
        assertEquals(2, watcher.watchedDirectories());
        event(watcher, "/r", EventKind.CREATE, false, 0, "still-recorded");
        assertEquals("CHANGE r still-recorded", records.get(1));
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "CoverageRetry", contains = "inotify_add_watch(/r/private) failed: EACCES")
    @ExpectLog(level = Level.WARN, logger = "CoverageRetry", contains = "inotify_add_watch(/r/new) failed: EACCES")
    void aDirectoryTheTrackerMayNotWatchIsAnOverflowRetriedUntilItIsWatched() {
        kernel.mkdir("/r/private").mkdir("/r/open");
        kernel.denied.add("/r/private");
        long before = System.currentTimeMillis();

        TreeWatcher watcher = newWatcher(new WatchTree.Root("r", bytes("/r"), PathFilter.of(List.of())));
        watcher.watchRoots(TreeWatcher.NO_CATCH_UP);

        assertEquals(List.of("OVERFLOW r", "RESCAN r"), records);
        assertTrue(watcher.incompleteSinceMillis() >= before && watcher.incompleteSinceMillis() <= System.currentTimeMillis(),
                "no watermark may pass the moment the root became incomplete");
        nanos += CoverageRetry.WATCH_RETRY_INTERVAL_NANOS;
        watcher.runDueChecks();
        assertEquals(List.of("OVERFLOW r", "RESCAN r", "OVERFLOW r"), records, "retried like the watch limit");
        assertFalse(kernel.isWatched("/r/private"));

        // A directory created where the tracker may not watch it: its contents are unknown, so a loss again.
        kernel.mkdir("/r/new");
        kernel.denied.add("/r/new");
        records.clear();
        kernel.deliverEvents(watcher);
        assertEquals(List.of("CHANGE r new/", "OVERFLOW r"), records);

        kernel.denied.clear();
        records.clear();
        nanos += CoverageRetry.WATCH_RETRY_INTERVAL_NANOS;
        watcher.runDueChecks();
        assertEquals(List.of("OVERFLOW r"), records, "the retry that watches them is followed by an OVERFLOW");
        assertTrue(kernel.isWatched("/r/private") && kernel.isWatched("/r/new"));
        assertEquals(Long.MAX_VALUE, watcher.incompleteSinceMillis(), "whole again: the watermark may pass");
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "CoverageRetry", contains = "failed: ENOSPC")
    void theWatchLimitHoldsTheWatermarkBackUntilARetryWatchesEverything() {
        kernel.mkdir("/r/a").mkdir("/r/b").mkdir("/r/c");
        kernel.watchLimit = 2;
        TreeWatcher watcher = watcher();
        long incompleteSince = watcher.incompleteSinceMillis();
        assertTrue(incompleteSince <= System.currentTimeMillis(), "incomplete since the walk: " + incompleteSince);

        event(watcher, "/r", EventKind.CREATE, false, 0, "elsewhere");
        assertEquals(incompleteSince, watcher.incompleteSinceMillis(), "events elsewhere do not cover the gap");
        nanos += CoverageRetry.WATCH_RETRY_INTERVAL_NANOS;
        watcher.runDueChecks();
        assertTrue(watcher.incompleteSinceMillis() >= incompleteSince,
                "a retry's OVERFLOW covers what changed before it, not after it");
        assertTrue(watcher.incompleteSinceMillis() < Long.MAX_VALUE, "still not every directory is watched");

        kernel.watchLimit = Integer.MAX_VALUE;
        nanos += CoverageRetry.WATCH_RETRY_INTERVAL_NANOS;
        watcher.runDueChecks();
        assertEquals(Long.MAX_VALUE, watcher.incompleteSinceMillis());
    }

    /** Lets the periodic root check come due and runs it. */
    private void checkRootsLater(TreeWatcher watcher) {
        nanos += CoverageRetry.ROOT_CHECK_INTERVAL_NANOS;
        assertEquals(0, watcher.nanosUntilDue(), "the root check is due");
        watcher.runDueChecks();
    }

    private RootStatus status() {
        assertEquals(1, statuses.size(), statuses.toString());
        return statuses.get(0);
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "TreeWatcher", contains = "was unmounted")
    @ExpectLog(level = Level.WARN, logger = "TreeWatcher", contains = "is watched again since it was unmounted")
    void anUnmountedRootIsNotWatchedUntilAFileSystemIsMountedThereAgainThenItIsWalkedAndOverflows() {
        kernel.mkdir("/r/a");
        TreeWatcher watcher = watcher();
        assertEquals(Condition.WATCHED, status().condition(), "the initial walk reports every root");
        int rootWatch = kernel.watchOf("/r");
        int subdirectoryWatch = kernel.watchOf("/r/a");

        // Unmounting shows the empty directory the file system was mounted on.
        kernel.mount("/r");
        watcher.onEvent(subdirectoryWatch, EventKind.UNMOUNT, false, 0, new byte[0]);
        watcher.onEvent(rootWatch, EventKind.UNMOUNT, false, 0, new byte[0]);
        watcher.onEvent(rootWatch, EventKind.IGNORED, false, 0, new byte[0]);

        assertEquals(List.of("OVERFLOW r"), records, "one loss, however many watches report it");
        assertEquals(Condition.UNMOUNTED, status().condition());
        assertTrue(status().detail().contains("mount /r; the tracker watches it again on its own"), status().detail());
        assertEquals(0, watcher.watchedDirectories());
        checkRootsLater(watcher);
        assertEquals(Condition.UNMOUNTED, status().condition(), "the bare mount point is not the root");
        assertEquals(List.of("OVERFLOW r"), records);

        kernel.mount("/r");
        kernel.mkdir("/r/b");
        checkRootsLater(watcher);

        assertEquals(Condition.WATCHED, status().condition());
        assertEquals("watched again since it was unmounted", status().detail());
        assertTrue(kernel.isWatched("/r/b"));
        assertEquals(List.of("OVERFLOW r", "OVERFLOW r"), records);
        assertTrue(kernel.operations.indexOf("watch /r/b") < operationsBefore.get("OVERFLOW r"),
                "the OVERFLOW follows the walk that watches the tree again: " + kernel.operations);
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "TreeWatcher", contains = "was replaced by another file system")
    void aFileSystemMountedOverAWatchedRootIsNoticedByTheRootCheckAndWatchedAnew() {
        kernel.mkdir("/r/hidden");
        TreeWatcher watcher = watcher();

        kernel.mount("/r");
        kernel.mkdir("/r/visible");
        checkRootsLater(watcher);

        assertEquals(List.of("OVERFLOW r", "OVERFLOW r"), records, "the loss, then the tree watched anew");
        assertTrue(kernel.isWatched("/r/visible"));
        assertEquals(2, watcher.watchedDirectories(), "the hidden tree's watches are gone");
        assertEquals(Condition.WATCHED, status().condition());
        assertTrue(status().detail().contains("another file system"), status().detail());
        checkRootsLater(watcher);
        assertEquals(2, records.size(), "an unchanged root is left alone: " + records);
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "TreeWatcher", contains = "was deleted")
    @ExpectLog(level = Level.WARN, logger = "TreeWatcher", contains = "is watched again since it was missing")
    void aDeletedRootIsMissingUntilItIsBack() {
        TreeWatcher watcher = watcher();

        event(watcher, "/r", EventKind.DELETE_SELF, false, 0, "");
        kernel.remove("/r");

        assertEquals(List.of("OVERFLOW r"), records);
        assertEquals(Condition.MISSING, status().condition());
        assertTrue(status().detail().startsWith("/r was deleted; restore /r"), status().detail());
        checkRootsLater(watcher);
        assertEquals(List.of("OVERFLOW r"), records);

        kernel.mount("/r");
        kernel.mkdir("/r/restored");
        checkRootsLater(watcher);
        assertTrue(kernel.isWatched("/r/restored"));
        assertEquals(Condition.WATCHED, status().condition());
        assertEquals(List.of("OVERFLOW r", "OVERFLOW r"), records);
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "TreeWatcher", contains = "cannot be looked at")
    @ExpectLog(level = Level.WARN, logger = "TreeWatcher", contains = "is watched again since it was unreadable")
    void aRootThatCannotBeLookedAtIsUnreadableAndRetriedUntilPermissionIsGranted() {
        kernel.mkdir("/r/a");
        kernel.denied.add("/r");
        TreeWatcher watcher = newWatcher(new WatchTree.Root("r", bytes("/r"), PathFilter.of(List.of())));
        watcher.watchRoots(TreeWatcher.NO_CATCH_UP);

        assertEquals(List.of("OVERFLOW r"), records, "no RESCAN for a root that is not watched");
        assertEquals(Condition.UNREADABLE, status().condition());
        assertTrue(status().detail().contains("grant the tracker's user read and search permission on /r"),
                status().detail());
        checkRootsLater(watcher);
        assertEquals(List.of("OVERFLOW r"), records, "failing again the same way records nothing new");

        kernel.denied.clear();
        checkRootsLater(watcher);
        assertTrue(kernel.isWatched("/r/a"));
        assertEquals(Condition.WATCHED, status().condition());
        assertEquals(List.of("OVERFLOW r", "OVERFLOW r"), records);
    }

    /** mountinfo with / and the given tmpfs mount points, as the kernel lists them. */
    private static MountTable mounts(String... points) {
        StringBuilder text = new StringBuilder("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n");
        int id = 2;
        for (String point : points) {
            text.append(id).append(" 1 0:").append(id).append(" / ").append(point).append(" rw - tmpfs t")
                    .append(id++).append(" rw\n");
        }
        return MountTable.parse(text.toString().getBytes(ISO_8859_1));
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "TreeWatcher", contains = "unmounted: t2 (tmpfs) at /r/m")
    void aFileSystemUnmountedBelowTheRootLeavesTheRootWatchedAndTheMountPointIsWatchedByAWalk() {
        kernel.mkdir("/r/m").mkdir("/r/m/inside");
        kernel.mountTable = mounts("/r/m");
        TreeWatcher watcher = watcher();
        int mountPointWatch = kernel.watchOf("/r/m");
        int insideWatch = kernel.watchOf("/r/m/inside");

        kernel.mount("/r/m");
        kernel.mountTable = mounts();
        kernel.mkdir("/r/m/beneath");
        for (int watch : new int[] {insideWatch, mountPointWatch}) {
            watcher.onEvent(watch, EventKind.UNMOUNT, false, 0, new byte[0]);
        }
        for (int watch : new int[] {insideWatch, mountPointWatch}) {
            watcher.onEvent(watch, EventKind.IGNORED, false, 0, new byte[0]);
        }

        assertEquals(List.of("OVERFLOW r"), records, "recorded once, after the walk");
        assertEquals(Condition.WATCHED, status().condition());
        assertTrue(kernel.isWatched("/r/m") && kernel.isWatched("/r/m/beneath"), kernel.operations.toString());
        assertEquals(3, watcher.watchedDirectories());
        watcher.mountTableChanged();
        assertEquals(List.of("OVERFLOW r"), records, "the mount table's own report of the same change finds nothing new");
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "TreeWatcher", contains = "mounted: t2 (tmpfs) at /r/a")
    void aFileSystemMountedOverAWatchedDirectoryIsWatchedInsteadOfTheHiddenOne() {
        kernel.mkdir("/r/a").mkdir("/r/a/hidden").mkdir("/r/x");
        TreeWatcher watcher = watcher();
        kernel.mount("/r/a");
        kernel.mkdir("/r/a/on-the-new-file-system");
        kernel.mountTable = mounts("/r/a");
        kernel.deliverEvents(watcher);
        assertEquals(List.of(), records, "inotify tells nothing of a mount over a watched directory");

        watcher.mountTableChanged();
        assertEquals(List.of("OVERFLOW r"), records);
        assertTrue(kernel.isWatched("/r/a/on-the-new-file-system"), kernel.operations.toString());
        assertEquals(4, watcher.watchedDirectories());
        watcher.mountTableChanged();
        assertEquals(List.of("OVERFLOW r"), records, "an unchanged table records nothing");
    }

    @Test
    void aRemountWithOtherOptionsChangesNothing() {
        kernel.mkdir("/r/m");
        kernel.mountTable = mounts("/r/m");
        TreeWatcher watcher = watcher();
        kernel.mountTable = MountTable.parse(("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n"
                + "2 1 0:2 / /r/m ro - tmpfs t2 ro,size=4k\n").getBytes(ISO_8859_1));
        watcher.mountTableChanged();
        assertEquals(List.of(), records);
    }

    @Test
    void aFileSystemMountedInAnExcludedDirectoryChangesNothing() {
        kernel.mkdir("/r/cache").mkdir("/r/x");
        TreeWatcher watcher = watcher("/cache");
        kernel.mountTable = mounts("/r/cache", "/elsewhere", "/rx");
        watcher.mountTableChanged();
        assertEquals(List.of(), records);
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "TreeWatcher", contains = "inotify queue overflowed")
    void longWalksReportProgressAtMostOncePerIntervalIncludingTheWalkAfterAnOverflow() {
        for (int i = 0; i < 200; i++) {
            kernel.mkdir("/r/d" + i);
        }
        long listingNanos = 50_000_000L;
        kernel.onList = () -> nanos += listingNanos;

        TreeWatcher watcher = watcher();

        long walkNanos = 201 * listingNanos;
        assertTrue(walkReports.size() >= walkNanos / Walker.WALK_REPORT_INTERVAL_NANOS - 1,
                "a walk of " + walkNanos / 1_000_000 + " ms reported " + walkReports.size() + " times");
        for (int i = 1; i < walkReports.size(); i++) {
            assertTrue(walkReports.get(i) - walkReports.get(i - 1) >= Walker.WALK_REPORT_INTERVAL_NANOS,
                    "reports closer together than the interval: " + walkReports);
        }

        walkReports.clear();
        watcher.onEvent(InotifyEventSink.NO_WATCH, EventKind.OVERFLOW, false, 0, new byte[0]);
        watcher.runDueChecks();
        assertTrue(walkReports.size() >= walkNanos / Walker.WALK_REPORT_INTERVAL_NANOS - 1,
                "the walk after an overflow reported " + walkReports.size() + " times");
    }
}

