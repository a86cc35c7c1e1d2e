package org.changeq.pipeline.inspect;

import static org.changeq.pipeline.testing.JsonSchemas.schema;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Schema;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.manifest.ManifestWriter;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.manifest.WriterLock;
import org.changeq.pipeline.state.HeldDeletions;
import org.changeq.pipeline.plan.SyncPolicy;
import org.changeq.pipeline.state.RetryList;
import org.changeq.pipeline.state.RouteRuns;
import org.changeq.pipeline.state.RunChanges;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.state.VerifyState;
import org.changeq.pipeline.state.TrackerRootsFile;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.pipeline.testing.Poll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

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
        Result running;
        try (WriterLock held = WriterLock.acquire(dir.resolve("queue"), dir.resolve("state"))) {
            running = run("stat", "--utc", "--config", config.toString());
        }
        assertTrue(running.text().contains("roots        as the tracker reported them at 1970-01-01 00:00:03.000Z (pid "
                + ProcessHandle.current().pid() + ", running)"), running.text());
        assertTrue(running.text().contains("  root data    watched since 1970-01-01 00:00:01.000Z\n"), running.text());
        assertTrue(running.text().contains("  root backup  NOT WATCHED since 1970-01-01 00:00:02.000Z: /mnt/backup was "
                + "unmounted; mount /mnt/backup"), running.text());

        Result stopped = run("stat", "--config", config.toString());
        assertTrue(stopped.text().contains("(pid " + ProcessHandle.current().pid() + ", not running: no root is watched"
                + " now)"), "the process that reported them lives on, but holds the queue no more: " + stopped.text());
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
    void statSaysTheTrackerRunsWhileItHoldsTheQueueWithItsPid() throws Exception {
        long pid = ProcessHandle.current().pid();
        try (ManifestWriter writer = ManifestWriter.start(
                WriterLock.acquire(dir.resolve("queue"), dir.resolve("state")), 1024,
                ManifestWriter.WRITER_THREADS, failure -> { throw new AssertionError(failure); })) {
            writer.publish(RecordType.CHANGE, "data", false, "now".getBytes(StandardCharsets.UTF_8));
            assertTrue(writer.awaitAppended(Duration.ofSeconds(10)));
            Result running = run("stat", "--config", config.toString());
            assertTrue(running.text().matches("(?s).*\ntracker      running \\(pid " + pid + "\\) since \\d{4}-.*"),
                    running.text());
            JsonNode json = new ObjectMapper().readTree(run("stat", "--json", "--config", config.toString()).text()
                    .lines().findFirst().orElseThrow());
            assertEquals("running", json.get("tracker").asText());
            assertTrue(json.get("tracker_running").asBoolean());
            assertEquals(pid, json.get("tracker_pid").asLong());
        }
        Result stopped = run("stat", "--config", config.toString());
        assertTrue(stopped.text().contains("\ntracker      NOT running (last seen pid " + pid + ", stopped cleanly at "),
                stopped.text());
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "ManifestWriter", contains = "no STOP is appended")
    void statSaysATrackerThatDiedWithoutAStopIsNotRunning() throws Exception {
        long pid = ProcessHandle.current().pid();
        ManifestWriter.start(WriterLock.acquire(dir.resolve("queue"), dir.resolve("state")), 1024,
                ManifestWriter.WRITER_THREADS, failure -> { throw new AssertionError(failure); })
                .closeWithoutStop("the test stops it as a crash would");

        Result died = run("stat", "--utc", "--config", config.toString());

        assertTrue(died.text().matches("(?s).*\ntracker      NOT running \\(last seen pid " + pid + ", started \\S+ \\S+Z,"
                + " stopped without a STOP record after its last record at \\S+ \\S+Z; its next start catches up\\)\n.*"),
                died.text());
        assertFalse(died.text().contains("running since"), died.text());
        JsonNode json = new ObjectMapper().readTree(run("stat", "--json", "--config", config.toString()).text()
                .lines().findFirst().orElseThrow());
        assertEquals("stopped-unclean", json.get("tracker").asText());
        assertFalse(json.get("tracker_running").asBoolean());
        assertEquals(pid, json.get("tracker_pid").asLong());
        assertTrue(json.get("last_start_epoch_ms").asLong() > json.get("last_stop_epoch_ms").asLong(), json.toString());
    }

    @Test
    void statCountsWhatPathsSendsAndShowsUnsentDeletionsApart() throws Exception {
        try (ManifestWriter writer = ManifestWriter.start(
                WriterLock.acquire(dir.resolve("queue"), dir.resolve("state")), 1024,
                ManifestWriter.WRITER_THREADS, failure -> { throw new AssertionError(failure); })) {
            writer.publish(RecordType.DELETE, "data", false, "gone-1".getBytes(StandardCharsets.UTF_8));
            writer.publish(RecordType.DELETE, "data", false, "gone-2".getBytes(StandardCharsets.UTF_8));
        }
        long listed = run("paths", "--config", config.toString(), "--route", "mirror").text().lines().count();
        assertEquals(3, listed, "the route does not propagate deletes: paths leaves them out");

        JsonNode mirror = new ObjectMapper().readTree(run("stat", "--json", "--config", config.toString()).text()
                .lines().toList().get(1));
        assertEquals(listed, mirror.get("pending_paths").asLong(), mirror.toString());
        assertEquals(2, mirror.get("deletions_not_propagated").asLong(), mirror.toString());
        assertEquals(0, mirror.get("pending_deletions").asLong(), mirror.toString());
        Result human = run("stat", "--config", config.toString());
        assertTrue(human.text().contains("  to send      3 path(s): 3 file(s) (the paths subcommand lists them)\n"),
                human.text());
        assertTrue(human.text().contains("  not sent     2 deletion(s): the route does not propagate deletes\n"),
                human.text());
    }

    @Test
    void statShowsEachRoutesLastRunAndLastSuccessAsTheSyncRecordedThem() throws Exception {
        StateLayout state = new StateLayout(dir.resolve("state"));
        RouteRuns.record(state.routeRuns("mirror"), new RouteRuns.Run(1_000, 43_500, Optional.of(SyncPolicy.Mode.FULL),
                ExitCodes.OK, 1234), true);
        RouteRuns.record(state.routeRuns("mirror"), new RouteRuns.Run(100_000, 100_250, Optional.empty(),
                ExitCodes.DESTINATION_CHANGED, 0), false);

        Result human = run("stat", "--utc", "--config", config.toString());

        assertTrue(human.text().contains("route mirror (root data -> " + dir.resolve("dest") + "/)\n"
                + "  last run     1970-01-01 00:01:40.250Z, refused, exit 13, 0 file(s), 0.3 s\n"
                + "  last success 1970-01-01 00:00:43.500Z, full, exit 0, 1234 file(s), 42.5 s\n"), human.text());
        assertTrue(human.text().contains("route offsite (root data -> " + dir.resolve("dest2") + "/)\n"
                + "  last run     none recorded"), human.text());
        List<String> lines = run("stat", "--json", "--utc", "--config", config.toString()).text().lines().toList();
        JsonNode mirror = new ObjectMapper().readTree(lines.get(1));
        assertEquals("1970-01-01T00:01:40.250Z", mirror.get("last_run").get("finished").asText());
        assertEquals(100_250, mirror.get("last_run").get("finished_epoch_ms").asLong());
        assertTrue(mirror.get("last_run").get("mode").isNull());
        assertEquals(13, mirror.get("last_run").get("exit_code").asInt());
        assertEquals("full", mirror.get("last_success").get("mode").asText());
        assertEquals(42_500, mirror.get("last_success").get("duration_ms").asLong());
        assertEquals(1234, mirror.get("last_success").get("files").asLong());
        JsonNode offsite = new ObjectMapper().readTree(lines.get(2));
        assertTrue(offsite.get("last_run").isNull() && offsite.get("last_success").isNull(), offsite.toString());
    }

    /** Every line {@code args} prints, each checked against the schema, parsed. */
    private static List<JsonNode> validJson(Schema schema, String... args) throws Exception {
        Result result = run(args);
        assertEquals(ExitCodes.OK, result.exitCode(), String.join(" ", args) + ": " + result.err());
        List<JsonNode> nodes = new ArrayList<>();
        for (String line : result.text().lines().toList()) {
            JsonNode node = new ObjectMapper().readTree(line);
            List<com.networknt.schema.Error> errors = schema.validate(node);
            assertTrue(errors.isEmpty(), String.join(" ", args) + " printed " + line + ", against its schema: " + errors);
            nodes.add(node);
        }
        assertFalse(nodes.isEmpty(), String.join(" ", args) + " printed nothing");
        return nodes;
    }

    @Test
    void theJsonOfEverySubcommandMatchesItsPublishedSchemaWithNamesAsBytesAndTimesWithTheirOffset() throws Exception {
        byte[] newlineDirectory = "dir\nnl/f".getBytes(StandardCharsets.UTF_8);
        byte[] invalidDirectory = {'b', 'a', 'd', (byte) 0xfe, 'd', 'i', 'r', '/', 'f'};
        try (ManifestWriter writer = ManifestWriter.start(
                WriterLock.acquire(dir.resolve("queue"), dir.resolve("state")), 1024,
                ManifestWriter.WRITER_THREADS, failure -> { throw new AssertionError(failure); })) {
            writer.publish(RecordType.CHANGE, "data", false, newlineDirectory);
            writer.publish(RecordType.CHANGE, "data", false, invalidDirectory);
            writer.publishContentWrite("data", "written".getBytes(StandardCharsets.UTF_8));
            writer.publish(RecordType.DELETE, "data", false, "gone".getBytes(StandardCharsets.UTF_8));
            writer.publishMarker(RecordType.OVERFLOW, "data");
        }
        StateLayout state = new StateLayout(dir.resolve("state"));
        new RetryList(List.of(new RetryList.Entry(INVALID_UTF8, RetryList.Kind.FILE, 1_000, ""),
                new RetryList.Entry(NEWLINE_NAME, RetryList.Kind.CONTENT, 2_000, "rsync: denied (13)")), false)
                .write(state.retryList("mirror"));
        state.trackerRoots().write(new TrackerRootsFile.Snapshot(3_000, ProcessHandle.current().pid(), List.of(
                new TrackerRootsFile.RootStatus("data", TrackerRootsFile.Condition.WATCHED, 1_000, "",
                        new TrackerRootsFile.Selection(new byte[] {'/'}, List.of())))));
        RouteRuns.record(state.routeRuns("mirror"), new RouteRuns.Run(1_000, 2_000, Optional.of(SyncPolicy.Mode.FULL),
                ExitCodes.SYNC_PARTIAL, 7), true);
        RunChanges.Builder changed = new RunChanges.Builder();
        changed.add(RunChanges.Kind.OVERWRITTEN, NEWLINE_NAME);
        changed.add(RunChanges.Kind.OVERWRITTEN, INVALID_UTF8);
        changed.add(RunChanges.Kind.DELETED, "gone".getBytes(StandardCharsets.UTF_8));
        changed.build(1_000).write(state.runChanges("mirror"));
        String queue = dir.resolve("queue").toString();
        String cfg = config.toString();

        java.util.TimeZone zone = java.util.TimeZone.getDefault();
        List<JsonNode> local;
        try {
            java.util.TimeZone.setDefault(java.util.TimeZone.getTimeZone("Europe/Paris"));
            local = validJson(schema("record.schema.json"), "dump", "--json", "--queue", queue);
        } finally {
            java.util.TimeZone.setDefault(zone);
        }
        for (JsonNode record : local) {
            assertTrue(record.get("time").asText().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\+0[12]:00"),
                    "local time with its offset: " + record);
            assertEquals(java.time.OffsetDateTime.parse(record.get("time").asText()).toInstant().toEpochMilli(),
                    record.get("time_epoch_ms").asLong(), "the two forms name one instant: " + record);
        }
        List<JsonNode> records = validJson(schema("record.schema.json"), "dump", "--json", "--utc", "--queue", queue);
        com.fasterxml.jackson.databind.node.ObjectNode withoutFlag = records.get(1).deepCopy();
        withoutFlag.remove("path_base64");
        assertFalse(schema("record.schema.json").validate(withoutFlag).isEmpty(), "the schemas are checked, and strict");
        assertTrue(records.get(0).get("time").asText().endsWith("Z"), records.get(0).toString());
        assertEquals(records.size(), validJson(schema("record.schema.json"), "tail", "-n", "100", "--json", "--queue",
                queue).size());
        validJson(schema("record.schema.json"), "dump", "--json", "--config", cfg, "--route", "mirror", "--pending");
        assertTrue(records.get(0).get("path").isNull() && records.get(0).get("root").isNull(), "START names neither: "
                + records.get(0));
        assertEquals("photos/line\nbreak.txt", records.get(1).get("path").asText());
        assertFalse(records.get(1).get("path_base64").asBoolean());
        assertArrayEquals(INVALID_UTF8, Base64.getDecoder().decode(records.get(2).get("path").asText()));
        assertTrue(records.get(2).get("path_base64").asBoolean());

        List<JsonNode> paths = validJson(schema("paths.schema.json"), "paths", "--json", "--config", cfg, "--route",
                "mirror");
        assertTrue(paths.stream().anyMatch(path -> path.get("path_base64").asBoolean()
                && Arrays.equals(INVALID_UTF8, Base64.getDecoder().decode(path.get("path").asText()))), paths.toString());
        List<JsonNode> retry = validJson(schema("paths-retry.schema.json"), "paths", "--retry", "--json", "--config", cfg,
                "--route", "mirror");
        assertTrue(retry.get(0).get("reason").isNull(), retry.get(0).toString());
        assertEquals(1_000, retry.get(0).get("first_failed_epoch_ms").asLong());
        assertEquals("photos/line\nbreak.txt", retry.get(1).get("path").asText());

        List<JsonNode> top = validJson(schema("top.schema.json"), "top", "--json", "--queue", queue, "--depth", "1");
        assertTrue(top.stream().anyMatch(row -> row.get("directory").asText().equals("dir\nnl")
                && !row.get("directory_base64").asBoolean()), "a newline is a newline, not an escape: " + top);
        assertTrue(top.stream().anyMatch(row -> row.get("directory_base64").asBoolean() && Arrays.equals(
                Arrays.copyOf(invalidDirectory, 7), Base64.getDecoder().decode(row.get("directory").asText()))),
                "invalid UTF-8 is base64 here too: " + top);

        new VerifyState(1_000, 30, 4, 10, 100, 2_000, 3_000, 0, List.of(new VerifyState.Mismatch(
                VerifyState.Kind.CONTENT, INVALID_UTF8), new VerifyState.Mismatch(VerifyState.Kind.EXTRA,
                "stray".getBytes(StandardCharsets.UTF_8)))).write(new StateLayout(dir.resolve("state"))
                .verifyState("mirror"));
        List<JsonNode> stat = validJson(schema("stat.schema.json"), "stat", "--json", "--config", cfg);
        assertEquals(List.of("queue", "route", "route"), stat.stream().map(line -> line.get("kind").asText()).toList());
        assertTrue(stat.get(1).get("full_reason").isTextual() && stat.get(2).get("last_run").isNull(), stat.toString());
        JsonNode verified = stat.stream().filter(line -> "mirror".equals(line.path("route").asText())).findFirst()
                .orElseThrow().get("verify");
        assertEquals(13, verified.get("coverage_percent").asInt(), verified.toString());
        assertEquals(1, verified.get("mismatches").get("content").asInt(), verified.toString());
        assertTrue(verified.get("last_complete_cycle").isNull(), verified.toString());
        List<JsonNode> routes = stat.subList(1, stat.size());
        JsonNode mirror = routes.stream().filter(line -> line.get("route").asText().equals("mirror")).findFirst()
                .orElseThrow();
        assertEquals(List.of(0, 2, 1), List.of(mirror.get("changed").get("new").asInt(),
                mirror.get("changed").get("overwritten").asInt(), mirror.get("changed").get("deleted").asInt()),
                "the counts of the text's changed line: " + mirror);
        assertTrue(routes.stream().filter(line -> !line.get("route").asText().equals("mirror"))
                .allMatch(line -> line.get("changed").isNull()), "no run recorded: " + stat);
        validJson(schema("stat.schema.json"), "stat", "--json", "--utc", "--queue", queue);
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
