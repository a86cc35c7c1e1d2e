package org.changeq.pipeline.config;

/**
 * How many of the files at a route's destination its runs may overwrite, delete or rename away, together within the
 * route's {@code max-change-window}, before a run is held for consent: a share of the destination's files (or a
 * number of them), with a floor in paths so that a small destination's ordinary work is not taken for a disaster.
 * Written {@code 1000}, {@code "25%"} or {@code "25% min 1000"}. Immutable.
 *
 * @param share the count or the percentage of the destination's paths
 * @param floor the paths always allowed, whatever the percentage comes to
 */
public record ChangeLimit(DeleteLimit share, long floor) {

    /**
     * A quarter of the destination, like max-delete: ransomware or a wrong {@code sed -i} rewrites every file it
     * reaches, while a photo tool re-tagging one year of many, a {@code git checkout} in one repository or a package
     * upgrade rewrites a small part of a backup root. The floor lets a small destination take a bulk job of a
     * thousand files.
     */
    public static final ChangeLimit DEFAULT = new ChangeLimit(new DeleteLimit(25, true), 1000);

    public ChangeLimit {
        java.util.Objects.requireNonNull(share, "share");
        if (floor < 0) {
            throw new IllegalArgumentException("a change limit's floor is 0 or more paths, got " + floor);
        }
    }

    /** The changes allowed at a destination of {@code destinationPaths}. */
    public long allowed(long destinationPaths) {
        return Math.max(floor, share.allowed(destinationPaths));
    }

    /** Whether the limit depends on the destination's size. */
    public boolean percent() {
        return share.percent();
    }

    /** As written in the configuration. */
    @Override
    public String toString() {
        return share + (floor > 0 ? " min " + floor : "");
    }
}
