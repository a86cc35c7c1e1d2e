package org.changeq.tracker;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.changeq.pipeline.mount.MountTable;

/**
 * An in-memory directory tree standing in for the kernel: watches get increasing keys, listings come from
 * the tree, and every watch, unwatch and listing is recorded in order. Every entry has an identity (its
 * file system and inode) and a status-change time from the wall clock; {@link #mount} and {@link #remove} change
 * what is at a path as a mount or a deletion would. Changes made through it queue the events the kernel would
 * report for them, which {@link #deliverEvents} hands over; {@link DirectoryWatchesContract} holds it to what
 * the kernel does. Paths are Latin-1 strings, one char per byte, so any byte sequence round-trips.
 */
final class FakeDirectories implements DirectoryWatches {

    /** Directory path → entries (name → is directory). */
    private final Map<String, Map<String, Boolean>> directories = new HashMap<>();
    private final Map<String, Integer> watches = new HashMap<>();
    /** Every entry's identity and status-change time, by path. */
    private final Map<String, FileIdentity> identities = new HashMap<>();
    private final Map<String, Long> changeTimes = new HashMap<>();
    final List<String> operations = new ArrayList<>();
    private final List<Event> events = new ArrayList<>();
    private int nextWatch = 1;
    private int nextCookie = 1;
    private long nextInode = 2;
    private long nextDevice = 1;

    private record Event(int watch, EventKind kind, boolean directory, int cookie, String name) {
    }
    int watchLimit = Integer.MAX_VALUE;
    /** Paths that exist but whose look-ups are refused, as for a parent without search permission. */
    final java.util.Set<String> denied = new java.util.HashSet<>();
    /** What {@link #mountTable()} returns: nothing mounted unless a test says so. */
    MountTable mountTable = MountTable.parse(new byte[0]);
    /** Runs before every listing: a test's clock advances as a walk lists directories. */
    Runnable onList = () -> { };

    FakeDirectories(String root) {
        directories.put(root, new TreeMap<>());
        identities.put(root, new FileIdentity(nextDevice++, nextInode++, 1, true));
        changeTimes.put(root, System.currentTimeMillis());
    }

    FakeDirectories mkdir(String path) {
        addEntry(path, true);
        directories.put(path, new TreeMap<>());
        queue(parent(path), EventKind.CREATE, true, 0, name(path));
        return this;
    }

    /**
     * Puts an empty directory of a new file system at {@code path}, as mounting one there does, or unmounting the
     * one that was there (which shows the directory beneath). Watches below it are dropped without a trace, as
     * the kernel does; the events that report it are for the test to send.
     */
    FakeDirectories mount(String path) {
        drop(path);
        directories.put(path, new TreeMap<>());
        long device = nextDevice++;
        identities.put(path, new FileIdentity(device, 2, device, true));
        changeTimes.put(path, System.currentTimeMillis());
        return this;
    }

    /**
     * Deletes a file, or a directory and everything below it deepest first, as {@code rm -r} does; the watches go,
     * each with DELETE_SELF and IGNORED.
     */
    void remove(String path) {
        Map<String, Boolean> entries = directories.get(path);
        if (entries != null) {
            for (Map.Entry<String, Boolean> entry : List.copyOf(entries.entrySet())) {
                if (entry.getValue()) {
                    remove(path + "/" + entry.getKey());
                } else {
                    entries.remove(entry.getKey());
                    queue(path, EventKind.DELETE, false, 0, entry.getKey());
                }
            }
            Integer watch = watches.get(path);
            if (watch != null) {
                events.add(new Event(watch, EventKind.DELETE_SELF, false, 0, ""));
                events.add(new Event(watch, EventKind.IGNORED, false, 0, ""));
            }
        }
        drop(path);
        Map<String, Boolean> parent = directories.get(parent(path));
        if (parent != null && parent.remove(name(path)) != null) {
            changeTimes.put(parent(path), System.currentTimeMillis());
            queue(parent(path), EventKind.DELETE, entries != null, 0, name(path));
        }
    }

    private void drop(String path) {
        directories.keySet().removeIf(key -> key.equals(path) || key.startsWith(path + "/"));
        identities.keySet().removeIf(key -> key.equals(path) || key.startsWith(path + "/"));
        changeTimes.keySet().removeIf(key -> key.equals(path) || key.startsWith(path + "/"));
        watches.keySet().removeIf(key -> key.equals(path) || key.startsWith(path + "/"));
    }

    /** Creates a file, as {@code open(O_CREAT)} and {@code close} do, or sets an existing one's times. */
    FakeDirectories touch(String path) {
        if (identities.containsKey(path)) {
            changeTimes.put(path, System.currentTimeMillis());
            queue(parent(path), EventKind.ATTRIB, false, 0, name(path));
            return this;
        }
        addEntry(path, false);
        queue(parent(path), EventKind.CREATE, false, 0, name(path));
        queue(parent(path), EventKind.CLOSE_WRITE, false, 0, name(path));
        return this;
    }

