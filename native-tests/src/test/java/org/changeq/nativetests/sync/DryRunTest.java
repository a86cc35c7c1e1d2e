package org.changeq.nativetests.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.PermissionDenied;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.manifest.WriterLock;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.pipeline.testing.Poll;
import org.changeq.sync.SyncMain;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * {@code changeq-sync --dry-run} is the run minus its writes: the same decision, guards and exit code, and each path
 * rsync would send or delete, exactly as the real run with {@code -v} then prints it; it writes nothing in the state
 * directory, so a user who may only read it can run one, and so can anyone while a follower holds the route's lock.
 */
class DryRunTest {

    @TempDir
    Path tmp;

    private SyncBench bench;
    private TestDestination destination;
    private Process follower;

    @BeforeEach
    void setUp() throws IOException {
        bench = SyncBench.create(tmp.resolve("bench"));
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        if (follower != null) {
            follower.destroy();
            assertTrue(follower.waitFor(60, TimeUnit.SECONDS), "the follower stops on SIGTERM");
        }
        if (destination != null) {
            destination.close();
        }
    }

    private record Result(int exit, String out, String err) {

        /** The itemized lines printed: rsync's {@code %i}, a space, the name escaped as changeq-queue prints it. */
        List<String> itemized() {
            return out.lines().filter(DryRunTest::isItemized).sorted().toList();
        }

        /** The summary line's {@code files=N deleted=N failed=N bytes=N}. */
        String counts() {
            Matcher counts = Pattern.compile("files=\\d+ deleted=\\d+ failed=\\d+ bytes=\\d+").matcher(out);
            assertTrue(counts.find(), out);
            return counts.group();
        }

        /** The files sent (received, {@code >}, at a local destination; sent, {@code <}, to a daemon) and deleted. */
        List<String> sentAndDeleted() {
            return itemized().stream().filter(line -> line.startsWith(">f") || line.startsWith("<f")
                    || line.startsWith("*deleting")).toList();
        }
    }

    private static boolean isItemized(String line) {
        return line.length() > 12 && line.charAt(11) == ' ' && "<>ch.*".indexOf(line.charAt(0)) >= 0;
    }

    /**
     * {@code changeq-sync} as the launcher runs it, in this JVM, while a tracker holds the queue: the test's own (a
     * test that compares the state directory holds one around it), or one held for the run.
     */
    private Result sync(String... options) throws IOException {
        if (!WriterLock.isHeld(bench.queue)) {
            try (WriterLock tracker = bench.trackerRunning()) {
                return sync(options);
            }
        }
        List<String> args = new ArrayList<>(List.of("--config", bench.configFile().toString(), "--route", "r"));
        args.addAll(List.of(options));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = SyncMain.commandLine(new PrintStream(out, true, UTF_8), new PrintStream(err, true, UTF_8))
                .execute(args.toArray(String[]::new));
        return new Result(exit, out.toString(UTF_8), err.toString(UTF_8));
    }

