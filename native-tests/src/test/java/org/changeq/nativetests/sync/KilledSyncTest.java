package org.changeq.nativetests.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.changeq.nativetests.faults.Workload;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.manifest.WriterLock;
import org.changeq.pipeline.testing.Poll;
import org.changeq.sync.SyncException;
import org.changeq.sync.SyncMain;
import org.changeq.sync.SyncReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of changeq-sync (SyncMain in its own JVM) in the middle of rsync, twice in a row: the cursor never passes
 * unsent records and the rerun converges, nasty names included.
 */
class KilledSyncTest {

    @TempDir
    Path tmp;

    /** A route whose pending run sends a 3 MiB file at 1 MB/s, so a test can act while rsync runs. */
    private record SlowRun(SyncBench bench, Path dest, ChangeqConfig fast, OptionalLong committed) {
        Process start(String name) throws IOException {
            return start(name, false);
        }

        /** @param ownProcessGroup as a terminal starts a command: a signal to the group reaches rsync too */
        Process start(String name, boolean ownProcessGroup) throws IOException {
            ProcessBuilder command = ChildJvm.command(SyncMain.class,
                    List.of("--config", bench.configFile().toString(), "--route", "r"));
            if (ownProcessGroup) {
                command.command().add(0, "setsid");
            }
            return command.redirectOutput(dest.resolveSibling(name + ".out").toFile())
                    .redirectError(dest.resolveSibling(name + ".err").toFile()).start();
        }

        void awaitRsyncWritingBig() throws InterruptedException {
            Poll.until(Duration.ofSeconds(20), "the child's rsync writing big", () -> Trees.list(dest).stream()
                    .anyMatch(entry -> entry.startsWith("f .big.")));
        }

        void assertNothingCommittedAndRsyncGone(String run) throws Exception {
            assertEquals(committed, bench.cursor("r"), run + " committed nothing");
            Poll.until(Duration.ofSeconds(20), "rsync to die with its parent",
                    () -> rsyncProcessesWriting(dest).isEmpty());
            // rsync removes its temporary file when its parent's pipe closes; the next run starts from scratch.
            Poll.until(Duration.ofSeconds(20), "rsync's temporary file to go", () -> Trees.list(dest).stream()
                    .noneMatch(entry -> entry.startsWith("f .big.")));
        }

        void assertRerunConverges(String after) throws Exception {
            long started = System.nanoTime();
            SyncReport rerun = bench.sync(fast, "r");
            System.out.println("  rerun after " + after + ": " + rerun.summaryLine() + ", "
                    + (System.nanoTime() - started) / 1_000_000 + " ms");
            assertEquals(ExitCodes.OK, rerun.exitCode());
            assertEquals("incremental", rerun.mode());
            assertEquals(OptionalLong.of(bench.queueEnd()), bench.cursor("r"));
            Trees.assertSameTree(bench.root, dest);
        }
    }

    private SlowRun slowRun() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Path dest = tmp.resolve("dest");
        ChangeqConfig fast = bench.config(SyncBench.Route.of("r", dest.toString()));
        Trees.write(bench.root, "small", "s");
        bench.sync(fast, "r");
        OptionalLong committed = bench.cursor("r");

