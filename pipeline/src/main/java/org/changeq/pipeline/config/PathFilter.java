package org.changeq.pipeline.config;

import java.util.List;

/**
 * A compiled list of rsync-style patterns matched against raw path bytes relative to a root.
 *
 * <p>Pattern rules, exactly rsync's filter rules: a leading {@code /} anchors at the root; a trailing
 * {@code /} matches directories only; {@code *} and {@code ?} stay within one name, {@code **}
 * crosses {@code /}; {@code [...]} is a character class; a pattern with no {@code /} (other than a
 * trailing one) matches a name at any depth; an unanchored pattern with an inner {@code /} matches
 * the end of the path at a name boundary. Immutable and thread-safe.
 */
public interface PathFilter {

    /** The patterns as written, in order. */
    List<String> patterns();

    boolean isEmpty();

    /** Whether the pattern list matches exactly this path (no ancestor logic). */
    boolean matches(byte[] relativePath, boolean directory);

    /**
     * Whether this path or one of its ancestor directories matches: the test for "excluded" and
     * "included", since rsync does not descend into an excluded directory and sends all of an included one.
     */
    boolean matchesSelfOrAncestor(byte[] relativePath, boolean directory);
}
