package org.changeq.pipeline.config;

/**
 * How much one run of a route may delete at its destination: a number of paths, or a percentage of
 * what the destination holds. A root that was emptied (or replaced by an empty file system) would
 * otherwise make a full sync with {@code --delete} wipe the copy. Immutable.
 *
 * @param value   the number of paths, or the percentage (1-100) when {@code percent}
 * @param percent whether {@code value} is a percentage of the destination's paths
 */
public record DeleteLimit(long value, boolean percent) {

    /** Half the destination, and then some, is what an emptied or unmounted root looks like; ordinary pruning is far less. */
    public static final DeleteLimit DEFAULT = new DeleteLimit(25, true);

    public DeleteLimit {
        if (value < 0 || percent && value > 100) {
            throw new IllegalArgumentException("a deletion limit is a count >= 0 or a percentage 0-100, got " + value
                    + (percent ? "%" : ""));
        }
    }

    /**
     * The number of paths a run may delete at a destination that holds {@code destinationPaths}; a percentage
     * rounds up, so that a small destination may still lose a file.
     */
    public long allowed(long destinationPaths) {
        return percent ? (destinationPaths * value + 99) / 100 : value;
    }

    /** As written in the configuration: {@code 1000} or {@code 25%}. */
    @Override
    public String toString() {
        return value + (percent ? "%" : "");
    }
}
