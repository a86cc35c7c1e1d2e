package org.changeq.pipeline.state;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunChangesTest {

    @TempDir
    Path dir;

    @Test
    void roundTripsByteExactNamesAndKeepsTheLastRuns() throws IOException {
        Path runs = new StateLayout(dir).runChanges("offsite");
        byte[] odd = {'a', '\n', (byte) 0xff, 'b'};
        for (int run = 0; run < RunChanges.KEPT_RUNS + 3; run++) {
            RunChanges.Builder builder = new RunChanges.Builder();
            builder.add(RunChanges.Kind.NEW, odd);
            builder.add(RunChanges.Kind.OVERWRITTEN, ("f" + run).getBytes(UTF_8));
            builder.add(RunChanges.Kind.OVERWRITTEN, ("f" + run).getBytes(UTF_8));
            builder.add(RunChanges.Kind.DELETED, "gone".getBytes(UTF_8));
            builder.build(1_700_000_000_000L + run).write(runs);
        }
        try (var files = Files.list(runs)) {
            assertEquals(RunChanges.KEPT_RUNS, files.count());
        }
        RunChanges last = RunChanges.read(runs, 1).orElseThrow();
        assertEquals(1_700_000_000_000L + RunChanges.KEPT_RUNS + 2, last.startedMillis());
        assertEquals("1 new, 1 overwritten, 1 deleted", last.describe(), "a path itemized twice counts once");
        assertEquals(2, last.changed());
        assertArrayEquals(odd, last.entries().get(0).path());
        assertEquals(1_700_000_000_000L + 3, RunChanges.read(runs, RunChanges.KEPT_RUNS).orElseThrow().startedMillis());
        assertEquals(Optional.empty(), RunChanges.read(runs, RunChanges.KEPT_RUNS + 1));
        assertEquals(Optional.empty(), RunChanges.read(dir.resolve("none"), 1));
    }

    @Test
    void aRunBeyondTheListedPathsKeepsItsCounts() throws IOException {
        RunChanges.Builder builder = new RunChanges.Builder();
        for (int i = 0; i < RunChanges.LISTED_PATHS + 5; i++) {
            builder.add(RunChanges.Kind.OVERWRITTEN, ("f" + i).getBytes(UTF_8));
        }
        builder.build(42).write(dir);
        RunChanges read = RunChanges.read(dir, 1).orElseThrow();
        assertEquals(RunChanges.LISTED_PATHS, read.entries().size());
        assertEquals(RunChanges.LISTED_PATHS + 5, read.count(RunChanges.Kind.OVERWRITTEN));
    }

    @Test
    void aRecordOfAnotherVersionIsRefusedWithTheFix() throws IOException {
        Files.write(dir.resolve("7.run"), "changeq-run-changes\0002\0".getBytes(UTF_8));
        IllegalStateException newer = assertThrows(IllegalStateException.class, () -> RunChanges.read(dir, 1));
        assertTrue(newer.getMessage().contains("run record format 2; this build reads version 1"), newer.getMessage());
        Files.write(dir.resolve("7.run"), "something else".getBytes(UTF_8));
        IllegalStateException garbage = assertThrows(IllegalStateException.class, () -> RunChanges.read(dir, 1));
        assertTrue(garbage.getMessage().contains("is not a changeq run record; move it away"), garbage.getMessage());
    }
}
