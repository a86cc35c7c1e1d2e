package org.changeq.nativetests.tracker;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.util.List;
import org.changeq.pipeline.config.PathFilter;

/** Excludes every path with a component equal to one of the given names: a stand-in for the config's filter. */
record NameExcludes(List<String> patterns) implements PathFilter {

    static NameExcludes none() {
        return new NameExcludes(List.of());
    }

    @Override
    public boolean isEmpty() {
        return patterns.isEmpty();
    }

    @Override
    public boolean matches(byte[] relativePath, boolean directory) {
        String path = new String(relativePath, ISO_8859_1);
        return patterns.contains(path.substring(path.lastIndexOf('/') + 1));
    }

    @Override
    public boolean matchesSelfOrAncestor(byte[] relativePath, boolean directory) {
        for (String name : new String(relativePath, ISO_8859_1).split("/")) {
            if (patterns.contains(name)) {
                return true;
            }
        }
        return false;
    }
}
