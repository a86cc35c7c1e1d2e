package org.changeq.pipeline.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import org.changeq.pipeline.state.LastFullSyncFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IndexFileTest {

    @TempDir
    Path dir;

    @Test
    void absentFileReadsAsEmpty() throws Exception {
        assertEquals(OptionalLong.empty(), new IndexFile(dir.resolve("r.cursor"), "cursor").read());
    }

    @Test
    void writtenIndexRoundTripsAndLeavesNoTemporaryFile() throws Exception {
        IndexFile file = new IndexFile(dir.resolve("sub/r.cursor"), "cursor");
        file.write(123_456_789_012L);
        file.write(-1);
        assertEquals(OptionalLong.of(-1), file.read());
        try (var files = Files.list(dir.resolve("sub"))) {
            assertEquals(1, files.count());
        }
    }

    @Test
    void theCodecIsVersionedText() {
        assertEquals("changeq-cursor 1 42\n", IndexFile.encode("cursor", 42));
        assertEquals(42, IndexFile.decode("cursor", "changeq-cursor 1 42\n", dir));
    }

    @Test
    void foreignOrNewerFilesAreRefusedWithTheirPath() throws Exception {
        Path path = dir.resolve("r.cursor");
        Files.writeString(path, "changeq-cursor 2 42\n");
        var newer = assertThrows(IllegalStateException.class, () -> new IndexFile(path, "cursor").read());
        assertTrue(newer.getMessage().contains("version 2") && newer.getMessage().contains(path.toString()));
        Files.writeString(path, "garbage");
        var foreign = assertThrows(IllegalStateException.class, () -> new IndexFile(path, "cursor").read());
        assertTrue(foreign.getMessage().contains("not a changeq cursor file"), foreign.getMessage());
        Files.writeString(path, "changeq-claim 1 42\n");
        assertThrows(IllegalStateException.class, () -> new IndexFile(path, "cursor").read());
    }

    @Test
    void anIndexNamesItsQueueInVersionTwoAndVersionOneStillReads() throws Exception {
        IndexFile cursor = new IndexFile(dir.resolve("cursors/r.cursor"), "cursor");
        java.util.UUID queue = java.util.UUID.fromString("0b9e7a52-4a6c-4f0e-9d52-1c3f2a7e5b10");
        cursor.write(42, java.util.Optional.of(queue));
        assertEquals("changeq-cursor 2 42 0b9e7a52-4a6c-4f0e-9d52-1c3f2a7e5b10\n", Files.readString(cursor.path()));
        assertEquals(java.util.Optional.of(new IndexFile.Entry(42, java.util.Optional.of(queue))), cursor.readEntry());
        assertEquals(OptionalLong.of(42), cursor.read());
        Files.writeString(cursor.path(), "changeq-cursor 1 7\n");
        assertEquals(java.util.Optional.of(new IndexFile.Entry(7, java.util.Optional.empty())), cursor.readEntry());
        Files.writeString(cursor.path(), "changeq-cursor 2 7\n");
        assertThrows(IllegalStateException.class, cursor::readEntry, "version 2 without its queue id");
        Files.writeString(cursor.path(), "changeq-cursor 2 7 not-a-uuid\n");
        assertThrows(IllegalStateException.class, cursor::readEntry);
    }

    @Test
    void highestClaimIsTheMaximumOverConsumers() throws Exception {
        ClaimBoard claims = new ClaimBoard(dir);
        assertEquals(ClaimBoard.NO_CLAIM, claims.highestClaim());
        claims.publish("mirror", 10, java.util.Optional.empty());
        claims.publish("offsite", 30, java.util.Optional.empty());
        claims.publish("other", 20, java.util.Optional.empty());
        assertEquals(30, claims.highestClaim());
        assertEquals(OptionalLong.of(20), claims.claimOf("other"));
    }

    @Test
    void lastFullSyncDateRoundTripsAndRejectsOtherVersions() throws IOException {
        LastFullSyncFile file = new LastFullSyncFile(dir.resolve("r.last-full"));
        assertTrue(file.read().isEmpty());
        file.write(LocalDate.of(2026, 11, 2));
        assertEquals("changeq-last-full 1 2026-11-02\n", Files.readString(dir.resolve("r.last-full")));
        assertEquals(LocalDate.of(2026, 11, 2), file.read().orElseThrow());
        Files.writeString(dir.resolve("r.last-full"), "changeq-last-full 2 2026-11-02\n");
        IllegalStateException e = assertThrows(IllegalStateException.class, file::read);
        assertTrue(e.getMessage().contains("format version 2"), e.getMessage());
    }

}
