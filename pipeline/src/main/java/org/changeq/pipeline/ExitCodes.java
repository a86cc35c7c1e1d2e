package org.changeq.pipeline;

import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The exit codes of every changeq program, in one table. {@link #meaning} is what each means to an operator: the
 * exit-code list of every {@code --help} shows it, and README's table is tested against it. The systemd units name
 * the codes a restart cannot fix in {@code RestartPreventExitStatus=}.
 */
public final class ExitCodes {
    public static final int OK = 0;
    public static final int SOFTWARE = 1;
    /** picocli's usage error code. */
    public static final int USAGE = 2;
    public static final int CONFIG = 3;
    public static final int ROOT_UNAVAILABLE = 4;
    public static final int QUEUE_UNAVAILABLE = 5;
    public static final int QUEUE_WRITE_FAILED = 6;
    public static final int ALREADY_RUNNING = 7;
    public static final int SYNC_PARTIAL = 8;
    public static final int DESTINATION_UNREACHABLE = 9;
    public static final int SYNC_FAILED = 10;
    public static final int CHECK_FAILED = 11;
    public static final int DELETIONS_REFUSED = 12;
    public static final int DESTINATION_CHANGED = 13;
    public static final int TRACKER_NOT_RUNNING = 14;
    public static final int MASS_CHANGE_REFUSED = 15;
    public static final int VERIFY_MISMATCH = 16;
    public static final int VERIFY_BUSY = 17;
    /** The shell's 128 + SIGINT: the JVM's own status when Ctrl-C ends it. */
    public static final int INTERRUPTED = 130;
    /** The shell's 128 + SIGTERM. */
    public static final int TERMINATED = 143;

    private static final NavigableMap<Integer, String> MEANINGS = new TreeMap<>(Map.ofEntries(
            Map.entry(OK, "success"),
            Map.entry(SOFTWARE, "unexpected internal error (the log has the stack trace)"),
            Map.entry(USAGE, "bad command line"),
            Map.entry(CONFIG, "configuration missing or invalid (the message names the line and key)"),
            Map.entry(ROOT_UNAVAILABLE, "a root is missing, not a directory, unreadable, or not the directory the "
                    + "route synced before (unmounted, replaced, another btrfs subvolume, or a file system below it "
                    + "unmounted, mounted or replaced), or what it lies on cannot be determined: nothing was sent"),
            Map.entry(QUEUE_UNAVAILABLE, "queue or state directory missing, not a changeq queue, or cannot be "
                    + "opened, or the queue belongs to another state directory, or a symbolic link (or a file with other "
                    + "hard links) where changeq keeps a file or directory"),
            Map.entry(QUEUE_WRITE_FAILED, "appending to the queue failed (disk full, unwritable), or the queue's "
                    + "disk is full (changeq-queue stat, a tracker starting): free space and restart, the catch-up "
                    + "scan covers it"),
            Map.entry(ALREADY_RUNNING, "another run holds the lock (a second tracker on a queue, or the same route "
                    + "syncing)"),
            Map.entry(SYNC_PARTIAL, "rsync transferred only part of the files (rsync 23; for an rclone route, "
                    + "errors in rclone's log that each name an object): the failed paths wait in "
                    + "the route's retry list, every run sends them again, and the cursor moved on (kept if they "
                    + "could not be determined)"),
            Map.entry(DESTINATION_UNREACHABLE, "destination unreachable (rsync 10, 12, 30, 35, 255; for an rclone "
                    + "route, a refused connection, a timeout, a 5xx answer or refused credentials in rclone's log); "
                    + "cursor kept"),
            Map.entry(SYNC_FAILED, "rsync (or rclone) failed otherwise, a missing bucket included; cursor kept"),
            Map.entry(CHECK_FAILED, "changeq-sync check found gaps, overlaps, an unreadable root, a route whose full "
                    + "sync cannot be previewed (its destination cannot be reached, or the directory that would hold a "
                    + "local one is missing), or a full sync that max-delete or max-change would refuse"),
            Map.entry(DELETIONS_REFUSED, "the run's deletions, with those of the route's runs within "
                    + "max-delete-window, would pass the route's max-delete: nothing was deleted; new and changed files "
                    + "were sent and the cursor moved on; the deletions wait in <state>/deletions/ROUTE.held until a run "
                    + "with --allow-deletes N"),
            Map.entry(DESTINATION_CHANGED, "a destination is not the one the route wrote before: a local one missing "
                    + "or on another file system or btrfs subvolume (its disk is not mounted), a file system below it "
                    + "changed, or what it lies on cannot be determined; a remote one without the route's marker (its "
                    + "volume not mounted, its module pointed elsewhere): nothing was written; cursor kept; "
                    + "--accept-dest-change once when intended"),
            Map.entry(TRACKER_NOT_RUNNING, "the run sent what the queue holds, but no changeq-tracker holds the "
                    + "queue (or whether one does cannot be told from /proc/locks), or the running one does not watch the route's root as configured (then the run was "
                    + "full): changes made now are not recorded, so the run fails although its cursor moved; "
                    + "start the tracker, or reload it after a configuration change"),
            Map.entry(MASS_CHANGE_REFUSED, "mass change refused: the files the run would overwrite, delete or "
                    + "rename away at the destination, with those of the route's runs within max-change-window, would "
                    + "pass the route's max-change: nothing was sent; cursor kept; --allow-changes N for one run, or "
                    + "changeq-sync allow --route R --changes N for a running follower"),
            Map.entry(VERIFY_MISMATCH, "changeq-sync verify found files at the destination whose content differs"
                    + " from the source, that are missing there, or are of another type: each is listed, and waits in"
                    + " the route's retry list, which its next run sends compared by content"),
            Map.entry(VERIFY_BUSY, "changeq-sync verify did not run: the route's sync (a run or its follower) held"
                    + " the route's lock for longer than --wait and no follower answered its request by then; the"
                    + " request stays for a follower, and the next verify tries again"),
            Map.entry(INTERRUPTED, "interrupted by Ctrl-C (SIGINT): a changeq-sync run stops rsync and keeps its "
                    + "cursor; changeq-tracker, changeq-sync follow and changeq-queue tail -f stop cleanly and exit 0 "
                    + "instead"),
            Map.entry(TERMINATED, "stopped by SIGTERM: a changeq-sync run stops rsync and keeps its cursor; "
                    + "changeq-tracker, changeq-sync follow and changeq-queue tail -f stop cleanly and exit 0 "
                    + "instead")));

    private ExitCodes() {
    }

    /**
     * What {@code code} means to an operator, in one sentence without markup.
     *
     * @throws IllegalArgumentException no changeq program exits with {@code code}
     */
    public static String meaning(int code) {
        String meaning = MEANINGS.get(code);
        if (meaning == null) {
            throw new IllegalArgumentException("no changeq exit code " + code);
        }
        return meaning;
    }

    /** Every code, ascending. */
    public static Iterable<Integer> all() {
        return MEANINGS.keySet();
    }
}
