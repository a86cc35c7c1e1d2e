package org.changeq.nativetests.sync;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Consumer;
import org.changeq.pipeline.IndexFile;
import org.changeq.pipeline.ManifestReader;
import org.changeq.pipeline.ManifestWriter;
import org.changeq.pipeline.RecordType;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.RootConfig;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.sync.RouteSync;
import org.changeq.sync.SyncException;
import org.changeq.sync.SyncReport;
import org.changeq.sync.SyncRequest;

/** A root, a queue written by the real {@link ManifestWriter}, a state directory, and runs of the real sync. */
final class SyncBench {

    static final String ROOT = "nfs";

    final Path root;
    final Path queue;
    final Path state;

    private SyncBench(Path directory) {
        root = directory.resolve("src");
        queue = directory.resolve("queue");
        state = directory.resolve("state");
    }

    static SyncBench create(Path directory) throws IOException {
        SyncBench bench = new SyncBench(directory);
        Files.createDirectories(bench.root);
        Files.createDirectories(bench.state);
        // The writer creates the queue; an empty session makes it exist for the first run.
        bench.record(writer -> { });
        return bench;
    }

    /** The bench another JVM created in {@code directory}. */
    static SyncBench existing(Path directory) {
        return new SyncBench(directory);
    }

    RootConfig rootConfig() {
        return new RootConfig(ROOT, root, List.of(), GlobFilter.of());
    }

    static RouteConfig route(String name, String dest, List<String> include, List<String> exclude) {
        return route(name, dest, include, exclude, Optional.empty(), Optional.empty(), RouteConfig.DEFAULT_RSYNC_ARGS,
                RouteConfig.DEFAULT_BACKLOG_THRESHOLD, true, false);
    }

    static RouteConfig route(String name, String dest, List<String> include, List<String> exclude,
                             Optional<String> includeList, Optional<String> excludeList, List<String> rsyncArgs,
                             long backlogThreshold, boolean deleteOnFull, boolean propagateDeletes) {
        return new RouteConfig(name, ROOT, dest, include, exclude, includeList, excludeList, GlobFilter.of(include),
                GlobFilter.of(exclude), rsyncArgs, backlogThreshold, Optional.empty(), deleteOnFull, propagateDeletes);
    }

    ChangeqConfig config(RouteConfig... routes) {
        Map<String, RouteConfig> byName = new LinkedHashMap<>();
        for (RouteConfig route : routes) {
            byName.put(route.name(), route);
        }
        return new ChangeqConfig(queue, state, Map.of(ROOT, rootConfig()), Map.of(), byName);
    }

    /** One tracker session: START, whatever {@code body} publishes (on this, the producer thread), STOP. */
    void record(Consumer<ManifestWriter> body) {
        // The writer joins its own thread on close.
        ManifestWriter writer = ManifestWriter.start(queue, state, 1024, runnable -> new Thread(runnable, "changeq-writer"),
                failure -> {
                    throw new AssertionError("append failed", failure);
                });
        try {
            body.accept(writer);
        } finally {
            writer.close();
        }
    }

    void changed(String... paths) {
        record(writer -> {
            for (String path : paths) {
                writer.publish(RecordType.CHANGE, ROOT, false, path.getBytes(UTF_8));
            }
        });
    }

    SyncReport sync(ChangeqConfig config, String route) throws SyncException, InterruptedException {
        return sync(config, SyncRequest.of(route));
    }

    SyncReport sync(ChangeqConfig config, SyncRequest request) throws SyncException, InterruptedException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        return RouteSync.run(config, request, Clock.systemDefaultZone(), new PrintStream(out, true, UTF_8));
    }

    OptionalLong cursor(String route) throws IOException {
        return new IndexFile(state.resolve("cursors").resolve(route + ".cursor"), "cursor").read();
    }

    long queueEnd() {
        try (ManifestReader reader = ManifestReader.open(queue)) {
            return reader.lastIndex();
        }
    }
}
