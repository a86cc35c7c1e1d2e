package org.changeq.nativetests.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.ConfigException;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.pipeline.testing.JsonSchemas;
import org.changeq.sync.SyncException;
import org.changeq.sync.SyncReport;
import org.changeq.sync.SyncRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * A route with {@code history:} keeps at its destination, under {@code .changeq-history/<run start>/}, every version
 * its runs overwrite or delete, byte-exact; no pass sends, counts or deletes the history; retention removes only
 * expired run directories, and only after the run passed the identity checks. Real rsync, locally and through a real
 * daemon on loopback.
 */
class HistoryTest {

    private static final String HISTORY = ".changeq-history";
    private static final byte[] NEWLINE_NAME = "new\nline".getBytes(UTF_8);

    @TempDir
    Path tmp;

    private RsyncDaemon daemon;

    @AfterEach
    void stopDaemon() throws InterruptedException {
        if (daemon != null) {
            daemon.close();
        }
    }

    @Test
    void overwrittenAndDeletedVersionsAreKeptLocally() throws Exception {
        keepsEarlierVersions(tmp.resolve("copy").toString(), tmp.resolve("copy"));
    }

    @Test
    void overwrittenAndDeletedVersionsAreKeptThroughTheDaemon() throws Exception {
        Path volume = tmp.resolve("volume");
        daemon = RsyncDaemon.start(tmp.resolve("daemon"), volume);
        keepsEarlierVersions(daemon.url("nfs"), volume.resolve("nfs"));
    }

