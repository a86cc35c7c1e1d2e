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
            "route=[a-z]+ mode=(incremental|full|none) reason=[a-z-]+ files=\\d+ deleted=\\d+ failed=\\d+ bytes=\\d+"
                    + " seconds=\\d+\\.\\d{3} rsync-exit=(\\d+|none) exit=\\d+ changed=\\d+( interrupted=SIG(TERM|INT))?( tracker=stopped)?");

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
        assertTrue(lines.get(0).startsWith("route=r mode=full reason=first-run files=1 deleted=0 failed=0 bytes=5 "), lines.get(0));
        assertTrue(lines.get(0).endsWith(" rsync-exit=0 exit=0 changed=0"), lines.get(0));
        String prom = Files.readString(metrics.resolve("changeq_sync_r.prom"));
        for (String metric : List.of("changeq_sync_last_success_timestamp_seconds", "changeq_sync_last_run_duration_seconds",
                "changeq_sync_files_total", "changeq_sync_backlog_records", "changeq_sync_full_sync_total",
                "changeq_sync_failures_total")) {
            assertTrue(prom.contains("\n" + metric + "{route=\"r\"} "), metric + " in\n" + prom);
        }
        assertTrue(prom.contains("changeq_sync_full_sync_total{route=\"r\"} 1\n"), prom);

        Result second = run("--config", config, "--route", "r", "--metrics-dir", metrics.toString());
        assertEquals(List.of(), second.out().lines().filter(l -> !SUMMARY.matcher(l).matches()).toList());
        assertTrue(second.out().startsWith("route=r mode=incremental reason=nothing-to-do files=0 deleted=0 failed=0 bytes=0 "),
                second.out());

        // The tracker stopped for good: the run still sends what the queue holds, but is no plain success.
        tracker.close();
        Trees.write(bench.root, "b", "made while nothing records");
        Result unrecorded = run("--config", config, "--route", "r", "--metrics-dir", metrics.toString());
        assertEquals(ExitCodes.TRACKER_NOT_RUNNING, unrecorded.exit(), unrecorded.err());
        assertTrue(unrecorded.out().startsWith("route=r mode=incremental reason=nothing-to-do ")
                && unrecorded.out().strip().endsWith(" rsync-exit=none exit=14 changed=0 tracker=stopped"), unrecorded.out());
        assertTrue(unrecorded.err().contains("no changeq-tracker holds the queue " + bench.queue), unrecorded.err());
        String stopped = Files.readString(metrics.resolve("changeq_sync_r.prom"));
        assertTrue(stopped.contains("changeq_tracker_running{route=\"r\"} 0\n"), stopped);
        assertTrue(stopped.contains("changeq_sync_last_exit_code{route=\"r\"} 14\n"), stopped);
        assertTrue(stopped.contains("changeq_sync_failures_total{route=\"r\"} 1\n"), stopped);
        assertTrue(prom.contains("changeq_tracker_running{route=\"r\"} 1\n"), prom);
        assertTrue(prom.contains("changeq_queue_last_record_timestamp_seconds{route=\"r\"} "), prom);
    }

    /** The one summary line of a run that exited {@code exit}, which it names. */
    private static String summary(Result result, int exit) {
        assertEquals(exit, result.exit(), result.err());
        List<String> lines = result.out().lines().toList();
        assertEquals(1, lines.size(), result.out());
        assertTrue(SUMMARY.matcher(lines.get(0)).matches(), lines.get(0));
        assertTrue(lines.get(0).contains(" exit=" + exit), lines.get(0));
        return lines.get(0);
    }

    private static int occurrences(String text, String part) {
        int count = 0;
        for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + 1)) {
            count++;
        }
        return count;
    }

    @Test
    void refusedFailedAndBrokenRunsPrintTheirSummaryLineToo() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        for (String name : List.of("a", "b", "c", "d")) {
            Trees.write(bench.root, name, name);
        }
        Path dest = tmp.resolve("dest");
        bench.config(SyncBench.Route.of("r", dest.toString()),
                SyncBench.Route.of("down", "rsync://127.0.0.1:1/backup/nfs"),
                SyncBench.Route.of("broken", tmp.resolve("no-parent/deep/copy").toString()));
        String config = bench.configFile().toString();
        WriterLock tracker = bench.trackerRunning();
        summary(run("--config", config, "--route", "r"), ExitCodes.OK);

        Files.delete(bench.root.resolve("b"));
        Files.delete(bench.root.resolve("c"));
        Files.delete(bench.root.resolve("d"));
        Result refused = run("--config", config, "--route", "r", "--full");
        assertTrue(summary(refused, ExitCodes.DELETIONS_REFUSED).startsWith("route=r mode=full reason=forced "));
        assertEquals(1, occurrences(refused.err(), "the run would delete 3 paths"), refused.err());
        assertTrue(refused.err().contains("--route r --full --allow-deletes 3'"), "the consent repeats --full: "
                + refused.err());
        Result unused = run("--config", config, "--route", "r", "--allow-deletes", "3");
        summary(unused, ExitCodes.OK);
        assertTrue(unused.err().contains("--allow-deletes 3 was not used: an incremental run of a route without"
                + " propagate-deletes deletes nothing"), unused.err());
        Result consented = run("--config", config, "--route", "r", "--full", "--allow-deletes", "3");
        assertTrue(summary(consented, ExitCodes.OK).contains(" deleted=3 failed=0 "), consented.out());
        assertEquals(java.util.Set.of("f a"), Trees.list(dest));

        Path away = tmp.resolve("away");
        Files.move(dest, away);
        Result noDestination = run("--config", config, "--route", "r");
        assertTrue(summary(noDestination, ExitCodes.DESTINATION_CHANGED).startsWith("route=r mode=none reason=none "));
        assertEquals(1, occurrences(noDestination.err(), "is missing, although the route wrote it before"),
                noDestination.err());
        Files.move(away, dest);

        Files.move(bench.root, away);
        Files.createDirectories(bench.root);
        summary(run("--config", config, "--route", "r"), ExitCodes.ROOT_UNAVAILABLE);
        Files.delete(bench.root);
        Files.move(away, bench.root);

        Files.move(bench.queue, away);
        summary(run("--config", config, "--route", "r"), ExitCodes.QUEUE_UNAVAILABLE);
        Files.move(away, bench.queue);

        Path lockFile = new org.changeq.pipeline.state.StateLayout(bench.state).routeLock("r");
        try (java.nio.channels.FileChannel held = java.nio.channels.FileChannel.open(lockFile,
                java.nio.file.StandardOpenOption.WRITE); java.nio.channels.FileLock lock = held.lock()) {
            summary(run("--config", config, "--route", "r"), ExitCodes.ALREADY_RUNNING);
        }

        Path notADirectory = Files.writeString(tmp.resolve("file"), "x");
        Result noMetrics = run("--config", config, "--route", "r", "--metrics-dir", notADirectory.resolve("m").toString());
        assertTrue(summary(noMetrics, ExitCodes.SOFTWARE).startsWith("route=r mode=incremental reason=nothing-to-do "),
                noMetrics.out());

        assertTrue(summary(run("--config", config, "--route", "down"), ExitCodes.DESTINATION_UNREACHABLE)
                .startsWith("route=down mode=full reason=first-run "));
        summary(run("--config", config, "--route", "broken"), ExitCodes.SYNC_FAILED);
        tracker.close();
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
