package org.changeq.pipeline.state;

import java.nio.file.Path;
import org.changeq.pipeline.manifest.ClaimBoard;
import org.changeq.pipeline.manifest.IndexFile;

/**
 * Where changeq keeps its state files under the configured {@code state:} directory. The tracker,
 * the sync and changeq-queue all locate files through this one map.
 */
public record StateLayout(Path directory) {

    /** A route's committed cursor: the last queue index its destination is known to have. */
    public IndexFile cursor(String route) {
        return new IndexFile(directory.resolve("cursors").resolve(route + ".cursor"), "cursor");
    }

    public ClaimBoard claims() {
        return new ClaimBoard(directory);
    }

    /**
     * Held shared by {@code changeq-sync history} and {@code restore} while they read the route's history, and
     * exclusively by a run's retention while it lists and removes run directories.
     */
    public Path historyLock(String route) {
        return directory.resolve("locks").resolve("history").resolve(route + ".lock");
    }

    /**
     * Held exclusively by {@code changeq-sync follow} of the route for as long as it follows, beside the route's lock:
     * a run that may wait for the route's lock (a verify, a run by hand) gives up at once on a follower, which never
     * lets go.
     */
    public Path followerLock(String route) {
        return directory.resolve("locks").resolve("followers").resolve(route + ".lock");
    }

    /** Held exclusively by a running sync of the route. */
    public Path routeLock(String route) {
        return directory.resolve("locks").resolve(route + ".lock");
    }

    /** Held exclusively by the running tracker. */
    public Path trackerLock() {
        return directory.resolve("locks").resolve("tracker.lock");
    }

    /**
     * The time (milliseconds since the epoch) from which the tracker's catch-up scan looks for changes,
     * present from a start until that scan's RESCAN records are in the queue: a tracker stopped in the
     * middle of its catch-up scan resumes from the older time.
     */
    public IndexFile trackerCatchUp() {
        return new IndexFile(directory.resolve("tracker").resolve("catch-up-since"), "catch-up-since");
    }

    /**
     * The tracker's watermark (milliseconds since the epoch): every change made before it is in the queue, or
     * was published by a catch-up scan that started before it. Written at each start, then by the writer thread
     * about once a second while the tracker keeps up; a restart catches up from it when it is older than the
     * queue's last record.
     */
    public IndexFile trackerWatermark() {
        return new IndexFile(directory.resolve("tracker").resolve("watermark"), "watermark");
    }

    /** Each root's condition as the running tracker last saw it (watched, or not and why), for changeq-queue. */
    public TrackerRootsFile trackerRoots() {
        return new TrackerRootsFile(directory.resolve("tracker").resolve("roots.status"));
    }

    /** Present when an operator asked for the route's next run to be full. */
    public Path forceFullFlag(String route) {
        return directory.resolve("flags").resolve(route + ".force-full");
    }

    /** Which force flags (changeq's and the root's legacy one) a full sync of the route already honoured. */
    public Path honouredFlags(String route) {
        return directory.resolve("flags").resolve(route + ".honoured");
    }

    /** The date of the route's last successful full sync, so a calendar window owes only one. */
    public LastFullSyncFile lastFullSync(String route) {
        return new LastFullSyncFile(directory.resolve("cursors").resolve(route + ".last-full"));
    }

    /**
     * What the route selected and where it sent it when its cursor was last committed: a run whose route selects or
     * sends otherwise is full.
     */
    public RouteSelectionFile routeSelection(String route) {
        return new RouteSelectionFile(directory.resolve("cursors").resolve(route + ".selection"));
    }

    /**
     * What the route's root was (its file system and inode) when the route first synced it; a run refuses
     * a root that is no longer that directory.
     */
    public Path rootIdentity(String route) {
        return directory.resolve("identity").resolve(route + ".root");
    }

    /** The same for a local destination: a backup disk that is not mounted is not written. */
    public Path destinationIdentity(String route) {
        return directory.resolve("identity").resolve(route + ".dest");
    }

    /**
     * How many paths the destination holds: measured by the route's last full sync, then kept current by each run from
     * rsync's counts of created and deleted paths. The base of a percentage max-delete.
     */
    public IndexFile destinationPaths(String route) {
        return new IndexFile(directory.resolve("identity").resolve(route + ".dest-paths"), "destination-paths");
    }

    /** The paths rsync failed to send for the route, sent again by each of its runs: see {@link RetryList}. */
    public Path retryList(String route) {
        return directory.resolve("retry").resolve(route);
    }

    /** The deletions the route's recent runs made without consent, counted against its max-delete: see {@link DeletionLedger}. */
    public Path deletionLedger(String route) {
        return directory.resolve("deletions").resolve(route + ".ledger");
    }

    /** The deletions the route's max-delete holds back until consent: see {@link HeldDeletions}. */
    public Path heldDeletions(String route) {
        return directory.resolve("deletions").resolve(route + ".held");
    }

    /** The changes the route's recent runs made without consent, counted against its max-change: see {@link ChangeLedger}. */
    public Path changeLedger(String route) {
        return directory.resolve("changes").resolve(route + ".ledger");
    }

    /**
     * The changes an operator let through for the route's next run ({@code changeq-sync allow}): one count, used once,
     * so that a running follower held by max-change resumes without a restart.
     */
    public IndexFile changeConsent(String route) {
        return new IndexFile(directory.resolve("changes").resolve(route + ".consent"), "change-consent");
    }

    /** How the route's last run ended and when it last succeeded: see {@link RouteRuns}. */
    public Path routeRuns(String route) {
        return directory.resolve("runs").resolve(route);
    }

    /** What each of the route's last runs changed at its destination: see {@link RunChanges}. */
    public Path runChanges(String route) {
        return directory.resolve("runs").resolve(route + ".changes");
    }

    /**
     * When the route's history next has a run directory to remove (Unix millis): until then a run that is not full
     * does not list the history for retention.
     */
    public IndexFile historyRetentionDue(String route) {
        return new IndexFile(directory.resolve("runs").resolve(route + ".history-due"), "history-due");
    }

    /** The progress of the route's running sync, for changeq-queue: see {@link RunProgressFile}. */
    public RunProgressFile runProgress(String route) {
        return new RunProgressFile(directory.resolve("runs").resolve(route + ".progress"));
    }

    /** Where {@code changeq-sync verify} stands in the route's cycle and what it found: see {@link VerifyState}. */
    public Path verifyState(String route) {
        return directory.resolve("verify").resolve(route);
    }

    /**
     * A verify asked of the route's follower ({@code changeq-sync verify} found the lock held): when it was asked, in
     * milliseconds since the epoch; removed by the verify that answers it.
     */
    public IndexFile verifyRequest(String route) {
        return new IndexFile(directory.resolve("verify").resolve(route + ".request"), "verify-request");
    }

    /** What the last verify a follower ran on request printed and how it ended: see {@link VerifyAnswer}. */
    public Path verifyAnswer(String route) {
        return directory.resolve("verify").resolve(route + ".answer");
    }

    /** Default directory for the Prometheus textfile metrics. */
    public Path metricsDirectory() {
        return directory.resolve("metrics");
    }
}
