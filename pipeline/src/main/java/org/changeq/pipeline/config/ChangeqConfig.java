package org.changeq.pipeline.config;

import java.nio.file.Path;
import java.util.Map;

/**
 * The whole configuration, parsed once and validated by {@link ConfigLoader}. Immutable.
 *
 * @param queue  the Chronicle Queue directory (the manifest)
 * @param state  the directory for cursors, claims, locks, flags and metrics
 * @param roots  the watched trees by name, in file order
 * @param lists  the named pattern lists by name, in file order
 * @param routes the sync routes by name, in file order
 */
public record ChangeqConfig(
        Path queue,
        Path state,
        Map<String, RootConfig> roots,
        Map<String, java.util.List<String>> lists,
        Map<String, RouteConfig> routes) {

    public ChangeqConfig {
        roots = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(roots));
        lists = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(lists));
        routes = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(routes));
    }

    public RootConfig root(String name) {
        RootConfig root = roots.get(name);
        if (root == null) {
            throw new IllegalArgumentException("no root named '" + name + "'; configured roots: " + roots.keySet());
        }
        return root;
    }

    public RouteConfig route(String name) {
        RouteConfig route = routes.get(name);
        if (route == null) {
            throw new IllegalArgumentException("no route named '" + name + "'; configured routes: " + routes.keySet());
        }
        return route;
    }
}
