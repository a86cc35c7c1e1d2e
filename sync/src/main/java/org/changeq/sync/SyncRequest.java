package org.changeq.sync;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One run of one route, as asked for on the command line.
 *
 * @param route                    the route's name
 * @param forceFull                {@code --full}
 * @param dryRun                   plan, print and run rsync with {@code --dry-run}; commit nothing
 * @param metricsDirectory         where the {@code .prom} file goes; default {@code <state>/metrics}
 * @param retainMinAge             queue files younger than this are never deleted by retention
 * @param acceptRootChange         {@code --accept-root-change}: a root that is not the remembered directory is synced
 *                                 (fully) and remembered as it is now
 * @param acceptDestinationChange  {@code --accept-dest-change}: the same for a destination (its file system, or a remote
 *                                 one's marker)
 * @param allowDeletes             {@code --allow-deletes N}: this run may delete up to N paths, whatever the route's max-delete
 * @param verbose                  {@code -v}: print each path rsync sends or deletes, as a dry run always does
 * @param allowChanges             {@code --allow-changes N}: this run may overwrite, delete or rename away up to N files
 *                                 at the destination, whatever the route's max-change
 * @param lockWait                 {@code --wait AGE}: how long the run waits for the route's lock; zero gives up at once
 */
public record SyncRequest(String route, boolean forceFull, boolean dryRun, Optional<Path> metricsDirectory,
                          Duration retainMinAge, boolean acceptRootChange, boolean acceptDestinationChange,
                          OptionalLong allowDeletes, boolean verbose, OptionalLong allowChanges, Duration lockWait) {

    public static final Duration DEFAULT_RETAIN_MIN_AGE = Duration.ofDays(1);

    public SyncRequest {
        if (retainMinAge.isNegative()) {
            throw new IllegalArgumentException("retain-min-age must not be negative, got " + retainMinAge);
        }
        if (allowDeletes.isPresent() && allowDeletes.getAsLong() < 0) {
            throw new IllegalArgumentException("--allow-deletes must not be negative, got " + allowDeletes.getAsLong());
        }
        if (lockWait.isNegative()) {
            throw new IllegalArgumentException("--wait must not be negative, got " + lockWait);
        }
        if (allowChanges.isPresent() && allowChanges.getAsLong() < 0) {
            throw new IllegalArgumentException("--allow-changes must not be negative, got " + allowChanges.getAsLong());
        }
    }

    /** A run that prints only its summary line, unless it is a dry run. */
    public SyncRequest(String route, boolean forceFull, boolean dryRun, Optional<Path> metricsDirectory,
                       Duration retainMinAge, boolean acceptRootChange, boolean acceptDestinationChange,
                       OptionalLong allowDeletes) {
        this(route, forceFull, dryRun, metricsDirectory, retainMinAge, acceptRootChange, acceptDestinationChange,
                allowDeletes, false, OptionalLong.empty(), Duration.ZERO);
    }

    public static SyncRequest of(String route) {
        return new SyncRequest(route, false, false, Optional.empty(), DEFAULT_RETAIN_MIN_AGE, false, false,
                OptionalLong.empty());
    }

    public SyncRequest withFull() {
        return new SyncRequest(route, true, dryRun, metricsDirectory, retainMinAge, acceptRootChange,
                acceptDestinationChange, allowDeletes, verbose, allowChanges, lockWait);
    }

    public SyncRequest withDryRun() {
        return new SyncRequest(route, forceFull, true, metricsDirectory, retainMinAge, acceptRootChange,
                acceptDestinationChange, allowDeletes, verbose, allowChanges, lockWait);
    }

    public SyncRequest acceptingRootChange() {
        return new SyncRequest(route, forceFull, dryRun, metricsDirectory, retainMinAge, true, acceptDestinationChange,
                allowDeletes, verbose, allowChanges, lockWait);
    }

    public SyncRequest acceptingDestinationChange() {
        return new SyncRequest(route, forceFull, dryRun, metricsDirectory, retainMinAge, acceptRootChange, true,
                allowDeletes, verbose, allowChanges, lockWait);
    }

    public SyncRequest allowingDeletes(long count) {
        return new SyncRequest(route, forceFull, dryRun, metricsDirectory, retainMinAge, acceptRootChange,
                acceptDestinationChange, OptionalLong.of(count), verbose, allowChanges, lockWait);
    }

    public SyncRequest allowingChanges(long count) {
        return new SyncRequest(route, forceFull, dryRun, metricsDirectory, retainMinAge, acceptRootChange,
                acceptDestinationChange, allowDeletes, verbose, OptionalLong.of(count), lockWait);
    }

    /** A run that waits up to {@code wait} for the route's lock (a verify, or another run) instead of giving up. */
    public SyncRequest waitingForLock(Duration wait) {
        return new SyncRequest(route, forceFull, dryRun, metricsDirectory, retainMinAge, acceptRootChange,
                acceptDestinationChange, allowDeletes, verbose, allowChanges, wait);
    }

    public SyncRequest withVerbose() {
        return new SyncRequest(route, forceFull, dryRun, metricsDirectory, retainMinAge, acceptRootChange,
                acceptDestinationChange, allowDeletes, true, allowChanges, lockWait);
    }

    /** Whether each path rsync sends or deletes is printed: always in a dry run, with {@code -v} otherwise. */
    public boolean showsPaths() {
        return dryRun || verbose;
    }
}
