package org.changeq.nativetests.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.sync.SyncException;
import org.changeq.sync.SyncReport;
import org.changeq.sync.SyncRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

/**
 * A route to an rsync daemon's module marks the destination at its first successful run and refuses a module that
 * no longer holds the mark: the NAS volume behind it was not mounted, or the module was pointed elsewhere. Real
 * rsync through a real daemon on loopback.
 */
class RemoteDestinationIdentityTest {

    private static final String MARKER = Trees.DESTINATION_MARKER;

    @TempDir
    Path tmp;

    private RsyncDaemon daemon;

    @AfterEach
    void stopDaemon() throws InterruptedException {
        if (daemon != null) {
            daemon.close();
        }
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "has no .changeq-destination, although the route"
            + " placed the marker")
    @ExpectLog(level = Level.WARN, logger = "DestinationMarker", contains = "accepted by --accept-dest-change")
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "of another destination, although the route placed")
    void aModulePointedAtAnotherDirectoryIsRefusedUntilAccepted() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        for (int i = 0; i < 10; i++) {
            Trees.write(bench.root, "f" + i, "content " + i);
        }
        Trees.write(bench.root, MARKER, "a file of the root with the marker's name");
        Path volume = tmp.resolve("volume");
        daemon = RsyncDaemon.start(tmp.resolve("daemon"), volume);
        ChangeqConfig config = bench.config(SyncBench.Route.of("nas", daemon.url("nfs")),
                SyncBench.Route.of("fresh", daemon.url("fresh")));
        assertEquals(ExitCodes.OK, bench.sync(config, "nas").exitCode());
        Path copy = volume.resolve("nfs");
        String placed = Files.readString(copy.resolve(MARKER));
        assertTrue(placed.startsWith("changeq-destination 1\n"), placed);
        assertEquals(placed, markerInState(bench.state));

        Trees.write(bench.root, MARKER, "the root's file, changed");
        bench.changed(MARKER);
        assertEquals("incremental", bench.sync(config, "nas").mode());
        assertEquals(placed, Files.readString(copy.resolve(MARKER)), "a listed root file of that name is not sent");

        Trees.write(copy, "stray", "only at the destination");
        SyncReport full = bench.sync(config, SyncRequest.of("nas").withFull());
        assertEquals(ExitCodes.OK, full.exitCode(), full.errors().toString());
        assertFalse(Files.exists(copy.resolve("stray")), "the full sync deletes");
        assertEquals(placed, Files.readString(copy.resolve(MARKER)), "but neither deletes nor overwrites the marker");
        assertTrue(full.itemized().stream().noneMatch(line -> line.contains(MARKER)), full.itemized().toString());
        Trees.assertSameTree(bench.root, copy);

        Path unmounted = Files.createDirectories(tmp.resolve("system-volume"));
        daemon.restartWithModuleAt(unmounted);
        Trees.write(bench.root, "new", "new");
        bench.changed("new");
        SyncException refused = assertThrows(SyncException.class, () -> bench.sync(config, "nas"));
        assertEquals(ExitCodes.DESTINATION_CHANGED, refused.exitCode());
        assertTrue(refused.getMessage().contains("--accept-dest-change"), refused.getMessage());
        try (Stream<Path> written = Files.list(unmounted)) {
            assertEquals(List.of(), written.toList(), "nothing was written into the directory the module points at now");
        }

        SyncReport accepted = bench.sync(config, SyncRequest.of("nas").acceptingDestinationChange());
        assertEquals(ExitCodes.OK, accepted.exitCode(), accepted.errors().toString());
        assertEquals("full", accepted.mode());
        Path newCopy = unmounted.resolve("nfs");
        Trees.assertSameTree(bench.root, newCopy);
        String replaced = Files.readString(newCopy.resolve(MARKER));
        assertNotEquals(placed, replaced, "a new marker");
        assertEquals(replaced, markerInState(bench.state));
        Trees.write(bench.root, "later", "later");
        bench.changed("later");
        assertEquals(ExitCodes.OK, bench.sync(config, "nas").exitCode(), "the new destination is the route's now");

        daemon.restartWithModuleAt(volume);
        bench.changed("later");
        SyncException old = assertThrows(SyncException.class, () -> bench.sync(config, "nas"));
        assertEquals(ExitCodes.DESTINATION_CHANGED, old.exitCode(), "the old copy holds the old marker");
        assertFalse(Files.exists(copy.resolve("later")));

        SyncReport first = bench.sync(config, "fresh");
        assertEquals(ExitCodes.OK, first.exitCode(), "a route that never wrote anywhere starts on an empty module");
        assertTrue(Files.exists(volume.resolve("fresh").resolve(MARKER)));
    }

    /** The id the state keeps for route nas's destination: one file per destination, named by its hash. */
    private static String markerInState(Path state) throws IOException {
        try (var files = Files.list(state.resolve("identity"))) {
            List<Path> markers = files.filter(file -> file.getFileName().toString().startsWith("nas.")
                    && file.getFileName().toString().endsWith(".dest-marker")).toList();
            assertEquals(1, markers.size(), markers.toString());
            return Files.readString(markers.get(0));
        }
    }
}
