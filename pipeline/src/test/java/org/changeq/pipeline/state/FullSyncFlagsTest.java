package org.changeq.pipeline.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FullSyncFlagsTest {

    @TempDir
    Path dir;

    @Test
    void aFlagIsHonouredOncePerAppearance() throws IOException {
        StateLayout layout = new StateLayout(dir.resolve("state"));
        Path legacy = Files.createDirectories(dir.resolve("root")).resolve(".force-full-sync");
        assertFalse(FullSyncFlags.read(layout, "r", legacy).legacyRequested());

        Files.writeString(legacy, "");
        FullSyncFlags seen = FullSyncFlags.read(layout, "r", legacy);
        assertTrue(seen.legacyRequested());
        assertFalse(seen.forceRequested());
        seen.markHonoured(layout, "r");
        assertFalse(FullSyncFlags.read(layout, "r", legacy).legacyRequested());

        Files.setLastModifiedTime(legacy, FileTime.from(Instant.now().plusSeconds(60)));
        FullSyncFlags touched = FullSyncFlags.read(layout, "r", legacy);
        assertTrue(touched.legacyRequested());

        Files.createDirectories(layout.forceFullFlag("r").getParent());
        Files.writeString(layout.forceFullFlag("r"), "");
        FullSyncFlags both = FullSyncFlags.read(layout, "r", legacy);
        assertTrue(both.forceRequested());
        both.markHonoured(layout, "r");
        FullSyncFlags after = FullSyncFlags.read(layout, "r", legacy);
        assertFalse(after.forceRequested() || after.legacyRequested());
        assertEquals(both.force(), after.honouredForce(), "round trip");
        assertEquals(both.legacy(), after.honouredLegacy(), "round trip");
    }

    @Test
    void aRemovedFlagKeepsWhatWasHonoured() throws IOException {
        StateLayout layout = new StateLayout(dir);
        Path legacy = dir.resolve(".force-full-sync");
        Files.writeString(legacy, "");
        FullSyncFlags.read(layout, "r", legacy).markHonoured(layout, "r");
        Files.delete(legacy);
        FullSyncFlags gone = FullSyncFlags.read(layout, "r", legacy);
        assertEquals(Optional.empty(), gone.legacy());
        assertTrue(gone.honouredLegacy().isPresent());
    }

    @Test
    void aForeignFileIsNamedWithItsFix() throws IOException {
        StateLayout layout = new StateLayout(dir);
        Files.createDirectories(layout.honouredFlags("r").getParent());
        Files.writeString(layout.honouredFlags("r"), "something else\n");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> FullSyncFlags.read(layout, "r", dir.resolve("none")));
        assertTrue(e.getMessage().contains("delete it"), e.getMessage());
    }
}
