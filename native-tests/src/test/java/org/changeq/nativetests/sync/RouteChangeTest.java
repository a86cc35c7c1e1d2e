package org.changeq.nativetests.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.inspect.QueueMain;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.sync.CoverageCheck;
import org.changeq.sync.SyncReport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A route whose selection or destination changed since its cursor was committed runs full once, so what it now selects
 * reaches where it now sends; a narrowed selection deletes nothing it no longer selects. Real rsync, a real daemon.
 */
class RouteChangeTest {

    @TempDir
    Path tmp;

    private SyncBench bench;
    private RsyncDaemon daemon;

    @BeforeEach
    void setUp() throws IOException {
        bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "docs/d1.txt", "1");
        Trees.write(bench.root, "docs/d2.txt", "2");
        Trees.write(bench.root, "photos/p1.jpg", "p");
        Trees.write(bench.root, "temp/t1", "t");
    }

    @AfterEach
    void stopDaemon() throws InterruptedException {
        if (daemon != null) {
            daemon.close();
        }
    }

    @Test
    void aNewDestinationGetsTheWholeTreeNotOnlyTheNextChanges() throws Exception {
        daemon = RsyncDaemon.start(tmp.resolve("daemon"), tmp.resolve("module"));
        ChangeqConfig first = bench.config(SyncBench.Route.of("r", daemon.url("nasA")));
        assertEquals(ExitCodes.OK, bench.sync(first, "r").exitCode());

        ChangeqConfig moved = bench.config(SyncBench.Route.of("r", daemon.url("nasB")));
        Trees.write(bench.root, "docs/d3.txt", "3");
        bench.changed("docs/d3.txt");
        assertEquals("route-changed", stat().get("full_reason"), "changeq-queue stat names the coming full sync");
        assertTrue(check(moved).contains("route 'r': the route's root, excludes, includes (or the lists they name), dest"
                + " or rsync-args changed since its cursor was committed: its next run is full (reason route-changed)"),
                check(moved));
        SyncReport changed = bench.sync(moved, "r");
        assertEquals(List.of("full", "route-changed", ExitCodes.OK), List.of(changed.mode(), changed.reason(),
                changed.exitCode()));
        Trees.assertSameTree(bench.root, daemon.moduleDirectory().resolve("nasB"));

        SyncReport after = bench.sync(moved, "r");
        assertEquals(List.of("incremental", "nothing-to-do"), List.of(after.mode(), after.reason()),
                "the full sync recorded the new selection");
        assertFalse(check(moved).contains("route-changed"), check(moved));
    }

    @Test
    void aRemovedExcludeSendsWhatItHadKeptBack() throws Exception {
        Path dest = tmp.resolve("dest");
        assertEquals(ExitCodes.OK, bench.sync(bench.config(SyncBench.Route.of("r", dest.toString()).exclude("/docs/")),
                "r").exitCode());
        assertFalse(Files.exists(dest.resolve("docs")));

        SyncReport widened = bench.sync(bench.config(SyncBench.Route.of("r", dest.toString())), "r");
        assertEquals(List.of("full", "route-changed"), List.of(widened.mode(), widened.reason()));
        Trees.assertSameTree(bench.root, dest);
    }

    @Test
    void aWidenedNamedListSendsWhatItNowIncludes() throws Exception {
        Path dest = tmp.resolve("dest");
        SyncBench.Route bypass = SyncBench.Route.of("r", dest.toString()).lists("bypass", null);
        assertEquals(ExitCodes.OK, bench.sync(bench.config(Map.of("bypass", List.of("/photos/")), bypass), "r").exitCode());
        assertFalse(Files.exists(dest.resolve("temp")));

        SyncReport widened = bench.sync(bench.config(Map.of("bypass", List.of("/photos/", "/temp/")), bypass), "r");
        assertEquals(List.of("full", "route-changed"), List.of(widened.mode(), widened.reason()),
                "the list's contents count, not its name");
        assertEquals("t", Files.readString(dest.resolve("temp/t1")));
    }

    @Test
    void aNarrowedSelectionDeletesNothingItNoLongerSelects() throws Exception {
        Path dest = tmp.resolve("dest");
        SyncBench.Route route = SyncBench.Route.of("r", dest.toString()).deleteOnFull(true);
        assertEquals(ExitCodes.OK, bench.sync(bench.config(route.include("/docs/", "/temp/", "*.jpg")), "r").exitCode());
        Trees.assertSameTree(bench.root, dest);

        SyncReport narrowed = bench.sync(bench.config(route.include("/docs/", "*.jpg").exclude("/docs/d2.txt")), "r");
        assertEquals(List.of("full", "route-changed", ExitCodes.OK), List.of(narrowed.mode(), narrowed.reason(),
                narrowed.exitCode()));
        Trees.assertSameTree(bench.root, dest);

        SyncReport anchored = bench.sync(bench.config(route.include("/docs/")), "r");
        assertEquals(List.of("full", "route-changed", ExitCodes.OK), List.of(anchored.mode(), anchored.reason(),
                anchored.exitCode()));
        Trees.assertSameTree(bench.root, dest);
    }

    @Test
    void aRouteLastRunByAnOlderVersionRecordsItsSelectionWithoutAFullSync() throws Exception {
        Path dest = tmp.resolve("dest");
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", dest.toString()));
        assertEquals(ExitCodes.OK, bench.sync(config, "r").exitCode());
        Path recorded = new StateLayout(bench.state).directory().resolve("cursors/r.selection");
        assertTrue(Files.exists(recorded));
        Files.delete(recorded);

        Trees.write(bench.root, "docs/d3.txt", "3");
        bench.changed("docs/d3.txt");
        SyncReport upgraded = bench.sync(config, "r");
        assertEquals(List.of("incremental", "changes"), List.of(upgraded.mode(), upgraded.reason()));
        assertTrue(Files.exists(recorded), "recorded by the first run that commits");

        Files.writeString(recorded, "changeq-route-selection 9 whatever\n");
        SyncReport unreadable = bench.sync(config, "r");
        assertEquals(List.of("full", "route-changed"), List.of(unreadable.mode(), unreadable.reason()),
                "a record this build cannot read is taken as a change");
    }

    private String check(ChangeqConfig config) throws Exception {
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        CoverageCheck.run(config, 5, new PrintStream(output, true, UTF_8));
        return output.toString(UTF_8);
    }

    /** The route line of {@code changeq-queue stat --json}, as key to raw value. */
    private Map<String, String> stat() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = QueueMain.run(new String[] {"stat", "--json", "--config", bench.configFile().toString()},
                new PrintStream(out, true, UTF_8), new PrintStream(err, true, UTF_8));
        assertEquals(ExitCodes.OK, exit, err.toString(UTF_8));
        String line = out.toString(UTF_8).lines().filter(l -> l.contains("\"kind\":\"route\"")).findFirst().orElseThrow();
        Map<String, String> fields = new java.util.HashMap<>();
        java.util.regex.Matcher field = java.util.regex.Pattern.compile("\"([a-z_]+)\":(\"[^\"]*\"|[^,}]*)").matcher(line);
        while (field.find()) {
            fields.put(field.group(1), field.group(2).replaceAll("^\"|\"$", ""));
        }
        return fields;
    }
}
