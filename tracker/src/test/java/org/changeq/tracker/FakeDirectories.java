package org.changeq.tracker;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An in-memory directory tree standing in for the kernel: watches get increasing keys, listings come from
 * the tree, and every watch, unwatch and listing is recorded in order. Every directory has an identity (its
 * file system and inode); {@link #mount} and {@link #remove} change what is at a path as a mount or a deletion
 * would. Paths are Latin-1 strings, one char per byte, so any byte sequence round-trips.
 */
final class FakeDirectories implements DirectoryWatches {

    /** Directory path → entries (name → is directory). */
    private final Map<String, Map<String, Boolean>> directories = new HashMap<>();
    private final Map<String, Integer> watches = new HashMap<>();
    private final Map<String, FileIdentity> identities = new HashMap<>();
    final List<String> operations = new ArrayList<>();
    private int nextWatch = 1;
    private long nextInode = 2;
    private long nextDevice = 1;
    int watchLimit = Integer.MAX_VALUE;
    /** Paths that exist but whose look-ups are refused, as for a parent without search permission. */
    final java.util.Set<String> denied = new java.util.HashSet<>();
    /** Runs before every listing: a test's clock advances as a walk lists directories. */
    Runnable onList = () -> { };

    FakeDirectories(String root) {
        directories.put(root, new TreeMap<>());
        identities.put(root, new FileIdentity(nextDevice++, nextInode++, 1, true));
    }

    FakeDirectories mkdir(String path) {
        addEntry(path, true);
        directories.put(path, new TreeMap<>());
        identities.put(path, new FileIdentity(identities.get(parent(path)).device(), nextInode++,
                identities.get(parent(path)).mountId(), true));
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
        return this;
    }

    /** Deletes a directory and everything below it; its watches are dropped. */
    void remove(String path) {
        drop(path);
        Map<String, Boolean> parent = directories.get(parent(path));
        if (parent != null) {
            parent.remove(name(path));
        }
    }

    private void drop(String path) {
        directories.keySet().removeIf(key -> key.equals(path) || key.startsWith(path + "/"));
        identities.keySet().removeIf(key -> key.equals(path) || key.startsWith(path + "/"));
        watches.keySet().removeIf(key -> key.equals(path) || key.startsWith(path + "/"));
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
        Map<String, FileIdentity> movedIdentities = new HashMap<>();
        identities.entrySet().removeIf(entry -> {
            if (entry.getKey().equals(from) || entry.getKey().startsWith(from + "/")) {
                movedIdentities.put(to + entry.getKey().substring(from.length()), entry.getValue());
                return true;
            }
            return false;
        });
        identities.putAll(movedIdentities);
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
        onList.run();
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
    }

    private static String parent(String path) {
        return path.substring(0, path.lastIndexOf('/'));
    }

    private static String name(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }
}