        byte[] big = new byte[3 << 20];
        new Random(7).nextBytes(big);
        Files.write(bench.root.resolve("big"), big);
        new Workload(bench.root).createFiles("batch", 200, () -> { });
        bench.record(writer -> {
            writer.publish(RecordType.CHANGE, SyncBench.ROOT, false, "big".getBytes(StandardCharsets.UTF_8));
            writer.publish(RecordType.SUBTREE, SyncBench.ROOT, true, "batch".getBytes(StandardCharsets.UTF_8));
        });
        // The child reads the config file, which now slows its rsync down; this JVM keeps the fast config.
        bench.config(SyncBench.Route.of("r", dest.toString()).rsyncArgs("-rlt", "--bwlimit=1000"));
        return new SlowRun(bench, dest, fast, committed);
    }

    @Test
    void runsKilledTwiceInARowKeepTheirCursorAndTheRerunConverges() throws Exception {
        System.out.println("fault: changeq-sync killed with SIGKILL during rsync, twice in a row");
        SlowRun run = slowRun();
        for (int kill = 1; kill <= 2; kill++) {
            Process child = run.start("child-" + kill);
            try {
                run.awaitRsyncWritingBig();
                SyncException refused = assertThrows(SyncException.class, () -> run.bench().sync(run.fast(), "r"),
                        "a second process must not run the same route");
                assertEquals(ExitCodes.ALREADY_RUNNING, refused.exitCode());
            } finally {
                child.destroyForcibly();
                child.waitFor(20, TimeUnit.SECONDS);
            }
            run.assertNothingCommittedAndRsyncGone("killed run " + kill);
        }
        run.assertRerunConverges("two kills");
    }

    @Test
    void sigtermDuringRsyncStopsRsyncKeepsTheCursorAndExitsNonZero() throws Exception {
        stopDuringRsync("TERM", ExitCodes.TERMINATED);
    }

    @Test
    void ctrlCDuringRsyncStopsRsyncKeepsTheCursorAndExits130() throws Exception {
        stopDuringRsync("INT", ExitCodes.INTERRUPTED);
    }

    @Test
    void ctrlCAtATerminalReachesRsyncFirstAndTheRunIsStoppedAllTheSame() throws Exception {
        stopDuringRsync("INT", ExitCodes.INTERRUPTED, true);
    }

    private void stopDuringRsync(String signal, int exitCode) throws Exception {
        stopDuringRsync(signal, exitCode, false);
    }

    /**
     * A stop is no failure: one summary line that says so, no warning or error, the metrics as they were.
     *
     * @param toTheGroup signal the process group, as a terminal's Ctrl-C and systemd's stop do: rsync gets it too, and
     *                   may exit before the JVM's handler has run
     */
    private void stopDuringRsync(String signal, int exitCode, boolean toTheGroup) throws Exception {
        System.out.println("fault: changeq-sync stopped with SIG" + signal + " during rsync");
        SlowRun run = slowRun();
        Path metrics = run.bench().state.resolve("metrics/changeq_sync_r.prom");
        String metricsBefore = Files.readString(metrics);
        try (WriterLock tracker = run.bench().trackerRunning()) {
            Process child = run.start("child", toTheGroup);
            try {
                run.awaitRsyncWritingBig();
                assertEquals(0, new ProcessBuilder("kill", "-" + signal, "--", (toTheGroup ? "-" : "") + child.pid())
                        .start().waitFor());
                assertTrue(child.waitFor(30, TimeUnit.SECONDS), "changeq-sync exits on SIG" + signal);
            } finally {
                child.destroyForcibly();
            }
            assertEquals(exitCode, child.exitValue(), Files.readString(tmp.resolve("child.err")));
        }
        String log = Files.readString(tmp.resolve("child.err"));
        assertTrue(toTheGroup || log.contains("stopping rsync"), log);
        assertTrue(log.contains("the run was stopped (SIG" + signal + ") while rsync ran; nothing was committed"), log);
        assertEquals(List.of(), log.lines().filter(line -> line.matches("\\S+ \\S+ (WARN|ERROR) .*")).toList(),
                "a stop is no failure, and reading rsync's closed pipes is no error");
        List<String> summary = Files.readString(tmp.resolve("child.out")).lines().toList();
        assertEquals(1, summary.size(), summary.toString());
        assertTrue(summary.get(0).startsWith("route=r mode="), summary.get(0));
        assertTrue(summary.get(0).endsWith(" exit=" + exitCode + " changed=0 interrupted=SIG" + signal), summary.get(0));
        assertEquals(metricsBefore, Files.readString(metrics), "a stopped run leaves the metrics as they were");
        run.assertNothingCommittedAndRsyncGone("the stopped run");
        run.assertRerunConverges("SIG" + signal);
    }

    /** rsync processes whose command line names the destination. */
    private static List<Long> rsyncProcessesWriting(Path dest) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().command().map(c -> c.endsWith("/rsync")).orElse(false))
                .filter(p -> cmdline(p.pid()).contains(dest.toString()))
                .map(ProcessHandle::pid)
                .toList();
    }

    private static String cmdline(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8);
        } catch (IOException gone) {
            return "";
        }
    }
}
