package org.changeq.sync;

import java.util.ArrayList;
import java.util.List;
import org.changeq.pipeline.config.RootConfig;
import org.changeq.pipeline.config.RouteConfig;

/**
 * Translates a route's patterns (and its root's excludes) into rsync filter arguments that send
 * exactly what {@link RouteConfig#sends} accepts.
 *
 * <p>rsync's first matching rule wins and it does not descend into an excluded directory, so the
 * excludes come first: that is "neither the path nor an ancestor is excluded". An include-only
 * route then needs rsync to walk down to the included paths and to send everything below them:
 * <ul>
 *   <li>when every include is anchored ({@code /immich/}) and has no {@code **}, each parent
 *       directory is included by name ({@code /a/}, {@code /a/b/} for {@code /a/b/c/}), then the
 *       pattern and everything below it ({@code /a/b/c/**}), then {@code - *}. The parents are
 *       created at the destination (empty but for the included paths); nothing else is.</li>
 *   <li>otherwise every directory is walked ({@code + *}{@code /}) and {@code --prune-empty-dirs}
 *       drops the directories that end up empty. Limitation: an included directory that is empty
 *       at the source is pruned as well.</li>
 * </ul>
 * Rules are passed as {@code --filter=- PATTERN}, which takes the pattern verbatim. Thread-safe (stateless).
 */
final class FilterRules {

    private FilterRules() {
    }

    static List<String> of(RouteConfig route, RootConfig root) {
        List<String> args = new ArrayList<>();
        for (String pattern : root.excludes().patterns()) {
            args.add(exclude(pattern));
        }
        for (String pattern : route.excludes().patterns()) {
            args.add(exclude(pattern));
        }
        List<String> includes = route.includes().patterns();
        if (includes.isEmpty()) {
            return args;
        }
        boolean walkNamedParents = includes.stream().allMatch(p -> p.startsWith("/") && !p.contains("**"));
        if (walkNamedParents) {
            List<String> parents = new ArrayList<>();
            for (String pattern : includes) {
                for (String parent : parentsOf(pattern)) {
                    if (!parents.contains(parent)) {
                        parents.add(parent);
                    }
                }
            }
            parents.forEach(parent -> args.add(include(parent)));
        } else {
            args.add(include("*/"));
        }
        for (String pattern : includes) {
            args.add(include(pattern));
            args.add(include(withoutTrailingSlash(pattern) + "/**"));
        }
        args.add(exclude("*"));
        if (!walkNamedParents) {
            args.add("--prune-empty-dirs");
        }
        return args;
    }

    /** {@code /a/b/c/} gives {@code /a/} and {@code /a/b/}. */
    static List<String> parentsOf(String anchoredPattern) {
        String path = withoutTrailingSlash(anchoredPattern);
        List<String> parents = new ArrayList<>();
        for (int slash = path.indexOf('/', 1); slash > 0; slash = path.indexOf('/', slash + 1)) {
            parents.add(path.substring(0, slash + 1));
        }
        return parents;
    }

    private static String withoutTrailingSlash(String pattern) {
        return pattern.endsWith("/") && pattern.length() > 1 ? pattern.substring(0, pattern.length() - 1) : pattern;
    }

    private static String include(String pattern) {
        return "--filter=+ " + pattern;
    }

    private static String exclude(String pattern) {
        return "--filter=- " + pattern;
    }
}
