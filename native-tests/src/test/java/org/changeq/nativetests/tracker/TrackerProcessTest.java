package org.changeq.nativetests.tracker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.manifest.QueueRecord;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.manifest.TestQueues;
import org.changeq.nativetests.sync.ChildJvm;
import org.changeq.nativetests.sync.Trees;
import org.changeq.sync.RouteSync;
import org.changeq.sync.SyncMain;
import org.changeq.sync.SyncReport;
import org.changeq.sync.SyncRequest;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code changeq-tracker} as a process: its exit codes, its clean stop on SIGTERM, and its silence on the network. */
class TrackerProcessTest {

    private static final String MAIN_CLASS = "org.changeq.tracker.TrackerMain";

    @TempDir
    Path temp;

    /** The JVM flags this test JVM got from the build (module openings, Chronicle settings), for the child. */
    private static List<String> jvmFlags() {
        List<String> flags = new ArrayList<>();
        for (String argument : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (argument.startsWith("--add-") || argument.startsWith("--enable-native-access")
                    || argument.startsWith("-D") || argument.equals("-ea")) {
                flags.add(argument);
            }
        }
        return flags;
    }

    private ProcessBuilder tracker(List<String> prefix, String... arguments) {
        List<String> command = new ArrayList<>(prefix);
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmFlags());
        // The production logging config (INFO to stderr), not the tests' quieter one.
        command.add("-Dlogback.configurationFile=logback.xml");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(MAIN_CLASS);
        command.addAll(List.of(arguments));
        return new ProcessBuilder(command).directory(temp.toFile())
                .redirectOutput(temp.resolve("stdout").toFile())
                .redirectError(temp.resolve("stderr").toFile());
    }

    private String read(String file) throws IOException {
        return Files.readString(temp.resolve(file));
    }

    @Test
    void sigtermStopsCleanlyWithStopLastAndExitZeroAndNoNetworkIsTouched() throws Exception {
        Path root = Files.createDirectories(temp.resolve("root"));
        Path queue = temp.resolve("queue");
        boolean traced = new File("/usr/bin/strace").canExecute();
        if (!traced) {
            System.out.println("strace is not installed: the network check of this test is skipped");
        }
        List<String> strace = traced
                ? List.of("/usr/bin/strace", "-f", "-qq", "-e", "trace=network", "-o", temp.resolve("strace").toString())
                : List.of();
        Process process = tracker(strace, "--root", root.toString(), "--queue", queue.toString()).start();
        try {
            TrackedTree.awaitCondition(() -> "the tracker to log that it is watching; stderr: " + readQuietly("stderr"),
                    () -> readQuietly("stderr").contains("watching 1 directories") || !process.isAlive());
            assertTrue(process.isAlive(), "the tracker exited: " + readQuietly("stderr"));
            Files.writeString(root.resolve("observed"), "x");
            TrackedTree.awaitCondition(() -> "a record of the change in " + queue,
                    () -> TestQueues.records(queue).stream().anyMatch(record -> record.type() == RecordType.CHANGE
                            && TrackedTree.text(record.path()).equals("observed")));

            ProcessHandle java = traced ? awaitChild(process) : process.toHandle();
            java.destroy(); // SIGTERM
            assertTrue(process.waitFor(TrackedTree.TIMEOUT.toSeconds(), TimeUnit.SECONDS), "no exit after SIGTERM");

            assertEquals(ExitCodes.OK, process.exitValue(), read("stderr"));
            List<QueueRecord> records = TestQueues.records(queue);
            assertEquals(RecordType.STOP, records.get(records.size() - 1).type(), records.toString());
            assertEquals("", read("stdout"), "nothing may be printed on stdout");
            if (traced) {
                for (String line : Files.readAllLines(temp.resolve("strace"))) {
                    // Loading the JDK's libnet (which every FileChannel user does) probes IPv4, IPv6 and SO_REUSEPORT
                    // support with sockets it closes at once; talking to anyone needs connect, bind or send.
                    // AF_UNIX is local (glibc asks nscd for the user's name).
                    boolean talks = line.contains("connect(") || line.contains("bind(") || line.contains("send");
                    assertFalse(talks && line.contains("AF_INET"), "the tracker used the network: " + line);
                }
            }
        } finally {
            process.destroyForcibly();
            process.waitFor();
        }
    }

    /**
     * A mount point whose name is not UTF-8 (here in a mount namespace of the tracker's own, so the host's table is
     * left alone) makes Chronicle's page-size probe fail to read the mount table: the tracker starts without the
     * stack trace it would log.
     */
    @Test
    void aMountPointThatIsNotUtf8LeavesTheStartQuiet() throws Exception {
        Path root = Files.createDirectories(temp.resolve("root"));
        List<String> withLatin1Mount = List.of("unshare", "--mount", "--propagation", "private", "sh", "-c",
                "mkdir \"$0/$(printf 'bad\\377')\" && mount -t tmpfs cqbad \"$0/$(printf 'bad\\377')\" && exec \"$@\"",
                temp.toString());
        Process process = tracker(withLatin1Mount, "--root", root.toString(), "--queue", temp.resolve("queue").toString())
                .start();
        try {
            TrackedTree.awaitCondition(() -> "the tracker to log that it is watching; stderr: " + readQuietly("stderr"),
                    () -> readQuietly("stderr").contains("watching 1 directories") || !process.isAlive());
            assertTrue(process.isAlive(), "the tracker exited: " + readQuietly("stderr"));
        } finally {
            process.destroy();
            process.waitFor(TrackedTree.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            process.destroyForcibly();
        }
        assertEquals(ExitCodes.OK, process.exitValue(), read("stderr"));
        assertFalse(read("stderr").contains("WARN") || read("stderr").contains("\tat "), read("stderr"));
    }

    @Test
    void aMissingRootIsAClearErrorAndANonZeroExit() throws Exception {
        Path missing = temp.resolve("missing");

        Process process = tracker(List.of(), "--root", missing.toString(), "--queue", temp.resolve("q").toString())
                .start();

        assertTrue(process.waitFor(TrackedTree.TIMEOUT.toSeconds(), TimeUnit.SECONDS));
        assertEquals(ExitCodes.ROOT_UNAVAILABLE, process.exitValue());
        assertTrue(read("stderr").contains("root 'default': " + missing + " does not exist"), read("stderr"));
    }

    /**
     * The packaged units run as an unprivileged user that reads every root through CAP_DAC_READ_SEARCH, as the
     * launcher's setpriv does: another user's 0700 directory is a root the tracker watches and the sync sends,
     * although access(2) (which asks for the real user) calls it unreadable.
     */
    @Test
    void aRootReadableOnlyThroughTheCapabilityIsTrackedAndSynced() throws Exception {
        Path home = Files.createDirectories(temp.resolve("home-viki"));
        Files.writeString(home.resolve("secret-notes"), "before");
        Files.setPosixFilePermissions(home, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        Path service = Files.createDirectories(temp.resolve("service"));
        Path dest = Files.createDirectories(service.resolve("dest"));
        Path config = service.resolve("changeq.yaml");
        Files.writeString(config, String.join("\n",
                "queue: " + service.resolve("queue"),
                "state: " + service.resolve("state"),
                "roots:",
                "  home: {path: " + home + "}",
                "routes:",
                "  local: {root: home, dest: " + dest + "}",
                ""));
        Trees.run(List.of("chown", "-R", "nobody:nogroup", service.toString()), 0);
        // Like /var/lib: the way to the service's own state is open to its user.
        Files.setPosixFilePermissions(temp, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        List<String> asService = asServiceUser("+dac_read_search");

        Process process = tracker(asService, "--config", config.toString()).start();
        try {
            TrackedTree.awaitCondition(() -> "the tracker to log that it is watching; stderr: " + readQuietly("stderr"),
                    () -> readQuietly("stderr").contains("watching 1 directories") || !process.isAlive());
            assertTrue(process.isAlive(), "the tracker exited: " + readQuietly("stderr"));
            Files.writeString(home.resolve("later"), "after");
            TrackedTree.awaitCondition(() -> "a record of the change in the 0700 root",
                    () -> TestQueues.records(service.resolve("queue")).stream().anyMatch(record ->
                            record.type() == RecordType.CHANGE && TrackedTree.text(record.path()).equals("later")));

            // What the launcher grants the sync for a local destination: it keeps owners and modes of others' files.
            List<String> sync = new ArrayList<>(asServiceUser("+dac_read_search,+dac_override,+chown,+fowner,+fsetid"));
            sync.addAll(ChildJvm.command(SyncMain.class,
                    List.of("--config", config.toString(), "--route", "local")).command());
            Process syncRun = new ProcessBuilder(sync).directory(temp.toFile())
                    .redirectOutput(temp.resolve("sync.out").toFile()).redirectError(temp.resolve("sync.err").toFile())
                    .start();
            assertTrue(syncRun.waitFor(TrackedTree.TIMEOUT.toSeconds(), TimeUnit.SECONDS), "the sync did not end");
            assertEquals(ExitCodes.OK, syncRun.exitValue(), read("sync.err"));
            assertEquals("after", Files.readString(dest.resolve("later")));
            assertEquals("before", Files.readString(dest.resolve("secret-notes")));
        } finally {
            process.destroy();
            process.waitFor(TrackedTree.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            process.destroyForcibly();
        }
        assertEquals(ExitCodes.OK, process.exitValue(), read("stderr"));
    }

    /**
     * {@code mkdir b/x; mv a/D b/x/} before the tracker watches x (held here with SIGSTOP): the rename's MOVED_TO
     * goes nowhere, and the walk of x finds D still watched under root a. D is watched anew under root b and sent
     * whole, and what is written in it later is recorded under b.
     */
    @Test
    void aDirectoryMovedFromAnotherRootIntoANewDirectoryReachesTheOtherRootsDestination() throws Exception {
        Path a = Files.createDirectories(temp.resolve("a"));
        Path b = Files.createDirectories(temp.resolve("b"));
        Files.createDirectories(a.resolve("D/sub"));
        Files.writeString(a.resolve("D/p0.jpg"), "p0");
        Files.writeString(a.resolve("D/sub/p1.jpg"), "p1");
        Path dest = Files.createDirectories(temp.resolve("dest"));
        Path config = temp.resolve("changeq.yaml");
        Files.writeString(config, String.join("\n",
                "queue: " + temp.resolve("queue"),
                "state: " + temp.resolve("state"),
                "roots:",
                "  a: {path: " + a + "}",
                "  b: {path: " + b + "}",
                "routes:",
                "  tob: {root: b, dest: " + dest + "}",
                ""));
        ChangeqConfig loaded = ConfigLoader.load(config);
        Process process = tracker(List.of(), "--config", config.toString()).start();
        try {
            TrackedTree.awaitCondition(() -> "the tracker to log that it is watching; stderr: " + readQuietly("stderr"),
                    () -> readQuietly("stderr").contains("watching 4 directories") || !process.isAlive());
            assertTrue(process.isAlive(), "the tracker exited: " + readQuietly("stderr"));
            assertEquals("full", sync(loaded, "tob").mode(), "the route's first run");

            String pid = String.valueOf(process.pid());
            Trees.run(List.of("kill", "-STOP", pid), 0);
            try {
                Files.createDirectory(b.resolve("x"));
                Files.move(a.resolve("D"), b.resolve("x/D"));
            } finally {
                Trees.run(List.of("kill", "-CONT", pid), 0);
            }
            Files.writeString(b.resolve("x/D/sub/p2.jpg"), "later");
            TrackedTree.awaitCondition(() -> "a record under root b of the file written in D after the move",
                    () -> TestQueues.records(temp.resolve("queue")).stream().anyMatch(record -> record.root().equals("b")
                            && TrackedTree.text(record.path()).equals("x/D/sub/p2.jpg")));

            SyncReport incremental = sync(loaded, "tob");
            assertEquals("incremental", incremental.mode(), incremental.summaryLine());
            Trees.assertSameTree(b, dest, List.of());
        } finally {
            process.destroy();
            process.waitFor(TrackedTree.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            process.destroyForcibly();
        }
    }

    private static SyncReport sync(ChangeqConfig config, String route) throws Exception {
        return RouteSync.run(config, SyncRequest.of(route), Clock.systemDefaultZone(),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    }

    /** As the launcher runs a program when root starts it: another user, with {@code capabilities}. */
    private static List<String> asServiceUser(String capabilities) {
        return List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                "--inh-caps=" + capabilities, "--ambient-caps=" + capabilities, "--");
    }

    private static ProcessHandle awaitChild(Process tracer) {
        TrackedTree.awaitCondition(() -> "the traced JVM to start", () -> tracer.children().findAny().isPresent());
        return tracer.children().findAny().orElseThrow();
    }

    private String readQuietly(String file) {
        try {
            return read(file);
        } catch (IOException e) {
            return "";
        }
    }
}
