package org.changeq.sync;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.FullWindow;
import org.changeq.pipeline.config.RootConfig;
import org.changeq.pipeline.config.RouteConfig;

/** Hand-built configs for tests. */
final class TestConfigs {

    private TestConfigs() {
    }

    static RootConfig root(String name, Path path, String... excludes) {
        return new RootConfig(name, path, List.of(excludes), GlobFilter.of(excludes));
    }

    static RouteConfig route(String name, String root, String dest, List<String> include, List<String> exclude) {
        return new RouteConfig(name, root, dest, include, exclude, Optional.empty(), Optional.empty(),
                GlobFilter.of(include), GlobFilter.of(exclude), RouteConfig.DEFAULT_RSYNC_ARGS,
                RouteConfig.DEFAULT_BACKLOG_THRESHOLD, Optional.empty(), true, false);
    }

    static RouteConfig withDeletes(RouteConfig r, boolean deleteOnFull, boolean propagateDeletes) {
        return new RouteConfig(r.name(), r.root(), r.dest(), r.include(), r.exclude(), r.includeList(), r.excludeList(),
                r.includes(), r.excludes(), r.rsyncArgs(), r.backlogThreshold(), r.fullWindow(), deleteOnFull,
                propagateDeletes);
    }

    static RouteConfig withThreshold(RouteConfig r, long threshold) {
        return new RouteConfig(r.name(), r.root(), r.dest(), r.include(), r.exclude(), r.includeList(), r.excludeList(),
                r.includes(), r.excludes(), r.rsyncArgs(), threshold, r.fullWindow(), r.deleteOnFull(),
                r.propagateDeletes());
    }

    static RouteConfig withWindow(RouteConfig r, FullWindow window) {
        return new RouteConfig(r.name(), r.root(), r.dest(), r.include(), r.exclude(), r.includeList(), r.excludeList(),
                r.includes(), r.excludes(), r.rsyncArgs(), r.backlogThreshold(), Optional.of(window), r.deleteOnFull(),
                r.propagateDeletes());
    }

    static ChangeqConfig config(Path queue, Path state, List<RootConfig> roots, List<RouteConfig> routes) {
        Map<String, RootConfig> rootMap = new LinkedHashMap<>();
        roots.forEach(r -> rootMap.put(r.name(), r));
        Map<String, RouteConfig> routeMap = new LinkedHashMap<>();
        routes.forEach(r -> routeMap.put(r.name(), r));
        return new ChangeqConfig(queue, state, rootMap, Map.of(), routeMap);
    }
}
