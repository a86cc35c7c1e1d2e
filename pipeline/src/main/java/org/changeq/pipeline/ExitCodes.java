package org.changeq.pipeline;

/**
 * The exit codes of every changeq program, in one table. The systemd units name the ones a
 * restart cannot fix in {@code RestartPreventExitStatus=}.
 */
public final class ExitCodes {
    public static final int OK = 0;
    /** An unexpected internal error; the log has the stack trace. */
    public static final int SOFTWARE = 1;
    /** Bad command line (picocli's usage error code). */
    public static final int USAGE = 2;
    /** The configuration file is missing or invalid; the message names the line and key. */
    public static final int CONFIG = 3;
    /**
     * A root is missing, not a directory, unreadable, or not the directory a route first synced (its file system
     * is not mounted, or was replaced): nothing was sent.
     */
    public static final int ROOT_UNAVAILABLE = 4;
    /** The queue or state directory is missing, not a changeq queue, or cannot be opened. */
    public static final int QUEUE_UNAVAILABLE = 5;
    /** Appending to the queue failed (disk full, unwritable): restart and let the catch-up scan cover it. */
    public static final int QUEUE_WRITE_FAILED = 6;
    /** Another run holds the lock (a second tracker on the same queue, or the same route syncing). */
    public static final int ALREADY_RUNNING = 7;
    /**
     * rsync transferred only part of the files (rsync exit 23): the paths that failed went to the route's retry list,
     * which every later run sends again, and the cursor moved on; if they could not be determined, the cursor was kept.
     */
    public static final int SYNC_PARTIAL = 8;
    /** The destination could not be reached (rsync exit 10, 12, 30, 35, 255): the cursor was kept. */
    public static final int DESTINATION_UNREACHABLE = 9;
    /** rsync failed for another reason: the cursor was kept. */
    public static final int SYNC_FAILED = 10;
    /** {@code changeq-sync check} found gaps, overlaps or a dangerous destination. */
    public static final int CHECK_FAILED = 11;
    /**
     * The run would delete more at the destination than the route's {@code max-delete} allows: nothing was
     * deleted, the cursor was kept; {@code --allow-deletes N} lets one run through.
     */
    public static final int DELETIONS_REFUSED = 12;
    /**
     * A local destination is missing or not the directory the route first synced (the backup disk is not
     * mounted, or was replaced): nothing was written.
     */
    public static final int DESTINATION_CHANGED = 13;
    /**
     * The run sent what the queue holds, but no changeq-tracker holds the queue: changes made now are not
     * recorded. The cursor moved as after a success; the run still fails so that the stop does not go unseen.
     */
    public static final int TRACKER_NOT_RUNNING = 14;

    private ExitCodes() {
    }
}
