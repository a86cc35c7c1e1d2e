package org.changeq.nativetests.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.ConfigLoader;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.sync.CoverageCheck;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/** {@code changeq-sync check} over a real tree: complementary routes pass, an overlap or a gap fails. */
class CoverageCheckTest {

    private static final List<String> BYPASS = List.of("/immich/", "*-backup", "/media/photos/");

    @TempDir
    Path tmp;

    private SyncBench bench;
    private final ByteArrayOutputStream output = new ByteArrayOutputStream();

    @BeforeEach
    void tree() throws Exception {
        bench = SyncBench.create(tmp.resolve("bench"));
        for (String path : List.of("docs/a.txt", "immich/library/p.jpg", "media/photos/x.jpg", "media/films/f.mkv",
                "db-backup/dump.sql", "home/user/db-backup/old.sql", "home/user/notes")) {
            Trees.write(bench.root, path, path);
        }
        Trees.write(bench.root, new byte[] {'b', 'a', 'd', (byte) 0xff, '\n'}, "invalid UTF-8 and a newline");
    }

    private SyncBench.Route mirror(String... extraExcludes) {
        return SyncBench.Route.of("mirror", tmp.resolve("mirror").toString()).lists(null, "bypass")
                .exclude(extraExcludes);
    }

    private SyncBench.Route offsite(String... extraIncludes) {
        return SyncBench.Route.of("offsite", tmp.resolve("offsite").toString()).lists("bypass", null)
                .include(extraIncludes).deleteOnFull(false);
    }

    private ChangeqConfig config(SyncBench.Route... routes) throws Exception {
        return bench.config(java.util.Map.of("bypass", BYPASS), routes);
    }

    private int check(ChangeqConfig config) throws Exception {
        output.reset();
        return CoverageCheck.run(config, 5, new PrintStream(output, true, StandardCharsets.UTF_8));
    }

    private String output() {
        return output.toString(StandardCharsets.UTF_8);
    }

    @Test
    void complementaryRoutesCoverEveryPathExactlyOnce() throws Exception {
        assertEquals(ExitCodes.OK, check(config(mirror(), offsite())), output());
        assertTrue(output().contains("gaps (sent by no route): 0"), output());
        assertTrue(output().contains("overlaps (sent by more than one route): 0"), output());
        assertTrue(output().contains("1 with names that are not valid UTF-8"), output());
    }

    @Test
    void anOverlapFailsTheCheckWithExamples() throws Exception {
        assertEquals(ExitCodes.CHECK_FAILED, check(config(mirror(), offsite("/docs/"))));
        assertTrue(output().contains("overlaps (sent by more than one route): 2"), output());
        assertTrue(output().contains("      docs/\n"), output());
        assertTrue(output().contains("      docs/a.txt\n"), output());
    }

    @Test
    void aGapFailsTheCheckAndNamesAreShownEscaped() throws Exception {
        assertEquals(ExitCodes.CHECK_FAILED, check(config(mirror("bad*"), offsite())));
        assertTrue(output().contains("gaps (sent by no route): 1"), output());
        assertTrue(output().contains("      bad\\xff\\n\n"), output());
    }

    @Test
    void aFullSyncThatWouldDeleteAtTheDestinationIsAWarning() throws Exception {
        Trees.write(tmp.resolve("mirror"), "someone-elses-backup.img", "not ours");
        ChangeqConfig config = config(mirror(), offsite());
        assertEquals(ExitCodes.OK, check(config), output());
        assertTrue(output().contains("route 'mirror': WARNING: a full sync (delete-on-full) would DELETE 1 paths"),
                output());
        assertTrue(output().contains("      someone-elses-backup.img\n"), output());
        assertTrue(Files.exists(tmp.resolve("mirror/someone-elses-backup.img")), "check itself deletes nothing");
    }

    @Test
    void aFullSyncThatWouldDeleteMoreThanMaxDeleteFailsTheCheck() throws Exception {
        for (int i = 0; i < 30; i++) {
            Trees.write(tmp.resolve("mirror"), "old/" + i, "gone from the root");
        }
        assertEquals(ExitCodes.CHECK_FAILED, check(config(mirror(), offsite())), output());
        assertTrue(output().contains("route 'mirror': a full sync would be refused: 31 deletions > max-delete 25% = "),
                output());
        assertTrue(output().contains("--full --allow-deletes 31"), output());
        assertTrue(Files.exists(tmp.resolve("mirror/old/0")), "check itself deletes nothing");
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "RsyncRunner")
    void aDestinationThatCannotBeReachedFailsTheCheck() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        SyncBench.Route daemonDown = SyncBench.Route.of("mirror", "rsync://127.0.0.1:" + closedPort + "/nas/mirror")
                .lists(null, "bypass");
        Logger runner = (Logger) LoggerFactory.getLogger("org.changeq.sync.RsyncRunner");
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        runner.addAppender(log);
        try {
            assertEquals(ExitCodes.CHECK_FAILED, check(config(daemonDown, offsite())), output());
        } finally {
            runner.detachAppender(log);
        }
        List<String> rsyncErrors = log.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        assertTrue(rsyncErrors.contains("rsync: [sender] failed to connect to 127.0.0.1 (127.0.0.1): Connection refused"
                + " (111)"), "rsync's lines as rsync wrote them, its name once: " + rsyncErrors);
        assertTrue(output().contains("route 'mirror': FAILED: the dry run of a full sync to rsync://127.0.0.1:"
                + closedPort + "/nas/mirror exited with 10 ("), output());
        assertFalse(output().contains("\\r"), "ssh's and rsync's line ends are not shown: " + output());
        assertTrue(output().endsWith("check: FAILED\n"), output());

        Path noDisk = tmp.resolve("no-disk");
        SyncBench.Route parentMissing = SyncBench.Route.of("offsite", noDisk.resolve("offsite").toString())
                .lists("bypass", null).deleteOnFull(false);
        assertEquals(ExitCodes.CHECK_FAILED, check(config(mirror(), parentMissing)), output());
        assertTrue(output().contains("route 'offsite': FAILED: the directory " + noDisk + " that would hold the"
                + " destination " + noDisk.resolve("offsite") + " does not exist"), output());
    }

    @Test
    void aRootNoRouteReadsIsNamedWithoutFailingTheCheck() throws Exception {
        config(mirror(), offsite());
        Path unread = Files.createDirectories(tmp.resolve("beta"));
        String yaml = Files.readString(bench.configFile()).replace("roots:\n", "roots:\n  beta: {path: " + unread + "}\n");
        Files.writeString(bench.configFile(), yaml);
        assertEquals(ExitCodes.OK, check(ConfigLoader.load(bench.configFile())), output());
        assertTrue(output().contains("root 'beta' (" + unread + "): WARNING: no route reads it"), output());
        assertFalse(output().contains("root 'nfs' (" + bench.root + "): WARNING"), output());
    }
}
