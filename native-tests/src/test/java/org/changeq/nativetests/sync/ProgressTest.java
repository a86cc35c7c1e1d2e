package org.changeq.nativetests.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.inspect.QueueMain;
import org.changeq.pipeline.manifest.WriterLock;
import org.changeq.pipeline.state.RunProgressFile;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.testing.Poll;
import org.changeq.sync.SyncMain;
import org.changeq.sync.SyncReport;
import org.changeq.tracker.NotifyReceiver;
import org.changeq.tracker.SystemdNotifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A long run says how far it has come: changeq-sync in its own JVM, as the timer's unit runs it, with the real rsync
 * sending through a remote shell that holds the receiving end back until the test lets it go (so the run is caught
 * while rsync has not sent anything yet, as a first full sync of a large tree is while it builds its file list), then
 * limited to 1 MB/s, with a progress interval of one second. The log gets one line per interval with growing figures,
 * systemd gets the same line as {@code STATUS=}, and {@code changeq-queue stat} (and {@code --json}) shows the running
 * run from its progress file, which is gone after the run; the file of a killed run is told from a live one.
 */
class ProgressTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String ROUTE = "r";
    private static final String BUILDING = "rsync is building the file list, nothing sent yet";
    private static final Pattern PROGRESS_LINE = Pattern.compile(
            "RunProgress: route 'r': full sync for \\d+s: ([\\d,]+) files? \\(([\\d.]+) (B|kB|MB)\\) sent at ");
    private static final int FILES = 4;

    @TempDir
    Path tmp;

    /**
     * rsync's remote shell for {@code localhost:DIR}: runs the other end here, and holds the receiving end (not the
     * sending one, which fetches the destination's marker) until {@link #open}.
     */
    private record Gate(Path remoteShell, Path fifo, Path opened, FileChannel holder) implements AutoCloseable {

        static Gate create(Path directory) throws IOException, InterruptedException {
            Files.createDirectories(directory);
            Path fifo = directory.resolve("gate");
            Path opened = directory.resolve("opened");
            Trees.run(List.of("mkfifo", fifo.toString()), 0);
            Path script = directory.resolve("remote-shell");
            Files.writeString(script, String.join("\n",
                    "#!/bin/sh",
                    "shift",
                    "case \" $* \" in *' --sender '*) ;; *) [ -e '" + opened + "' ] || read gate < '" + fifo + "' ;; esac",
                    "exec \"$@\"", ""));
            Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
            // Read and write: opening never blocks, and what is written waits in the pipe for the script's read.
            FileChannel holder = FileChannel.open(fifo, StandardOpenOption.READ, StandardOpenOption.WRITE);
            return new Gate(script, fifo, opened, holder);
        }

        void open() throws IOException {
            Files.createFile(opened);
            holder.write(ByteBuffer.wrap("go\n".getBytes(UTF_8)));
        }

        @Override
        public void close() throws IOException {
            holder.close();
        }
    }

    private final class Bench {
        final SyncBench sync;
        final Path dest;
        final Gate gate;
        final RunProgressFile progress;

        Bench() throws Exception {
            sync = SyncBench.create(tmp.resolve("bench"));
            byte[] content = new byte[1 << 20];
            new Random(7).nextBytes(content);
            for (int i = 0; i < FILES; i++) {
                Files.write(sync.root.resolve("big-" + i), content);
            }
            dest = tmp.resolve("dest");
            Files.createDirectories(dest);
            gate = Gate.create(tmp.resolve("gate"));
            progress = new StateLayout(sync.state).runProgress(ROUTE);
        }

        ChangeqConfig route(String... moreArgs) throws Exception {
            List<String> args = new ArrayList<>(List.of("-rlt", "-e", gate.remoteShell().toString()));
            args.addAll(List.of(moreArgs));
            return sync.config(SyncBench.Route.of(ROUTE, "localhost:" + dest).rsyncArgs(args.toArray(String[]::new)));
        }

        /** changeq-sync as the timer's unit starts it, reporting every second, with the shipped logging. */
        Process start(Optional<Path> notifySocket) throws IOException {
            ProcessBuilder command = ChildJvm.command(SyncMain.class,
                    List.of("--config", sync.configFile().toString(), "--route", ROUTE));
            command.command().addAll(1, List.of("-Dchangeq.progress-interval=1s", "-Dlogback.configurationFile=logback.xml"));
            notifySocket.ifPresent(socket -> command.environment().put(SystemdNotifier.NOTIFY_SOCKET, socket.toString()));
            return command.redirectOutput(tmp.resolve("out").toFile()).redirectError(log().toFile()).start();
        }

        Path log() {
            return tmp.resolve("err");
        }

        String logText() {
            try {
                return Files.readString(log());
            } catch (IOException e) {
                return e.toString();
            }
        }

        String stat(String... more) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            List<String> args = new ArrayList<>(List.of("stat", "--config", sync.configFile().toString()));
            args.addAll(List.of(more));
            int exit = QueueMain.run(args.toArray(String[]::new), new PrintStream(out, true, UTF_8), System.err);
            assertEquals(ExitCodes.OK, exit, out.toString(UTF_8));
            return out.toString(UTF_8);
        }

        String routeJson() {
            return stat("--json").lines().filter(line -> line.contains("\"kind\":\"route\"")).findFirst().orElseThrow();
        }
    }

    @Test
    void aLongFirstFullSyncReportsEveryIntervalFromBeforeItsFirstFileAndStatShowsItWhileItRuns() throws Exception {
        Bench bench = new Bench();
        bench.route("--bwlimit=1000");
        Path socket = tmp.resolve("notify");
        try (WriterLock tracker = bench.sync.trackerRunning(); Gate gate = bench.gate) {
            NotifyReceiver systemd = NotifyReceiver.bind(socket.toString());
            Process child = bench.start(Optional.of(socket));
            try {
                Poll.until(TIMEOUT, () -> "a progress line while rsync has sent nothing; the log:\n" + bench.logText(),
                        () -> Files.readString(bench.log())
                        .contains("RunProgress: route 'r': full sync: counting what it deletes (dry run) for "));
                try {
                    String status;
                    do {
                        status = systemd.receive(TIMEOUT);
                    } while (!status.contains(BUILDING));
                    assertTrue(status.matches("STATUS=route r: full sync: counting what it deletes \\(dry run\\) for \\d+s: "
                            + BUILDING), status);
                } finally {
                    // Unlike systemd, this socket is not read from now on: a full receive queue would block the sender.
                    systemd.close();
                }
                RunProgressFile.Snapshot waiting = bench.progress.read().orElseThrow();
                assertEquals(child.pid(), waiting.pid());
                assertTrue(waiting.rsyncRunning() && !waiting.rsyncReported(), waiting.toString());
                String stat = bench.stat();
                assertTrue(stat.contains("  running      full sync: counting what it deletes (dry run) for ")
                        && stat.contains(BUILDING + " (pid " + child.pid()
                        + ", as of "), stat);
                String json = bench.routeJson();
                assertTrue(json.contains("\"running\":{\"live\":true,\"pid\":" + child.pid())
                        && json.contains("\"activity\":\"full sync: counting what it deletes (dry run)\","
                                + "\"rsync_running\":true,\"files\":0,\"bytes\":0")
                        && json.contains("\"paths_checked\":null"), json);

                gate.open();
                Poll.until(TIMEOUT, "a file sent, in the progress file", () -> bench.progress.read()
                        .map(snapshot -> snapshot.files() > 0).orElse(false));
                Poll.until(TIMEOUT, "stat showing files sent", () -> bench.stat().contains("paths checked"));
                assertTrue(child.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS), "the run ended");
                assertEquals(ExitCodes.OK, child.exitValue(), Files.readString(bench.log()));
            } finally {
                child.destroyForcibly();
            }
        }
        String log = Files.readString(bench.log());
        System.out.println("progress: the run's lines, one per second:");
        log.lines().filter(line -> line.contains("RunProgress")).forEach(line -> System.out.println("  " + line));
        List<long[]> figures = new ArrayList<>();
        Matcher matcher = PROGRESS_LINE.matcher(log);
        while (matcher.find()) {
            figures.add(new long[] {Long.parseLong(matcher.group(1).replace(",", "")),
                bytes(matcher.group(2), matcher.group(3))});
        }
        assertTrue(figures.size() >= 2, "one line per second while 4 MB go at 1 MB/s:\n" + log);
        for (int i = 1; i < figures.size(); i++) {
            assertTrue(figures.get(i)[0] >= figures.get(i - 1)[0] && figures.get(i)[1] >= figures.get(i - 1)[1],
                    "growing figures:\n" + log);
        }
        assertTrue(figures.get(figures.size() - 1)[1] > figures.get(0)[1], "growing figures:\n" + log);
        assertTrue(log.indexOf(BUILDING) < log.indexOf(" sent at "), "the file list first:\n" + log);
        assertFalse(log.contains("xfr#"), "rsync's own progress lines are read, not logged:\n" + log);

        assertEquals(Optional.empty(), bench.progress.read(), "the progress file is removed at the end");
        assertFalse(bench.stat().contains("  running "), bench.stat());
        assertTrue(bench.routeJson().contains("\"running\":null"), bench.routeJson());
        Trees.assertSameTree(bench.sync.root, bench.dest);
    }

    @Test
    void statTellsTheFileOfAKilledRunFromALiveOneAndTheNextRunReplacesIt() throws Exception {
        Bench bench = new Bench();
        ChangeqConfig config = bench.route();
        try (WriterLock tracker = bench.sync.trackerRunning(); Gate gate = bench.gate) {
            Process child = bench.start(Optional.empty());
            try {
                Poll.until(TIMEOUT, "the run's rsync waiting, as stat shows it", () -> bench.stat().contains(BUILDING));
                assertTrue(bench.routeJson().contains("\"running\":{\"live\":true"), bench.routeJson());
            } finally {
                child.destroyForcibly();
                assertTrue(child.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
            }
            // The remote end waits at the gate still; let it find its rsync gone.
            gate.open();

            RunProgressFile.Snapshot left = bench.progress.read().orElseThrow(() -> new AssertionError("a killed run"
                    + " cannot remove its file"));
            assertEquals(child.pid(), left.pid());
            String stat = bench.stat();
            assertTrue(stat.contains("  running      no: the run of pid " + child.pid() + " started at ")
                    && stat.contains("(killed?); it last said: full sync: counting what it deletes (dry run) for "), stat);
            assertTrue(bench.routeJson().contains("\"running\":{\"live\":false,\"pid\":" + child.pid()),
                    bench.routeJson());

            SyncReport rerun = bench.sync.sync(config, ROUTE);
            assertEquals(ExitCodes.OK, rerun.exitCode(), rerun.summaryLine());
        }
        assertEquals(Optional.empty(), bench.progress.read(), "the next run replaced the file and removed it");
        assertTrue(bench.routeJson().contains("\"running\":null"), bench.routeJson());
        Trees.assertSameTree(bench.sync.root, bench.dest);
    }

    private static long bytes(String value, String unit) {
        double factor = switch (unit) {
            case "kB" -> 1e3;
            case "MB" -> 1e6;
            default -> 1;
        };
        return Math.round(Double.parseDouble(value) * factor);
    }
}
