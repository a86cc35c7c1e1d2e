package org.changeq.pipeline.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.plan.SyncPolicy.Mode;
import org.changeq.pipeline.state.RouteRuns.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RouteRunsTest {

    @TempDir
    Path dir;

    private static final Run FULL_OK = new Run(1_700_000_000_000L, 1_700_000_042_500L, Optional.of(Mode.FULL),
            ExitCodes.OK, 1234);
    private static final Run REFUSED = new Run(1_700_000_100_000L, 1_700_000_100_020L, Optional.empty(),
            ExitCodes.DESTINATION_CHANGED, 0);

    @Test
    void roundTripsTheLastRunAndTheLastSuccessInAVersionedTextFile() throws IOException {
        Path file = new StateLayout(dir).routeRuns("offsite");
        RouteRuns.record(file, FULL_OK, true);
        RouteRuns.record(file, REFUSED, false);

        assertEquals(new RouteRuns(Optional.of(REFUSED), Optional.of(FULL_OK)), RouteRuns.read(file));
        assertEquals("changeq-route-runs 1\nlast 1700000100000 1700000100020 - 13 0\n"
                + "success 1700000000000 1700000042500 full 0 1234\n", Files.readString(file));
        assertEquals(42_500, FULL_OK.durationMillis());
        try (var files = Files.list(file.getParent())) {
            assertEquals(1, files.count(), "no temporary file is left behind");
        }
    }

    @Test
    void aRouteThatNeverRanHasNoRuns() throws IOException {
        assertEquals(RouteRuns.NONE, RouteRuns.read(dir.resolve("none")));
        Path file = dir.resolve("runs");
        RouteRuns.record(file, REFUSED, false);
        assertEquals(Optional.empty(), RouteRuns.read(file).lastSuccess(), "a failed first run is no success");
    }

    @Test
    void aFileOfAnotherVersionOrGarbageIsRefusedWhenReadAndReplacedByTheNextRun() throws IOException {
        Path file = dir.resolve("runs");
        Files.writeString(file, "changeq-route-runs 2\nlast 1 2 full 0 3 extra\n");
        IllegalStateException version = assertThrows(IllegalStateException.class, () -> RouteRuns.read(file));
        assertTrue(version.getMessage().contains("format 2; this build reads version 1"), version.getMessage());

        Files.writeString(file, "changeq-route-runs 1\nlast 1 2 sideways 0 3\n");
        IllegalStateException garbage = assertThrows(IllegalStateException.class, () -> RouteRuns.read(file));
        assertTrue(garbage.getMessage().contains(file + " is malformed") && garbage.getMessage().contains("next run replaces it"),
                garbage.getMessage());

        RouteRuns.record(file, FULL_OK, true);
        assertEquals(new RouteRuns(Optional.of(FULL_OK), Optional.of(FULL_OK)), RouteRuns.read(file));
    }
}
