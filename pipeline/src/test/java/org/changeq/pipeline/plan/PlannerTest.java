package org.changeq.pipeline.plan;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.pipeline.config.TestConfigs;
import org.changeq.pipeline.manifest.QueueRecord;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.manifest.RecordView;
import org.changeq.pipeline.state.HeldDeletions;
import org.changeq.pipeline.state.RetryList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlannerTest {

    @TempDir
    Path dir;

    private final RouteConfig everything = TestConfigs.route("{root: nfs, dest: /dst}");

    private long index;

    private ChangeScan feed(RouteConfig route, QueueRecord... records) {
        return feed(route, RetryList.EMPTY, records);
    }

    private ChangeScan feed(RouteConfig route, RetryList retry, QueueRecord... records) {
        ChangeScan scan = new ChangeScan(route, ChangeScan.Collect.UNTIL_FULL, retry, HeldDeletions.EMPTY);
        RecordView view = new RecordView();
        for (QueueRecord record : records) {
            scan.visit(++index, view.set(record));
        }
        return scan;
    }

    private static QueueRecord rec(RecordType type, String path, boolean directory) {
        return new QueueRecord(type, "nfs", 0, directory, path.getBytes(UTF_8));
    }

    private static QueueRecord rec(RecordType type, byte[] path) {
        return new QueueRecord(type, "nfs", 0, false, path);
    }

    private static QueueRecord marker(RecordType type, String root) {
        return QueueRecord.marker(type, root, 0);
    }

    /** Writes the lists and reads them back as entries (bytes, NUL-split). */
    private List<List<String>> lists(ChangeScan scan, boolean propagateDeletes) throws IOException {
        Path files = dir.resolve("files");
        Path dirs = dir.resolve("dirs");
        scan.result(true).pending().orElseThrow().writeLists(files, dirs, dir.resolve("content"), propagateDeletes);
        return List.of(entries(files), entries(dirs));
    }

    static List<String> entries(Path list) throws IOException {
        byte[] bytes = Files.readAllBytes(list);
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == 0) {
                out.add(new String(bytes, start, i - start, java.nio.charset.StandardCharsets.ISO_8859_1));
                start = i + 1;
            }
        }
        assertEquals(bytes.length, start, "the list ends with a NUL");
        return out;
    }

    @Test
    void dedupesToTheLastRecordOfEachPathAndPrefixesEveryEntry() throws IOException {
        ChangeScan scan = feed(everything,
                rec(RecordType.CHANGE, "a", false),
                rec(RecordType.CHANGE, "#comment", false),
                rec(RecordType.CHANGE, "a", false),
                rec(RecordType.CHANGE, "gone", false),
                rec(RecordType.DELETE, "gone", false),
                rec(RecordType.DELETE, "back", false),
                rec(RecordType.CHANGE, "back", false));
        assertEquals(List.of(List.of("./a", "./#comment", "./back"), List.of()), lists(scan, false));
        assertEquals(7, scan.result(true).backlog());
    }

    @Test
    void retryPathsAreSentWithTheNewChangesOnceEachAndByTheirKind() throws IOException {
        RetryList retry = new RetryList(List.of(
                new RetryList.Entry("stuck/a".getBytes(UTF_8), RetryList.Kind.FILE, 1, ""),
                new RetryList.Entry("stuck".getBytes(UTF_8), RetryList.Kind.DIRECTORY, 1, ""),
                new RetryList.Entry("new".getBytes(UTF_8), RetryList.Kind.SUBTREE, 2, ""),
                new RetryList.Entry("gone".getBytes(UTF_8), RetryList.Kind.FILE, 3, "")), false);
        ChangeScan scan = feed(everything, retry,
                rec(RecordType.CHANGE, "stuck/a", false),
                rec(RecordType.CHANGE, "new/inside", false),
                rec(RecordType.DELETE, "gone", false),
                rec(RecordType.CHANGE, "b", false));
        assertEquals(List.of(List.of("./stuck/a", "./new", "./b"), List.of("./stuck")), lists(scan, false),
                "a retry path the records name again is listed once; one inside a retried subtree rides with it;"
                        + " one deleted since leaves with its deletion");
        assertEquals(List.of(List.of("./stuck/a", "./new", "./gone", "./b"), List.of("./stuck")), lists(scan, true));
        assertEquals(4, scan.result(true).backlog(), "retry paths are no queue records");
    }

    @Test
    void aDeletionRsyncFailedToMakeIsADeletionAgain() throws IOException {
        RetryList retry = new RetryList(List.of(
                new RetryList.Entry("undeleted".getBytes(UTF_8), RetryList.Kind.DELETION, 4, "")), false);
        ChangeScan scan = feed(everything, retry);
        DeletionLists deletion = new DeletionLists(dir.resolve("deletions"), dir.resolve("filter"), dir.resolve("renamed"));
        PendingChanges.Lists lists = scan.result(true).pending().orElseThrow()
                .writeLists(dir.resolve("files"), dir.resolve("dirs"), dir.resolve("content"), deletion, true,
                        PendingChanges.EntryCheck.ALL);
        assertEquals(1, lists.deletions());
        assertEquals(List.of("./."), entries(deletion.directories()));
    }

    @Test
    void deletionsAreListedOnlyWhenTheyPropagate() throws IOException {
        ChangeScan scan = feed(everything, rec(RecordType.CHANGE, "x", false), rec(RecordType.DELETE, "x", false));
        assertEquals(List.of(List.of("./x"), List.of()), lists(scan, true));
        assertEquals(List.of(List.of(), List.of()), lists(scan, false));
    }

    @Test
    void aDirectoryReplacedByAFileIsTheDeletionPassesAloneWhenDeletesPropagate() throws IOException {
        // The writer coalesced the directory's DELETE with the file's CHANGE: the deletions below are the only sign.
        ChangeScan scan = feed(everything,
                rec(RecordType.DELETE, "x/a", false),
                rec(RecordType.DELETE, "x/sub/b", false),
                rec(RecordType.DELETE, "x/sub", true),
                rec(RecordType.CHANGE, "x", false),
                rec(RecordType.DELETE, "gone", false),
                rec(RecordType.CHANGE, "y", true),
                rec(RecordType.CHANGE, "y", false));
        DeletionLists deletion = new DeletionLists(dir.resolve("deletions"), dir.resolve("filter"), dir.resolve("renamed"));
        PendingChanges.Lists lists = scan.result(true).pending().orElseThrow()
                .writeLists(dir.resolve("files"), dir.resolve("dirs"), dir.resolve("content"), deletion, true,
                        PendingChanges.EntryCheck.ALL);
        assertEquals(List.of("./gone"), entries(dir.resolve("files")),
                "neither replaced directory nor what x held: below a file rsync fails with ENOTDIR");
        assertEquals(3, lists.deletions(), "x and y, whose record as a directory is the sign, and gone");
        assertEquals(List.of("./."), entries(deletion.directories()));
        assertEquals(List.of(List.of("./x", "./y"), List.of()),
                lists(scan, false), "without propagate-deletes: as before, until a full sync with --delete");
    }

    @Test
    void aPathUnderAPendingSubtreeNeedsNoEntryButItsDeletionDoes() throws IOException {
        ChangeScan scan = feed(everything,
                rec(RecordType.CHANGE, "photos/2024/a.jpg", false),
                rec(RecordType.SUBTREE, "photos", true),
                rec(RecordType.CHANGE, "photos/2024/b.jpg", false),
                rec(RecordType.DELETE, "photos/old.jpg", false),
                rec(RecordType.CHANGE, "photoshop", false));
        assertEquals(List.of(List.of("./photos", "./photos/old.jpg", "./photoshop"), List.of()), lists(scan, true));
    }

    @Test
    void aLaterChangeOfTheDirectoryDoesNotDowngradeAPendingSubtree() throws IOException {
        ChangeScan scan = feed(everything,
                rec(RecordType.SUBTREE, "new", true),
                rec(RecordType.CHANGE, "new", true));
        assertEquals(List.of(List.of("./new"), List.of()), lists(scan, false));
        ChangeScan deleted = feed(everything,
                rec(RecordType.SUBTREE, "new", true),
                rec(RecordType.DELETE, "new", true));
        assertEquals(List.of(List.of(), List.of()), lists(deleted, false));
    }

    @Test
    void directoriesWhoseOwnAttributesChangedGoToTheNonRecursiveList() throws IOException {
        ChangeScan scan = feed(everything,
                rec(RecordType.CHANGE, "big", true),
                rec(RecordType.CHANGE, "big/file", false),
                rec(RecordType.CHANGE, "", true));
        assertEquals(List.of(List.of("./big/file"), List.of("./big", "./")), lists(scan, false));
    }

    @Test
    void aSubtreeOfTheRootCoversEverything() throws IOException {
        ChangeScan scan = feed(everything,
                rec(RecordType.CHANGE, "a", false),
                rec(RecordType.SUBTREE, "", true),
                rec(RecordType.CHANGE, "b/c", false));
        assertEquals(List.of(List.of("./"), List.of()), lists(scan, false));
    }

    private static QueueRecord written(String path) {
        return new QueueRecord(RecordType.CHANGE, "nfs", 0, false, path.getBytes(UTF_8), true);
    }

    @Test
    void nothingIsListedBelowAnAncestorThatLaterStoppedBeingADirectory() throws IOException {
        // mkdir x; echo decoy > x/shadow; mv x x.old; ln -s /elsewhere x: rsync would read x/shadow through the link.
        ChangeScan scan = feed(everything,
                rec(RecordType.CHANGE, "x", true),
                written("x/shadow"),
                rec(RecordType.DELETE, "x/gone", false),
                rec(RecordType.DELETE, "x", true),
                rec(RecordType.SUBTREE, "x.old", true),
                rec(RecordType.CHANGE, "x", false),
                rec(RecordType.CHANGE, "xy/f", false),
                written("a/f"),
                rec(RecordType.DELETE, "a", true),
                written("a/f"),
                rec(RecordType.CHANGE, "b/f", false),
                rec(RecordType.DELETE, "b", true));
        Path content = dir.resolve("content");
        PendingChanges.Lists lists = scan.result(true).pending().orElseThrow()
                .writeLists(dir.resolve("files"), dir.resolve("dirs"), content, true);
        assertEquals(List.of("./x.old", "./xy/f", "./a", "./b"), entries(dir.resolve("files")),
                "x/shadow and the deletion x/gone are stale: x is a symbolic link now; b/f went with b; x, a directory"
                        + " replaced by a link, is the deletion pass's alone");
        assertEquals(List.of("./a/f"), entries(content), "a/f was written again after a was deleted");
        assertEquals(new PendingChanges.Lists(2, 0, 3, 1, 1), lists);
    }

    @Test
    void aRetriedPathBelowADirectoryReplacedSinceIsNotListed() throws IOException {
        RetryList retry = new RetryList(List.of(new RetryList.Entry("x/shadow".getBytes(UTF_8), RetryList.Kind.CONTENT,
                1, "")), false);
        ChangeScan scan = feed(everything, retry, rec(RecordType.CHANGE, "x", false));
        Path content = dir.resolve("content");
        scan.result(true).pending().orElseThrow().writeLists(dir.resolve("files"), dir.resolve("dirs"), content, false);
        assertEquals(List.of(), entries(content));
        assertEquals(List.of("./x"), entries(dir.resolve("files")));
    }

    @Test
    void filesWhoseContentWasWrittenGoToTheContentListAndStayThere() throws IOException {
        RetryList retry = new RetryList(List.of(new RetryList.Entry("failed".getBytes(UTF_8), RetryList.Kind.CONTENT, 1,
                "")), false);
        ChangeScan scan = feed(everything, retry,
                new QueueRecord(RecordType.CHANGE, "nfs", 0, false, "written".getBytes(UTF_8), true),
                rec(RecordType.CHANGE, "written", false),
                rec(RecordType.CHANGE, "touched", false),
                rec(RecordType.SUBTREE, "moved", true),
                new QueueRecord(RecordType.CHANGE, "nfs", 0, false, "moved/inside".getBytes(UTF_8), true),
                rec(RecordType.CHANGE, "moved/plain", false),
                new QueueRecord(RecordType.CHANGE, "nfs", 0, false, "gone".getBytes(UTF_8), true),
                rec(RecordType.DELETE, "gone", false));
        Path content = dir.resolve("content");
        PendingChanges.Lists lists = scan.result(true).pending().orElseThrow()
                .writeLists(dir.resolve("files"), dir.resolve("dirs"), content, true);
        assertEquals(List.of("./failed", "./written", "./moved/inside"), entries(content),
                "a later metadata change keeps the content write; a pending subtree is sent by quick check");
        assertEquals(List.of("./touched", "./moved", "./gone"), entries(dir.resolve("files")));
        assertEquals(new PendingChanges.Lists(2, 0, 1, 3, 1), lists);
    }

    @Test
    void theDeletionListNamesEachDirectoryOfADeletedPathOnceAndTheRootAsDot() throws IOException {
        ChangeScan scan = feed(everything, rec(RecordType.DELETE, "a/b/gone", false), rec(RecordType.DELETE, "a/b/other", false),
                rec(RecordType.DELETE, "top", true), rec(RecordType.CHANGE, "a/kept", false),
                rec(RecordType.RENAMED_AWAY, "a/old", true), rec(RecordType.SUBTREE, "a/new", true));
        DeletionLists deletion = new DeletionLists(dir.resolve("deletions"), dir.resolve("filter"), dir.resolve("renamed"));
        Path renamed = deletion.renamed();
        PendingChanges.Lists lists = scan.result(true).pending().orElseThrow()
                .writeLists(dir.resolve("files"), dir.resolve("dirs"), dir.resolve("content"), deletion, true,
                        PendingChanges.EntryCheck.ALL);
        assertEquals(List.of("./a/b/.", "./.", "./a/."), entries(deletion.directories()));
        assertEquals("R /a/b/gone\0R /a/b/other\0R /top\0R /a/old\0P /a/b/*\0P /*\0P /a/*\0",
                Files.readString(deletion.filter()), "the receiver deletes the deleted paths and protects their siblings");
        assertEquals(List.of("./a/b/gone", "./a/b/other", "./top", "./a/kept", "./a/old", "./a/new"),
                entries(dir.resolve("files")), "a deleted path that exists again by the time rsync runs is sent");
        assertEquals("a/old\0", Files.readString(renamed), "the old name of a renamed directory, raw");
        assertEquals(4, lists.deletions());
    }

    @Test
    void namesAreBytesEndToEnd() throws IOException {
        byte[] weird = {'-', 'x', '\n', (byte) 0xff, ';', '[', '*', ' '};
        ChangeScan scan = feed(everything, rec(RecordType.CHANGE, weird));
        Path files = dir.resolve("files");
        scan.result(true).pending().orElseThrow().writeLists(files, dir.resolve("dirs"), dir.resolve("content"), false);
        byte[] expected = new byte[weird.length + 3];
        expected[0] = '.';
        expected[1] = '/';
        System.arraycopy(weird, 0, expected, 2, weird.length);
        assertTrue(Arrays.equals(expected, Files.readAllBytes(files)));
    }

    @Test
    void keepsOnlyTheRoutesRootAndPaths() throws IOException {
        RouteConfig offsite = TestConfigs.route("{root: nfs, dest: /dst, include: [/immich/], exclude: [\"*.tmp\"]}");
        ChangeScan scan = feed(offsite,
                rec(RecordType.CHANGE, "immich/a", false),
                rec(RecordType.CHANGE, "immich/a.tmp", false),
                rec(RecordType.CHANGE, "docs/b", false),
                new QueueRecord(RecordType.CHANGE, "other-root", 0, false, "immich/c".getBytes(UTF_8)),
                // A directory moved in may hold included paths: kept, rsync's filters pick them out.
                rec(RecordType.SUBTREE, "archive", true));
        assertEquals(List.of(List.of("./immich/a", "./archive"), List.of()), lists(scan, false));
        assertEquals(4, scan.result(true).backlog(), "backlog counts the root's records before filtering");
    }

    @Test
    void aStartWithoutAPrecedingStopIsAGapUntilTheRootIsRescanned() {
        assertTrue(feed(everything, rec(RecordType.CHANGE, "a", false), marker(RecordType.START, ""))
                .result(true).unhealedGap());
        assertFalse(feed(everything, marker(RecordType.STOP, ""), marker(RecordType.START, ""))
                .result(true).unhealedGap());
        assertFalse(feed(everything, marker(RecordType.START, ""), marker(RecordType.RESCAN, "nfs"))
                .result(true).unhealedGap());
        assertTrue(feed(everything, marker(RecordType.START, ""), marker(RecordType.RESCAN, "other"))
                .result(true).unhealedGap());
        assertTrue(feed(everything, marker(RecordType.START, ""), marker(RecordType.RESCAN, "nfs"),
                marker(RecordType.START, "")).result(true).unhealedGap());
    }

    @Test
    void anOverflowOfTheRootIsNotedAndReleasesThePaths() {
        ChangeScan.Result result = feed(everything, rec(RecordType.CHANGE, "a", false),
                marker(RecordType.OVERFLOW, "nfs")).result(true);
        assertTrue(result.overflow());
        assertTrue(result.pending().isEmpty());
        assertFalse(feed(everything, marker(RecordType.OVERFLOW, "other")).result(true).overflow());
    }

    @Test
    void collectingStopsPastTheBacklogThresholdButCountingGoesOn() {
        RouteConfig small = TestConfigs.route("{root: nfs, dest: /dst, backlog-threshold: 2}");
        ChangeScan.Result result = feed(small, rec(RecordType.CHANGE, "a", false), rec(RecordType.CHANGE, "b", false),
                rec(RecordType.CHANGE, "c", false), rec(RecordType.CHANGE, "d", false)).result(true);
        assertEquals(4, result.backlog());
        assertTrue(result.pending().isEmpty());
    }

    @Test
    void theRouteIsAskedOncePerPathAndKindOfRecordItTakes() {
        List<String> asked = new ArrayList<>();
        PendingChanges pending = new PendingChanges((type, directory, path, length) -> {
            asked.add(type + " " + directory + " " + new String(path, 0, length, UTF_8));
            return directory && type != RecordType.CHANGE;
        });
        byte[] dir = "d/".getBytes(UTF_8);
        pending.merge(RecordType.SUBTREE, true, false, dir, 1, 5);
        pending.merge(RecordType.DELETE, true, false, dir, 1, 6);
        pending.merge(RecordType.CHANGE, true, false, dir, 1, 1);
        pending.merge(RecordType.CHANGE, false, false, dir, 1, 2);
        pending.merge(RecordType.CHANGE, true, false, dir, 1, 3);
        pending.merge(RecordType.SUBTREE, true, false, dir, 1, 7);
        assertEquals(1, pending.distinctPaths());
        assertEquals(5, pending.oldestChangeMillis(), "records the route does not take do not count");
        // A yes holds for SUBTREE and DELETE alike; a no is not kept, since the path may not be pending.
        assertEquals(List.of("SUBTREE true d", "CHANGE true d", "CHANGE false d", "CHANGE true d"), asked);
    }

    @Test
    void manyRecordsOfLongAndShortPathsKeepTheLastRecordOfEach() throws IOException {
        byte[] longName = new byte[4000];
        Arrays.fill(longName, (byte) 'n');
        List<QueueRecord> records = new ArrayList<>();
        java.util.Map<String, RecordType> last = new java.util.LinkedHashMap<>();
        for (int i = 0; i < 1000; i++) {
            byte[] path = i % 10 == 0 ? longName : ("p" + i % 50).getBytes(UTF_8);
            RecordType type = i % 3 == 0 || i % 10 == 7 ? RecordType.DELETE : RecordType.CHANGE;
            records.add(rec(type, path));
            last.put("./" + new String(path, UTF_8), type);
        }
        List<String> expected = new ArrayList<>();
        last.forEach((entry, type) -> {
            if (type == RecordType.CHANGE) {
                expected.add(entry);
            }
        });
        assertTrue(expected.size() > 10 && expected.size() < last.size());
        assertEquals(expected, lists(feed(everything, records.toArray(QueueRecord[]::new)), false).get(0));
    }
}
