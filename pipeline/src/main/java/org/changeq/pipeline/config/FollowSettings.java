package org.changeq.pipeline.config;

import java.time.Duration;
import java.util.Objects;

/**
 * When a route's follower ({@code changeq-sync follow}) runs: once no change has arrived for {@code quiet}, once the
 * oldest pending change has waited {@code maxDelay} (so a file written without pause is still sent), or at once when
 * {@code maxBatch} changes are pending. While runs fail, the waits between them grow from {@link #FIRST_RETRY_WAIT}
 * to {@code retryMax}. A timer run ignores these settings.
 *
 * @param quiet    how long the route's changes must have been quiet; 0 runs as soon as a change is seen
 * @param maxDelay the longest a change waits while others keep arriving
 * @param maxBatch pending changes that start a run without waiting
 * @param retryMax the longest wait between runs while they fail (destination down)
 */
public record FollowSettings(Duration quiet, Duration maxDelay, long maxBatch, Duration retryMax) {

    /** Editors and copies write a file in several calls within milliseconds; 2 s coalesces them and keeps a change's way to the destination within seconds. */
    public static final Duration DEFAULT_QUIET = Duration.ofSeconds(2);
    /** A log or database written without pause is sent twice a minute. */
    public static final Duration DEFAULT_MAX_DELAY = Duration.ofSeconds(30);
    /** rsync spends about 60 µs per listed path: a burst reaches the destination in runs of under a second of listing each. */
    public static final long DEFAULT_MAX_BATCH = 10_000;
    /** A NAS that is back is noticed within 5 minutes, without hammering one that is down. */
    public static final Duration DEFAULT_RETRY_MAX = Duration.ofMinutes(5);
    public static final Duration FIRST_RETRY_WAIT = Duration.ofSeconds(1);

    public static final FollowSettings DEFAULT = new FollowSettings(DEFAULT_QUIET, DEFAULT_MAX_DELAY, DEFAULT_MAX_BATCH,
            DEFAULT_RETRY_MAX);

    public FollowSettings {
        Objects.requireNonNull(quiet, "quiet");
        Objects.requireNonNull(maxDelay, "maxDelay");
        Objects.requireNonNull(retryMax, "retryMax");
        if (quiet.isNegative() || maxDelay.compareTo(quiet) < 0 || maxBatch <= 0 || retryMax.compareTo(FIRST_RETRY_WAIT) < 0) {
            throw new IllegalArgumentException("follow settings out of range: " + quiet + ", " + maxDelay + ", " + maxBatch
                    + ", " + retryMax);
        }
    }
}
