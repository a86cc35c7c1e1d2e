package org.changeq.pipeline.inspect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.manifest.ManifestWriter;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.manifest.WriterLock;
import org.changeq.pipeline.state.HeldDeletions;
import org.changeq.pipeline.state.RetryList;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.state.TrackerRootsFile;
import org.changeq.pipeline.testing.Poll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QueueMainTest {

    @TempDir
    Path dir;

    private static final byte[] NEWLINE_NAME = "photos/line\nbreak.txt".getBytes(StandardCharsets.UTF_8);
    private static final byte[] INVALID_UTF8 = {'b', '/', (byte) 0xff, 'x'};

    private Path config;

    @BeforeEach
    void writeQueueAndConfig() throws Exception {
        try (ManifestWriter writer = ManifestWriter.start(
                WriterLock.acquire(dir.resolve("queue"), dir.resolve("state")), 1024,
                ManifestWriter.WRITER_THREADS, failure -> { throw new AssertionError(failure); })) {
            writer.publish(RecordType.CHANGE, "data", false, NEWLINE_NAME);
            writer.publish(RecordType.CHANGE, "data", false, INVALID_UTF8);
            writer.publish(RecordType.SUBTREE, "data", true, "immich/new".getBytes(StandardCharsets.UTF_8));
            writer.publish(RecordType.CHANGE, "data", false, "-rf #x ;y".getBytes(StandardCharsets.UTF_8));
        }
        Files.createDirectories(dir.resolve("tree"));
        config = dir.resolve("changeq.yaml");
        Files.writeString(config, String.join("\n",
                "queue: " + dir.resolve("queue"),
                "state: " + dir.resolve("state"),
                "roots:",
                "  data: {path: " + dir.resolve("tree") + "}",
                "lists:",
                "  bypass: [/immich/]",
                "routes:",
                "  mirror: {root: data, exclude-list: bypass, dest: " + dir.resolve("dest") + "/}",
                "  offsite: {root: data, include-list: bypass, dest: " + dir.resolve("dest2") + "/}",
                ""));
    }

    private record Result(int exitCode, byte[] out, String err) {
        String text() {
            return new String(out, StandardCharsets.UTF_8);
        }
    }

    private static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = QueueMain.run(args, new PrintStream(out, true), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void statTellsAgesByTheClockItIsGiven() throws Exception {
        java.time.Instant later = java.time.Instant.now().plus(java.time.Duration.ofDays(2));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = QueueMain.commandLine(new PrintStream(out, true), new PrintStream(new ByteArrayOutputStream(), true),
                java.time.Clock.fixed(later, java.time.ZoneOffset.UTC)).execute("stat", "--json", "--config", config.toString());
        assertEquals(ExitCodes.OK, code);
        JsonNode mirror = new ObjectMapper().readTree(out.toString(StandardCharsets.UTF_8).lines().toList().get(1));
        long age = mirror.get("oldest_pending_seconds").asLong();
        assertTrue(age >= 2 * 86_400 && age < 2 * 86_400 + 600, "ages count from the given clock: " + mirror);
    }

    @Test
    void dumpPrintsOneLinePerRecordWithNamesEscaped() {
        Result result = run("dump", "--queue", dir.resolve("queue").toString());
        assertEquals(ExitCodes.OK, result.exitCode(), result.err());
        List<String> lines = result.text().lines().toList();
        assertEquals(6, lines.size(), result.text());
        assertTrue(lines.get(1).endsWith("photos/line\\nbreak.txt"), lines.get(1));
        assertTrue(lines.get(2).endsWith("b/\\xffx"), lines.get(2));
        assertTrue(lines.get(3).endsWith("immich/new/"), lines.get(3));
    }

    @Test
    void jsonParsesAndCarriesInvalidUtf8AsBase64() throws Exception {
        Result result = run("dump", "--json", "--queue", dir.resolve("queue").toString());
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> nodes = new ArrayList<>();
        for (String line : result.text().lines().toList()) {
            nodes.add(json.readTree(line));
        }
        assertEquals("photos/line\nbreak.txt", nodes.get(1).get("path").asText());
        assertTrue(nodes.get(2).get("path_base64").asBoolean());
        assertArrayEquals(INVALID_UTF8, Base64.getDecoder().decode(nodes.get(2).get("path").asText()));
        assertEquals("START", nodes.get(0).get("type").asText());
    }

    @Test
    void pathsZeroIsByteExactAndFollowsTheRoutesFilters() {
        Result mirror = run("paths", "--config", config.toString(), "--route", "mirror", "-0");
        assertEquals(ExitCodes.OK, mirror.exitCode(), mirror.err());
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        for (byte[] path : List.of(NEWLINE_NAME, INVALID_UTF8, "-rf #x ;y".getBytes(StandardCharsets.UTF_8))) {
            expected.writeBytes(path);
            expected.write(0);
        }
        assertArrayEquals(expected.toByteArray(), mirror.out());
        Result offsite = run("paths", "--config", config.toString(), "--route", "offsite");
        assertEquals("immich/new\n", offsite.text());
    }

    @Test
    void pathsAbsoluteNamesEachPathBelowTheRootSoThatItCanBeUsedFromAnywhere() throws Exception {
        String root = dir.resolve("tree") + "/";
        Result raw = run("paths", "--config", config.toString(), "--route", "mirror", "--absolute", "-0");
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        for (byte[] path : List.of(NEWLINE_NAME, INVALID_UTF8, "-rf #x ;y".getBytes(StandardCharsets.UTF_8))) {
            expected.writeBytes(root.getBytes(StandardCharsets.UTF_8));
            expected.writeBytes(path);
            expected.write(0);
        }
        assertArrayEquals(expected.toByteArray(), raw.out());

        assertEquals(root + "immich/new\n", run("paths", "--config", config.toString(), "--route", "offsite",
                "--absolute").text());
        JsonNode json = new ObjectMapper().readTree(run("paths", "--json", "--config", config.toString(),
                "--route", "offsite", "--absolute").text());
        assertEquals(root + "immich/new", json.get("path").asText());

        new RetryList(List.of(new RetryList.Entry("stuck".getBytes(StandardCharsets.UTF_8), RetryList.Kind.FILE,
                1_000, "")), false).write(new StateLayout(dir.resolve("state")).retryList("mirror"));
        Result retry = run("paths", "--retry", "--config", config.toString(), "--route", "mirror", "--absolute");
        assertTrue(retry.text().startsWith(root + "stuck  failing since "), retry.text());
    }

    @Test
    void statReportsRecordsTrackerAndRoutes() throws Exception {
        Result human = run("stat", "--config", config.toString());
        assertEquals(ExitCodes.OK, human.exitCode(), human.err());
        assertTrue(human.text().contains("stopped cleanly"), human.text());
        assertTrue(human.text().contains("unclean starts 0 "), human.text());
        assertTrue(human.text().matches("(?s).*on disk      1 file\\(s\\), \\d+ KiB allocated \\(\\d+\\.\\d MiB apparent.*"),
                human.text());
        assertTrue(human.text().contains("route mirror"), human.text());
        assertTrue(human.text().contains("full: first-run"), human.text());
        Result json = run("stat", "--json", "--config", config.toString());
        List<JsonNode> nodes = new ArrayList<>();
        for (String line : json.text().lines().toList()) {
            nodes.add(new ObjectMapper().readTree(line));
        }
        assertEquals(6, nodes.get(0).get("records").asLong());
        assertTrue(nodes.get(0).get("bytes_allocated").asLong() < nodes.get(0).get("bytes_apparent").asLong(),
                nodes.get(0).toString());
        assertEquals(0, nodes.get(0).get("unclean_starts").asLong());
        assertEquals("mirror", nodes.get(1).get("route").asText());
        assertEquals(3, nodes.get(1).get("pending_paths").asLong());
        assertEquals("full", nodes.get(1).get("next_run").asText());
    }

    @Test
    void statShowsEachRootAsTheTrackerReportedItAndSaysWhenThatTrackerIsNoLongerRunning() throws Exception {
        Result unreported = run("stat", "--config", config.toString());
        assertTrue(unreported.text().contains("roots        not reported: no " + dir.resolve("state/tracker/roots.status")),
                unreported.text());

        TrackerRootsFile rootsFile = new StateLayout(dir.resolve("state")).trackerRoots();
        List<TrackerRootsFile.RootStatus> roots = List.of(
                new TrackerRootsFile.RootStatus("data", TrackerRootsFile.Condition.WATCHED, 1_000, "",
                        new TrackerRootsFile.Selection(new byte[] {'/'}, List.of())),
                new TrackerRootsFile.RootStatus("backup", TrackerRootsFile.Condition.UNMOUNTED, 2_000,
                        "/mnt/backup was unmounted; mount /mnt/backup; the tracker watches it again on its own",
                        new TrackerRootsFile.Selection(new byte[] {'/'}, List.of())));
        rootsFile.write(new TrackerRootsFile.Snapshot(3_000, ProcessHandle.current().pid(), roots));
        Result running = run("stat", "--utc", "--config", config.toString());
        assertTrue(running.text().contains("roots        as the tracker reported them at 1970-01-01 00:00:03.000Z (pid "
                + ProcessHandle.current().pid() + ", running)"), running.text());
        assertTrue(running.text().contains("  root data    watched since 1970-01-01 00:00:01.000Z\n"), running.text());
        assertTrue(running.text().contains("  root backup  NOT WATCHED since 1970-01-01 00:00:02.000Z: /mnt/backup was "
                + "unmounted; mount /mnt/backup"), running.text());

        Process exited = new ProcessBuilder("true").start();
        exited.waitFor();
        rootsFile.write(new TrackerRootsFile.Snapshot(3_000, exited.pid(), roots));
        Result stopped = run("stat", "--config", config.toString());
        assertTrue(stopped.text().contains("(pid " + exited.pid() + ", not running: no root is watched now)"),
                stopped.text());
        JsonNode json = new ObjectMapper().readTree(run("stat", "--json", "--config", config.toString()).text()
                .lines().findFirst().orElseThrow());
        JsonNode trackerRoots = json.get("tracker_roots");
        assertFalse(trackerRoots.get("tracker_running").asBoolean());
        assertEquals("unmounted", trackerRoots.get("roots").get("backup").get("condition").asText());
        assertFalse(trackerRoots.get("roots").get("backup").get("watched").asBoolean());
        assertTrue(trackerRoots.get("roots").get("data").get("watched").asBoolean());
    }

    @Test
    void statAndPathsShowTheRetryList() throws Exception {
        long firstFailed = System.currentTimeMillis() - 3_600_000;
        new RetryList(List.of(
                new RetryList.Entry(INVALID_UTF8, RetryList.Kind.FILE, 1_000, "rsync: ... Permission denied (13)"),
                new RetryList.Entry("stuck".getBytes(StandardCharsets.UTF_8), RetryList.Kind.DIRECTORY, firstFailed, ""),
                new RetryList.Entry("only/retry".getBytes(StandardCharsets.UTF_8), RetryList.Kind.FILE, firstFailed, "")),
                false).write(new StateLayout(dir.resolve("state")).retryList("mirror"));

        Result retry = run("paths", "--retry", "--config", config.toString(), "--route", "mirror");
        List<String> lines = retry.text().lines().toList();
        assertEquals(3, lines.size(), retry.text());
        assertTrue(lines.get(0).startsWith("b/\\xffx  failing since ") && lines.get(0).endsWith(": rsync: ... Permission denied (13)"),
                lines.get(0));
        assertTrue(lines.get(1).startsWith("stuck/  failing since "), lines.get(1));
        Result all = run("paths", "--config", config.toString(), "--route", "mirror");
        assertEquals(List.of("b/\\xffx", "stuck/", "only/retry", "photos/line\\nbreak.txt", "-rf #x ;y"),
                all.text().lines().toList(), "the pending paths include the retry list, first and each path once");

        Result human = run("stat", "--config", config.toString());
        assertTrue(human.text().contains("  retry        3 path(s) rsync failed to send"), human.text());
        JsonNode mirror = new ObjectMapper().readTree(run("stat", "--json", "--config", config.toString()).text()
                .lines().toList().get(1));
        assertEquals(3, mirror.get("retry_paths").asLong());
        assertTrue(mirror.get("oldest_retry_seconds").asLong() >= 3600 * 24 * 365, mirror.toString());
        assertEquals(0, mirror.get("held_deletions").asLong());
    }

    @Test
    void statSaysWhenARoutesDeletionsWaitForConsent() throws Exception {
        new HeldDeletions(List.of(INVALID_UTF8, "gone".getBytes(StandardCharsets.UTF_8)), System.currentTimeMillis() - 60_000)
                .write(new StateLayout(dir.resolve("state")).heldDeletions("mirror"));

        Result human = run("stat", "--config", config.toString());
        assertTrue(human.text().contains("  deletions    2 held back by max-delete 25% for "), human.text());
        assertTrue(human.text().contains("run changeq-sync --route mirror --allow-deletes 2"), human.text());
        JsonNode mirror = new ObjectMapper().readTree(run("stat", "--json", "--config", config.toString()).text()
                .lines().toList().get(1));
        assertEquals(2, mirror.get("held_deletions").asLong());
    }

    @Test
    void pendingDumpShowsOnlyTheRoutesRecords() {
        Result result = run("dump", "--config", config.toString(), "--route", "offsite", "--pending");
        assertEquals(1, result.text().lines().count(), result.text());
    }

    @Test
    void pendingDumpAndPathsReadTheSameRecordsAsThePlanner() throws Exception {
        // A directory moved in that the include-only route neither includes nor excludes may hold
        // included paths: the planner keeps it for the filter rules, so the pending dump shows it too.
        try (ManifestWriter writer = ManifestWriter.start(
                WriterLock.acquire(dir.resolve("queue"), dir.resolve("state")), 1024,
                ManifestWriter.WRITER_THREADS, failure -> { throw new AssertionError(failure); })) {
            writer.publish(RecordType.SUBTREE, "data", true, "restored".getBytes(StandardCharsets.UTF_8));
        }
        ObjectMapper json = new ObjectMapper();
        java.util.Set<String> dumped = new java.util.HashSet<>();
        for (String line : run("dump", "--json", "--config", config.toString(), "--route", "offsite", "--pending")
                .text().lines().toList()) {
            dumped.add(json.readTree(line).get("path").asText());
        }
        java.util.Set<String> planned = new java.util.HashSet<>();
        for (String line : run("paths", "--json", "--config", config.toString(), "--route", "offsite")
                .text().lines().toList()) {
            planned.add(json.readTree(line).get("path").asText());
        }
        assertEquals(java.util.Set.of("immich/new", "restored"), planned);
        assertEquals(planned, dumped);
    }

    @Test
    void statOfAQueueAloneReadsTheTrackersReportFromTheStateDirectoryTheQueueNames() throws Exception {
        new StateLayout(dir.resolve("state")).trackerRoots().write(new TrackerRootsFile.Snapshot(3_000,
                ProcessHandle.current().pid(), List.of(new TrackerRootsFile.RootStatus("data",
                        TrackerRootsFile.Condition.WATCHED, 1_000, "",
                        new TrackerRootsFile.Selection(new byte[] {'/'}, List.of())))));

        Result stat = run("stat", "--utc", "--queue", dir.resolve("queue").toString());

        assertEquals(ExitCodes.OK, stat.exitCode(), stat.err());
        assertTrue(stat.text().contains("  root data    watched since 1970-01-01 00:00:01.000Z\n"), stat.text());
        assertEquals(ExitCodes.USAGE, run("stat", "--queue", dir.resolve("queue").toString(), "--state",
                dir.resolve("state").toString()).exitCode(), "the queue names its state directory");
    }

    @Test
    void topGroupsByDirectory() {
        Result result = run("top", "--queue", dir.resolve("queue").toString(), "--depth", "1");
        assertTrue(result.text().lines().anyMatch(line -> line.matches("\\s+1\\s+data\\s+photos")), result.text());
    }

    @Test
    void aQueueOfAnotherStateDirectoryIsRefusedNamingBoth() throws Exception {
        Path other = Files.writeString(dir.resolve("other.yaml"), Files.readString(config)
                .replace("state: " + dir.resolve("state"), "state: " + dir.resolve("other")));
        Result refused = run("stat", "--config", other.toString());

        assertEquals(ExitCodes.QUEUE_UNAVAILABLE, refused.exitCode(), refused.err());
        assertTrue(refused.err().contains(dir.resolve("state").toString()), refused.err());
        assertTrue(refused.err().contains(dir.resolve("other").toString()), refused.err());
    }

    @Test
    void helpfulErrorsAndExitCodes() throws Exception {
        Result missing = run("stat", "--queue", dir.resolve("nope").toString());
        assertEquals(ExitCodes.QUEUE_UNAVAILABLE, missing.exitCode());
        assertTrue(missing.err().contains("does not exist"), missing.err());
        Files.createDirectories(dir.resolve("empty"));
        Result notQueue = run("stat", "--queue", dir.resolve("empty").toString());
        assertEquals(ExitCodes.QUEUE_UNAVAILABLE, notQueue.exitCode());
        assertTrue(notQueue.err().contains("not a changeq queue"), notQueue.err());
        Result unknownRoute = run("paths", "--config", config.toString(), "--route", "nas");
        assertEquals(ExitCodes.USAGE, unknownRoute.exitCode());
        assertTrue(unknownRoute.err().contains("no route named 'nas'"), unknownRoute.err());
        Result badTime = run("dump", "--queue", dir.resolve("queue").toString(), "--from", "yesterday");
        assertEquals(ExitCodes.USAGE, badTime.exitCode());
    }

    @Test
    void tailShowsTheLastRecords() {
        Result result = run("tail", "-n", "2", "--queue", dir.resolve("queue").toString());
        List<String> lines = result.text().lines().toList();
        assertEquals(2, lines.size(), result.text());
        assertTrue(lines.get(1).contains("STOP"), lines.get(1));
    }

    @Test
    void tailFollowSeesARecordAppendedAfterItStarted() throws Exception {
        Path queue = dir.resolve("queue");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.CountDownLatch idle = new java.util.concurrent.CountDownLatch(1);
        Thread follower = new Thread(() -> {
            try (ManifestReader reader = ManifestReader.open(queue)) {
                new QueueInspector(reader, queue, null, null, new RecordFormat(false, RecordFormat.TimeStyle.UTC), print)
                        .tail(1, true, stop::get, () -> {
                            idle.countDown();
                            Thread.onSpinWait();
                        });
            }
        }, "changeq-test-follower");
        follower.start();
        try {
            assertTrue(idle.await(10, java.util.concurrent.TimeUnit.SECONDS), "the follower reached the end");
            try (ManifestWriter writer = ManifestWriter.start(WriterLock.acquire(queue, dir.resolve("state")), 1024,
                    ManifestWriter.WRITER_THREADS, failure -> { throw new AssertionError(failure); })) {
                writer.publish(RecordType.CHANGE, "data", false, "appended-later".getBytes(StandardCharsets.UTF_8));
            }
            Poll.until(Duration.ofSeconds(10), "tail -f to print the record appended later",
                    () -> out.toString(StandardCharsets.UTF_8).contains("appended-later"));
        } finally {
            stop.set(true);
            follower.join(10_000);
        }
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("appended-later"), out.toString(StandardCharsets.UTF_8));
        assertTrue(out.toString(StandardCharsets.UTF_8).lines().findFirst().orElseThrow().contains("STOP"));
    }
}
