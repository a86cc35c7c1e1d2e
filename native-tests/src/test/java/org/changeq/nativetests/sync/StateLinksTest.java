package org.changeq.nativetests.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.inspect.QueueMain;
import org.changeq.pipeline.manifest.WriterLock;
import org.changeq.sync.SyncMain;
import org.changeq.tracker.TrackerMain;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The state directory belongs to the service account; root runs {@code changeq-sync} by hand. Whatever links
 * that account plants there, at a file or at a directory, root's run (here with all of root's rights, as with
 * {@code CHANGEQ_USER=root}) neither writes nor reads through them: it stops with exit 5 and the link's path,
 * and root's files keep their content.
 */
class StateLinksTest {

    @TempDir
    Path tmp;

    private SyncBench bench;
    private Path victim;
    private Path victimDirectory;

    @BeforeEach
    void syncedOnceThenGivenToTheServiceAccount() throws Exception {
        Assumptions.assumeTrue((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0,
                "root's runs against another account's state directory need root");
        bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "a", "hello");
        bench.config(SyncBench.Route.of("r", tmp.resolve("dest").toString()));
        assertEquals(ExitCodes.OK, bench.sync(bench.config(SyncBench.Route.of("r", tmp.resolve("dest").toString())), "r")
                .exitCode());
        bench.changed("a");
        // Root's files, which the account can neither read nor write.
        victim = Files.writeString(tmp.resolve("authorized_keys"), "root's key\n");
        Files.setPosixFilePermissions(victim, PosixFilePermissions.fromString("rw-------"));
        victimDirectory = Files.createDirectories(tmp.resolve("root-only"));
        Files.writeString(victimDirectory.resolve("r.files"), "root's list\n");
        UserPrincipal account = tmp.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
        try (Stream<Path> files = Files.walk(bench.state)) {
            for (Path file : files.toList()) {
                Files.setOwner(file, account);
            }
        }
    }

    private record Result(int exit, String out, String err) {
    }

    private Result sync(String... options) throws Exception {
        List<String> args = new ArrayList<>(List.of("--config", bench.configFile().toString(), "--route", "r"));
        args.addAll(List.of(options));
        return run(SyncMain.class, args);
    }

