package org.changeq.nativetests.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.changeq.nativetests.sync.ChildJvm;
import org.changeq.nativetests.sync.Trees;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.inspect.QueueMain;
import org.changeq.pipeline.manifest.ManifestWriter;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.manifest.WriterLock;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.testing.Poll;
import org.changeq.sync.SyncMain;
import org.changeq.tracker.TrackerMain;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every program and subcommand given bad input: a documented exit code, and on stderr one sentence naming the value
 * and what to do, then for a bad command line one line pointing at the command's --help; never a stack trace, a Java
 * class name or the whole help. Bad values run in this JVM; an unprivileged user is a real process run by setpriv.
 */
class BadInputTest {

    /** What would tell an operator about Java instead of about the input. */
    private static final List<String> JAVA_TALK = List.of("Exception", "\tat ", "at org.", "at java.", "java.",
            "is not a long", "is not an int", "to Bound", "(case-sensitive)");
    private static final String PERMISSION = "permission denied; run as root or as the changeq user";
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    private Path queue;
    private Path state;
    private Path config;

    private record Result(int exit, String out, String err) {
    }

    @BeforeEach
    void queueStateAndConfig() throws IOException {
        queue = tmp.resolve("queue");
        state = tmp.resolve("state");
        Path root = Files.createDirectories(tmp.resolve("root"));
        Files.writeString(root.resolve("f"), "x");
        try (ManifestWriter writer = ManifestWriter.start(WriterLock.acquire(queue, state), 1024,
                ManifestWriter.WRITER_THREADS, failure -> { throw new AssertionError(failure); })) {
            writer.publish(RecordType.CHANGE, "data", false, "f".getBytes(StandardCharsets.UTF_8));
        }
        Files.createDirectories(state.resolve("cursors"));
        config = tmp.resolve("changeq.yaml");
        Files.writeString(config, String.join("\n",
                "queue: " + queue,
                "state: " + state,
                "roots:",
                "  data: {path: " + root + "}",
                "routes:",
                "  mirror: {root: data, dest: " + tmp.resolve("dest") + "/}",
                ""));
    }

