package org.changeq.nativetests.sync;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.Consumer;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.ConfigException;
import org.changeq.pipeline.config.ConfigLoader;
import org.changeq.pipeline.config.RootConfig;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.manifest.ManifestWriter;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.manifest.WriterLock;
import org.changeq.pipeline.state.RootTracking;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.state.TrackerRootsFile;
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

    /**
     * A route as the YAML of {@code routes:} would give it; {@code null} and empty values are left out.
     *
     * @param include/exclude   patterns written on the route
     * @param includeList/excludeList names of lists given to {@link #config(Map, Route...)}
     */
    record Route(String name, String dest, List<String> include, List<String> exclude, String includeList,
                 String excludeList, List<String> rsyncArgs, Map<String, String> settings) {

        static Route of(String name, String dest) {
            return new Route(name, dest, List.of(), List.of(), null, null, List.of(), Map.of());
        }

        Route include(String... patterns) {
            return new Route(name, dest, List.of(patterns), exclude, includeList, excludeList, rsyncArgs, settings);
        }

        Route exclude(String... patterns) {
            return new Route(name, dest, include, List.of(patterns), includeList, excludeList, rsyncArgs, settings);
        }

        Route lists(String include, String exclude) {
            return new Route(name, dest, this.include, this.exclude, include, exclude, rsyncArgs, settings);
        }

        Route rsyncArgs(String... args) {
            return new Route(name, dest, include, exclude, includeList, excludeList, List.of(args), settings);
        }

        /** Any other key of the route, its value written as YAML ({@code "25%"}, {@code true}). */
        Route set(String key, String yamlValue) {
            Map<String, String> more = new java.util.LinkedHashMap<>(settings);
            more.put(key, yamlValue);
            return new Route(name, dest, include, exclude, includeList, excludeList, rsyncArgs, more);
        }

        Route backlogThreshold(long threshold) {
            return set("backlog-threshold", Long.toString(threshold));
        }

        Route deleteOnFull(boolean delete) {
            return set("delete-on-full", Boolean.toString(delete));
        }

        String yaml() {
            StringBuilder out = new StringBuilder("  " + name + ":\n    root: " + ROOT + "\n    dest: " + quote(dest) + "\n");
            appendList(out, "include", include);
            appendList(out, "exclude", exclude);
            if (includeList != null) {
                out.append("    include-list: ").append(includeList).append("\n");
            }
            if (excludeList != null) {
                out.append("    exclude-list: ").append(excludeList).append("\n");
            }
            appendList(out, "rsync-args", rsyncArgs);
            settings.forEach((key, value) -> out.append("    ").append(key).append(": ").append(value).append("\n"));
            return out.toString();
        }
    }

    private static void appendList(StringBuilder out, String key, List<String> values) {
        if (!values.isEmpty()) {
            out.append("    ").append(key).append(": [")
                    .append(String.join(", ", values.stream().map(SyncBench::quote).toList())).append("]\n");
        }
    }

    private static String quote(String value) {
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** Writes {@code changeq.yaml} for these routes and reads it with the real loader. */
    ChangeqConfig config(Route... routes) throws IOException, ConfigException {
        return config(Map.of(), routes);
    }

    ChangeqConfig config(Map<String, List<String>> lists, Route... routes) throws IOException, ConfigException {
        StringBuilder yaml = new StringBuilder("queue: " + queue + "\nstate: " + state + "\nroots:\n  " + ROOT
                + ": {path: " + root + "}\n");
        if (!lists.isEmpty()) {
            yaml.append("lists:\n");
            lists.forEach((name, patterns) -> {
                yaml.append("  ").append(name).append(": [")
                        .append(String.join(", ", patterns.stream().map(SyncBench::quote).toList())).append("]\n");
            });
        }
        yaml.append("routes:\n");
        for (Route route : routes) {
            yaml.append(route.yaml());
        }
        Files.writeString(configFile(), yaml);
        return ConfigLoader.load(configFile());
    }

    Path configFile() {
        return state.resolveSibling("changeq.yaml");
    }

    /** One tracker session: START, whatever {@code body} publishes (on this, the producer thread), STOP. */
    void record(Consumer<ManifestWriter> body) {
        // The writer joins its own thread on close.
        ManifestWriter writer = ManifestWriter.start(WriterLock.acquire(queue, state), 1024,
                ManifestWriter.WRITER_THREADS,
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

    /** A run while a tracker holds the queue, as the timer's runs are: the test's own, or one held for the run. */
    SyncReport sync(ChangeqConfig config, SyncRequest request) throws SyncException, InterruptedException {
        return sync(config, request, Clock.systemDefaultZone());
    }

    /** A run as {@link #sync(ChangeqConfig, SyncRequest)} makes it, at the time {@code clock} tells. */
    SyncReport sync(ChangeqConfig config, SyncRequest request, Clock clock) throws SyncException, InterruptedException {
        if (trackerHoldsQueue()) {
            return syncAsIs(config, request, clock);
        }
        try (WriterLock tracker = trackerRunning()) {
            return syncAsIs(config, request, clock);
        }
    }

    private boolean trackerHoldsQueue() {
        try {
            return WriterLock.isHeld(queue);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A run with the queue as it is: held by a tracker or not. */
    SyncReport syncAsIs(ChangeqConfig config, SyncRequest request) throws SyncException, InterruptedException {
        return syncAsIs(config, request, Clock.systemDefaultZone());
    }

    private SyncReport syncAsIs(ChangeqConfig config, SyncRequest request, Clock clock)
            throws SyncException, InterruptedException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        return RouteSync.run(config, request, clock, new PrintStream(out, true, UTF_8));
    }

    /**
     * The queue's writer lock, held as a running tracker holds it, for runs of the sync in this or another process;
     * and the roots file such a tracker publishes after it read the configuration {@link #config} wrote last.
     */
    WriterLock trackerRunning() {
        WriterLock lock = WriterLock.acquire(queue, state);
        try {
            List<TrackerRootsFile.RootStatus> roots = new ArrayList<>();
            for (RootConfig configured : ConfigLoader.load(configFile()).roots().values()) {
                roots.add(new TrackerRootsFile.RootStatus(configured.name(), TrackerRootsFile.Condition.WATCHED,
                        System.currentTimeMillis(), "", RootTracking.configured(configured)));
            }
            new StateLayout(state).trackerRoots().write(new TrackerRootsFile.Snapshot(System.currentTimeMillis(),
                    ProcessHandle.current().pid(), roots));
        } catch (IOException | ConfigException e) {
            lock.close();
            throw new AssertionError("cannot publish the roots of " + configFile(), e);
        }
        return lock;
    }

    OptionalLong cursor(String route) throws IOException {
        return new StateLayout(state).cursor(route).read();
    }

    long queueEnd() {
        try (ManifestReader reader = ManifestReader.open(queue)) {
            return reader.lastIndex();
        }
    }
}
