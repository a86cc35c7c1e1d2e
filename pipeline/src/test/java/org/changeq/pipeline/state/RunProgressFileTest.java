package org.changeq.pipeline.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.changeq.pipeline.state.RunProgressFile.Snapshot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunProgressFileTest {

    private static final long PID = ProcessHandle.current().pid();

    @TempDir
    Path dir;

    private static Snapshot sending(byte[] current) {
        return new Snapshot(PID, 1_733_570_000_000L, 1_733_570_090_000L, "full sync", true, 1234, 2_100_000_000L,
                12_300_000, 45_000, 120_000, false, current);
    }

    @Test
    void aSnapshotRoundTripsThroughTheFileWithAnyBytesInItsPathAndIsRemoved() throws Exception {
        RunProgressFile file = new StateLayout(dir).runProgress("mirror");
        assertEquals(Optional.empty(), file.read());
        Snapshot nasty = sending(new byte[] {'a', '\n', (byte) 0xff, ' ', '#', 0x01, '/', 'b'});
        file.write(nasty);
        assertEquals(Optional.of(nasty), file.read());
        Snapshot building = new Snapshot(PID, 5, 6, "counting what the full sync deletes (dry run)\nsecond line", true, 0, 0,
                0, -1, -1, true, new byte[0]);
        file.write(building);
        Snapshot read = file.read().orElseThrow();
        assertEquals(building, read);
        assertEquals("counting what the full sync deletes (dry run) second line", read.activity(), "one line");
        try (var files = Files.list(file.path().getParent())) {
            assertEquals(1, files.count(), "no temporary file stays");
        }
        file.delete();
        assertEquals(Optional.empty(), file.read());
        file.delete();
    }

    @Test
    void theFormatIsVersionedTextWithOneKeyPerLine() {
        Snapshot small = new Snapshot(7, 10, 20, "full sync", false, 1, 2, 3, 4, 5, true, new byte[] {'/', 'n'});
        String text = "changeq-run-progress 1\npid 7\nstarted 10\nupdated 20\nactivity full sync\nrsync idle\nfiles 1\nbytes 2\n"
                + "rate 3\nchecked 4\ntotal 5\nlist complete\ncurrent 2f6e\n";
        assertEquals(text, RunProgressFile.encode(small));
        assertEquals(small, RunProgressFile.decode(text, dir));
    }

    @Test
    void aFileItCannotReadIsRefusedWithOneSentenceNamingItAndWhy() {
        Path source = dir.resolve("mirror.progress");
        String later = assertThrows(IllegalStateException.class,
                () -> RunProgressFile.decode("changeq-run-progress 2\npid 1\n", source)).getMessage();
        assertTrue(later.contains(source + " is not a progress file this build can read: it has format version 2"),
                later);
        String truncated = assertThrows(IllegalStateException.class,
                () -> RunProgressFile.decode("changeq-run-progress 1\npid 1\nstarted 2\n", source)).getMessage();
        assertTrue(truncated.contains("it has no 'updated' line"), truncated);
        String notANumber = assertThrows(IllegalStateException.class, () -> RunProgressFile.decode(
                RunProgressFile.encode(sending(new byte[0])).replace("files 1234", "files many"), source)).getMessage();
        assertTrue(notANumber.contains("its files 'many' is not a number"), notANumber);
        assertThrows(IllegalStateException.class, () -> RunProgressFile.decode("something else\n", source));
    }

    @Test
    void theLineSaysWhatRsyncDoesBeforeAndAfterItReportedAnything() {
        assertEquals("full sync for 1m30s: 1,234 files (2.1 GB) sent at 12.3 MB/s, 45,000 of 120,000+ paths checked"
                + " (file list still growing); current photos/\\n.jpg",
                sending("photos/\n.jpg".getBytes(StandardCharsets.UTF_8)).describe());
        assertEquals("full sync for 30s: rsync is building the file list, nothing sent yet",
                new Snapshot(PID, 0, 30_999, "full sync", true, 0, 0, 0, -1, -1, false, new byte[0]).describe());
        assertEquals("incremental sync: directories for 2h05m: 1 file (999 B) sent at 0 B/s, 10 of 10 paths checked",
                new Snapshot(PID, 0, 7_500_000, "incremental sync: directories", false, 1, 999, 0, 10, 10, true, new byte[0])
                        .describe());
        assertEquals("preparing for 1s: nothing sent yet",
                new Snapshot(PID, 0, 1_000, "preparing", false, 0, 0, 0, -1, -1, false, new byte[0]).describe());
    }

    @Test
    void aFileIsLiveOnlyWhileItsProcessLivesAndTheRoutesLockIsHeld() throws Exception {
        Path lock = dir.resolve("locks").resolve("mirror.lock");
        Snapshot mine = sending(new byte[0]);
        assertFalse(RunProgressFile.isLive(mine, lock), "no lock file: no run");
        try (FileChannel channel = StateDirectory.openLock(lock)) {
            assertFalse(RunProgressFile.isLive(mine, lock), "the lock is free: the run that wrote it was killed");
            try (FileLock held = channel.lock()) {
                assertTrue(RunProgressFile.isLive(mine, lock));
                Snapshot gone = new Snapshot(Long.MAX_VALUE, 1, 2, "full sync", true, 0, 0, 0, -1, -1, false, new byte[0]);
                assertFalse(RunProgressFile.isLive(gone, lock), "another process holds the lock now");
            }
        }
    }
}
