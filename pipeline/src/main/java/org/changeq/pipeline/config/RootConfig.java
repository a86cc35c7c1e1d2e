package org.changeq.pipeline.config;

import java.nio.file.Path;
import java.util.List;

/**
 * A watched tree.
 *
 * @param name     the key under {@code roots:}
 * @param path     the absolute, normalized directory
 * @param exclude  the patterns as written in the file
 * @param excludes the compiled filter: the written patterns plus the built-in ones
 *                 (changeq's own queue and state directories when they lie inside the root,
 *                 the legacy {@code .changed-files}, {@code .changed-files.lock} and {@code .force-full-sync})
 */
public record RootConfig(String name, Path path, List<String> exclude, PathFilter excludes) {
    public RootConfig {
        exclude = List.copyOf(exclude);
    }
}
