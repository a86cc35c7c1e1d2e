package org.changeq.nativetests.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.manifest.WriterLock;
import org.changeq.sync.SyncMain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code changeq-sync} command as systemd runs it: its own JVM, a config file, stdout and exit code. */
class SyncMainTest {

    private static final Pattern SUMMARY = Pattern.compile(
            "route=r mode=(incremental|full) reason=[a-z-]+ files=\\d+ bytes=\\d+ seconds=\\d+\\.\\d{3} rsync-exit=(\\d+|none)");

    @TempDir
    Path tmp;

    private record Result(int exit, String out, String err) {
    }

    private Result run(String... args) throws Exception {
        return run(ChildJvm.command(SyncMain.class, List.of(args)));
    }

    private Result run(ProcessBuilder command) throws Exception {
        Path out = tmp.resolve("out");
        Path err = tmp.resolve("err");
        Process process = command.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "changeq-sync finished");
        return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
    }

    /** Runs a shell script (ASCII, so that no locale touches it) and returns its exit code. */
    private static int shell(String script, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("sh", "-c", script, "sh"));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start().waitFor();
    }

    @Test
    void mountPointsWithLatin1BytesAreReadExactlyUnderThePosixLocale() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "a", "hello");
        String config = bench.configFile().toString();
        bench.config(SyncBench.Route.of("r", tmp.resolve("dest").toString()));
        // Below the root, "caf\xe9", and elsewhere "mnt-\xe9t\xe9": Latin-1 bytes, invalid UTF-8.
        String below = "\"$1/$(printf 'caf\\351')\"";
        String elsewhere = "\"$2/$(printf 'mnt-\\351t\\351')\"";
        String root = bench.root.toString();
        String outside = tmp.toString();
        try {
            int mounted = shell("mkdir -p " + below + " " + elsewhere + " && mount -t tmpfs latin1 " + below
                    + " && mount -t tmpfs latin1 " + elsewhere + " && printf x > " + below + "/in-it", root, outside);
            org.junit.jupiter.api.Assumptions.assumeTrue(mounted == 0, "cannot mount tmpfs here (needs root)");
            WriterLock tracker = bench.trackerRunning();
            ProcessBuilder posix = ChildJvm.command(SyncMain.class, List.of("--config", config, "--route", "r"));
            posix.environment().keySet().removeIf(name -> name.equals("LANG") || name.startsWith("LC_"));

            Result synced = run(posix);
            assertEquals(ExitCodes.OK, synced.exit(), synced.err());
            assertTrue(Files.readString(bench.state.resolve("identity/r.root")).contains("mount-below caf\\351 latin1 tmpfs"),
                    Files.readString(bench.state.resolve("identity/r.root")));

            assertEquals(0, shell("umount " + below, root, outside));
            Result refused = run(posix);
            assertEquals(ExitCodes.ROOT_UNAVAILABLE, refused.exit(), refused.err());
            assertTrue(refused.err().contains(bench.root + "/caf\\xe9 had latin1 (tmpfs, /) mounted"), refused.err());
            tracker.close();
        } finally {
            shell("umount " + below + "; umount " + elsewhere + "; true", root, outside);
        }
    }

    @Test
    void theSameTreeSeenThroughTheBindMountsOfAHardenedUnitIsTheSameRoot() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "a", "hello");
        bench.config(SyncBench.Route.of("r", tmp.resolve("dest").toString()));
        String config = bench.configFile().toString();
        String media = bench.root.resolve("media").toString();
        try {
            int mounted = shell("mkdir -p \"$1\" && mount -t tmpfs media \"$1\" && printf x > \"$1/photo\"", media);
            org.junit.jupiter.api.Assumptions.assumeTrue(mounted == 0, "cannot mount tmpfs here (needs root)");
            WriterLock tracker = bench.trackerRunning();
            Result onTheHost = run("--config", config, "--route", "r");
            assertEquals(ExitCodes.OK, onTheHost.exit(), onTheHost.err());

            // What ReadWritePaths= and ProtectSystem= do in the unit's own mount namespace: the root bound onto itself
            // with everything below it, read-only; every mount there has a new mount id.
            ProcessBuilder unit = ChildJvm.command(SyncMain.class, List.of("--config", config, "--route", "r"));
            List<String> inNamespace = new java.util.ArrayList<>(List.of("unshare", "-m", "--propagation", "slave", "sh",
                    "-c", "mount --rbind \"$1\" \"$1\" && mount -o remount,bind,ro \"$1\" && shift && exec \"$@\"",
                    "sh", bench.root.toString()));
            inNamespace.addAll(unit.command());
            unit.command(inNamespace);
            Result inTheUnit = run(unit);
            assertEquals(ExitCodes.OK, inTheUnit.exit(), inTheUnit.err());
            assertTrue(inTheUnit.out().contains("reason=nothing-to-do"), inTheUnit.out());
            tracker.close();
        } finally {
            shell("umount \"$1\"; true", media);
        }
    }

    @Test
    void eachRunPrintsExactlyOneSummaryLineAndWritesMetrics() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "a", "hello");
        bench.config(SyncBench.Route.of("r", tmp.resolve("dest").toString()));
        Path metrics = tmp.resolve("textfile");
        String config = bench.configFile().toString();
        WriterLock tracker = bench.trackerRunning();

        Result first = run("--config", config, "--route", "r", "--metrics-dir", metrics.toString());
        assertEquals(ExitCodes.OK, first.exit(), first.err());
        List<String> lines = first.out().lines().toList();
        assertEquals(1, lines.size(), first.out());
        assertTrue(SUMMARY.matcher(lines.get(0)).matches(), lines.get(0));
        assertTrue(lines.get(0).startsWith("route=r mode=full reason=first-run files=1 bytes=5 "), lines.get(0));
        assertTrue(lines.get(0).endsWith(" rsync-exit=0"), lines.get(0));
        String prom = Files.readString(metrics.resolve("changeq_sync_r.prom"));
        for (String metric : List.of("changeq_sync_last_success_timestamp_seconds", "changeq_sync_last_run_duration_seconds",
                "changeq_sync_files_total", "changeq_sync_backlog_records", "changeq_sync_full_sync_total",
                "changeq_sync_failures_total")) {
            assertTrue(prom.contains("\n" + metric + "{route=\"r\"} "), metric + " in\n" + prom);
        }
        assertTrue(prom.contains("changeq_sync_full_sync_total{route=\"r\"} 1\n"), prom);

        Result second = run("--config", config, "--route", "r", "--metrics-dir", metrics.toString());
        assertEquals(List.of(), second.out().lines().filter(l -> !SUMMARY.matcher(l).matches()).toList());
        assertTrue(second.out().startsWith("route=r mode=incremental reason=nothing-to-do files=0 bytes=0 "), second.out());

        // The tracker stopped for good: the run still sends what the queue holds, but is no plain success.
        tracker.close();
        Trees.write(bench.root, "b", "made while nothing records");
        Result unrecorded = run("--config", config, "--route", "r", "--metrics-dir", metrics.toString());
        assertEquals(ExitCodes.TRACKER_NOT_RUNNING, unrecorded.exit(), unrecorded.err());
        assertTrue(unrecorded.out().startsWith("route=r mode=incremental reason=nothing-to-do ")
                && unrecorded.out().strip().endsWith(" rsync-exit=none tracker=stopped"), unrecorded.out());
        assertTrue(unrecorded.err().contains("no changeq-tracker holds the queue " + bench.queue), unrecorded.err());
        String stopped = Files.readString(metrics.resolve("changeq_sync_r.prom"));
        assertTrue(stopped.contains("changeq_tracker_running{route=\"r\"} 0\n"), stopped);
        assertTrue(stopped.contains("changeq_sync_last_exit_code{route=\"r\"} 14\n"), stopped);
        assertTrue(stopped.contains("changeq_sync_failures_total{route=\"r\"} 1\n"), stopped);
        assertTrue(prom.contains("changeq_tracker_running{route=\"r\"} 1\n"), prom);
        assertTrue(prom.contains("changeq_queue_last_record_timestamp_seconds{route=\"r\"} "), prom);
    }

    @Test
    void badUsageAndBadConfigGetTheirExitCodes() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        bench.config(SyncBench.Route.of("r", tmp.resolve("dest").toString()));
        Result unknownRoute = run("--config", bench.configFile().toString(), "--route", "nope");
        assertEquals(ExitCodes.USAGE, unknownRoute.exit());
        assertTrue(unknownRoute.err().contains("configured routes: [r]"), unknownRoute.err());

        Files.writeString(tmp.resolve("bad.yaml"), "queue: relative/path\n");
        Result badConfig = run("--config", tmp.resolve("bad.yaml").toString(), "--route", "r");
        assertEquals(ExitCodes.CONFIG, badConfig.exit(), badConfig.err());
        assertEquals("", badConfig.out());
    }

    @Test
    void helpTeachesWithExamples() throws Exception {
        Result help = run("--help");
        assertEquals(0, help.exit());
        assertTrue(help.out().contains("Examples:"), help.out());
        assertTrue(help.out().contains("changeq-sync check --config"), help.out());
        assertTrue(help.out().contains("--dry-run"), help.out());
        Result followHelp = run("follow", "--help");
        assertTrue(help.out().contains("-v, --verbose") && followHelp.out().contains("-v, --verbose"),
                "runs by hand and followers print each path on request: " + followHelp.out());
    }
}
