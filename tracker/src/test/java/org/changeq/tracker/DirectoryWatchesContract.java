package org.changeq.tracker;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * What {@link TreeWatcher} relies on from the kernel, run against {@link FakeDirectories} here and against
 * {@link Libc} on the real kernel in native-tests, so that the fake the watcher's tests use cannot drift from
 * what inotify does. Each implementation works in an empty directory {@link #root()}, changes it through the
 * methods below as a user would, and reports the events queued for its watches.
 */
abstract class DirectoryWatchesContract {

    /** The implementation under test. */
    abstract DirectoryWatches watches();

    /** The absolute path of an empty directory, as Latin-1 (one char per byte). */
    abstract String root();

    abstract void mkdir(String path);

    abstract void createFile(String path);

    abstract void rename(String from, String to);

    /** Deletes a file, or an empty directory. */
    abstract void remove(String path);

    /** The events queued for the watches since the last call, in order. */
    abstract List<Event> takeEvents();

    /** Returns once a change made now gets a later status-change time than {@code changeTimeMillis}. */
    abstract void awaitChangeTimeAfter(long changeTimeMillis);

    /** An event as {@link InotifyEventSink} receives it. */
    record Event(int watch, EventKind kind, boolean directory, int cookie, String name) {
    }

    /** Collects events, for implementations of {@link #takeEvents()}. */
    static final class Collector implements InotifyEventSink {
        final List<Event> events = new ArrayList<>();

        @Override
        public void onEvent(int watch, EventKind kind, boolean directory, int cookie, byte[] name) {
            events.add(new Event(watch, kind, directory, cookie, new String(name, ISO_8859_1)));
        }
    }

    private String path(String relative) {
        return root() + "/" + relative;
    }

    private byte[] bytes(String relative) {
        return (relative.isEmpty() ? root() : path(relative)).getBytes(ISO_8859_1);
    }

    private int watch(String relative) {
        return watches().addWatch(bytes(relative));
    }

    private Map<String, Boolean> list(String relative, boolean directoriesOnly) {
        Map<String, Boolean> entries = new TreeMap<>();
        watches().list(bytes(relative), directoriesOnly,
                (name, directory) -> entries.put(new String(name, ISO_8859_1), directory));
        return entries;
    }

    private long changeTime(String relative) {
        return watches().changeTimeMillis(bytes(relative));
    }

    @Test
    void watchingAWatchedDirectoryAgainGivesTheSameKeyAndAnotherDirectoryAnotherKey() {
        mkdir("a");
        mkdir("b");

        int a = watch("a");

        assertEquals(a, watch("a"));
        assertNotEquals(a, watch("b"));
    }

    @Test
    void aWatchedDirectoryKeepsItsKeyThroughARenameAndSoDoTheDirectoriesBelowIt() {
        mkdir("a");
        mkdir("a/deep");
        mkdir("x");
        int a = watch("a");
        int deep = watch("a/deep");

        rename("a", "x/b");

        assertEquals(a, watch("x/b"));
        assertEquals(deep, watch("x/b/deep"));
    }

    @Test
    void aRenameBetweenWatchedDirectoriesIsMovedFromThenMovedToWithOneCookieThenMoveSelfOfTheMovedDirectory() {
        mkdir("a");
        mkdir("x");
        createFile("f");
        int root = watch("");
        int x = watch("x");
        int a = watch("a");
        takeEvents();

        rename("a", "x/b");
        rename("f", "x/g");

        List<Event> events = takeEvents();
        assertEquals(5, events.size(), events.toString());
        Event from = events.get(0);
        Event to = events.get(1);
        assertNotEquals(0, from.cookie(), "a cookie pairs the two halves");
        assertEquals(List.of(new Event(root, EventKind.MOVED_FROM, true, from.cookie(), "a"),
                new Event(x, EventKind.MOVED_TO, true, from.cookie(), "b"),
                new Event(a, EventKind.MOVE_SELF, false, 0, "")), events.subList(0, 3),
                "the MOVE_SELF of a moved directory comes after its MOVED_TO, never between the halves");
        assertNotEquals(from.cookie(), events.get(3).cookie(), "each rename has its own cookie");
        assertEquals(List.of(new Event(root, EventKind.MOVED_FROM, false, events.get(3).cookie(), "f"),
                new Event(x, EventKind.MOVED_TO, false, events.get(3).cookie(), "g")), events.subList(3, 5));
    }

    @Test
    void aDirectoryMovedToAnUnwatchedDirectoryReportsOnlyMovedFromAndMoveSelf() {
        mkdir("a");
        mkdir("outside");
        int root = watch("");
        int a = watch("a");
        takeEvents();

        rename("a", "outside/a");

        List<Event> events = takeEvents();
        assertEquals(2, events.size(), events.toString());
        assertEquals(new Event(root, EventKind.MOVED_FROM, true, events.get(0).cookie(), "a"), events.get(0));
        assertEquals(new Event(a, EventKind.MOVE_SELF, false, 0, ""), events.get(1));
    }

    @Test
    void aRemovedDirectoryReportsDeleteToItsParentAndDeleteSelfThenIgnoredOnItsOwnWatch() {
        mkdir("a");
        int root = watch("");
        int a = watch("a");
        takeEvents();

        remove("a");

        List<Event> events = takeEvents();
        assertTrue(events.contains(new Event(root, EventKind.DELETE, true, 0, "a")), events.toString());
        List<Event> own = events.stream().filter(event -> event.watch() == a).toList();
        assertEquals(List.of(new Event(a, EventKind.DELETE_SELF, false, 0, ""),
                new Event(a, EventKind.IGNORED, false, 0, "")), own);
        assertEquals(3, events.size(), events.toString());
    }

    @Test
    void aRemovedWatchReportsIgnoredAndRemovingItAgainIsNoError() {
        mkdir("a");
        int a = watch("a");
        takeEvents();

        watches().removeWatch(a);

        assertEquals(List.of(new Event(a, EventKind.IGNORED, false, 0, "")), takeEvents());
        watches().removeWatch(a);
    }

    @Test
    void aDirectoryCreatedAgainAfterItsRemovalGetsANewKey() {
        mkdir("a");
        int first = watch("a");
        remove("a");
        takeEvents();

        mkdir("a");

        assertNotEquals(first, watch("a"), "the kernel does not reuse a key soon: a late IGNORED names the old one");
    }

    @Test
    void createdEntriesAreReportedWithTheirKind() {
        int root = watch("");

        mkdir("d");
        createFile("f");

        List<Event> events = takeEvents();
        assertEquals(new Event(root, EventKind.CREATE, true, 0, "d"), events.get(0));
        assertEquals(new Event(root, EventKind.CREATE, false, 0, "f"), events.get(1));
    }

    @Test
    void watchingWhatIsNotADirectoryIsRefusedAsAPathThatIsGone() {
        createFile("f");

        for (String path : List.of("missing", "f")) {
            PathUnavailableException refused = assertThrows(PathUnavailableException.class, () -> watch(path));
            assertEquals(PathUnavailableException.Reason.GONE, refused.reason(), path);
        }
    }

    @Test
    void aListingHasEveryEntryButDotAndDotDotWithItsKindAndCanSkipFiles() {
        mkdir("a");
        mkdir("a/sub");
        createFile("a/f");

        assertEquals(Map.of("sub", true, "f", false), list("a", false));
        assertEquals(Map.of("sub", true), list("a", true));
        assertThrows(PathUnavailableException.class, () -> list("missing", false));
    }

    @Test
    void aNewEntryHasTheCurrentTimeAsItsChangeTimeAtMostTheCatchUpMarginEarly() {
        long before = System.currentTimeMillis();
        mkdir("d");
        createFile("f");
        long after = System.currentTimeMillis();

        Map<String, Long> listed = new TreeMap<>();
        watches().listWithChangeTimes(bytes(""), (name, directory, changeTime) ->
                listed.put(new String(name, ISO_8859_1), changeTime));

        assertEquals(List.of("d", "f"), List.copyOf(listed.keySet()));
        for (String name : listed.keySet()) {
            long changeTime = listed.get(name);
            assertEquals(changeTime, changeTime(name), "the listing and lstat agree");
            assertTrue(changeTime >= before - CatchUp.SAFETY_MARGIN_MILLIS && changeTime <= after,
                    name + " changed at " + changeTime + ", made between " + before + " and " + after);
        }
        assertEquals(-1, changeTime("missing"));
    }

    @Test
    void aRenamedDirectoryAndTheDirectoriesItLeftAndEnteredGetANewChangeTimeButNotWhatIsInside() {
        mkdir("a");
        createFile("a/inside");
        mkdir("x");
        long created = Math.max(Math.max(changeTime("a"), changeTime("x")), Math.max(changeTime(""),
                changeTime("a/inside")));
        awaitChangeTimeAfter(created);

        rename("a", "x/b");

        assertTrue(changeTime("x/b") > created, "a directory renamed while the tracker is down is sent whole");
        assertTrue(changeTime("") > created && changeTime("x") > created);
        assertTrue(changeTime("x/b/inside") <= created, "the files inside keep their times");
    }

    @Test
    void removingAnEntryGivesItsDirectoryANewChangeTime() {
        mkdir("d");
        createFile("d/f");
        long created = changeTime("d");
        awaitChangeTimeAfter(created);

        remove("d/f");

        assertTrue(changeTime("d") > created);
    }

    @Test
    void anIdentityTellsDirectoriesApartAndFollowsADirectoryThroughARename() {
        mkdir("a");
        mkdir("b");
        createFile("f");

        FileIdentity a = watches().identify(bytes("a"));
        FileIdentity b = watches().identify(bytes("b"));

        assertTrue(a.directory());
        assertEquals(a, watches().identify(bytes("a")));
        assertNotEquals(a, b);
        assertEquals(a.device(), b.device());
        assertFalse(watches().identify(bytes("f")).directory());
        assertNull(watches().identify(bytes("missing")));
        rename("a", "c");
        assertEquals(a, watches().identify(bytes("c")));
        mkdir("a");
        assertNotEquals(a, watches().identify(bytes("a")), "a directory made in its place is another one");
    }
}