    private static Result inProcess(Function<PrintStream[], Integer> program) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = program.apply(new PrintStream[] {new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)});
        return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static Result queueTool(String... args) {
        return inProcess(streams -> QueueMain.commandLine(streams[0], streams[1], Clock.systemUTC()).execute(args));
    }

    private static Result sync(String... args) {
        return inProcess(streams -> SyncMain.commandLine(streams[0], streams[1]).execute(args));
    }

    private static Result tracker(String... args) {
        return inProcess(streams -> TrackerMain.commandLine(new PrintWriter(streams[0], true),
                new PrintWriter(streams[1], true)).execute(args));
    }

    /** One sentence naming {@code value}, nothing about Java; for a bad command line, the pointer to --help. */
    private static void assertRefused(Result result, int exit, String value, String command) {
        String context = "exit " + result.exit() + ", stderr:\n" + result.err() + "stdout:\n" + result.out();
        assertEquals(exit, result.exit(), context);
        assertTrue(result.err().contains(value), "names " + value + ": " + context);
        for (String java : JAVA_TALK) {
            assertTrue(!result.err().contains(java), "says nothing about Java (" + java + "): " + context);
        }
        List<String> lines = result.err().lines().toList();
        if (exit == ExitCodes.USAGE) {
            assertEquals("Run '" + command + " --help' for usage.", lines.get(lines.size() - 1), context);
            assertTrue(lines.size() <= 3, "a sentence and the pointer, not the help: " + context);
            assertEquals("", result.out(), context);
        } else {
            assertEquals(1, lines.size(), "one sentence: " + context);
        }
    }

    @Test
    void changeqQueueRefusesBadValuesInOneSentence() throws IOException {
        String q = queue.toString();
        String c = config.toString();
        assertRefused(queueTool("top", "--queue", q, "--limit", "-1"), ExitCodes.USAGE, "--limit must be 0 or more, got -1",
                "changeq-queue top");
        assertRefused(queueTool("top", "--queue", q, "--depth", "0"), ExitCodes.USAGE, "--depth must be at least 1",
                "changeq-queue top");
        assertRefused(queueTool("top", "--queue", q, "--limit", "many"), ExitCodes.USAGE, "'many' is not a whole number",
                "changeq-queue top");
        assertRefused(queueTool("tail", "--queue", q, "-n", "-3"), ExitCodes.USAGE, "--lines must be 0 or more, got -3",
                "changeq-queue tail");
        assertRefused(queueTool("dump", "--queue", q, "--path", "[abc"), ExitCodes.USAGE, "invalid pattern '[abc'",
                "changeq-queue dump");
        assertRefused(queueTool("dump", "--queue", q, "--from", "99999999999999999999"), ExitCodes.USAGE,
                "'99999999999999999999' is larger than any queue index", "changeq-queue dump");
        assertRefused(queueTool("dump", "--queue", q, "--to", "yesterday"), ExitCodes.USAGE,
                "'yesterday' is neither a queue index nor a time", "changeq-queue dump");
        assertRefused(queueTool("dump", "--config", c, "--root", "nosuch"), ExitCodes.USAGE,
                "no root named 'nosuch'; configured roots: [data]", "changeq-queue dump");
        assertRefused(queueTool("dump", "--queue", q, "--type", "chnage"), ExitCodes.USAGE, "'chnage'",
                "changeq-queue dump");
        assertRefused(queueTool("dump", "--queue", q, "--pending"), ExitCodes.USAGE, "--pending and --route go together",
                "changeq-queue dump");
        assertRefused(queueTool("paths", "--config", c, "--route", "nosuch"), ExitCodes.USAGE,
                "no route named 'nosuch'", "changeq-queue paths");
        assertRefused(queueTool("paths", "--queue", q, "--route", "mirror"), ExitCodes.USAGE, "--route needs --config",
                "changeq-queue paths");
        assertRefused(queueTool("paths", "--config", c, "--route", "mirror", "-0", "--json"), ExitCodes.USAGE,
                "-0 and --json exclude each other", "changeq-queue paths");
        assertRefused(queueTool("stat", "--bogus"), ExitCodes.USAGE, "Unknown option: '--bogus'", "changeq-queue stat");
        assertRefused(queueTool("--queue", q, "stat"), ExitCodes.USAGE, "put --queue after 'stat'", "changeq-queue stat");
        assertRefused(queueTool("stats"), ExitCodes.USAGE, "'stats'", "changeq-queue");

        assertRefused(queueTool("stat", "--config", tmp.resolve("absent.yaml").toString()), ExitCodes.CONFIG,
                tmp.resolve("absent.yaml") + ": it does not exist", "");
        assertRefused(queueTool("stat", "--config", tmp.toString()), ExitCodes.CONFIG, tmp + ": it is a directory", "");
        assertRefused(queueTool("tail", "--queue", tmp.resolve("no-queue").toString()), ExitCodes.QUEUE_UNAVAILABLE,
                tmp.resolve("no-queue").toString(), "");

        Result lowerCase = queueTool("dump", "--queue", q, "--type", "change");
        assertEquals(ExitCodes.OK, lowerCase.exit(), lowerCase.err());
        assertTrue(lowerCase.out().contains("CHANGE") && !lowerCase.out().contains("START"), lowerCase.out());

        Result noRetries = queueTool("paths", "--config", c, "--route", "mirror", "--retry");
        assertEquals(ExitCodes.OK, noRetries.exit(), noRetries.err());
        assertEquals("the retry list of route 'mirror' is empty: no path waits after a failed transfer\n",
                noRetries.out());
        Result noRetriesRaw = queueTool("paths", "--config", c, "--route", "mirror", "--retry", "-0");
        assertEquals("", noRetriesRaw.out(), "-0 prints paths only");
    }

    @Test
    void changeqSyncRefusesBadValuesInOneSentence() {
        String c = config.toString();
        assertRefused(sync("--config", c, "--route", "mirror", "--allow-deletes", "abc"), ExitCodes.USAGE,
                "'abc' is not a whole number", "changeq-sync");
        assertRefused(sync("--config", c, "--route", "mirror", "--allow-deletes", "-5"), ExitCodes.USAGE,
                "--allow-deletes must be 0 or more, got -5", "changeq-sync");
        assertRefused(sync("--config", c, "--route", "mirror", "--allow-changes", "-1"), ExitCodes.USAGE,
                "--allow-changes must be 0 or more, got -1", "changeq-sync");
        assertRefused(sync("allow", "--config", c, "--route", "mirror", "--changes", "-1"), ExitCodes.USAGE,
                "--changes must be 0 or more, got -1", "changeq-sync allow");
        assertRefused(sync("changes", "--config", c, "--route", "mirror", "--run", "0"), ExitCodes.USAGE,
                "--run must be 1 or more, got 0", "changeq-sync changes");
        assertRefused(sync("--config", c, "--route", "mirror", "--retain-min-age", "5x"), ExitCodes.USAGE,
                "'5x' has an unknown unit", "changeq-sync");
        assertRefused(sync("--config", c, "--route", "nosuch"), ExitCodes.USAGE,
                "no route named 'nosuch' in " + c + "; configured routes: [mirror]", "changeq-sync");
        assertRefused(sync("--config", c), ExitCodes.USAGE, "--config FILE and --route NAME are required", "changeq-sync");
        assertRefused(sync("--bogus"), ExitCodes.USAGE, "Unknown option: '--bogus'", "changeq-sync");
        assertRefused(sync("--config", c, "--route", "mirror", "check"), ExitCodes.USAGE, "put --config after 'check'",
                "changeq-sync check");
        assertRefused(sync("check", "--config", c, "--examples", "-1"), ExitCodes.USAGE,
                "--examples must be 0 or more, got -1", "changeq-sync check");
        assertRefused(sync("follow", "--config", c, "--route", "nosuch"), ExitCodes.USAGE, "no route named 'nosuch'",
                "changeq-sync follow");
        assertRefused(sync("follow", "--config", c, "--route", "mirror", "--full"), ExitCodes.USAGE,
                "Unknown option: '--full'", "changeq-sync follow");

        String absent = tmp.resolve("absent.yaml").toString();
        assertRefused(sync("--config", absent, "--route", "mirror"), ExitCodes.CONFIG, absent + ": it does not exist", "");
        assertRefused(sync("check", "--config", tmp.toString()), ExitCodes.CONFIG, tmp + ": it is a directory", "");
        assertRefused(sync("follow", "--config", absent, "--route", "mirror"), ExitCodes.CONFIG,
                absent + ": it does not exist", "");
    }

    @Test
    void changeqTrackerRefusesBadValuesInOneSentence() {
        assertRefused(tracker("--bogus"), ExitCodes.USAGE, "Unknown option: '--bogus'", "changeq-tracker");
        assertRefused(tracker(), ExitCodes.USAGE, "Missing required argument", "changeq-tracker");
        assertRefused(tracker("--root", tmp.resolve("root").toString()), ExitCodes.USAGE, "--queue", "changeq-tracker");
        assertRefused(tracker("--config", config.toString(), "--root", tmp.resolve("root").toString()), ExitCodes.USAGE,
                "--root is for quick mode, without --config", "changeq-tracker");
        assertRefused(tracker("--config", config.toString(), "--state", state.toString()), ExitCodes.USAGE,
                "--state is for quick mode, without --config", "changeq-tracker");
        String absent = tmp.resolve("absent.yaml").toString();
        assertRefused(tracker("--config", absent), ExitCodes.CONFIG, absent + ": it does not exist", "");
        assertRefused(tracker("--config", tmp.toString()), ExitCodes.CONFIG, tmp + ": it is a directory", "");
        assertRefused(tracker("--root", tmp.resolve("root").toString(), "--queue", tmp.resolve("q2").toString(),
                "--exclude", "[x"), ExitCodes.CONFIG, "'[x'", "");
    }

    @Test
    void helpNamesACommandAndIsTheCommandsHelp() {
        for (String[] program : List.of(new String[] {"changeq-queue", "stat"}, new String[] {"changeq-sync", "check"},
                new String[] {"changeq-sync", "follow"}, new String[] {"changeq-tracker", null})) {
            Result help = program[0].equals("changeq-queue") ? queueTool("help", program[1])
                    : program[0].equals("changeq-sync") ? sync("help", program[1]) : tracker("help");
            Result direct = program[0].equals("changeq-queue") ? queueTool(program[1], "--help")
                    : program[0].equals("changeq-sync") ? sync(program[1], "--help") : tracker("--help");
            assertEquals(ExitCodes.OK, help.exit(), String.join(" ", program) + ": " + help.err());
            assertEquals(direct.out(), help.out(), String.join(" ", program));
            assertTrue(help.out().contains("Exit codes:"), help.out());
        }
    }

    /**
     * The packaged directories belong to the changeq user; anyone else who runs a command by hand learns to run it as
     * root or as that user, with exit 5, whether the state or the queue directory keeps them out.
     */
    @Test
    void anotherUserIsToldToRunAsRootOrTheChangeqUser() throws Exception {
        Assumptions.assumeTrue("0".equals(new String(Trees.run(List.of("id", "-u"), 0), StandardCharsets.US_ASCII).strip()),
                "needs root: directories of root, a process of nobody");
        Unprivileged nobody = Unprivileged.prepare(tmp.resolve("classpath"));
        // The way to them is open to everyone, as /var/lib is; the directories themselves are the service's.
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Trees.run(List.of("chmod", "-R", "go+rX", queue.toString(), state.toString(), config.toString(),
                tmp.resolve("root").toString()), 0);
        String c = config.toString();
        String q = queue.toString();

        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwx------"));
        for (List<String> command : List.of(List.of("stat", "--config", c), List.of("stat", "--queue", q),
                List.of("paths", "--config", c, "--route", "mirror"),
                List.of("dump", "--config", c, "--route", "mirror", "--pending"))) {
            assertDenied(nobody.run(QueueMain.class, command), state, "changeq-queue " + command);
        }
        for (List<String> command : List.of(List.of("--config", c, "--route", "mirror"),
                List.of("--config", c, "--route", "mirror", "--dry-run"), List.of("check", "--config", c),
                List.of("follow", "--config", c, "--route", "mirror"))) {
            assertDenied(nobody.run(SyncMain.class, command), state, "changeq-sync " + command);
        }
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwxr-xr-x"));

        Files.setPosixFilePermissions(queue, PosixFilePermissions.fromString("rwx------"));
        for (List<String> command : List.of(List.of("stat", "--config", c), List.of("tail", "--queue", q),
                List.of("dump", "--queue", q), List.of("paths", "--config", c, "--route", "mirror"),
                List.of("top", "--config", c))) {
            assertDenied(nobody.run(QueueMain.class, command), queue, "changeq-queue " + command);
        }
        assertDenied(nobody.run(TrackerMain.class, List.of("--config", c)), queue, "changeq-tracker");

        // A state directory this user owns gets the sync as far as the queue.
        Trees.run(List.of("chown", "-R", "nobody:nogroup", state.toString()), 0);
        for (List<String> command : List.of(List.of("--config", c, "--route", "mirror"), List.of("check", "--config", c),
                List.of("follow", "--config", c, "--route", "mirror"))) {
            assertDenied(nobody.run(SyncMain.class, command), queue, "changeq-sync " + command);
        }

        // And the tracker, given a queue it owns, as far as the state directory.
        Trees.run(List.of("chown", "-R", "nobody:nogroup", queue.toString()), 0);
        Trees.run(List.of("chown", "-R", "root:root", state.toString()), 0);
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwx------"));
        assertDenied(nobody.run(TrackerMain.class, List.of("--config", c)), state, "changeq-tracker");
    }

    private static void assertDenied(Result result, Path directory, String command) {
        String context = command + ": exit " + result.exit() + ", stderr:\n" + result.err();
        assertEquals(ExitCodes.QUEUE_UNAVAILABLE, result.exit(), context);
        String last = result.err().lines().reduce((first, second) -> second).orElse("");
        assertTrue(last.contains(directory.toString()) && last.endsWith(PERMISSION), context);
        for (String java : JAVA_TALK) {
            assertTrue(!result.err().contains(java), "says nothing about Java (" + java + "): " + context);
        }
    }

    /** README and --help: Ctrl-C ends tail -f with exit 0, and so does SIGTERM (systemctl stop, kill). */
    @Test
    void tailFollowEndsWithExitZeroOnSigintAndSigterm() throws Exception {
        for (String signal : List.of("INT", "TERM")) {
            Path out = tmp.resolve("tail-" + signal + ".out");
            Path err = tmp.resolve("tail-" + signal + ".err");
            Process tail = ChildJvm.start(QueueMain.class, List.of("tail", "-f", "--queue", queue.toString()), out, err);
            try {
                Poll.until(TIMEOUT, () -> "tail -f to print the record; stderr: " + read(err),
                        () -> read(out).contains("CHANGE") || !tail.isAlive());
                assertTrue(tail.isAlive(), "tail -f is following: " + read(err));
                Trees.run(List.of("kill", "-" + signal, String.valueOf(tail.pid())), 0);
                assertTrue(tail.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS), "tail -f ended on SIG" + signal);
            } finally {
                tail.destroyForcibly();
            }
            assertEquals(ExitCodes.OK, tail.exitValue(), "SIG" + signal + "; stderr: " + read(err));
            assertEquals("", read(err), "SIG" + signal);
        }
    }

    /** systemctl stop of a timer run that waits for its route's lock (a verify holds it) ends it at once with 143. */
    @Test
    void aRunWaitingForTheRoutesLockStopsAtOnceOnSigterm() throws Exception {
        Path lockFile = new StateLayout(state).routeLock("mirror");
        Files.createDirectories(lockFile.getParent());
        Path out = tmp.resolve("waiting.out");
        Path err = tmp.resolve("waiting.err");
        try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock verify = channel.lock()) {
            Process run = ChildJvm.start(SyncMain.class, List.of("--config", config.toString(), "--route", "mirror",
                    "--wait", "1h"), out, err);
            try {
                Poll.until(TIMEOUT, () -> "the run to wait for the lock; stderr: " + read(err),
                        () -> read(err).contains("waiting up to 3600 s") || !run.isAlive());
                assertTrue(run.isAlive(), "the run waits: " + read(err));
                Trees.run(List.of("kill", "-TERM", String.valueOf(run.pid())), 0);
                assertTrue(run.waitFor(10, TimeUnit.SECONDS), "the run ended on SIGTERM well within its grace");
            } finally {
                run.destroyForcibly();
            }
            assertEquals(ExitCodes.TERMINATED, run.exitValue(), read(err));
            assertTrue(read(out).contains("route=mirror mode=none"), "the summary line: " + read(out));
            assertTrue(!read(err).contains("\tat "), "no stack trace: " + read(err));
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * Runs a main class as nobody. The build's class path lies in root's home, which nobody may not enter: its jars
     * are linked into a directory anyone may read.
     */
    private record Unprivileged(String classPath, Path directory) {

        static Unprivileged prepare(Path directory) throws IOException, InterruptedException {
            Files.createDirectories(directory);
            List<String> entries = new ArrayList<>();
            int n = 0;
            for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
                Path source = Path.of(entry);
                if (Files.isDirectory(source) || !Files.exists(source)) {
                    entries.add(entry);
                    continue;
                }
                Path link = directory.resolve(n++ + "-" + source.getFileName());
                try {
                    Files.createLink(link, source);
                } catch (IOException | UnsupportedOperationException e) {
                    Files.copy(source, link);
                }
                entries.add(link.toString());
            }
            Trees.run(List.of("chmod", "-R", "a+rX", directory.toString()), 0);
            return new Unprivileged(String.join(java.io.File.pathSeparator, entries), directory);
        }

        Result run(Class<?> main, List<String> args) throws IOException, InterruptedException {
            List<String> command = new ArrayList<>(List.of("setpriv", "--reuid=nobody", "--regid=nogroup",
                    "--clear-groups", "--"));
            List<String> java = new ArrayList<>(ChildJvm.command(main, args).command());
            java.set(java.indexOf("-cp") + 1, classPath);
            command.addAll(java);
            Path out = directory.resolve("out");
            Path err = directory.resolve("err");
            Process process = new ProcessBuilder(command).directory(directory.toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!process.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError(main.getSimpleName() + " " + args + " did not end; stderr: " + read(err));
            }
            return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
        }
    }
}
