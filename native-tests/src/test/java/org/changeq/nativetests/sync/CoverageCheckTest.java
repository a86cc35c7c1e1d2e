package org.changeq.nativetests.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.sync.CoverageCheck;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
        assertTrue(output().contains("route 'mirror': a full sync would be REFUSED: it would delete 31 paths at "
                + tmp.resolve("mirror") + ", over max-delete 25% = "), output());
        assertTrue(output().contains("--allow-deletes 31"), output());
        assertTrue(Files.exists(tmp.resolve("mirror/old/0")), "check itself deletes nothing");
    }
}
