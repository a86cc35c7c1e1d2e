package org.changeq.nativetests.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.changeq.nativetests.sync.Trees;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.state.DeletionLedger;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.sync.SyncException;
import org.changeq.sync.SyncRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

/**
 * A directory renamed inside a root, as the real tracker records it, reaches an rsync daemon under its new name, and
 * the removal of its old name is not counted against max-delete: a rename is no loss. Renaming away most of the
 * destination's files is a mass change all the same, which max-change holds until consent.
 */
class RenamedDirectoryTest {

    @TempDir
    Path temp;

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "mass change refused")
    void mostOfTheTreeRenamedArrivesUnderItsNewNameWithoutCountAgainstMaxDelete() throws Exception {
        try (FaultBench bench = FaultBench.create(temp)) {
            for (int i = 0; i < 2000; i++) {
                Trees.write(bench.root, "photos/f" + i, "photo " + i);
            }
            Trees.write(bench.root, "notes", "not renamed");
            bench.startTracker();
            bench.awaitTrackerWatching();
            assertEquals(ExitCodes.OK, bench.sync().exitCode(), "the first run: full");

            Files.move(bench.root.resolve("photos"), bench.root.resolve("photos-2026"));
            bench.awaitRecord("the old name", record -> record.type() == RecordType.RENAMED_AWAY);
            bench.awaitRecorded();
            SyncException held = assertThrows(SyncException.class, bench::sync);
            assertEquals(ExitCodes.MASS_CHANGE_REFUSED, held.exitCode(), held.getMessage());
            assertTrue(held.getMessage().contains("(0 overwritten, 0 deleted, 2001 renamed away)"), held.getMessage());
            assertEquals(ExitCodes.OK, bench.sync(SyncRequest.of(FaultBench.ROUTE).allowingChanges(2001)).exitCode(),
                    "photos/ and its 2000 files go under their old name, far above max-delete's 25%");
            bench.assertDestinationEqualsSource();
            assertEquals(0, DeletionLedger.read(new StateLayout(bench.state).deletionLedger(FaultBench.ROUTE)).total());

            Files.delete(bench.root.resolve("notes"));
            bench.awaitRecorded();
            assertEquals(ExitCodes.OK, bench.sync().exitCode());
            assertEquals(1, DeletionLedger.read(new StateLayout(bench.state).deletionLedger(FaultBench.ROUTE)).total(),
                    "a deletion counts");
            bench.assertDestinationEqualsSource();
        }
    }
}
