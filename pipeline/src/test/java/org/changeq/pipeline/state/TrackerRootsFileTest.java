package org.changeq.pipeline.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.changeq.pipeline.state.TrackerRootsFile.Condition;
import org.changeq.pipeline.state.TrackerRootsFile.RootStatus;
import org.changeq.pipeline.state.TrackerRootsFile.Snapshot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrackerRootsFileTest {

    @TempDir
    Path dir;

    private final Snapshot snapshot = new Snapshot(1_764_400_000_123L, 4711, List.of(
            new RootStatus("nfs", Condition.WATCHED, 1_764_300_000_000L, ""),
            new RootStatus("backup", Condition.UNMOUNTED, 1_764_399_999_000L,
                    "the file system at /mnt/backup was unmounted; mount /mnt/backup, the tracker watches it again"),
            new RootStatus("photos.2", Condition.UNREADABLE, 5, "permission denied: é\nsecond line")));

    @Test
    void everyConditionRoundTripsThroughTheFileAndNoTemporaryFileStays() throws Exception {
        TrackerRootsFile file = new StateLayout(dir).trackerRoots();
        assertEquals(Optional.empty(), file.read());
        for (Condition condition : Condition.values()) {
            Snapshot one = new Snapshot(1, 2, List.of(new RootStatus("r", condition, 3, "detail with  spaces ")));
            file.write(one);
            assertEquals(Optional.of(one), file.read());
        }
        file.write(snapshot);
        Snapshot read = file.read().orElseThrow();
        assertEquals(snapshot, read);
        assertEquals("permission denied: é second line", read.roots().get(2).detail(), "one line per root");
        try (var files = Files.list(file.path().getParent())) {
            assertEquals(1, files.count());
        }
    }

    @Test
    void theFormatIsVersionedTextWithOneLinePerRoot() {
        Snapshot small = new Snapshot(10, 20, List.of(new RootStatus("nfs", Condition.MISSING, 30, "gone")));
        assertEquals("changeq-tracker-roots 1 10 20\nnfs missing 30 gone\n", TrackerRootsFile.encode(small));
        assertEquals(new Snapshot(10, 20, List.of()), TrackerRootsFile.decode("changeq-tracker-roots 1 10 20\n", dir));
    }

    @Test
    void otherVersionsAndForeignContentAreRefusedWithTheFileNamed() {
        IllegalStateException version = assertThrows(IllegalStateException.class,
                () -> TrackerRootsFile.decode("changeq-tracker-roots 2 10 20\n", dir));
        assertTrue(version.getMessage().contains("format version 2"), version.getMessage());
        IllegalStateException foreign = assertThrows(IllegalStateException.class,
                () -> TrackerRootsFile.decode("changeq-tracker-roots 1 10 20\nnfs sleeping 30 x\n", dir));
        assertTrue(foreign.getMessage().contains(dir.toString()) && foreign.getMessage().contains("sleeping"),
                foreign.getMessage());
        assertThrows(IllegalStateException.class, () -> TrackerRootsFile.decode("hello\n", dir));
    }
}
