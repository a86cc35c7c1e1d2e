package org.changeq.pipeline.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.changeq.pipeline.state.TrackerRootsFile.Condition;
import org.changeq.pipeline.state.TrackerRootsFile.RootStatus;
import org.changeq.pipeline.state.TrackerRootsFile.Selection;
import org.changeq.pipeline.state.TrackerRootsFile.Snapshot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrackerRootsFileTest {

    private static final Selection NFS = new Selection("/srv/nfs".getBytes(StandardCharsets.UTF_8),
            List.of("immich/", "*.tmp"));

    @TempDir
    Path dir;

    private final Snapshot snapshot = new Snapshot(1_764_400_000_123L, 4711, List.of(
            new RootStatus("nfs", Condition.WATCHED, 1_764_300_000_000L, "", NFS),
            new RootStatus("backup", Condition.UNMOUNTED, 1_764_399_999_000L,
                    "the file system at /mnt/backup was unmounted; mount /mnt/backup, the tracker watches it again",
                    new Selection("/mnt/backup".getBytes(StandardCharsets.UTF_8), List.of())),
            new RootStatus("photos.2", Condition.UNREADABLE, 5, "permission denied: é\nsecond line",
                    new Selection(new byte[] {'/', 'p', (byte) 0xe9, '\n', ' '}, List.of("", "a b", "é/", "x\ny")))));

    @Test
    void everyConditionRoundTripsThroughTheFileAndNoTemporaryFileStays() throws Exception {
        TrackerRootsFile file = new StateLayout(dir).trackerRoots();
        assertEquals(Optional.empty(), file.read());
        for (Condition condition : Condition.values()) {
            Snapshot one = new Snapshot(1, 2, List.of(new RootStatus("r", condition, 3, "detail with  spaces ", NFS)));
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
        Snapshot small = new Snapshot(10, 20, List.of(new RootStatus("nfs", Condition.MISSING, 30, "gone",
                new Selection(new byte[] {'/', 'n'}, List.of("a", "b/")))));
        assertEquals("changeq-tracker-roots 2 10 20\nnfs missing 30 2f6e 6100622f00 gone\n", TrackerRootsFile.encode(small));
        assertEquals(new Snapshot(10, 20, List.of()), TrackerRootsFile.decode("changeq-tracker-roots 2 10 20\n", dir));
    }

    @Test
    void aVersionOneFileIsReadWithoutSelections() {
        assertEquals(new Snapshot(10, 20, List.of(new RootStatus("nfs", Condition.MISSING, 30, "gone for good",
                        Optional.empty()))),
                TrackerRootsFile.decode("changeq-tracker-roots 1 10 20\nnfs missing 30 gone for good\n", dir));
    }

    @Test
    void otherVersionsAndForeignContentAreRefusedWithTheFileNamed() {
        IllegalStateException version = assertThrows(IllegalStateException.class,
                () -> TrackerRootsFile.decode("changeq-tracker-roots 3 10 20\n", dir));
        assertTrue(version.getMessage().contains("format version 3"), version.getMessage());
        IllegalStateException foreign = assertThrows(IllegalStateException.class,
                () -> TrackerRootsFile.decode("changeq-tracker-roots 2 10 20\nnfs sleeping 30 2f - x\n", dir));
        assertThrows(IllegalStateException.class,
                () -> TrackerRootsFile.decode("changeq-tracker-roots 2 10 20\nnfs missing 30 2g - x\n", dir));
        assertTrue(foreign.getMessage().contains(dir.toString()) && foreign.getMessage().contains("sleeping"),
                foreign.getMessage());
        assertThrows(IllegalStateException.class, () -> TrackerRootsFile.decode("hello\n", dir));
    }
}