    /** Every file and directory under {@code directory}: name, content and modification time, hashed. */
    private static String digest(Path directory) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path file : files.sorted().toList()) {
                sha.update((directory.relativize(file) + "\0" + Files.getLastModifiedTime(file).toMillis() + "\0")
                        .getBytes(UTF_8));
                if (Files.isRegularFile(file)) {
                    sha.update(Files.readAllBytes(file));
                }
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private void localRoute(String... settings) throws Exception {
        destination = TestDestination.start(TestDestination.Kind.LOCAL, tmp);
        SyncBench.Route route = SyncBench.Route.of("r", destination.dest());
        for (int i = 0; i < settings.length; i += 2) {
            route = route.set(settings[i], settings[i + 1]);
        }
        bench.config(route);
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "the run would delete 31 paths at ")
    void aDryRunOfARunTheDeletionLimitRefusesExitsTwelveAsTheRunDoesAndChangesNothing() throws Exception {
        localRoute();
        for (int i = 0; i < 40; i++) {
            Trees.write(bench.root, "bulk/" + i, "kept at the destination");
        }
        assertEquals(ExitCodes.OK, sync().exit(), "the first, full run");
        for (int i = 0; i < 31; i++) {
            Files.delete(bench.root.resolve("bulk/" + i));
        }
        Trees.write(bench.root, "fresh", "new since");
        String destinationBefore = digest(destination.directory());
        Result dry;
        try (WriterLock tracker = bench.trackerRunning()) {
            String stateBefore = digest(bench.state);
            dry = sync("--full", "--dry-run");
            assertEquals(stateBefore, digest(bench.state), "the dry run wrote nothing in the state directory");
        }

        assertEquals(ExitCodes.DELETIONS_REFUSED, dry.exit(), dry.out() + dry.err());
        assertTrue(dry.out().contains("route 'r': would be refused: 31 deletions > max-delete 25% = "), dry.out());
        assertTrue(dry.out().contains(" paths; a real run sends what is new or changed and holds the deletions until"
                + " 'changeq-sync ... --route r --full --allow-deletes 31'"), dry.out());
        assertEquals(List.of(">f+++++++++ fresh"), dry.sentAndDeleted(), dry.out());
        assertEquals(destinationBefore, digest(destination.directory()));

        Result real = sync("--full", "-v");

        assertEquals(ExitCodes.DELETIONS_REFUSED, real.exit(), real.out() + real.err());
        assertEquals(dry.itemized(), real.itemized(), "the dry run showed what the run then did");
        assertTrue(Files.exists(destination.directory().resolve("bulk/0")), "nothing was deleted");
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "no changeq-tracker holds the queue")
    void aDryRunWithoutATrackerExitsFourteenAsTheRunDoes() throws Exception {
        localRoute();
        Trees.write(bench.root, "a", "sent");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int exit = SyncMain.commandLine(new PrintStream(out, true, UTF_8), new PrintStream(new ByteArrayOutputStream()))
                .execute("--config", bench.configFile().toString(), "--route", "r", "--dry-run");
        assertEquals(ExitCodes.TRACKER_NOT_RUNNING, exit, out.toString(UTF_8));
        assertTrue(out.toString(UTF_8).contains(">f+++++++++ a"), "it still shows what the run would send: " + out);
        assertTrue(out.toString(UTF_8).strip().endsWith(" tracker=stopped"), out.toString(UTF_8));
    }

    @ParameterizedTest
    @EnumSource(TestDestination.Kind.class)
    void aDryRunListsExactlyWhatTheRunThenSendsAndDeletes(TestDestination.Kind kind) throws Exception {
        destination = TestDestination.start(kind, tmp);
        bench.config(SyncBench.Route.of("r", destination.dest()).set("propagate-deletes", "true"));
        for (int i = 0; i < 20; i++) {
            Trees.write(bench.root, "base/" + i, "kept");
        }
        Trees.write(bench.root, "gone.txt", "deleted later");
        Trees.write(bench.root, "changed.txt", "old");
        assertEquals(ExitCodes.OK, sync().exit());
        byte[] newline = "new\nline.txt".getBytes(UTF_8);
        Trees.write(bench.root, newline, "a name with a newline");
        Trees.write(bench.root, "changed.txt", "new content");
        Files.delete(bench.root.resolve("gone.txt"));
        bench.record(writer -> {
            writer.publish(RecordType.CHANGE, SyncBench.ROOT, false, newline);
            writer.publish(RecordType.CHANGE, SyncBench.ROOT, false, "changed.txt".getBytes(UTF_8));
            writer.publish(RecordType.DELETE, SyncBench.ROOT, false, "gone.txt".getBytes(UTF_8));
        });

        Result dry = sync("--dry-run");
        Result real = sync("--verbose");

        assertEquals(ExitCodes.OK, dry.exit(), dry.out() + dry.err());
        assertEquals(ExitCodes.OK, real.exit(), real.out() + real.err());
        String sent = kind == TestDestination.Kind.LOCAL ? ">" : "<";
        assertEquals(List.of("*deleting   gone.txt", sent + "f+++++++++ new\\nline.txt", sent + "f.st...... changed.txt"),
                dry.sentAndDeleted(), dry.out());
        assertEquals(dry.itemized(), real.itemized(), real.out());
        assertEquals(real.counts(), dry.counts(), "the summary counts what the run then sent: " + dry.out());
        Trees.assertSameTree(bench.root, destination.directory());

        // The full sync's passes, with a deletion within max-delete, likewise.
        Files.delete(bench.root.resolve("base/0"));
        Trees.write(bench.root, "base/new", "sent by the full sync");
        Result dryFull = sync("--full", "--dry-run");
        Result realFull = sync("--full", "-v");
        assertEquals(ExitCodes.OK, dryFull.exit(), dryFull.out() + dryFull.err());
        assertEquals(List.of("*deleting   base/0", sent + "f+++++++++ base/new"), dryFull.sentAndDeleted(),
                dryFull.out());
        assertEquals(dryFull.itemized(), realFull.itemized(), realFull.out());

        Trees.write(bench.root, "quiet", "a run without -v");
        bench.changed("quiet");
        Result quiet = sync();
        assertEquals(1, quiet.out().lines().count(), "without -v only the summary line: " + quiet.out());
        assertTrue(quiet.out().startsWith("route=r mode=incremental reason=changes files=1 "), quiet.out());
    }

    @Test
    void aDryRunRunsAsAUserWhoCanOnlyReadTheStateAndTheQueue() throws Exception {
        Assumptions.assumeTrue((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0,
                "switching to nobody needs root");
        localRoute();
        Trees.write(bench.root, "a", "sent first");
        assertEquals(ExitCodes.OK, sync().exit());
        Trees.write(bench.root, "b", "pending");
        bench.changed("b");
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        String destinationBefore = digest(destination.directory());
        ProcessBuilder dry = asNobody(ChildJvm.command(SyncMain.class, List.of("--config", bench.configFile().toString(),
                "--route", "r", "--dry-run")));
        Process process;
        try (WriterLock tracker = bench.trackerRunning()) {
            // Readable, as the package's group-readable state is for its group; writable by root alone.
            Trees.run(List.of("chmod", "-R", "go+rX,go-w", bench.root.getParent().toString()), 0);
            String stateBefore = digest(bench.state);
            process = dry.redirectOutput(tmp.resolve("nobody.out").toFile())
                    .redirectError(tmp.resolve("nobody.err").toFile()).start();
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the dry run ends");
            assertEquals(stateBefore, digest(bench.state));
        }
        String out = Files.readString(tmp.resolve("nobody.out"));
        String err = Files.readString(tmp.resolve("nobody.err"));
        assertEquals(ExitCodes.OK, process.exitValue(), out + err);
        assertTrue(out.lines().anyMatch(">f+++++++++ b"::equals), out);
        assertTrue(out.contains("route=r mode=incremental reason=changes"), out);
        assertEquals(destinationBefore, digest(destination.directory()));
    }

    @Test
    void checkAsAUserWhoCannotReadTheStateIsToldPermissionDenied() throws Exception {
        Assumptions.assumeTrue((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0,
                "switching to nobody needs root");
        localRoute();
        Trees.write(bench.root, "a", "sent");
        assertEquals(ExitCodes.OK, sync().exit());
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Trees.run(List.of("chmod", "-R", "go+rX,go-w", bench.root.getParent().toString()), 0);
        Trees.run(List.of("chmod", "-R", "go-rwx", bench.state.toString()), 0);

        Process check = asNobody(ChildJvm.command(SyncMain.class, List.of("check", "--config",
                bench.configFile().toString()))).redirectOutput(tmp.resolve("check.out").toFile())
                .redirectError(tmp.resolve("check.err").toFile()).start();
        assertTrue(check.waitFor(60, TimeUnit.SECONDS), "check ends");

        String out = Files.readString(tmp.resolve("check.out"));
        String err = Files.readString(tmp.resolve("check.err"));
        assertEquals(ExitCodes.QUEUE_UNAVAILABLE, check.exitValue(), out + err);
        assertTrue(err.strip().endsWith(": " + PermissionDenied.FIX) && err.contains(bench.state.toString()), err);
        assertFalse(err.contains("\tat "), "no stack trace: " + err);
    }

    /**
     * The child JVM as nobody: its class path copied where nobody can read it (Maven's repository lies in root's
     * home), the capabilities and groups of root dropped.
     */
    private ProcessBuilder asNobody(ProcessBuilder child) throws IOException, InterruptedException {
        Path classes = Files.createDirectories(tmp.resolve("classpath"));
        List<String> command = new ArrayList<>(List.of("setpriv", "--reuid=nobody", "--regid=nogroup",
                "--clear-groups", "--"));
        List<String> original = child.command();
        for (int i = 0; i < original.size(); i++) {
            if (original.get(i).equals("-cp")) {
                List<String> copied = new ArrayList<>();
                int n = 0;
                for (String entry : original.get(++i).split(":")) {
                    Path source = Path.of(entry);
                    if (Files.isRegularFile(source)) {
                        Path copy = classes.resolve(n++ + "-" + source.getFileName());
                        Files.copy(source, copy);
                        copied.add(copy.toString());
                    } else {
                        copied.add(entry);
                    }
                }
                command.addAll(List.of("-cp", String.join(":", copied)));
            } else {
                command.add(original.get(i));
            }
        }
        Trees.run(List.of("chmod", "-R", "go+rX", classes.toString()), 0);
        return new ProcessBuilder(command).directory(tmp.toFile());
    }

    @Test
    void aDryRunRunsWhileAFollowerHoldsTheRoutesLockAndSaysSo() throws Exception {
        localRoute();
        Trees.write(bench.root, "a", "sent by the follower");
        bench.changed("a");
        Path followerOut = tmp.resolve("follower.out");
        try (WriterLock tracker = bench.trackerRunning()) {
            follower = ChildJvm.start(SyncMain.class, List.of("follow", "--config", bench.configFile().toString(),
                    "--route", "r"), followerOut, tmp.resolve("follower.err"));
            // The follower takes the lock before its first run, whose summary line says it runs.
            Poll.until(Duration.ofSeconds(60), "the follower's first run", () -> Files.readString(followerOut)
                    .contains("route=r mode=full"));
            String stateBefore = digest(bench.state);

            Result dry = sync("--dry-run");

            assertEquals(ExitCodes.OK, dry.exit(), dry.out() + dry.err());
            assertTrue(dry.out().contains("route 'r': its lock is held by process " + follower.pid() + " (a follower or"
                    + " another run); this dry run takes no lock and shows what a run would do now"), dry.out());
            assertTrue(dry.out().contains("route=r mode=incremental reason=nothing-to-do"), dry.out());
            assertTrue(follower.isAlive(), "the follower goes on");
            assertEquals(stateBefore, digest(bench.state));
        }
    }

    @Test
    void theCommandLineADryRunPrintsPastesIntoAShellAndTheLogQuotesItTheSame() throws Exception {
        destination = TestDestination.start(TestDestination.Kind.LOCAL, tmp);
        bench.config(SyncBench.Route.of("r", destination.dest()).exclude("*.part"));
        Trees.write(bench.root, "a.txt", "sent");
        Trees.write(bench.root, "half.part", "left out");
        Trees.write(bench.root, "it's here/b", "a quote and a space");
        Logger runner = (Logger) LoggerFactory.getLogger("org.changeq.sync.RsyncRunner");
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        runner.addAppender(log);
        runner.setLevel(ch.qos.logback.classic.Level.DEBUG);
        Result dry;
        try {
            dry = sync("--dry-run");
        } finally {
            runner.detachAppender(log);
            runner.setLevel(null);
        }
        assertEquals(ExitCodes.OK, dry.exit(), dry.out() + dry.err());
        List<String> commands = dry.out().lines().filter(line -> line.startsWith("command: "))
                .map(line -> line.substring("command: ".length())).toList();
        assertEquals(1, commands.size(), "one full pass: " + dry.out());
        String command = commands.get(0);
        assertTrue(command.contains(" '--filter=- *.part' "), command);

        byte[] pasted = Trees.run(List.of("sh", "-c", command), 0);
        List<String> pastedItemized = new String(pasted, UTF_8).lines().filter(DryRunTest::isItemized).sorted().toList();
        assertEquals(dry.itemized(), pastedItemized, "the pasted command does what the dry run did");
        assertTrue(dry.itemized().contains(">f+++++++++ it's here/b"), dry.out());
        assertFalse(Files.exists(destination.directory()), "a dry run, pasted or not, sends nothing");

        List<String> info = log.list.stream().filter(event -> event.getLevel() == ch.qos.logback.classic.Level.INFO)
                .map(ILoggingEvent::getFormattedMessage).toList();
        assertTrue(info.contains("running " + command), info.toString());
        assertTrue(info.stream().anyMatch(line -> line.matches("rsync exited with 0: would send 2 files \\(\\d+ bytes\\),"
                + " would delete 0")), info.toString());
        assertTrue(info.stream().noneMatch(line -> line.startsWith("rsync: ")), "--stats only at DEBUG: " + info);
        assertTrue(log.list.stream().anyMatch(event -> event.getLevel() == ch.qos.logback.classic.Level.DEBUG
                && event.getFormattedMessage().startsWith("rsync: Number of files")), "--stats at DEBUG");
    }
}
