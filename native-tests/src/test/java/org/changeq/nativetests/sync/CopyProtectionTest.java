package org.changeq.nativetests.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.sync.SyncException;
import org.changeq.sync.SyncReport;
import org.changeq.sync.SyncRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.event.Level;

/**
 * No run destroys a copy: roots and local destinations on real mounts that go away, are replaced or are
 * emptied, against the real rsync and an rsync daemon on loopback.
 */
class CopyProtectionTest {

    @TempDir
    Path tmp;

    private SyncBench bench;
    private TestDestination destination;
    private Path destDir;
    private String dest;
    private final List<TestMount> mounts = new java.util.ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        bench = SyncBench.create(tmp.resolve("bench"));
    }

    @AfterEach
    void tearDown() throws Exception {
        for (TestMount mount : mounts) {
            mount.close();
        }
        if (destination != null) {
            destination.close();
        }
    }

    private void useDestination(TestDestination.Kind kind) throws IOException, InterruptedException {
        destination = TestDestination.start(kind, tmp);
        destDir = destination.directory();
        dest = destination.dest();
    }

    private TestMount mountDiskAtRoot() throws IOException, InterruptedException {
        TestMount disk = TestMount.ext4OrSkip(tmp.resolve("root.img"), bench.root);
        mounts.add(disk);
        return disk;
    }

    private void writeFiles(String... names) throws IOException {
        for (String name : names) {
            Trees.write(bench.root, name, "content of " + name);
        }
    }

    private static int refusal(ThrowingSync run) {
        return assertThrows(SyncException.class, run::sync).exitCode();
    }

    private interface ThrowingSync {
        SyncReport sync() throws Exception;
    }

    private String metrics(String route) throws IOException {
        return Files.readString(bench.state.resolve("metrics/changeq_sync_" + route + ".prom"));
    }

    /** The regular files below {@code directory}, a remote destination's marker left out. */
    private static long filesIn(Path directory) throws IOException {
        try (Stream<Path> paths = Files.walk(directory)) {
            return paths.filter(Files::isRegularFile)
                    .filter(path -> !path.equals(directory.resolve(Trees.DESTINATION_MARKER))).count();
        }
    }

    @ParameterizedTest
    @EnumSource(TestDestination.Kind.class)
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "is not the directory the route synced before")
    void anUnmountedRootIsRefusedAndTheDestinationKeepsEveryFile(TestDestination.Kind kind) throws Exception {
        useDestination(kind);
        TestMount disk = mountDiskAtRoot();
        writeFiles("a", "b", "dir/c");
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", dest));
        assertEquals(ExitCodes.OK, bench.sync(config, "r").exitCode());
        assertEquals(3, filesIn(destDir));

        disk.unmount();
        // What the tracker records when the file system goes away: the next run would be full, with --delete.
        bench.record(writer -> writer.publishMarker(RecordType.OVERFLOW, SyncBench.ROOT));
        SyncException refused = assertThrows(SyncException.class, () -> bench.sync(config, "r"));
        assertEquals(ExitCodes.ROOT_UNAVAILABLE, refused.exitCode());
        assertTrue(refused.getMessage().contains("root 'nfs' (" + bench.root + ") is not the directory the route synced"
                + " before: it now lies on "), refused.getMessage());
        assertTrue(refused.getMessage().contains("mount " + bench.root) && refused.getMessage().contains("--accept-root-change"),
                refused.getMessage());
        assertEquals(3, filesIn(destDir), "the destination keeps every file");
        assertTrue(metrics("r").contains("changeq_sync_last_exit_code{route=\"r\"} 4\n"), metrics("r"));
        assertTrue(metrics("r").contains("changeq_sync_failures_total{route=\"r\"} 1\n"), metrics("r"));

        disk.mountAgain();
        SyncReport healed = bench.sync(config, "r");
        assertEquals(ExitCodes.OK, healed.exitCode());
        assertEquals("overflow", healed.reason());
        Trees.assertSameTree(bench.root, destDir, List.of("lost+found"));
        assertTrue(metrics("r").contains("changeq_sync_last_exit_code{route=\"r\"} 0\n"), metrics("r"));
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "is not the directory the route synced before")
    void withPropagateDeletesAnUnmountedRootDeletesNothing() throws Exception {
        useDestination(TestDestination.Kind.DAEMON);
        TestMount disk = mountDiskAtRoot();
        writeFiles("a", "b", "c");
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", dest).set("propagate-deletes", "true"));
        bench.sync(config, "r");
        writeFiles("a");
        bench.changed("a", "b", "c");
        disk.unmount();
        assertEquals(ExitCodes.ROOT_UNAVAILABLE, refusal(() -> bench.sync(config, "r")));
        assertEquals(3, filesIn(destDir), "--delete-missing-args never saw the listed paths");
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "is not the directory the route synced before")
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "is missing, although the route wrote it before")
    void anUnmountedLocalDestinationIsNotWritten() throws Exception {
        Path point = tmp.resolve("backup-disk");
        TestMount disk = TestMount.ext4OrSkip(tmp.resolve("dest.img"), point);
        mounts.add(disk);
        writeFiles("a", "b");
        ChangeqConfig config = bench.config(SyncBench.Route.of("mount", point.toString()).deleteOnFull(false),
                SyncBench.Route.of("below", point.resolve("mirror").toString()).deleteOnFull(false));
        assertEquals(ExitCodes.OK, bench.sync(config, "mount").exitCode());
        assertEquals(ExitCodes.OK, bench.sync(config, "below").exitCode());

        disk.unmount();
        writeFiles("c");
        bench.changed("c");
        SyncException onMountPoint = assertThrows(SyncException.class, () -> bench.sync(config, "mount"));
        assertEquals(ExitCodes.DESTINATION_CHANGED, onMountPoint.exitCode());
        assertTrue(onMountPoint.getMessage().contains("--accept-dest-change"), onMountPoint.getMessage());
        SyncException missing = assertThrows(SyncException.class, () -> bench.sync(config, "below"));
        assertEquals(ExitCodes.DESTINATION_CHANGED, missing.exitCode());
        assertTrue(missing.getMessage().contains("is missing, although the route wrote it before"), missing.getMessage());
        try (Stream<Path> written = Files.list(point)) {
            assertEquals(List.of(), written.toList(), "nothing lands on the file system below the mount point");
        }

        disk.mountAgain();
        assertEquals(ExitCodes.OK, bench.sync(config, "mount").exitCode());
        assertTrue(Files.exists(point.resolve("c")));
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "more than the route's max-delete")
    void aRootEmptiedByRmIsStoppedByTheDeletionLimitUntilAllowedOnce() throws Exception {
        useDestination(TestDestination.Kind.LOCAL);
        for (int i = 0; i < 20; i++) {
            writeFiles("f" + i);
        }
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", dest));
        bench.sync(config, "r");
        for (int i = 0; i < 15; i++) {
            Files.delete(bench.root.resolve("f" + i));
        }

        SyncException refused = assertThrows(SyncException.class, () -> bench.sync(config, SyncRequest.of("r").withFull()));
        assertEquals(ExitCodes.DELETIONS_REFUSED, refused.exitCode());
        assertTrue(refused.getMessage().contains("would delete 15 paths at " + dest + ", which holds 21 paths, more than"
                + " the route's max-delete 25% (6 paths)"), refused.getMessage());
        assertTrue(refused.getMessage().contains("--allow-deletes 15"), refused.getMessage());
        assertEquals(20, filesIn(destDir), "nothing was deleted");
        assertTrue(metrics("r").contains("changeq_sync_last_exit_code{route=\"r\"} 12\n"), metrics("r"));

        assertEquals(ExitCodes.OK, bench.sync(config, SyncRequest.of("r").withFull().allowingDeletes(15)).exitCode());
        Trees.assertSameTree(bench.root, destDir);
        assertEquals(ExitCodes.OK, bench.sync(config, SyncRequest.of("r").withFull()).exitCode(),
                "the consent was for one run; an ordinary full sync deletes nothing more");
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "more than the route's max-delete")
    void incrementalDeletionsOverTheLimitAreRefused() throws Exception {
        useDestination(TestDestination.Kind.DAEMON);
        for (int i = 0; i < 10; i++) {
            writeFiles("f" + i);
        }
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", dest).set("propagate-deletes", "true")
                .set("max-delete", "2"));
        bench.sync(config, "r");
        for (int i = 0; i < 5; i++) {
            Files.delete(bench.root.resolve("f" + i));
        }
        bench.record(writer -> {
            for (int i = 0; i < 5; i++) {
                writer.publish(RecordType.DELETE, SyncBench.ROOT, false, ("f" + i).getBytes(UTF_8));
            }
        });
        assertEquals(ExitCodes.DELETIONS_REFUSED, refusal(() -> bench.sync(config, "r")));
        assertEquals(10, filesIn(destDir));
        assertEquals(ExitCodes.OK, bench.sync(config, SyncRequest.of("r").allowingDeletes(5)).exitCode());
        Trees.assertSameTree(bench.root, destDir);
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "is not the directory the route synced before")
    @ExpectLog(level = Level.WARN, logger = "CopyGuard", contains = "accepted by --accept-root-change")
    void aReplacedRootNeedsConsentAndIsThenSyncedFully() throws Exception {
        useDestination(TestDestination.Kind.LOCAL);
        writeFiles("a", "b");
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", dest));
        bench.sync(config, "r");

        // A restore from elsewhere: the new tree is made beside the old one and moved into its place.
        Path restored = Files.createDirectory(tmp.resolve("restored"));
        for (String name : List.of("a", "b", "new")) {
            Trees.write(restored, name, "restored " + name);
        }
        Trees.run(List.of("rm", "-rf", bench.root.toString()), 0);
        Files.move(restored, bench.root);
        SyncException refused = assertThrows(SyncException.class, () -> bench.sync(config, "r"));
        assertEquals(ExitCodes.ROOT_UNAVAILABLE, refused.exitCode());
        assertTrue(refused.getMessage().contains("another directory"), refused.getMessage());
        assertFalse(Files.exists(destDir.resolve("new")));

        SyncReport accepted = bench.sync(config, SyncRequest.of("r").acceptingRootChange());
        assertEquals("full", accepted.mode());
        assertEquals("identity", accepted.reason());
        Trees.assertSameTree(bench.root, destDir);
        assertEquals("nothing-to-do", bench.sync(config, "r").reason(), "the new root is remembered");
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "is missing, not a directory or unreadable")
    void aMissingRootIsRefusedWithItsFix() throws Exception {
        useDestination(TestDestination.Kind.LOCAL);
        writeFiles("a");
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", dest));
        bench.sync(config, "r");
        Trees.run(List.of("rm", "-rf", bench.root.toString()), 0);
        SyncException refused = assertThrows(SyncException.class, () -> bench.sync(config, "r"));
        assertEquals(ExitCodes.ROOT_UNAVAILABLE, refused.exitCode());
        assertTrue(refused.getMessage().contains("is missing, not a directory or unreadable"), refused.getMessage());
        assertTrue(Files.exists(destDir.resolve("a")));
        assertTrue(metrics("r").contains("changeq_sync_last_exit_code{route=\"r\"} 4\n"), metrics("r"));
    }
}