    private Result run(Class<?> program, List<String> args) throws Exception {
        Path out = tmp.resolve("out");
        Path err = tmp.resolve("err");
        Process process = ChildJvm.start(program, args, out, err);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), program.getSimpleName() + " finished");
        return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
    }

    /** Every file and directory outside the state directory that the links point at, with its content. */
    private Map<String, String> rootsFiles() throws IOException {
        Map<String, String> files = new TreeMap<>();
        files.put(victim.toString(), Files.readString(victim));
        try (Stream<Path> inside = Files.walk(victimDirectory)) {
            for (Path file : inside.toList()) {
                files.put(file.toString(), Files.isRegularFile(file) ? Files.readString(file) : "directory");
            }
        }
        return files;
    }

    @Test
    void aLinkAtAnyStateFileOrDirectoryStopsRootsRunWithoutTouchingWhatItPointsAt() throws Exception {
        Map<String, String> before = rootsFiles();
        List<String> plantedFiles = List.of("cursors/r.cursor", "lists/r.files", "metrics/changeq_sync_r.prom",
                "locks/r.lock", "identity/r.root", "identity/r.dest", "claims/r.claim", "retry/r");
        List<String> plantedDirectories = List.of("cursors", "lists", "metrics", "locks", "identity", "claims", "retry");
        try (WriterLock tracker = bench.trackerRunning()) {
            for (String planted : plantedFiles) {
                assertRefusedAndUntouched(planted, victim, before);
            }
            for (String planted : plantedDirectories) {
                assertRefusedAndUntouched(planted, victimDirectory, before);
            }
            Result clean = sync();
            assertEquals(ExitCodes.OK, clean.exit(), "with the links gone the route runs again: " + clean.err());
        }
        assertEquals(before, rootsFiles());
    }

    /** What the queue tool reads (cursors, retry lists, the tracker's report), and the tracker's own files. */
    @Test
    void theQueueToolAndTheTrackerRefuseLinksToo() throws Exception {
        Map<String, String> before = rootsFiles();
        for (String planted : List.of("cursors/r.cursor", "retry/r", "tracker")) {
            assertRefusedAndUntouched(planted, planted.equals("tracker") ? victimDirectory : victim, before,
                    () -> run(QueueMain.class, List.of("stat", "--config", bench.configFile().toString())));
        }
        for (String planted : List.of("locks/tracker.lock", "tracker", "locks")) {
            assertRefusedAndUntouched(planted, planted.contains("/") ? victim : victimDirectory, before,
                    () -> run(TrackerMain.class, List.of("--config", bench.configFile().toString())));
        }
    }

    @FunctionalInterface
    private interface Program {
        Result run() throws Exception;
    }

    private void assertRefusedAndUntouched(String planted, Path target, Map<String, String> before) throws Exception {
        assertRefusedAndUntouched(planted, target, before, this::sync);
    }

    private void assertRefusedAndUntouched(String planted, Path target, Map<String, String> before, Program program)
            throws Exception {
        Path link = bench.state.resolve(planted);
        Path aside = link.resolveSibling(link.getFileName() + ".aside");
        boolean existed = Files.exists(link, LinkOption.NOFOLLOW_LINKS);
        if (existed) {
            Files.move(link, aside);
        }
        Files.createDirectories(link.getParent());
        Files.createSymbolicLink(link, target);

        Result result = program.run();

        assertEquals(ExitCodes.QUEUE_UNAVAILABLE, result.exit(), planted + ": " + result.out() + result.err());
        assertTrue(result.err().contains(link + " is a symbolic link; changeq does not follow links in its state and"
                + " queue directories") && result.err().contains("remove it (rm '" + link + "')"), result.err());
        assertFalse(result.err().contains("\tat "), "no stack trace: " + result.err());
        assertFalse(result.err().contains("root's"), "nothing of root's files is shown: " + result.err());
        assertEquals(before, rootsFiles(), planted);
        Files.delete(link);
        if (existed) {
            Files.move(aside, link);
        }
    }

    @Test
    void aPlantedTemporaryFileIsRemovedAndTheRunGoesOn() throws Exception {
        Map<String, String> before = rootsFiles();
        Files.createSymbolicLink(bench.state.resolve("metrics/.changeq_sync_r.prom.tmp"), victim);
        Files.createSymbolicLink(bench.state.resolve("cursors/.r.cursor.tmp"), victim);
        try (WriterLock tracker = bench.trackerRunning()) {
            Result result = sync();
            assertEquals(ExitCodes.OK, result.exit(), result.err());
        }
        assertEquals(before, rootsFiles());
        assertTrue(Files.readString(bench.state.resolve("metrics/changeq_sync_r.prom")).contains("changeq_sync"));
    }

    @Test
    void aDryRunWritesNothingInTheStateDirectory() throws Exception {
        // Without a lock file too: a dry run creates none.
        Files.delete(bench.state.resolve("locks/r.lock"));
        try (WriterLock tracker = bench.trackerRunning()) {
            // After the tracker published its roots there.
            Map<String, String> stateBefore = contents(bench.state);
            Result dry = sync("--dry-run");
            assertEquals(ExitCodes.OK, dry.exit(), dry.err());
            assertTrue(dry.out().contains("./a"), "the plan shows the list: " + dry.out());
            assertEquals(stateBefore, contents(bench.state));
        }
    }

    /** Each file under {@code directory} with its content and modification time. */
    private static Map<String, String> contents(Path directory) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> inside = Files.walk(directory)) {
            for (Path file : inside.toList()) {
                files.put(file.toString(), (Files.isRegularFile(file) ? Files.readString(file) : "directory")
                        + " @" + Files.getLastModifiedTime(file));
            }
        }
        return files;
    }
}
