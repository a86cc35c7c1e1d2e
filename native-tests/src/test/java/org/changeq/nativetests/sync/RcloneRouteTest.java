package org.changeq.nativetests.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.sync.SyncException;
import org.changeq.sync.SyncReport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

/** Runs of a route whose destination is an rclone remote: a real S3 server (S3Proxy) on loopback, real rclone. */
class RcloneRouteTest {

    private static final String BUCKET = "bucket";

    @TempDir
    static Path serverDirectory;

    private static S3Server server;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startServer() throws Exception {
        server = S3Server.start(serverDirectory);
        assertEquals(0, server.run("mkdir", server.remotePath(BUCKET)).exitCode(), "bucket made");
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    /** A route to {@code bucket/PREFIX/} on the server, deleting what is deleted at the source. */
    private static SyncBench.Route route(String prefix) {
        return SyncBench.Route.of("s3", "rclone://" + S3Server.REMOTE + "/" + BUCKET + "/" + prefix + "/")
                .set("rclone-config", server.rcloneConfig().toString())
                .set("propagate-deletes", "true");
    }

    private Path objects(String prefix) {
        return server.dataDirectory().resolve(BUCKET).resolve(prefix);
    }

    private static void deleted(SyncBench bench, String... paths) {
        bench.record(writer -> {
            for (String path : paths) {
                writer.publish(RecordType.DELETE, SyncBench.ROOT, false, path.getBytes(UTF_8));
            }
        });
    }

    @Test
    void theFirstRunSendsTheTreeAndLaterRunsSendChangesAndDeletionsOnly() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "a", "a1");
        Trees.write(bench.root, "d/b", "b1");
        Trees.write(bench.root, "d/e/c", "c1");
        Trees.write(bench.root, "gone/x", "x");
        Trees.write(bench.root, "#hash", "hash");
        Trees.write(bench.root, "-dash", "dash");
        Trees.write(bench.root, "st*r[1]", "glob");
        ChangeqConfig config = bench.config(route("first").set("max-delete", "10"));

        SyncReport first = bench.sync(config, "s3");
        assertEquals("full", first.mode());
        assertEquals(ExitCodes.OK, first.exitCode(), first.errors().toString());
        Trees.assertSameTree(bench.root, objects("first"));
        assertTrue(Files.readString(objects("first").resolve(Trees.DESTINATION_MARKER)).startsWith("changeq-destination 1"),
                "the marker placed");

        Trees.write(bench.root, "a", "a2 longer");
        Trees.write(bench.root, "new", "new");
        Files.delete(bench.root.resolve("d/b"));
        Trees.run(java.util.List.of("rm", "-r", bench.root.resolve("gone").toString()), 0);
        Files.delete(bench.root.resolve("st*r[1]"));
        bench.changed("a", "new");
        deleted(bench, "d/b", "gone", "st*r[1]");
        SyncReport second = bench.sync(config, "s3");
        assertEquals("incremental", second.mode());
        assertEquals(ExitCodes.OK, second.exitCode(), second.errors().toString());
        Trees.assertSameTree(bench.root, objects("first"));
        assertEquals(2, second.files(), second.itemized().toString());
        assertEquals(3, second.deleted(), second.itemized().toString());
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "deletions")
    void theDeletionLimitRefusesBeforeAnythingIsDeleted() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        for (int i = 0; i < 4; i++) {
            Trees.write(bench.root, "f" + i, "content " + i);
        }
        ChangeqConfig config = bench.config(route("limited").set("max-delete", "2"));
        assertEquals(ExitCodes.OK, bench.sync(config, "s3").exitCode());

        for (int i = 0; i < 3; i++) {
            Files.delete(bench.root.resolve("f" + i));
        }
        deleted(bench, "f0", "f1", "f2");
        SyncReport refused = bench.sync(config, "s3");
        assertEquals(ExitCodes.DELETIONS_REFUSED, refused.exitCode());
        for (int i = 0; i < 4; i++) {
            assertTrue(Files.exists(objects("limited").resolve("f" + i)), "f" + i + " kept");
        }
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "has no .changeq-destination")
    void aDestinationWithoutTheRoutesMarkerIsRefusedAndReceivesNothing() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "a", "a");
        ChangeqConfig config = bench.config(route("marked"));
        assertEquals(ExitCodes.OK, bench.sync(config, "s3").exitCode());

        // The remote's prefix now holds another copy: the one the route wrote is elsewhere.
        Trees.run(java.util.List.of("mv", objects("marked").toString(), objects("moved").toString()), 0);
        Trees.write(bench.root, "b", "b");
        bench.changed("b");
        SyncException refused = assertThrows(SyncException.class, () -> bench.sync(config, "s3"));
        assertEquals(ExitCodes.DESTINATION_CHANGED, refused.exitCode());
        assertFalse(Files.exists(objects("marked")), "nothing uploaded into the place the route does not know");
    }
}
