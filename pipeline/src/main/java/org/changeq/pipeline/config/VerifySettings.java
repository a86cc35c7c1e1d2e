package org.changeq.pipeline.config;

import java.time.Duration;
import java.util.OptionalLong;

/**
 * How {@code changeq-sync verify} proves a route's copy.
 *
 * @param cycle       every file of the route is compared by content once within this many days ({@code verify-cycle})
 * @param maxRate     bytes per second verify reads at most from the root ({@code verify-max-rate}); empty reads at
 *                    whatever rate the disks give
 */
public record VerifySettings(Duration cycle, OptionalLong maxRate) {

    /** A month: a daily slice of one thirtieth of the tree costs a home server little, and a rotten file is found in time. */
    public static final Duration DEFAULT_CYCLE = Duration.ofDays(30);
    public static final VerifySettings DEFAULT = new VerifySettings(DEFAULT_CYCLE, OptionalLong.empty());

    public VerifySettings {
        if (cycle.toDays() < 1) {
            throw new IllegalArgumentException("a verify cycle is at least a day, got " + cycle);
        }
        if (maxRate.isPresent() && maxRate.getAsLong() <= 0) {
            throw new IllegalArgumentException("a verify rate is above 0, got " + maxRate.getAsLong());
        }
    }

    /** The slices of one cycle: one a day. */
    public int slices() {
        return (int) Math.min(Integer.MAX_VALUE, cycle.toDays());
    }
}
