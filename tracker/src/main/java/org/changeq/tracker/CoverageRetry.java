package org.changeq.tracker;

import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.ToLongFunction;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.tracker.WatchTree.Root;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When the tracker looks again at what the kernel does not tell it: the periodic check of every root's identity,
 * and the walks that watch the directories a root may lack (the watch limit refused them, the tracker may not
 * watch them, their CREATE was lost in a kernel queue overflow, or an unmount below the root uncovered them). Until
 * such a root is whole again, each walk records an OVERFLOW for it, since only a full sync knows what changed in its
 * unwatched directories, and {@link #incompleteSinceMillis()} holds the watermark back: a restart in between must
 * catch up from the moment the root became incomplete, or the changes since its last OVERFLOW are lost.
 *
 * <p>Confined to the reader thread, like the {@link TreeWatcher} that owns it: it keeps the times, and the reader
 * runs what is due between its reads ({@link #nanosUntilDue()}); no timer thread of its own.
 */
final class CoverageRetry {

    private static final Logger LOG = LoggerFactory.getLogger(CoverageRetry.class);

    /** How often every root's identity is compared with the watched one: one {@code statx} per root. */
    static final long ROOT_CHECK_INTERVAL_NANOS = 2_000_000_000L;
    /** How often directories the watch limit left unwatched are tried again, so a raised limit takes effect. */
    static final long WATCH_RETRY_INTERVAL_NANOS = 60_000_000_000L;
    /** The soonest a retry follows the previous one when deleted directories freed watches. */
    private static final long WATCH_RETRY_AFTER_FREE_NANOS = 1_000_000_000L;
    /**
     * The soonest the roots are walked again after a kernel queue overflow. Directories created while events
     * were lost have no watch yet, and only a walk finds them; spacing the walks keeps an overflow storm from
     * turning into back-to-back walks of the whole tree.
     */
    private static final long REWALK_AFTER_OVERFLOW_NANOS = 5_000_000_000L;

    private final RecordSink sink;
    private final WatchTree tree;
    private final LongSupplier nanoClock;
    private final LongSupplier wallClock;
    private long rootCheckDueNanos;
    /**
     * Roots that may have directories without a watch, in the order they became so, with the wall-clock time since
     * when: changes below them since that time may be unrecorded.
     */
    private final Map<Root, Long> incompleteRoots = new LinkedHashMap<>();
    /** Directories that could not be watched and were logged so: each is logged once, not at every retry. */
    private final Set<String> notWatchedLogged = new HashSet<>();
    private long lastRetryNanos;
    private long retryDueNanos;
    private boolean watchLimitLogged;

    /**
     * @param nanoClock {@link System#nanoTime()}, for the intervals
     * @param wallClock {@link System#currentTimeMillis()}, the clock of the watermark
     */
    CoverageRetry(RecordSink sink, WatchTree tree, LongSupplier nanoClock, LongSupplier wallClock) {
        this.sink = sink;
        this.tree = tree;
        this.nanoClock = nanoClock;
        this.wallClock = wallClock;
    }

    /**
     * The wall-clock time since which some root may have had a directory without a watch, or {@link Long#MAX_VALUE}
     * when every root is whole: no watermark may pass it.
     */
    long incompleteSinceMillis() {
        long since = Long.MAX_VALUE;
        for (long rootSince : incompleteRoots.values()) {
            since = Math.min(since, rootSince);
        }
        return since;
    }

    /** Nanoseconds until the next root check or retry is due. */
    long nanosUntilDue() {
        long due = incompleteRoots.isEmpty() ? rootCheckDueNanos : Math.min(rootCheckDueNanos, retryDueNanos);
        return Math.max(0, due - nanoClock.getAsLong());
    }

    boolean rootCheckDue() {
        return nanoClock.getAsLong() - rootCheckDueNanos >= 0;
    }

    /** The roots were checked: the next check is due one interval from now. */
    void rootsChecked() {
        rootCheckDueNanos = nanoClock.getAsLong() + ROOT_CHECK_INTERVAL_NANOS;
    }

    /**
     * Tries again to watch the directories the incomplete roots lack, when due. Either way it appends an OVERFLOW
     * for each such root: changes in unwatched directories since the last one are known only to a full sync, also
     * the changes made until the watch that now succeeded was added.
     *
     * @param watchMissing walks a root, watching the directories without a watch, and returns how many still
     *                     have none
     */
    void retryIfDue(ToLongFunction<Root> watchMissing) {
        if (incompleteRoots.isEmpty() || nanoClock.getAsLong() - retryDueNanos < 0) {
            return;
        }
        lastRetryNanos = nanoClock.getAsLong();
        retryDueNanos = lastRetryNanos + WATCH_RETRY_INTERVAL_NANOS;
        Iterator<Map.Entry<Root, Long>> iterator = incompleteRoots.entrySet().iterator();
        while (iterator.hasNext()) {
            Map.Entry<Root, Long> incomplete = iterator.next();
            Root root = incomplete.getKey();
            long walkStartedMillis = wallClock.getAsLong();
            long unwatched = watchMissing.applyAsLong(root);
            sink.publishMarker(RecordType.OVERFLOW, root.name);
            // The OVERFLOW covers every change made before it: what may go unrecorded now is what changes in the
            // directories still unwatched from here on.
            incomplete.setValue(walkStartedMillis);
            if (unwatched == 0) {
                iterator.remove();
                LOG.info("root '{}': every directory is watched again ({} watches); its next sync is full once more",
                        root.name, tree.size());
            } else {
                LOG.debug("root '{}': {} directories still not watched", root.name, unwatched);
            }
        }
    }

    /** Directories left unwatched: record the loss, say once which limit to raise and to what, and retry later. */
    void watchLimitReached(Root root, WatchLimitException e, long unwatched) {
        if (!watchLimitLogged) {
            watchLimitLogged = true;
            LOG.error("{}, needed about {}; {} directories under root '{}' are not watched and their changes are "
                    + "covered only by full syncs until the limit is raised (the tracker tries again every "
                    + WATCH_RETRY_INTERVAL_NANOS / 1_000_000_000L + " s and when directories are deleted)",
                    e.getMessage(), tree.size() + unwatched, unwatched, root.name);
        } else {
            LOG.debug("{} more directories under root '{}' not watched: watch limit", unwatched, root.name);
        }
        notWatched(root);
    }

    /**
     * A directory below the root may not be watched or listed (EACCES or EPERM: NFS with root squash, FUSE without
     * allow_other, an LSM), or its path is too long. Logged once per directory; the caller records the loss with
     * {@link #notWatched}, once per walk.
     */
    void refused(Root root, PathUnavailableException e) {
        if (notWatchedLogged.add(e.getMessage())) {
            LOG.warn("{}; not watched, so changes below it under root '{}' are covered only by full syncs (an OVERFLOW "
                    + "now and after each retry, every " + WATCH_RETRY_INTERVAL_NANOS / 1_000_000_000L + " s)",
                    e.getMessage(), root.name);
        } else {
            LOG.debug("{}; still not watched", e.getMessage());
        }
    }

    /** Directories of the root are left unwatched: record the loss, and retry later. */
    void notWatched(Root root) {
        long now = wallClock.getAsLong();
        sink.publishMarker(RecordType.OVERFLOW, root.name);
        if (incompleteRoots.isEmpty()) {
            lastRetryNanos = nanoClock.getAsLong();
            retryDueNanos = lastRetryNanos + WATCH_RETRY_INTERVAL_NANOS;
        }
        incompleteRoots.putIfAbsent(root, now);
    }

    /**
     * The root may lack watches and is walked at the next retry.
     *
     * @return false if it was waiting for one already
     */
    boolean walkAgain(Root root) {
        return incompleteRoots.putIfAbsent(root, wallClock.getAsLong()) == null;
    }

    /** Events were lost at {@code now}: the next retry comes soon, but not on the heels of the previous one. */
    void eventsLost(long now) {
        retryDueNanos = Math.min(retryDueNanos, Math.max(now, lastRetryNanos + REWALK_AFTER_OVERFLOW_NANOS));
    }

    /** The next retry is due now. */
    void retryNow() {
        retryDueNanos = Math.min(retryDueNanos, nanoClock.getAsLong());
    }

    /** A watch was freed: it may be enough for a directory the limit left unwatched. */
    void watchFreed() {
        if (!incompleteRoots.isEmpty()) {
            retryDueNanos = Math.min(retryDueNanos, lastRetryNanos + WATCH_RETRY_AFTER_FREE_NANOS);
        }
    }

    /** The root is no longer watched at all: nothing to retry until it is watched again. */
    void forget(Root root) {
        incompleteRoots.remove(root);
    }
}
