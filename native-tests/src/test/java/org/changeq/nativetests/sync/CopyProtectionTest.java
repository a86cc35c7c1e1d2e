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
import java.util.Optional;
import java.util.stream.Stream;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.state.DeletionLedger;
import org.changeq.pipeline.state.HeldDeletions;
import org.changeq.pipeline.state.RouteRuns;
import org.changeq.pipeline.state.StateLayout;
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
        RouteRuns runs = RouteRuns.read(new StateLayout(bench.state).routeRuns("r"));
        assertEquals(ExitCodes.ROOT_UNAVAILABLE, runs.last().orElseThrow().exitCode(), "stat shows the refusal: " + runs);
        assertEquals(Optional.empty(), runs.last().orElseThrow().mode(), "refused before it chose a mode: " + runs);
        assertEquals(ExitCodes.OK, runs.lastSuccess().orElseThrow().exitCode(), runs.toString());

        disk.mountAgain();
        SyncReport healed = bench.sync(config, "r");
        assertEquals(ExitCodes.OK, healed.exitCode());
        assertEquals("overflow", healed.reason());
        Trees.assertSameTree(bench.root, destDir, List.of("lost+found"));
        assertTrue(metrics("r").contains("changeq_sync_last_exit_code{route=\"r\"} 0\n"), metrics("r"));
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "is not the directory the route synced before")
    void anotherBtrfsSubvolumeMountedAtTheRootIsRefusedThoughItsRootDirectoryLooksTheSame() throws Exception {
        useDestination(TestDestination.Kind.LOCAL);
        TestMount top = TestMount.btrfsOrSkip(tmp.resolve("btrfs.img"), tmp.resolve("btrfs-top"));
        mounts.add(top);
        Trees.run(List.of("btrfs", "subvolume", "create", top.point().resolve("@data").toString()), 0);
        for (int i = 0; i < 8; i++) {
            Trees.write(top.point().resolve("@data"), "f" + i, "content " + i);
        }
        Trees.run(List.of("btrfs", "subvolume", "snapshot", top.point().resolve("@data").toString(),
                top.point().resolve("@snap").toString()), 0);
        Trees.write(top.point().resolve("@data"), "g1", "only in @data");
        Trees.write(top.point().resolve("@data"), "g2", "only in @data");
        TestMount data = top.subvolume("@data", bench.root);
        mounts.add(0, data);
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", dest));
        assertEquals(ExitCodes.OK, bench.sync(config, "r").exitCode());
        assertEquals(10, filesIn(destDir));

        // A rollback, or an fstab line without subvol=: the snapshot at the root's place. Every subvolume's root
        // directory is inode 256 on an anonymous device.
        data.unmount();
        TestMount snapshot = top.subvolume("@snap", bench.root);
        mounts.add(0, snapshot);
        bench.record(writer -> writer.publishMarker(RecordType.OVERFLOW, SyncBench.ROOT));
        for (SyncRequest request : List.of(SyncRequest.of("r"), SyncRequest.of("r").withFull())) {
            SyncException refused = assertThrows(SyncException.class, () -> bench.sync(config, request));
            assertEquals(ExitCodes.ROOT_UNAVAILABLE, refused.exitCode());
            assertTrue(refused.getMessage().contains("/@snap") && refused.getMessage().contains("/@data")
                    && refused.getMessage().contains("--accept-root-change"), refused.getMessage());
            assertEquals(10, filesIn(destDir), "the destination keeps every file");
        }

        snapshot.unmount();
        data.mountAgain();
        assertEquals(ExitCodes.OK, bench.sync(config, "r").exitCode());
        Trees.assertSameTree(bench.root, destDir);
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "the file systems mounted below it are not the ones")
    void aFileSystemMountedInADirectoryTheRootExcludesDoesNotCountAndOneElsewhereIsRefused() throws Exception {
        useDestination(TestDestination.Kind.LOCAL);
        writeFiles("a", "scratch/tmp", "keep/b");
        bench.config(SyncBench.Route.of("r", dest));
        Path configFile = bench.configFile();
        Files.writeString(configFile, Files.readString(configFile).replace("{path: " + bench.root + "}",
                "{path: " + bench.root + ", exclude: [\"/scratch\"]}"));
        ChangeqConfig config = org.changeq.pipeline.config.ConfigLoader.load(configFile);
        assertEquals(ExitCodes.OK, bench.sync(config, "r").exitCode());

        // A ZFS child dataset left out of the backup on purpose: mounted or not, it is not the route's business.
        TestMount excluded = TestMount.tmpfsOrSkip(bench.root.resolve("scratch"));
        mounts.add(excluded);
        assertEquals(ExitCodes.OK, bench.sync(config, SyncRequest.of("r").withFull()).exitCode());
        excluded.unmount();
        assertEquals(ExitCodes.OK, bench.sync(config, SyncRequest.of("r").withFull()).exitCode());

        mounts.add(0, TestMount.tmpfsOrSkip(bench.root.resolve("keep")));
        SyncException refused = assertThrows(SyncException.class, () -> bench.sync(config, SyncRequest.of("r").withFull()));
        assertEquals(ExitCodes.ROOT_UNAVAILABLE, refused.exitCode());
        assertTrue(refused.getMessage().contains(bench.root.resolve("keep") + " has changeq-test (tmpfs, /) mounted over it"),
                refused.getMessage());
        assertTrue(Files.isRegularFile(destDir.resolve("keep/b")), "the hidden directory's copy is kept");
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "media had changeq-test (tmpfs, /) mounted")
    void anIdentityFileOfTheFirstFormatIsComparedAndRewrittenWithTheMountsBelowTheRoot() throws Exception {
        useDestination(TestDestination.Kind.LOCAL);
        writeFiles("a");
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", dest));
        assertEquals(ExitCodes.OK, bench.sync(config, "r").exitCode());
        Path identity = bench.state.resolve("identity/r.root");
        String current = Files.readString(identity);
        // As the first format wrote it: no subvolume id and no mounts below.
        String firstFormat = current.replace("changeq-identity 2\n", "changeq-identity 1\n")
                .replaceAll("(?m)^(subvolume-id|mount-below) .*\n", "");
        Files.writeString(identity, firstFormat);
        TestMount below = TestMount.tmpfsOrSkip(bench.root.resolve("media"));
        mounts.add(below);

        assertEquals(ExitCodes.OK, bench.sync(config, "r").exitCode());
        assertTrue(Files.readString(identity).startsWith("changeq-identity 2\n")
                && Files.readString(identity).contains("\nmount-below media changeq-test tmpfs / -\n"),
                Files.readString(identity));
        below.unmount();
        assertEquals(ExitCodes.ROOT_UNAVAILABLE, refusal(() -> bench.sync(config, SyncRequest.of("r").withFull())));
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
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "the run would delete 15 paths at ")
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "the destination holds 21 paths; its runs deleted 0 in"
            + " the last 7d (max-delete-window), 6 more are within the route's max-delete 25% (6 paths of the 21 it held"
            + " before them)")
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
        writeFiles("new");

        assertEquals(ExitCodes.DELETIONS_REFUSED, bench.sync(config, SyncRequest.of("r").withFull()).exitCode());
        assertEquals(21, filesIn(destDir), "nothing was deleted, and the new file was sent");
        assertTrue(Files.exists(destDir.resolve("new")));
        assertTrue(metrics("r").contains("changeq_sync_last_exit_code{route=\"r\"} 12\n"), metrics("r"));

        assertEquals(ExitCodes.OK, bench.sync(config, SyncRequest.of("r").withFull().allowingDeletes(15)).exitCode());
        Trees.assertSameTree(bench.root, destDir);
        assertEquals(ExitCodes.OK, bench.sync(config, SyncRequest.of("r").withFull()).exitCode(),
                "the consent was for one run; an ordinary full sync deletes nothing more");
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "the run would delete 5 paths at ")
    void incrementalDeletionsOverTheLimitWaitWhileANewFileInTheSameBatchIsSent() throws Exception {
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
        writeFiles("new");
        bench.record(writer -> {
            for (int i = 0; i < 5; i++) {
                writer.publish(RecordType.DELETE, SyncBench.ROOT, false, ("f" + i).getBytes(UTF_8));
            }
            writer.publish(RecordType.CHANGE, SyncBench.ROOT, false, "new".getBytes(UTF_8));
        });
        assertEquals(ExitCodes.DELETIONS_REFUSED, bench.sync(config, "r").exitCode());
        assertEquals(11, filesIn(destDir), "the new file arrived, the deletions wait");
        assertTrue(Files.exists(destDir.resolve("new")));
        assertEquals(5, HeldDeletions.read(new StateLayout(bench.state).heldDeletions("r")).paths().size());

        assertEquals(ExitCodes.OK, bench.sync(config, SyncRequest.of("r").allowingDeletes(5)).exitCode(),
                "the held deletions are offered again, though no record names them any more");
        Trees.assertSameTree(bench.root, destDir);
        assertTrue(HeldDeletions.read(new StateLayout(bench.state).heldDeletions("r")).isEmpty());
    }

    @Test
    void deletionsCountFromBeforeRsyncMakesThemEvenWhenTheRunNeverCommits() throws Exception {
        useDestination(TestDestination.Kind.LOCAL);
        for (int i = 0; i < 10; i++) {
            writeFiles("f" + i);
        }
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", dest).set("propagate-deletes", "true")
                .set("max-delete", "100"));
        bench.sync(config, "r");
        for (int i = 0; i < 3; i++) {
            Files.delete(bench.root.resolve("f" + i));
        }
        bench.record(writer -> {
            for (int i = 0; i < 3; i++) {
                writer.publish(RecordType.DELETE, SyncBench.ROOT, false, ("f" + i).getBytes(UTF_8));
            }
        });
        // The cursor cannot be written: the run dies after rsync deleted, as a crash before the commit would.
        Path inTheWay = Files.createDirectories(bench.state.resolve("cursors/.r.cursor.tmp/in-the-way"));
        assertThrows(SyncException.class, () -> bench.sync(config, "r"));
        assertEquals(7, filesIn(destDir), "rsync deleted");
        Path ledger = new StateLayout(bench.state).deletionLedger("r");
        assertEquals(3, DeletionLedger.read(ledger).total(), "counted though the run never committed");

        Files.delete(inTheWay);
        Files.delete(inTheWay.getParent());
        assertEquals(ExitCodes.OK, bench.sync(config, "r").exitCode());
        assertEquals(3, DeletionLedger.read(ledger).total(), "the repeated run found nothing more to delete");
        Trees.assertSameTree(bench.root, destDir);
    }

    @ParameterizedTest
    @EnumSource(TestDestination.Kind.class)
    void anIncrementalDeletionRemovesTheDeletedPathAndNothingElseOfTheDestinationsDirectory(TestDestination.Kind kind)
            throws Exception {
        useDestination(kind);
        writeFiles("gone", "kept", "dir/gone", "dir/kept", "old/a", "old/b");
        // Include patterns put the route's own + rules on every path it sends: they must not unprotect the rest.
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", dest).set("propagate-deletes", "true")
                .set("delete-on-full", "false").set("max-delete", "10").include("*"));
        bench.sync(config, "r");
        // What another program keeps beside the route's copy: a destination shared like /mnt/backup.
        Trees.write(destDir, "other-data", "not the route's");
        Trees.write(destDir, "dir/other-data", "not the route's either");
        for (String name : List.of("gone", "dir/gone", "old/a", "old/b", "old")) {
            Files.delete(bench.root.resolve(name));
        }
        bench.record(writer -> {
            for (String name : List.of("gone", "dir/gone", "old/a", "old/b")) {
                writer.publish(RecordType.DELETE, SyncBench.ROOT, false, name.getBytes(UTF_8));
            }
            writer.publish(RecordType.DELETE, SyncBench.ROOT, true, "old".getBytes(UTF_8));
        });

        assertEquals(ExitCodes.OK, bench.sync(config, "r").exitCode());
        assertFalse(Files.exists(destDir.resolve("gone")));
        assertFalse(Files.exists(destDir.resolve("dir/gone")));
        assertFalse(Files.exists(destDir.resolve("old")));
        assertTrue(Files.exists(destDir.resolve("kept")) && Files.exists(destDir.resolve("dir/kept")));
        assertTrue(Files.exists(destDir.resolve("other-data")) && Files.exists(destDir.resolve("dir/other-data")),
                "a deletion pass deletes what was deleted at the source, not whatever else its directory holds");
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
