package org.changeq.pipeline.config;

import java.util.List;

/**
 * A compiled list of rsync-style patterns matched against raw path bytes relative to a root.
 *
 * <p>Pattern rules, exactly rsync's filter rules: a leading {@code /} anchors at the root; a trailing
 * {@code /} matches directories only; {@code *} and {@code ?} stay within one name, {@code **}
 * crosses {@code /}; {@code [...]} is a character class; a pattern with no {@code /} (other than a
 * trailing one) matches a name at any depth; an unanchored pattern with an inner {@code /} matches
 * the end of the path at a name boundary; {@code dir/***} matches {@code dir} and everything below
 * it. Patterns are UTF-8 text compiled to bytes; paths are matched as raw bytes, so {@code ?} and
 * {@code [...]} stand for one byte, exactly as in rsync. Immutable and thread-safe; matching never
 * blocks and allocates nothing.
 */
public interface PathFilter {

    /**
     * Compiles the patterns, in order.
     *
     * @throws IllegalArgumentException naming the first invalid pattern and what is wrong with it
     *                                  (empty, only {@code /}, an unclosed {@code [}, a trailing lone
     *                                  backslash, an unknown {@code [:class:]})
     */
    static PathFilter of(List<String> patterns) {
        return RsyncPatterns.compile(patterns);
    }

    /** The patterns as written, in order. */
    List<String> patterns();

    boolean isEmpty();

    /** Whether the pattern list matches exactly this path (no ancestor logic). */
    boolean matches(byte[] relativePath, boolean directory);

    /**
     * Whether this path or one of its ancestor directories matches: the test for "excluded" and
     * "included", since rsync does not descend into an excluded directory and sends all of an included one.
     */
    default boolean matchesSelfOrAncestor(byte[] relativePath, boolean directory) {
        return matchesSelfOrAncestor(relativePath, relativePath.length, directory);
    }

    /** {@link #matchesSelfOrAncestor(byte[], boolean)} for the path {@code relativePath[0, length)}. */
    boolean matchesSelfOrAncestor(byte[] relativePath, int length, boolean directory);
}
