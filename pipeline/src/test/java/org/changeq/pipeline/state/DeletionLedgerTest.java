package org.changeq.pipeline.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.changeq.pipeline.state.DeletionLedger.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeletionLedgerTest {

    private static final long HOUR = Duration.ofHours(1).toMillis();

    @TempDir
    Path dir;

    @Test
    void roundTripsItsRunsDurablyInAVersionedTextFile() throws IOException {
        DeletionLedger ledger = DeletionLedger.EMPTY.plus(1_700_000_000_123L, 20).plus(1_700_000_100_000L, 0);
        Path file = new StateLayout(dir).deletionLedger("offsite");
        ledger.write(file);

        assertEquals(ledger, DeletionLedger.read(file));
        assertEquals("changeq-deletions 1\n1700000000123 20\n1700000100000 0\n", Files.readString(file));
        try (var files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList(), "no temporary file is left behind");
        }
    }

    @Test
    void aMissingFileIsAnEmptyLedger() throws IOException {
        assertEquals(DeletionLedger.EMPTY, DeletionLedger.read(dir.resolve("none")));
        assertEquals(0, DeletionLedger.EMPTY.total());
    }

    @Test
    void theWindowCountsOnlyTheRunsOfItsLastStretch() {
        long now = 100 * HOUR;
        DeletionLedger ledger = DeletionLedger.EMPTY.plus(now - 30 * HOUR, 500).plus(now - 24 * HOUR, 7)
                .plus(now - 2 * HOUR, 20).plus(now, 30);

        assertEquals(557, ledger.total());
        DeletionLedger lastDay = ledger.within(Duration.ofHours(24), now);
        assertEquals(List.of(new Run(now - 2 * HOUR, 20), new Run(now, 30)), lastDay.runs(),
                "a run exactly one window ago has left it");
        assertEquals(50, lastDay.total());
        assertEquals(57, ledger.within(Duration.ofHours(25), now).total());
        assertEquals(0, ledger.within(Duration.ofHours(1), now + 2 * HOUR).total());
    }

    @Test
    void aFileOfAnotherVersionOrGarbageIsRefusedWithTheFix() throws IOException {
        Path file = dir.resolve("ledger");
        Files.writeString(file, "changeq-deletions 2\n1 2\n");
        IllegalStateException newer = assertThrows(IllegalStateException.class, () -> DeletionLedger.read(file));
        assertTrue(newer.getMessage().contains("format 2; this build reads version 1"), newer.getMessage());

        byte[] garbage = "changeq-deletions 1\n12 x\n".getBytes(StandardCharsets.US_ASCII);
        IllegalStateException malformed = assertThrows(IllegalStateException.class,
                () -> DeletionLedger.decode(garbage, file));
        assertTrue(malformed.getMessage().contains("the line '12 x' is not 'MILLIS COUNT'"), malformed.getMessage());
        assertTrue(malformed.getMessage().contains("move it away"), malformed.getMessage());
    }
}