    private void keepsEarlierVersions(String dest, Path copy) throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "d/a", "a version 1");
        Trees.write(bench.root, "b", "b version 1");
        Trees.write(bench.root, NEWLINE_NAME, "newline version 1");
        Trees.write(bench.root, "gone/deep/x", "x version 1");
        ChangeqConfig config = bench.config(SyncBench.Route.of("h", dest).set("history", "{keep: 30d}")
                .set("propagate-deletes", "true").set("max-delete", "1000"));
        assertEquals(ExitCodes.OK, bench.sync(config, "h").exitCode());

        Trees.write(bench.root, "d/a", "a version 2, longer");
        Trees.write(bench.root, NEWLINE_NAME, "newline version 2");
        bench.record(writer -> {
            writer.publish(RecordType.CHANGE, SyncBench.ROOT, false, "d/a".getBytes(UTF_8));
            writer.publish(RecordType.CHANGE, SyncBench.ROOT, false, NEWLINE_NAME);
        });
        SyncReport overwrite = bench.sync(config, "h");
        assertEquals("incremental", overwrite.mode());
        assertEquals(ExitCodes.OK, overwrite.exitCode(), overwrite.errors().toString());
        Path first = onlyNewRun(copy, List.of());
        assertEquals("a version 1", Files.readString(first.resolve("d/a")));
        assertEquals("newline version 1", Files.readString(Trees.path(first, NEWLINE_NAME)));

        Files.delete(bench.root.resolve("b"));
        Trees.run(List.of("rm", "-r", bench.root.resolve("gone").toString()), 0);
        bench.record(writer -> {
            writer.publish(RecordType.DELETE, SyncBench.ROOT, false, "b".getBytes(UTF_8));
            writer.publish(RecordType.DELETE, SyncBench.ROOT, false, "gone".getBytes(UTF_8));
        });
        SyncReport deletion = bench.sync(config, "h");
        assertEquals(ExitCodes.OK, deletion.exitCode(), deletion.errors().toString());
        assertFalse(Files.exists(copy.resolve("b")));
        Path second = onlyNewRun(copy, List.of(first));
        assertEquals("b version 1", Files.readString(second.resolve("b")));
        assertEquals("x version 1", Files.readString(second.resolve("gone/deep/x")), "a deleted directory, whole");
        assertFalse(Files.exists(copy.resolve("gone")));

        Trees.write(bench.root, "d/a", "a version 3, sent by a full sync");
        Trees.write(copy, "stray", "only at the destination");
        SyncReport full = bench.sync(config, SyncRequest.of("h").withFull());
        assertEquals(ExitCodes.OK, full.exitCode(), full.errors().toString());
        assertEquals(1, full.deleted(), "the stray file, and nothing of the history: " + full.itemized());
        assertTrue(full.itemized().stream().noneMatch(line -> line.contains(HISTORY)), full.itemized().toString());
        Path third = onlyNewRun(copy, List.of(first, second));
        assertEquals("a version 2, longer", Files.readString(third.resolve("d/a")));
        assertEquals("only at the destination", Files.readString(third.resolve("stray")));
        assertEquals("a version 1", Files.readString(first.resolve("d/a")), "earlier runs' versions stay");
        assertEquals("b version 1", Files.readString(second.resolve("b")));
        Trees.assertSameTree(bench.root, copy, List.of(HISTORY));

        Command history = command(bench, "history", "d/a");
        assertEquals(0, history.exit(), history.err());
        List<String> lines = history.out().lines().toList();
        assertEquals(2, lines.size(), history.out());
        assertTrue(lines.get(0).startsWith(instant(first) + " 11 ") && lines.get(0).endsWith(" d/a"), lines.get(0));
        assertTrue(lines.get(1).startsWith(instant(third) + " 19 "), lines.get(1));
        Command newline = command(bench, "history", "new\\nline");
        assertTrue(newline.out().strip().endsWith(" new\\nline") && newline.out().lines().count() == 1, newline.out());
        Command json = command(bench, "history", "--json", ".");
        assertEquals(0, json.exit(), json.err());
        List<JsonNode> versions = new ArrayList<>();
        for (String line : json.out().lines().toList()) {
            JsonNode version = new ObjectMapper().readTree(line);
            assertEquals(List.of(), JsonSchemas.schema("history.schema.json").validate(version), line);
            versions.add(version);
        }
        assertTrue(versions.stream().anyMatch(version -> version.get("path").asText().equals("new\nline")
                && version.get("size").asLong() == "newline version 1".length()
                && version.get("run_directory").asText().equals(name(first))
                && version.get("run").asText().equals(instant(first).replace("Z", ".000Z"))), json.out());
        assertTrue(versions.stream().anyMatch(version -> version.get("path").asText().equals("gone/deep")
                && version.get("directory").asBoolean() && version.get("size").isNull()), json.out());

        Path restored = tmp.resolve("restored");
        Command restore = command(bench, "restore", "--at", name(first), "--to", restored.toString(), "d/a");
        assertEquals(0, restore.exit(), restore.err());
        assertEquals("a version 1", Files.readString(restored.resolve("d/a")));
        Path later = tmp.resolve("later");
        assertEquals(0, command(bench, "restore", "--at", instant(second), "--to", later.toString(), "d/a").exit());
        assertEquals("a version 2, longer", Files.readString(later.resolve("d/a")), "in force from run 1 to run 3");
        Path newest = tmp.resolve("newest");
        assertEquals(0, command(bench, "restore", "--to", newest.toString(), "new\\nline").exit());
        assertEquals("newline version 1", Files.readString(Trees.path(newest, NEWLINE_NAME)));

        Path whole = tmp.resolve("whole");
        Command tree = command(bench, "restore", "--at", name(first), "--to", whole.toString(), ".");
        assertEquals(0, tree.exit(), tree.err());
        assertEquals("a version 1", Files.readString(whole.resolve("d/a")));
        assertEquals("b version 1", Files.readString(whole.resolve("b")));
        assertEquals("newline version 1", Files.readString(Trees.path(whole, NEWLINE_NAME)));
        assertFalse(Files.exists(whole.resolve(HISTORY)), "the history is not part of the tree");

        Command nothing = command(bench, "restore", "--at", name(first), "--to", tmp.resolve("none").toString(), "nosuch");
        assertEquals(ExitCodes.USAGE, nothing.exit());
        assertTrue(nothing.err().contains("nothing was restored"), nothing.err());

        Command intoSource = command(bench, "restore", "--at", name(first), "--to", bench.root.resolve("r").toString(),
                "d/a");
        assertEquals(ExitCodes.USAGE, intoSource.exit());
        assertTrue(intoSource.err().contains("--over-source"), intoSource.err());
        assertFalse(Files.exists(bench.root.resolve("r")));
    }

    private record Command(int exit, String out, String err) {
    }

    private static Command command(SyncBench bench, String... args) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        List<String> all = new java.util.ArrayList<>(List.of(args));
        all.addAll(1, List.of("--config", bench.configFile().toString(), "--route", "h"));
        int exit = org.changeq.sync.SyncMain.commandLine(new java.io.PrintStream(out, true, UTF_8),
                new java.io.PrintStream(err, true, UTF_8)).execute(all.toArray(String[]::new));
        return new Command(exit, out.toString(UTF_8), err.toString(UTF_8));
    }

    private static String name(Path run) {
        return run.getFileName().toString();
    }

    /** The run's start, as history prints it. */
    private static String instant(Path run) {
        String name = name(run);
        return name.substring(0, 13) + ":" + name.substring(14, 16) + ":" + name.substring(17);
    }

    @Test
    void aRootHoldingTheHistoryNameIsRefusedForARouteWithHistory() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Files.createDirectories(bench.root.resolve(HISTORY));
        ConfigException refused = assertThrows(ConfigException.class, () -> bench.config(
                SyncBench.Route.of("h", tmp.resolve("copy").toString()).set("history", "{keep: 30d}")));
        assertTrue(refused.getMessage().contains("routes.h.history") && refused.getMessage().contains(HISTORY),
                refused.getMessage());
        assertEquals(ExitCodes.OK, bench.sync(bench.config(SyncBench.Route.of("plain", tmp.resolve("copy").toString())),
                "plain").exitCode(), "a route without history sends it as any directory");
    }

    @Test
    void aFullSyncOfARouteWithoutHistoryLeavesAnEarlierHistoryAlone() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "f", "f");
        Path copy = tmp.resolve("copy");
        Trees.write(copy, HISTORY + "/2026-01-01T00-00-00Z/f", "kept when history was on");
        ChangeqConfig config = bench.config(SyncBench.Route.of("plain", copy.toString()));
        SyncReport full = bench.sync(config, "plain");
        assertEquals(ExitCodes.OK, full.exitCode(), full.errors().toString());
        assertEquals("kept when history was on",
                Files.readString(copy.resolve(HISTORY + "/2026-01-01T00-00-00Z/f")));
    }

    @Test
    void retentionRemovesOnlyExpiredRunsLocally() throws Exception {
        retentionRemovesOnlyExpiredRuns(tmp.resolve("copy").toString(), tmp.resolve("copy"));
    }

    @Test
    void retentionRemovesOnlyExpiredRunsThroughTheDaemon() throws Exception {
        Path volume = tmp.resolve("volume");
        daemon = RsyncDaemon.start(tmp.resolve("daemon"), volume);
        retentionRemovesOnlyExpiredRuns(daemon.url("nfs"), volume.resolve("nfs"));
    }

    private void retentionRemovesOnlyExpiredRuns(String dest, Path copy) throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "f", "f");
        ChangeqConfig config = bench.config(SyncBench.Route.of("h", dest).set("history", "{keep: 2d, max-size: 100}"));
        assertEquals(ExitCodes.OK, bench.sync(config, "h").exitCode());
        Trees.write(copy, HISTORY + "/2020-01-01T00-00-00Z/old", "expired by age");
        Trees.write(copy, HISTORY + "/2020-01-01T00-00-00Z/sub/deeper", "expired by age");
        Files.createSymbolicLink(copy.resolve(HISTORY + "/2020-01-01T00-00-00Z/outside"), bench.root.resolve("f"));
        Trees.write(copy, HISTORY + "/2099-01-01T00-00-00Z/big", "x".repeat(60));
        Trees.write(copy, HISTORY + "/2099-01-02T00-00-00Z/big", "y".repeat(60));
        Trees.write(copy, HISTORY + "/not-a-run/kept", "not a run directory: never removed");

        bench.changed("f");
        // Past the hour after which the first run's retention measures a history with a max-size again.
        SyncReport run = bench.sync(config, SyncRequest.of("h"), Clock.offset(Clock.systemUTC(), Duration.ofHours(2)));
        assertEquals(ExitCodes.OK, run.exitCode(), run.errors().toString());
        assertFalse(Files.exists(copy.resolve(HISTORY + "/2020-01-01T00-00-00Z")), "older than keep");
        assertTrue(Files.exists(bench.root.resolve("f")), "the link was removed, not what it pointed to");
        assertFalse(Files.exists(copy.resolve(HISTORY + "/2099-01-01T00-00-00Z")), "the oldest past max-size");
        assertEquals("y".repeat(60), Files.readString(copy.resolve(HISTORY + "/2099-01-02T00-00-00Z/big")));
        assertTrue(Files.exists(copy.resolve(HISTORY + "/not-a-run/kept")));
        String metrics = Files.readString(bench.state.resolve("metrics/changeq_sync_h.prom"));
        assertTrue(metrics.contains("changeq_sync_history_runs{route=\"h\"} 1\n"), metrics);
        assertTrue(metrics.contains("changeq_sync_history_bytes{route=\"h\"} "
                + (60 + "not a run directory: never removed".length()) + "\n"), metrics);
    }

    /**
     * A follower's runs come every few seconds: listing the whole history after each would cost a walk of it every
     * time, though no run directory can expire before the oldest one kept does.
     */
    @Test
    void runsListTheHistoryForRetentionOnlyOnceARunDirectoryCanHaveExpired() throws Exception {
        Logger log = (Logger) LoggerFactory.getLogger("org.changeq.sync.RsyncRunner");
        ListAppender<ILoggingEvent> commands = new ListAppender<>();
        ch.qos.logback.classic.Level level = log.getLevel();
        commands.start();
        log.addAppender(commands);
        log.setLevel(ch.qos.logback.classic.Level.INFO);
        try {
            SyncBench bench = SyncBench.create(tmp.resolve("bench"));
            Path copy = tmp.resolve("copy");
            Trees.write(bench.root, "f", "f");
            ChangeqConfig config = bench.config(SyncBench.Route.of("h", copy.toString()).set("history", "{keep: 2d}"));
            assertEquals(ExitCodes.OK, bench.sync(config, "h").exitCode());
            String expiresInAnHour = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH-mm-ss'Z'").withZone(ZoneOffset.UTC)
                    .format(Instant.now().minus(Duration.ofDays(2)).plus(Duration.ofHours(1)));
            Trees.write(copy, HISTORY + "/" + expiresInAnHour + "/f", "kept an hour more");

            commands.list.clear();
            assertEquals(ExitCodes.OK, bench.sync(config, SyncRequest.of("h").withFull()).exitCode());
            assertEquals(1, historyListings(commands), "a full run lists the history for retention");
            assertTrue(Files.exists(copy.resolve(HISTORY + "/" + expiresInAnHour)), "not expired yet");

            commands.list.clear();
            Trees.write(bench.root, "f", "f, second version");
            bench.changed("f");
            assertEquals(ExitCodes.OK, bench.sync(config, "h").exitCode());
            assertEquals(0, historyListings(commands), "nothing in the history expires within the hour");
            assertTrue(Files.exists(copy.resolve(HISTORY + "/" + expiresInAnHour)));

            commands.list.clear();
            Trees.write(bench.root, "f", "f, third version");
            bench.changed("f");
            assertEquals(ExitCodes.OK, bench.sync(config, SyncRequest.of("h"),
                    Clock.offset(Clock.systemUTC(), Duration.ofHours(2))).exitCode());
            assertEquals(1, historyListings(commands), "two hours later the oldest run directory has expired");
            assertFalse(Files.exists(copy.resolve(HISTORY + "/" + expiresInAnHour)), "removed once expired");
            try (Stream<Path> runs = Files.list(copy.resolve(HISTORY))) {
                assertEquals(2, runs.count(), "the versions the two incremental runs kept stay");
            }
        } finally {
            log.setLevel(level);
            log.detachAppender(commands);
        }
    }

    /**
     * A restore reads run directories for as long as it copies: a run's retention meanwhile must not remove them. A
     * reader in another process holds the history's lock shared; a full run, which always retains, leaves the expired
     * run directory to the first run after the reader let go.
     */
    @Test
    void retentionLeavesTheHistoryAloneWhileAnotherProcessReadsIt() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Path copy = tmp.resolve("copy");
        Trees.write(bench.root, "f", "f");
        ChangeqConfig config = bench.config(SyncBench.Route.of("h", copy.toString()).set("history", "{keep: 2d}"));
        assertEquals(ExitCodes.OK, bench.sync(config, "h").exitCode());
        Trees.write(copy, HISTORY + "/2020-01-01T00-00-00Z/f", "expired, and being restored");

        Process reader = ChildJvm.command(SharedLockHolder.class,
                List.of(new StateLayout(bench.state).historyLock("h").toString()))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            java.io.BufferedReader said = new java.io.BufferedReader(
                    new java.io.InputStreamReader(reader.getInputStream(), UTF_8));
            assertEquals("locked", said.readLine(), "the reader holds the history's lock");
            assertEquals(ExitCodes.OK, bench.sync(config, SyncRequest.of("h").withFull()).exitCode(),
                    "the run succeeds; only its retention waits");
            assertEquals("expired, and being restored",
                    Files.readString(copy.resolve(HISTORY + "/2020-01-01T00-00-00Z/f")));
        } finally {
            reader.getOutputStream().close();
            assertEquals(0, reader.waitFor(), "the reader let go");
        }
        assertEquals(ExitCodes.OK, bench.sync(config, SyncRequest.of("h").withFull()).exitCode());
        assertFalse(Files.exists(copy.resolve(HISTORY + "/2020-01-01T00-00-00Z")), "removed once no one reads it");
    }

    /** The rsync runs that listed the history: retention's, which walk all of it. */
    private static long historyListings(ListAppender<ILoggingEvent> commands) {
        return commands.list.stream().map(ILoggingEvent::getFormattedMessage)
                .filter(message -> message.startsWith("running ") && message.contains(" --dry-run ")
                        && message.contains("--include=/" + HISTORY + "/***"))
                .count();
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "has no .changeq-destination, although the route"
            + " placed the marker")
    void aRefusedRunRemovesNoHistory() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "f", "f");
        Path volume = tmp.resolve("volume");
        daemon = RsyncDaemon.start(tmp.resolve("daemon"), volume);
        ChangeqConfig config = bench.config(SyncBench.Route.of("h", daemon.url("nfs")).set("history", "{keep: 1d}"));
        assertEquals(ExitCodes.OK, bench.sync(config, "h").exitCode());

        Path unmounted = tmp.resolve("system-volume");
        Trees.write(unmounted, "nfs/" + HISTORY + "/2020-01-01T00-00-00Z/old", "not this route's history");
        daemon.restartWithModuleAt(unmounted);
        bench.changed("f");
        SyncException refused = assertThrows(SyncException.class, () -> bench.sync(config, "h"));
        assertEquals(ExitCodes.DESTINATION_CHANGED, refused.exitCode());
        assertEquals("not this route's history",
                Files.readString(unmounted.resolve("nfs/" + HISTORY + "/2020-01-01T00-00-00Z/old")));
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "is not the directory the route synced before")
    void aRunRefusedForAnUnmountedLocalDestinationRemovesNoHistory() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "f", "f");
        Path copy = tmp.resolve("disk");
        try (TestMount disk = TestMount.tmpfsOrSkip(copy)) {
            ChangeqConfig config = bench.config(SyncBench.Route.of("h", copy.toString()).set("history", "{keep: 1d}"));
            assertEquals(ExitCodes.OK, bench.sync(config, "h").exitCode());
            disk.unmount();
            Trees.write(copy, HISTORY + "/2020-01-01T00-00-00Z/old", "on the disk below the mount point");
            bench.changed("f");
            SyncException refused = assertThrows(SyncException.class, () -> bench.sync(config, "h"));
            assertEquals(ExitCodes.DESTINATION_CHANGED, refused.exitCode());
            assertEquals("on the disk below the mount point",
                    Files.readString(copy.resolve(HISTORY + "/2020-01-01T00-00-00Z/old")));
        }
    }

    /** The one run directory of the history that is not among {@code known}. */
    private static Path onlyNewRun(Path copy, List<Path> known) throws IOException {
        try (Stream<Path> runs = Files.list(copy.resolve(HISTORY))) {
            List<Path> fresh = runs.filter(run -> !known.contains(run)).toList();
            assertEquals(1, fresh.size(), fresh.toString());
            assertTrue(fresh.get(0).getFileName().toString().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\dZ"),
                    fresh.toString());
            return fresh.get(0);
        }
    }
}
