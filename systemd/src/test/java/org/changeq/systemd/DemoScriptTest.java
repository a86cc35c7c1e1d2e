package org.changeq.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code changeq-demo}'s command line: help and bad arguments are answered before anything is created or started. */
class DemoScriptTest {

    private static final Path DEMO = ModuleFiles.source("dist/bin/changeq-demo");

    @TempDir
    Path work;

    @Test
    void helpPrintsTheUsageAndExitCodesAndStartsNothing() throws Exception {
        for (String option : List.of("--help", "-h")) {
            ModuleFiles.Result help = ModuleFiles.run(work, List.of("sh", DEMO.toString(), option));

            assertEquals(0, help.exitCode(), help.toString());
            assertTrue(help.stdout().startsWith("Usage: changeq-demo [WORK-DIR]\n"), help.toString());
            assertTrue(help.stdout().contains("Exit codes:"), help.toString());
            assertEquals("", help.stderr(), help.toString());
            help.stdout().lines().forEach(line -> assertTrue(line.length() <= 80, line));
        }
        assertEquals(List.of(), Files.list(work).toList(), "--help creates nothing");
    }

    @Test
    void aWorkDirectoryStartingWithADashIsRefusedAndNothingIsCreated() throws Exception {
        ModuleFiles.Result dash = ModuleFiles.run(work, List.of("sh", DEMO.toString(), "-rf"));
        assertEquals(2, dash.exitCode(), dash.toString());
        assertEquals("changeq-demo: unknown option '-rf' (a work directory whose name starts with '-' is given as "
                + "./-rf)\nRun 'changeq-demo --help' for usage.\n", dash.stderr());

        ModuleFiles.Result two = ModuleFiles.run(work, List.of("sh", DEMO.toString(), "a", "b"));
        assertEquals(2, two.exitCode(), two.toString());
        assertTrue(two.stderr().startsWith("changeq-demo: one WORK-DIR at most, got 2"), two.toString());

        assertEquals(List.of(), Files.list(work).toList(), "a refused command line creates nothing");
    }
}
