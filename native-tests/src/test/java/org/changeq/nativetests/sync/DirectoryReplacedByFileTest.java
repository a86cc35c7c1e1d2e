package org.changeq.nativetests.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.state.HeldDeletions;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.sync.SyncReport;
import org.changeq.sync.SyncRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.event.Level;

/**
 * A directory replaced by a file, with propagate-deletes: the next incremental run deletes the directory at the
 * destination through the deletion pass, under the route's max-delete, and the file arrives. Real rsync, locally and
 * through a daemon.
 */
class DirectoryReplacedByFileTest {

    @TempDir
    Path tmp;

    private TestDestination destination;

    @AfterEach
    void stopDaemon() throws InterruptedException {
        if (destination != null) {
            destination.close();
        }
    }

    @ParameterizedTest
    @EnumSource(TestDestination.Kind.class)
    void theDirectoryIsDeletedAndTheFileArrives(TestDestination.Kind kind) throws Exception {
        SyncBench bench = benchWithDirectory(kind);
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", destination.dest()).set("propagate-deletes", "true")
                .set("max-delete", "3"));
        assertEquals(ExitCodes.OK, bench.sync(config, "r").exitCode());

        replaceDirectoryByFile(bench);
        SyncReport replaced = bench.sync(config, "r");
        assertEquals(List.of("incremental", ExitCodes.OK), List.of(replaced.mode(), replaced.exitCode()),
                replaced.errors().toString());
        Trees.assertSameTree(bench.root, destination.directory());
        assertEquals("now a file", Files.readString(destination.directory().resolve("x")));
    }

    @ParameterizedTest
    @EnumSource(TestDestination.Kind.class)
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "the run would delete 3 paths at ")
    void theDeletionWaitsForConsentOverTheLimit(TestDestination.Kind kind) throws Exception {
        SyncBench bench = benchWithDirectory(kind);
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", destination.dest()).set("propagate-deletes", "true")
                .set("max-delete", "2"));
        assertEquals(ExitCodes.OK, bench.sync(config, "r").exitCode());

        replaceDirectoryByFile(bench);
        assertEquals(ExitCodes.DELETIONS_REFUSED, bench.sync(config, "r").exitCode());
        assertTrue(Files.isDirectory(destination.directory().resolve("x")), "nothing deleted past the limit");
        assertEquals(List.of("x/sub/b", "x/sub", "x/a"), HeldDeletions.read(new StateLayout(bench.state).heldDeletions("r")).paths().stream()
                .map(path -> new String(path, UTF_8)).toList());

        assertEquals(ExitCodes.DELETIONS_REFUSED, bench.sync(config, "r").exitCode(),
                "offered again without a record of the file, the deletions wait again and nothing fails");
        assertTrue(Files.isDirectory(destination.directory().resolve("x")));

        SyncReport consented = bench.sync(config, SyncRequest.of("r").allowingDeletes(3));
        assertEquals(ExitCodes.OK, consented.exitCode(), consented.errors().toString());
        Trees.assertSameTree(bench.root, destination.directory());
    }

    /** A root holding {@code x/a}, {@code x/sub/b} and {@code o}, sent once by the caller. */
    private SyncBench benchWithDirectory(TestDestination.Kind kind) throws Exception {
        destination = TestDestination.start(kind, tmp);
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "x/a", "a");
        Trees.write(bench.root, "x/sub/b", "b");
        Trees.write(bench.root, "o", "o");
        return bench;
    }

    /** {@code rm -r x; echo > x} and the records the tracker makes of it. */
    private static void replaceDirectoryByFile(SyncBench bench) throws Exception {
        Trees.run(List.of("rm", "-r", bench.root.resolve("x").toString()), 0);
        Trees.write(bench.root, "x", "now a file");
        bench.record(writer -> {
            writer.publish(RecordType.DELETE, SyncBench.ROOT, false, "x/a".getBytes(UTF_8));
            writer.publish(RecordType.DELETE, SyncBench.ROOT, false, "x/sub/b".getBytes(UTF_8));
            writer.publish(RecordType.DELETE, SyncBench.ROOT, true, "x/sub".getBytes(UTF_8));
            writer.publish(RecordType.DELETE, SyncBench.ROOT, true, "x".getBytes(UTF_8));
            writer.publish(RecordType.CHANGE, SyncBench.ROOT, false, "x".getBytes(UTF_8));
        });
    }
}
