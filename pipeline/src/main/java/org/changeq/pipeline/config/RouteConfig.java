package org.changeq.pipeline.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * One sync route: which part of a root goes where, and when a run must be full.
 *
 * @param name             the key under {@code routes:}
 * @param root             the name of the root it reads
 * @param dest             a local path, {@code host:path} (ssh) or {@code rsync://host[:port]/module/path}
 * @param include          patterns written under {@code include:}
 * @param exclude          patterns written under {@code exclude:}
 * @param includeList      the name of the list under {@code include-list:}, if any
 * @param excludeList      the name of the list under {@code exclude-list:}, if any
 * @param includes         effective include patterns ({@code include} plus the include list); empty means everything
 * @param excludes         effective exclude patterns ({@code exclude} plus the exclude list)
 * @param rsyncArgs        rsync arguments (default {@link #defaultRsyncArgs(String)})
 * @param backlogThreshold records since the cursor above which a run is full
 * @param fullWindow       the calendar window in which one full sync is due, if any
 * @param deleteOnFull     whether full syncs pass {@code --delete}
 * @param propagateDeletes whether incremental runs delete at the destination
 * @param maxDelete        how much the route's runs may delete at the destination without explicit consent, together,
 *                         within {@code maxDeleteWindow}
 * @param maxDeleteWindow  the time over which {@code maxDelete} counts the deletions of all runs, full and incremental
 * @param maxChange        how many destination files the route's runs may overwrite, delete or rename away without
 *                         explicit consent, together within {@code maxChangeWindow}
 * @param maxChangeWindow  the time over which {@code maxChange} counts the changes of all runs
 * @param follow           when a follower of the route runs ({@code follow:}); timer runs ignore it
 * @param history          the earlier versions the route keeps at its destination ({@code history:}); empty keeps none
 * @param verify           how {@code changeq-sync verify} proves the route's copy ({@code verify-cycle},
 *                         {@code verify-max-rate})
 * @param rclone           the rclone remote {@code dest} names ({@code rclone://}); empty for an rsync destination
 */
public record RouteConfig(
        String name,
        String root,
        String dest,
        List<String> include,
        List<String> exclude,
        Optional<String> includeList,
        Optional<String> excludeList,
        PathFilter includes,
        PathFilter excludes,
        List<String> rsyncArgs,
        long backlogThreshold,
        Optional<FullWindow> fullWindow,
        boolean deleteOnFull,
        boolean propagateDeletes,
        DeleteLimit maxDelete,
        Duration maxDeleteWindow,
        ChangeLimit maxChange,
        Duration maxChangeWindow,
        FollowSettings follow,
        Optional<HistorySettings> history,
        VerifySettings verify,
        Optional<RcloneDestination> rclone) {

    /**
     * A local copy keeps owners, groups, modes and devices like {@code rsync -a} as root; {@code --super}
     * makes rsync do so when it runs as the changeq user with the capabilities of the local-destination
     * drop-in instead of as root. {@code -r}: with {@code --files-from}, {@code -a} alone does not recurse.
     */
    public static final List<String> DEFAULT_LOCAL_RSYNC_ARGS = List.of("-a", "-r", "--super");
    /** A NAS or remote share: its user cannot create other users' files, so only names, links and times. */
    public static final List<String> DEFAULT_REMOTE_RSYNC_ARGS = List.of("-rlt");
    public static final long DEFAULT_BACKLOG_THRESHOLD = 500_000;
    public static final boolean DEFAULT_DELETE_ON_FULL = true;
    public static final boolean DEFAULT_PROPAGATE_DELETES = false;
    /**
     * A week: longer than an {@code rm -rf} or an encryption takes and than a weekend nobody looks, short enough that
     * ordinary pruning seldom adds up to the limit.
     */
    public static final Duration DEFAULT_MAX_DELETE_WINDOW = Duration.ofDays(7);
    /** Below this, a follower's runs would outpace the window. */
    public static final Duration SHORTEST_MAX_DELETE_WINDOW = Duration.ofMinutes(1);

    public RouteConfig {
        java.util.Objects.requireNonNull(maxDelete, "maxDelete");
        java.util.Objects.requireNonNull(maxDeleteWindow, "maxDeleteWindow");
        java.util.Objects.requireNonNull(maxChange, "maxChange");
        java.util.Objects.requireNonNull(maxChangeWindow, "maxChangeWindow");
        java.util.Objects.requireNonNull(follow, "follow");
        java.util.Objects.requireNonNull(history, "history");
        java.util.Objects.requireNonNull(verify, "verify");
        java.util.Objects.requireNonNull(rclone, "rclone");
        include = List.copyOf(include);
        exclude = List.copyOf(exclude);
        rsyncArgs = List.copyOf(rsyncArgs);
    }

    /** Whether runs of this route may delete at the destination at all. */
    public boolean deletes() {
        return deleteOnFull || propagateDeletes;
    }

    /** Whether the destination is a directory on this machine rather than a remote host or daemon. */
    public boolean localDestination() {
        return isLocal(dest);
    }

    /** The rsync arguments of a route to {@code dest} that names none. */
    public static List<String> defaultRsyncArgs(String dest) {
        return isLocal(dest) ? DEFAULT_LOCAL_RSYNC_ARGS : DEFAULT_REMOTE_RSYNC_ARGS;
    }

    private static boolean isLocal(String dest) {
        return dest.startsWith("/");
    }

    /**
     * Whether this route sends the path: it (or an ancestor directory) matches an include, when
     * there are includes, and neither it nor an ancestor matches an exclude.
     */
    public boolean sends(byte[] relativePath, boolean directory) {
        return sends(relativePath, relativePath.length, directory);
    }

    /** {@link #sends(byte[], boolean)} for the path {@code relativePath[0, length)}. */
    public boolean sends(byte[] relativePath, int length, boolean directory) {
        return (includes.isEmpty() || includes.matchesSelfOrAncestor(relativePath, length, directory))
                && !excludes.matchesSelfOrAncestor(relativePath, length, directory);
    }
}