    /**
     * Renames a file, or a directory and everything below it, as the kernel would: watches follow their
     * directories, the moved entry and both parents get a new status-change time, and the events are MOVED_FROM
     * and MOVED_TO with one cookie, then MOVE_SELF on a moved directory's own watch.
     */
    void rename(String from, String to) {
        Integer movedWatch = watches.get(from);
        boolean directory = directories.containsKey(from);
        int cookie = nextCookie++;
        queue(parent(from), EventKind.MOVED_FROM, directory, cookie, name(from));
        queue(parent(to), EventKind.MOVED_TO, directory, cookie, name(to));
        if (movedWatch != null) {
            events.add(new Event(movedWatch, EventKind.MOVE_SELF, false, 0, ""));
        }
        for (Map<String, ?> byPath : List.of(directories, watches, identities, changeTimes)) {
            moveSubtree(byPath, from, to);
        }
        directories.get(parent(from)).remove(name(from));
        directories.get(parent(to)).put(name(to), directory);
        long now = System.currentTimeMillis();
        for (String changed : List.of(to, parent(from), parent(to))) {
            changeTimes.put(changed, now);
        }
    }

    /** Re-keys the entries of {@code from} and everything below it to {@code to}. */
    private static <V> void moveSubtree(Map<String, V> byPath, String from, String to) {
        Map<String, V> moved = new HashMap<>();
        byPath.entrySet().removeIf(entry -> {
            if (entry.getKey().equals(from) || entry.getKey().startsWith(from + "/")) {
                moved.put(to + entry.getKey().substring(from.length()), entry.getValue());
                return true;
            }
            return false;
        });
        byPath.putAll(moved);
    }

    int watchOf(String path) {
        Integer watch = watches.get(path);
        if (watch == null) {
            throw new AssertionError("not watched: " + path + "; watched: " + watches.keySet());
        }
        return watch;
    }

    boolean isWatched(String path) {
        return watches.containsKey(path);
    }

    @Override
    public int addWatch(byte[] absolutePath) {
        String path = new String(absolutePath, ISO_8859_1);
        if (denied.contains(path)) {
            throw new PathUnavailableException("inotify_add_watch(" + path + ") failed: EACCES",
                    PathUnavailableException.Reason.DENIED);
        }
        if (!directories.containsKey(path)) {
            throw new PathUnavailableException("inotify_add_watch(" + path + ") failed: ENOENT",
                    PathUnavailableException.Reason.GONE);
        }
        if (!watches.containsKey(path) && watches.size() >= watchLimit) {
            throw new WatchLimitException("inotify_add_watch(" + path + ") failed: ENOSPC");
        }
        operations.add("watch " + path);
        return watches.computeIfAbsent(path, p -> nextWatch++);
    }

    @Override
    public void removeWatch(int watch) {
        watches.entrySet().removeIf(entry -> {
            if (entry.getValue() == watch) {
                operations.add("unwatch " + entry.getKey());
                events.add(new Event(watch, EventKind.IGNORED, false, 0, ""));
                return true;
            }
            return false;
        });
    }

    /** Hands the queued events to {@code sink} in order, as one read, and forgets them. */
    void deliverEvents(InotifyEventSink sink) {
        List<Event> read = List.copyOf(events);
        events.clear();
        for (Event event : read) {
            sink.onEvent(event.watch, event.kind, event.directory, event.cookie, event.name.getBytes(ISO_8859_1));
        }
        sink.onReadEnd();
    }

    @Override
    public void list(byte[] absolutePath, boolean directoriesOnly, DirectoryEntrySink sink) {
        String path = new String(absolutePath, ISO_8859_1);
        if (denied.contains(path)) {
            throw new PathUnavailableException("open(" + path + ") failed: EACCES",
                    PathUnavailableException.Reason.DENIED);
        }
        Map<String, Boolean> entries = directories.get(path);
        if (entries == null) {
            throw new PathUnavailableException("open(" + path + ") failed: ENOENT", PathUnavailableException.Reason.GONE);
        }
        onList.run();
        operations.add("list " + path);
        entries.forEach((name, directory) -> {
            if (directory || !directoriesOnly) {
                sink.onEntry(name.getBytes(ISO_8859_1), directory);
            }
        });
    }

    @Override
    public void listWithChangeTimes(byte[] absolutePath, TimedEntrySink sink) {
        String path = new String(absolutePath, ISO_8859_1);
        list(absolutePath, false, (name, directory) ->
                sink.onEntry(name, directory, changeTimes.get(path + "/" + new String(name, ISO_8859_1))));
    }

    @Override
    public long changeTimeMillis(byte[] absolutePath) {
        return changeTimes.getOrDefault(new String(absolutePath, ISO_8859_1), -1L);
    }

    @Override
    public MountTable mountTable() {
        return mountTable;
    }

    @Override
    public FileIdentity identify(byte[] absolutePath) {
        String path = new String(absolutePath, ISO_8859_1);
        if (denied.contains(path)) {
            throw new PathUnavailableException("statx(" + path + ") failed: EACCES",
                    PathUnavailableException.Reason.DENIED);
        }
        return identities.get(path);
    }

    private void addEntry(String path, boolean directory) {
        Map<String, Boolean> parent = directories.get(parent(path));
        if (parent == null) {
            throw new AssertionError("no parent directory for " + path);
        }
        parent.put(name(path), directory);
        FileIdentity parentIdentity = identities.get(parent(path));
        identities.put(path, new FileIdentity(parentIdentity.device(), nextInode++, parentIdentity.mountId(),
                directory));
        long now = System.currentTimeMillis();
        changeTimes.put(path, now);
        changeTimes.put(parent(path), now);
    }

    /** An event about entry {@code name} of {@code directory}, if that directory is watched. */
    private void queue(String directory, EventKind kind, boolean isDirectory, int cookie, String name) {
        Integer watch = watches.get(directory);
        if (watch != null) {
            events.add(new Event(watch, kind, isDirectory, cookie, name));
        }
    }

    private static String parent(String path) {
        return path.substring(0, path.lastIndexOf('/'));
    }

    private static String name(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }
}
