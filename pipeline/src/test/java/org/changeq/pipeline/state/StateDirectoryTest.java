package org.changeq.pipeline.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.changeq.pipeline.ExitCodes;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What another account can plant in the state directory (links at a file or a directory, a stale temporary
 * file, a hard link, a FIFO) is never written or read through: the victim outside keeps its content.
 */
class StateDirectoryTest {

    @TempDir
    Path dir;

    private Path state;
    private Path victim;

    @BeforeEach
    void layout() throws IOException {
        state = Files.createDirectories(dir.resolve("state"));
        if (isRoot()) {
            // As installed: the state directory belongs to the service account, not to root.
            Files.setOwner(state, dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
        }
        victim = dir.resolve("victim");
        Files.writeString(victim, "root's file\n");
    }

    private void assertVictimUntouched() throws IOException {
        assertEquals("root's file\n", Files.readString(victim));
    }

    private void assertRefused(Path link, ThrowingCall call) throws IOException {
        StateDirectory.Refused refused = assertThrows(StateDirectory.Refused.class, call::run);
        assertEquals(ExitCodes.QUEUE_UNAVAILABLE, refused.exitCode());
        assertEquals(link + " is a symbolic link; changeq does not follow links in its state and queue directories "
                + "(a link there could turn a run by root against other files): remove it (rm '" + link
                + "') and run again", refused.getMessage());
        assertVictimUntouched();
        assertTrue(Files.isSymbolicLink(link), "the link is left for the admin to look at");
    }

    @FunctionalInterface
    private interface ThrowingCall {
        void run() throws IOException;
    }

    @Test
    void replacesAndReadsBackCreatingTheDirectoriesOnTheWay() throws IOException {
        Path file = state.resolve("cursors/route.cursor");
        StateDirectory.replace(file, bytes("one"), true);
        StateDirectory.replace(file, bytes("two"), false);
        assertArrayEquals(bytes("two"), StateDirectory.read(file));
        assertEquals(List.of(Path.of("route.cursor")), StateDirectory.list(state.resolve("cursors"), ".cursor"));
        assertTrue(StateDirectory.deleteIfExists(file));
        assertFalse(StateDirectory.deleteIfExists(file));
        assertThrows(NoSuchFileException.class, () -> StateDirectory.read(file));
        assertEquals(Optional.empty(), StateDirectory.readIfPresent(file));
        assertEquals(Optional.empty(), StateDirectory.readIfPresent(state.resolve("missing/route.cursor")));
        StateDirectory.replace(file, bytes("three"), false);
        assertArrayEquals(bytes("three"), StateDirectory.readIfPresent(file).orElseThrow());
        assertEquals(List.of(), StateDirectory.list(state.resolve("missing"), ".cursor"));
    }

    @Test
    void aLinkAtTheFileIsRefusedByEveryOperation() throws IOException {
        Path link = Files.createSymbolicLink(Files.createDirectories(state.resolve("metrics")).resolve("r.prom"), victim);
        assertRefused(link, () -> StateDirectory.replace(link, bytes("metrics"), false));
        assertRefused(link, () -> StateDirectory.read(link));
        assertRefused(link, () -> StateDirectory.readIfPresent(link));
        assertRefused(link, () -> StateDirectory.openLock(link).close());
        assertRefused(link, () -> StateDirectory.newFile(link).close());
    }

    @Test
    void aLinkAtADirectoryIsRefusedByEveryOperation() throws IOException {
        Path victimDirectory = Files.createDirectories(dir.resolve("victim-dir"));
        Files.createSymbolicLink(victimDirectory.resolve("r.files"), victim);
        Path link = Files.createSymbolicLink(state.resolve("lists"), victimDirectory);
        Path file = link.resolve("r.files");
        assertRefused(link, () -> StateDirectory.replace(file, bytes("list"), true));
        assertRefused(link, () -> StateDirectory.read(file));
        assertRefused(link, () -> StateDirectory.openLock(file).close());
        assertRefused(link, () -> StateDirectory.newFile(file).close());
        assertRefused(link, () -> StateDirectory.list(link, ".files"));
        assertRefused(link, () -> StateDirectory.deleteIfExists(file));
        assertEquals(List.of(victimDirectory.resolve("r.files")), list(victimDirectory), "nothing created there");
    }

    @Test
    void aPlantedTemporaryFileIsRemovedNotWrittenThrough() throws IOException {
        Path file = state.resolve("changeq_sync_r.prom");
        Files.createSymbolicLink(state.resolve(".changeq_sync_r.prom.tmp"), victim);
        StateDirectory.replace(file, bytes("metrics"), false);
        assertArrayEquals(bytes("metrics"), Files.readAllBytes(file));
        assertFalse(Files.isSymbolicLink(file));
        assertFalse(Files.exists(state.resolve(".changeq_sync_r.prom.tmp"), LinkOption.NOFOLLOW_LINKS));
        assertVictimUntouched();
    }

    @Test
    void aHardLinkToAnotherFileIsReplacedNotWritten() throws IOException {
        Path list = Files.createLink(state.resolve("r.files"), victim);
        try (OutputStream out = StateDirectory.newFile(list)) {
            out.write(bytes("./a\0"));
        }
        Path cursor = Files.createLink(state.resolve("r.cursor"), victim);
        StateDirectory.replace(cursor, bytes("7"), true);
        assertArrayEquals(bytes("./a\0"), Files.readAllBytes(list));
        assertArrayEquals(bytes("7"), Files.readAllBytes(cursor));
        assertVictimUntouched();
    }

    @Test
    void aHardLinkToAnotherFileIsNeitherReadNorLocked() throws IOException {
        Path cursor = Files.createLink(state.resolve("r.cursor"), victim);
        Path lock = Files.createLink(state.resolve("r.lock"), victim);
        for (ThrowingCall call : List.<ThrowingCall>of(() -> StateDirectory.read(cursor),
                () -> StateDirectory.openLock(lock).close())) {
            StateDirectory.Refused refused = assertThrows(StateDirectory.Refused.class, call::run);
            assertEquals(ExitCodes.QUEUE_UNAVAILABLE, refused.exitCode());
            assertTrue(refused.getMessage().contains(" has 3 hard links; changeq does not open a file of its state and "
                    + "queue directories that has other names"), refused.getMessage());
        }
        assertVictimUntouched();
    }

    @Test
    void aFifoIsRefusedWithoutBlocking() throws Exception {
        Path fifo = state.resolve("r.cursor");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertEquals(0, mkfifo.waitFor());
        FileSystemException refused = assertThrows(FileSystemException.class, () -> StateDirectory.read(fifo));
        assertTrue(refused.getMessage().contains("not a regular file"), refused.getMessage());
    }

    @Test
    void rootsOwnLinksAboveTheStateDirectoryAreFollowed() throws IOException {
        Assumptions.assumeTrue(isRoot(), "the links' and directories' owner must be root");
        Path real = Files.createDirectories(dir.resolve("real"));
        Path link = Files.createSymbolicLink(dir.resolve("var"), Path.of("real"));
        StateDirectory.replace(link.resolve("state/cursors/r.cursor"), bytes("5"), true);
        assertArrayEquals(bytes("5"), Files.readAllBytes(real.resolve("state/cursors/r.cursor")));
    }

    @Test
    void aRootOwnedLinkBelowADirectoryOfAnotherOwnerIsRefused() throws IOException {
        Assumptions.assumeTrue(isRoot(), "needs to give the state directory to another user");
        Path link = Files.createSymbolicLink(state.resolve("cursors"), Files.createDirectories(dir.resolve("elsewhere")));
        assertRefused(link, () -> StateDirectory.replace(link.resolve("r.cursor"), bytes("5"), true));
        assertEquals(List.of(), list(dir.resolve("elsewhere")));
    }

    private static boolean isRoot() throws IOException {
        return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0;
    }

    private static List<Path> list(Path directory) throws IOException {
        try (var files = Files.list(directory)) {
            return files.toList();
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
