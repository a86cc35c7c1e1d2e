package org.changeq.pipeline.config;

import java.time.Duration;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * A route's history at the destination ({@code history: {keep: 30d, max-size: 50G}}): every run moves what it
 * overwrites or deletes there into {@value #DIRECTORY}{@code /<run start>/} at the destination's top, and a run
 * directory is removed once it is older than {@code keep}, or, oldest first, while the history is larger than
 * {@code maxBytes}.
 *
 * @param keep     how long a run's earlier versions stay
 * @param maxBytes the size past which the oldest run directories go before their time, if bounded
 */
public record HistorySettings(Duration keep, OptionalLong maxBytes) {

    /**
     * The history's directory at the top of a route's destination. Reserved: every pass of every route excludes or
     * protects it, and a root holding a directory of that name at its top is refused for a route with history.
     */
    public static final String DIRECTORY = ".changeq-history";

    public HistorySettings {
        Objects.requireNonNull(keep, "keep");
        Objects.requireNonNull(maxBytes, "maxBytes");
        if (keep.isNegative() || keep.isZero() || maxBytes.isPresent() && maxBytes.getAsLong() <= 0) {
            throw new IllegalArgumentException("history settings out of range: " + keep + ", " + maxBytes);
        }
    }
}
