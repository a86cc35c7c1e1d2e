package org.changeq.sync;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.pipeline.state.StateDirectory;
import org.changeq.pipeline.state.StateLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The identity of a remote destination (an rsync daemon's module, an ssh path), which has no file system this host
 * can look at: a small file {@value #NAME} at the destination's top holding a random id, placed by the route's first
 * successful run and remembered in the route's state. Before each run the marker is fetched with rsync; a
 * destination without it, or with another one, while the route remembers placing one is not the directory the route
 * wrote (a NAS volume that is not mounted leaves its mount point on the system volume; a module now pointing
 * elsewhere) and is refused before anything is sent. A destination the route never marked is a first run.
 *
 * <p>The passes exclude {@code /}{@value #NAME} (see {@link RsyncTransfer}), so a full sync's {@code --delete} keeps the
 * marker and a root's own file of that name is never sent over it. Local destinations keep their file-system identity
 * ({@link CopyGuard}) instead. The one codec of the marker, at the destination and in the state. Confined to the
 * run's thread.
 */
final class DestinationMarker {

    static final String NAME = ".changeq-destination";
    static final int FORMAT_VERSION = 1;
    private static final String MAGIC = "changeq-destination";
    /** A marker is a few dozen bytes; anything much larger is not one. */
    private static final long MAX_SIZE = 4096;

    private static final Logger LOG = LoggerFactory.getLogger(DestinationMarker.class);

    private final RouteConfig route;
    private final StateLayout layout;
    private final SyncRequest request;
    private final Transfer commands;
    private final String command;
    private final Path fetchDirectory;

    /**
     * @param command        how the operator runs this route by hand, for the fix the refusal names
     * @param fetchDirectory where the fetched marker lands: the state directory, or a dry run's private directory (a
     *                       dry run writes nothing in the state directory)
     */
    DestinationMarker(RouteConfig route, StateLayout layout, SyncRequest request, Transfer commands,
                      String command, Path fetchDirectory) {
        this.route = route;
        this.layout = layout;
        this.request = request;
        this.commands = commands;
        this.command = command;
        this.fetchDirectory = fetchDirectory;
    }

    /**
     * What {@link #check} found.
     *
     * @param accepted    the destination differs and the operator accepted that: the run is full
     * @param unreachable the fetch's outcome when the destination could not be reached: the run sends nothing and
     *                    ends as that connection failure, as any of its passes would
     */
    record Verdict(boolean accepted, Optional<RsyncRunner.Outcome> unreachable) {
        static final Verdict PASSED = new Verdict(false, Optional.empty());
    }

    /** The marker's content at the destination (empty when it has none), as far as rsync could fetch it. */
    private record Fetched(RsyncRunner.Outcome outcome, Optional<byte[]> content) {
    }

    static byte[] encode(UUID id) {
        return (MAGIC + " " + FORMAT_VERSION + "\nid " + id + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** The id of a marker of a version this build reads; empty for anything else. */
    static Optional<UUID> decode(byte[] content) {
        String[] lines = new String(content, StandardCharsets.UTF_8).split("\n");
        if (lines.length != 2 || !lines[0].equals(MAGIC + " " + FORMAT_VERSION) || !lines[1].startsWith("id ")) {
            return Optional.empty();
        }
        try {
            return Optional.of(UUID.fromString(lines[1].substring(3)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * Refuses a remote destination whose marker is missing or not the one the route placed.
     *
     * @throws SyncException {@code DESTINATION_CHANGED}, or {@code SYNC_FAILED} when rsync reached the destination but
     *                       could not fetch the marker; nothing was sent
     */
    Verdict check() throws SyncException, IOException, InterruptedException {
        if (route.localDestination()) {
            return Verdict.PASSED;
        }
        Optional<UUID> placed = placed();
        if (placed.isEmpty()) {
            return Verdict.PASSED;
        }
        Fetched fetched = fetch();
        RsyncRunner.Outcome outcome = fetched.outcome();
        if (!outcome.succeeded()) {
            if (RouteSync.exitCodeOf(outcome) == ExitCodes.DESTINATION_UNREACHABLE) {
                return new Verdict(false, Optional.of(outcome));
            }
            throw new SyncException(ExitCodes.SYNC_FAILED, "route '" + route.name() + "': cannot read the marker " + NAME
                    + " at the destination " + route.dest() + " (rsync exit " + outcome.exitCode()
                    + (outcome.errors().isEmpty() ? "" : ": " + String.join(" | ", outcome.errors()))
                    + "); nothing was sent. Check that the route's rsync-args let it read the destination");
        }
        Optional<byte[]> found = fetched.content();
        Optional<UUID> foundId = found.flatMap(DestinationMarker::decode);
        if (foundId.equals(placed)) {
            return Verdict.PASSED;
        }
        String difference = found.isEmpty() ? "has no " + NAME
                : foundId.isEmpty() ? "holds a " + NAME + " that is not a marker this build reads"
                : "holds the marker " + foundId.get() + " of another destination";
        if (request.acceptDestinationChange()) {
            LOG.warn("route '{}': the destination {} {}, not the marker {} the route placed; accepted by"
                    + " --accept-dest-change, this run is full and places a new marker", route.name(), route.dest(),
                    difference, placed.get());
            return new Verdict(true, Optional.empty());
        }
        throw new SyncException(ExitCodes.DESTINATION_CHANGED, "route '" + route.name() + "': the destination "
                + route.dest() + " " + difference + ", although the route placed the marker " + placed.get() + " there:"
                + " it is not the directory the route wrote before. Nothing was sent. Fix: mount the NAS volume, or point"
                + " the module (or path) back at the route's copy; or, if the destination was replaced on purpose, run '"
                + command + " --accept-dest-change' once (its run is full and places a new marker)");
    }

    /**
     * After a successful run: places a new marker at the destination and then remembers it, when the route has none
     * yet or the operator accepted a changed destination. A marker that cannot be placed is tried again by the next
     * successful run; until then the destination is not checked.
     */
    void placeAfterSuccess(boolean accepted) throws IOException, InterruptedException, SyncException {
        if (route.localDestination() || !accepted && placed().isPresent()) {
            return;
        }
        UUID id = UUID.randomUUID();
        Path directory = Files.createTempDirectory(layout.directory(), ".destination-marker-");
        Path file = directory.resolve(NAME);
        try {
            StateDirectory.replace(file, encode(id), false);
            RsyncRunner.Outcome outcome = commands.placeMarker(file).run();
            if (!outcome.succeeded()) {
                // The old id names a destination this run no longer writes: forgotten, the route counts as unmarked.
                StateDirectory.deleteIfExists(stateFile());
                LOG.warn("route '{}': could not place the marker {} at {} (rsync exit {}); the next successful run"
                        + " tries again, and until then a replaced destination is not noticed", route.name(), NAME,
                        route.dest(), outcome.exitCode());
                return;
            }
        } finally {
            deleteTree(directory);
        }
        // After the destination holds it: a crash in between leaves the route unmarked, and its next run marks it.
        StateDirectory.replace(stateFile(), encode(id), true);
        LOG.info("route '{}': placed the marker {} ({}) at the destination {}", route.name(), id, NAME, route.dest());
    }

    private Path stateFile() {
        return RouteFiles.destinationMarker(layout, route.name(), route.dest());
    }

    private Optional<UUID> placed() throws IOException, SyncException {
        byte[] content;
        try {
            content = StateDirectory.read(stateFile());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        Optional<UUID> id = decode(content);
        if (id.isEmpty()) {
            throw new SyncException(ExitCodes.SOFTWARE, "route '" + route.name() + "': " + stateFile() + " is not a"
                    + " destination marker this build reads (" + MAGIC + " " + FORMAT_VERSION + "); nothing was sent."
                    + " Move it away: the next successful run places a new marker");
        }
        return id;
    }

    private Fetched fetch() throws SyncException, IOException, InterruptedException {
        Path directory = Files.createTempDirectory(fetchDirectory, ".destination-marker-");
        try {
            RsyncRunner.Outcome outcome = commands.fetchMarker(directory).run();
            if (!outcome.succeeded()) {
                return new Fetched(outcome, Optional.empty());
            }
            Optional<Path> fetched;
            try (Stream<Path> paths = Files.walk(directory)) {
                // The marker's parents are directories; rsync skips a directory of the marker's name itself.
                fetched = paths.filter(path -> path.getFileName().toString().equals(NAME)
                        && !Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)).findFirst();
            }
            if (fetched.isEmpty()) {
                return new Fetched(outcome, Optional.empty());
            }
            Path file = fetched.get();
            // A link or a large file of that name is no marker: its bytes decode to none.
            boolean plausible = Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) && Files.size(file) <= MAX_SIZE;
            return new Fetched(outcome, Optional.of(plausible ? StateDirectory.read(file) : new byte[0]));
        } finally {
            deleteTree(directory);
        }
    }

    /** The fetch's own temporary directory: rsync created the marker's parent directories in it, nothing else. */
    private static void deleteTree(Path directory) throws IOException {
        try (Stream<Path> paths = Files.walk(directory)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }
}
