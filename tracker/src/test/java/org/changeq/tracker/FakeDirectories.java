package org.changeq.tracker;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An in-memory directory tree standing in for the kernel: watches get increasing keys, listings come from
 * the tree, and every watch, unwatch and listing is recorded in order. Paths are Latin-1 strings, one char
 * per byte, so any byte sequence round-trips.
 */
final class FakeDirectories implements DirectoryWatches {

    /** Directory path → entries (name → is directory). */
    private final Map<String, Map<String, Boolean>> directories = new HashMap<>();
    private final Map<String, Integer> watches = new HashMap<>();
    final List<String> operations = new ArrayList<>();
    private int nextWatch = 1;
    int watchLimit = Integer.MAX_VALUE;

    FakeDirectories(String root) {
        directories.put(root, new TreeMap<>());
    }

    FakeDirectories mkdir(String path) {
        addEntry(path, true);
        directories.put(path, new TreeMap<>());
        return this;
    }

    FakeDirectories touch(String path) {
        addEntry(path, false);
        return this;
    }

    /** Renames a directory and everything below it, as the kernel would; watches follow their directories. */
    void rename(String from, String to) {
        Map<String, Map<String, Boolean>> moved = new HashMap<>();
        directories.entrySet().removeIf(entry -> {
            if (entry.getKey().equals(from) || entry.getKey().startsWith(from + "/")) {
                moved.put(to + entry.getKey().substring(from.length()), entry.getValue());
                return true;
            }
            return false;
        });
        directories.putAll(moved);
        Map<String, Integer> movedWatches = new HashMap<>();
        watches.entrySet().removeIf(entry -> {
            if (entry.getKey().equals(from) || entry.getKey().startsWith(from + "/")) {
                movedWatches.put(to + entry.getKey().substring(from.length()), entry.getValue());
                return true;
            }
            return false;
        });
        watches.putAll(movedWatches);
        Boolean directory = directories.get(parent(from)).remove(name(from));
        directories.get(parent(to)).put(name(to), directory);
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
                return true;
            }
            return false;
        });
    }

    @Override
    public void list(byte[] absolutePath, boolean directoriesOnly, DirectoryEntrySink sink) {
        String path = new String(absolutePath, ISO_8859_1);
        Map<String, Boolean> entries = directories.get(path);
        if (entries == null) {
            throw new PathUnavailableException("open(" + path + ") failed: ENOENT", PathUnavailableException.Reason.GONE);
        }
        operations.add("list " + path);
        entries.forEach((name, directory) -> {
            if (directory || !directoriesOnly) {
                sink.onEntry(name.getBytes(ISO_8859_1), directory);
            }
        });
    }

    /** Every entry has status-change time 0: only the tests of catch-up scans on the real kernel look at it. */
    @Override
    public void listWithChangeTimes(byte[] absolutePath, TimedEntrySink sink) {
        list(absolutePath, false, (name, directory) -> sink.onEntry(name, directory, 0));
    }

    @Override
    public long changeTimeMillis(byte[] absolutePath) {
        return directories.containsKey(new String(absolutePath, ISO_8859_1)) ? 0 : -1;
    }

    private void addEntry(String path, boolean directory) {
        Map<String, Boolean> parent = directories.get(parent(path));
        if (parent == null) {
            throw new AssertionError("no parent directory for " + path);
        }
        parent.put(name(path), directory);
    }

    private static String parent(String path) {
        return path.substring(0, path.lastIndexOf('/'));
    }

    private static String name(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }
}
