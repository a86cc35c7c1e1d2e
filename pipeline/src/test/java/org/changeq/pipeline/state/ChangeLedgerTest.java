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
import org.changeq.pipeline.state.ChangeLedger.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChangeLedgerTest {

    private static final long HOUR = Duration.ofHours(1).toMillis();

    @TempDir
    Path dir;

    @Test
    void roundTripsItsRunsByKindDurablyInAVersionedTextFile() throws IOException {
        ChangeLedger ledger = ChangeLedger.EMPTY.plus(new Run(1_700_000_000_123L, 20, 3, 0))
                .plus(new Run(1_700_000_100_000L, 0, 0, 2001));
        Path file = new StateLayout(dir).changeLedger("offsite");
        ledger.write(file);

        assertEquals(ledger, ChangeLedger.read(file));
        assertEquals("changeq-changes 1\n1700000000123 20 3 0\n1700000100000 0 0 2001\n", Files.readString(file));
        assertEquals(2024, ledger.total());
        assertEquals(2004, ledger.removed(), "deleted and renamed away: the destination held them before");
        assertEquals(ChangeLedger.EMPTY, ChangeLedger.read(dir.resolve("none")));
    }

    @Test
    void theWindowCountsOnlyTheRunsOfItsLastStretch() {
        long now = 100 * HOUR;
        ChangeLedger ledger = ChangeLedger.EMPTY.plus(new Run(now - 30 * HOUR, 500, 0, 0))
                .plus(new Run(now - 2 * HOUR, 10, 5, 5)).plus(new Run(now, 30, 0, 0));
        assertEquals(List.of(new Run(now - 2 * HOUR, 10, 5, 5), new Run(now, 30, 0, 0)),
                ledger.within(Duration.ofHours(24), now).runs());
        assertEquals(50, ledger.within(Duration.ofHours(24), now).total());
    }

    @Test
    void aFileOfAnotherVersionOrGarbageIsRefusedWithTheFix() throws IOException {
        Path file = dir.resolve("ledger");
        Files.writeString(file, "changeq-changes 2\n1 2 3 4 5\n");
        IllegalStateException newer = assertThrows(IllegalStateException.class, () -> ChangeLedger.read(file));
        assertTrue(newer.getMessage().contains("format 2; this build reads version 1"), newer.getMessage());

        byte[] deletions = "changeq-deletions 1\n12 3\n".getBytes(StandardCharsets.US_ASCII);
        IllegalStateException other = assertThrows(IllegalStateException.class, () -> ChangeLedger.decode(deletions, file));
        assertTrue(other.getMessage().contains("not a changeq change ledger"), other.getMessage());
        byte[] garbage = "changeq-changes 1\n12 3\n".getBytes(StandardCharsets.US_ASCII);
        IllegalStateException malformed = assertThrows(IllegalStateException.class, () -> ChangeLedger.decode(garbage, file));
        assertTrue(malformed.getMessage().contains("the line '12 3' is not 'MILLIS OVERWRITTEN DELETED RENAMED'"),
                malformed.getMessage());
        assertTrue(malformed.getMessage().contains("move it away"), malformed.getMessage());
    }
}
