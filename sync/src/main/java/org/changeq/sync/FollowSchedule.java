package org.changeq.sync;

import java.time.Duration;
import java.util.Optional;
import org.changeq.pipeline.config.FollowSettings;

/**
 * When a follower's next run is due. Changes the route sends start a run once they have been quiet for the route's
 * {@code quiet}, once the oldest has waited {@code max-delay}, or at once when {@code max-batch} of them wait; records
 * the route does not send are committed along with the next run, or by a run {@link #HOUSEKEEPING_DELAY} after they
 * arrived, so that queue retention is not held back by a route whose part of the tree is idle. After a failed run,
 * the next one waits instead: from {@link FollowSettings#FIRST_RETRY_WAIT}, doubling up to {@code retry-max}, whatever
 * arrives meanwhile.
 *
 * <p>Times are {@link System#nanoTime()} readings the caller passes in, so a wall-clock jump changes nothing. Not
 * thread-safe: the follow thread owns it.
 */
final class FollowSchedule {

    /** As often as the hourly timer commits a route with nothing to send. */
    static final Duration HOUSEKEEPING_DELAY = Duration.ofHours(1);

    /** Why a run is due; {@link #token} goes to the log. */
    enum Trigger {
        /** The follower's first run: whatever waited since the cursor, or a new route's first full sync. */
        START("start"),
        QUIET("quiet"), MAX_DELAY("max-delay"), MAX_BATCH("max-batch"), RETRY("retry"), HOUSEKEEPING("housekeeping"),
        /** An operator consented to the changes max-change held back ({@code changeq-sync allow}). */
        CONSENT("consent"),
        /** A verify the follower ran on request put what differs at the destination into the retry list. */
        VERIFIED("verified");

        final String token;

        Trigger(String token) {
            this.token = token;
        }
    }

    private final long quiet;
    private final long maxDelay;
    private final long maxBatch;
    private final long firstRetryWait;
    private final long retryMax;

    private long changes;
    private long firstChange;
    private long lastChange;
    private boolean othersWaiting;
    private long firstOther;
    private long retryWait;
    private boolean retrying;
    private long retryAt;

    FollowSchedule(FollowSettings settings) {
        quiet = settings.quiet().toNanos();
        maxDelay = settings.maxDelay().toNanos();
        maxBatch = settings.maxBatch();
        firstRetryWait = FollowSettings.FIRST_RETRY_WAIT.toNanos();
        retryMax = settings.retryMax().toNanos();
    }

    /** A record of a change the route sends arrived at {@code now}. */
    void changeArrived(long now) {
        if (changes == 0) {
            firstChange = now;
        }
        changes++;
        lastChange = now;
    }

    /** A record the route does not send arrived at {@code now}. */
    void otherArrived(long now) {
        if (!othersWaiting) {
            othersWaiting = true;
            firstOther = now;
        }
    }

    /** The changes that arrived since the last {@link #committed}. */
    long changes() {
        return changes;
    }

    /** A run committed every record that had arrived before it started. */
    void committed() {
        changes = 0;
        othersWaiting = false;
    }

    /** A run succeeded: the next one waits for changes again. */
    void succeeded() {
        retrying = false;
        retryWait = 0;
    }

    /**
     * A run failed at {@code now}: the next one is due after a wait twice as long as the last, at most
     * {@code retry-max}.
     *
     * @return the wait
     */
    Duration failed(long now) {
        retryWait = retrying ? Math.min(retryMax, retryWait * 2) : Math.min(retryMax, firstRetryWait);
        retrying = true;
        retryAt = now + retryWait;
        return Duration.ofNanos(retryWait);
    }

    /** Whether the last run failed and the next one waits for its retry time. */
    boolean retrying() {
        return retrying;
    }

    /** The trigger of a run due at {@code now}, if one is. */
    Optional<Trigger> due(long now) {
        if (retrying) {
            return now - retryAt >= 0 ? Optional.of(Trigger.RETRY) : Optional.empty();
        }
        if (changes >= maxBatch) {
            return Optional.of(Trigger.MAX_BATCH);
        }
        if (changes > 0 && now - lastChange >= quiet) {
            return Optional.of(Trigger.QUIET);
        }
        if (changes > 0 && now - firstChange >= maxDelay) {
            return Optional.of(Trigger.MAX_DELAY);
        }
        if (changes == 0 && othersWaiting && now - firstOther >= HOUSEKEEPING_DELAY.toNanos()) {
            return Optional.of(Trigger.HOUSEKEEPING);
        }
        return Optional.empty();
    }

    /** Nanoseconds from {@code now} until a run is due if nothing else arrives; {@code Long.MAX_VALUE} for never. */
    long nanosUntilDue(long now) {
        if (retrying) {
            return Math.max(0, retryAt - now);
        }
        long until = Long.MAX_VALUE;
        if (changes > 0) {
            until = Math.min(lastChange + quiet - now, firstChange + maxDelay - now);
        } else if (othersWaiting) {
            until = firstOther + HOUSEKEEPING_DELAY.toNanos() - now;
        }
        return Math.max(0, until);
    }
}
