package org.changeq.sync;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.changeq.sync.FileSystemIdentity.MountBelow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileSystemIdentityTest {

    @TempDir
    Path dir;

    private static final byte[] ROOT = bytes("/srv/nfs");

    /** One char per byte: non-ASCII chars stand for single bytes. */
    private static byte[] bytes(String oneCharPerByte) {
        return oneCharPerByte.getBytes(ISO_8859_1);
    }

    private static FileSystemIdentity disk(String path, MountBelow... below) {
        return new FileSystemIdentity(bytes("/dev/sdb1"), "ext4", "8:17", "8:17", 2, bytes(path), Optional.empty(),
                Optional.of(List.of(below)));
    }

    private static MountBelow tmpfs(String point, String source) {
        return new MountBelow(bytes(point), bytes(source), "tmpfs", bytes("/"), Optional.empty());
    }

    private static String difference(FileSystemIdentity before, FileSystemIdentity now) {
        return before.differenceFrom(now, ROOT).orElseThrow().description();
    }

    @Test
    void identityFilesRoundTripEveryByte() throws IOException {
        FileSystemIdentity identity = new FileSystemIdentity(bytes("/dev/disk with space\\and\nnewline\u00e9"), "btrfs",
                "0:41", "0:44", 256, bytes("/@data/caf\u00e9"), Optional.of("257"), Optional.of(List.of(
                        tmpfs("media/\u00e9t\u00e9 x", "my\nsrc"),
                        new MountBelow(bytes("snap"), bytes("/dev/loop0"), "btrfs", bytes("/@snap"), Optional.of("258")))));
        Path file = dir.resolve("identity/r.root");
        identity.write(file);
        assertEquals(Optional.of(identity), FileSystemIdentity.read(file));
        byte[] written = Files.readAllBytes(file);
        assertTrue(new String(written, ISO_8859_1).startsWith("changeq-identity 2\n"));
        for (byte b : written) {
            assertTrue(b == '\n' || b >= ' ' && b < 0x7f, "the file is printable ASCII: " + new String(written, ISO_8859_1));
        }
        assertEquals(Optional.empty(), FileSystemIdentity.read(dir.resolve("identity/none.root")));
        Files.writeString(file, "changeq-identity 9\n");
        assertTrue(assertThrows(IllegalStateException.class, () -> FileSystemIdentity.read(file)).getMessage()
                .contains("version 9"));
        Files.writeString(file, "changeq-identity 2\nsource a\nmount-below x y\n");
        assertTrue(assertThrows(IllegalStateException.class, () -> FileSystemIdentity.read(file)).getMessage()
                .contains("--accept-root-change"));
    }

    @Test
    void aVersionOneFileIsReadWithTheMountsBelowUnknown() throws IOException {
        // As version 1 wrote it: UTF-8 text, only the backslash and newline escaped.
        Path file = dir.resolve("identity/old.root");
        Files.createDirectories(file.getParent());
        Files.write(file, ("changeq-identity 1\nsource /dev/disk with space\\134x\\012y\nfs-type ext4\nmount-device 8:17\n"
                + "device 8:17\ninode 2\npath /caf\u00e9\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        FileSystemIdentity old = FileSystemIdentity.read(file).orElseThrow();
        assertArrayEquals("/dev/disk with space\\x\ny".getBytes(ISO_8859_1), old.source());
        assertArrayEquals("/caf\u00e9".getBytes(java.nio.charset.StandardCharsets.UTF_8), old.pathInFileSystem());
        assertTrue(old.mountsBelowUnknown());
        FileSystemIdentity now = new FileSystemIdentity(old.source(), "ext4", "8:17", "8:17", 2, old.pathInFileSystem(),
                Optional.empty(), Optional.of(List.of(tmpfs("media", "m"))));
        assertEquals(Optional.empty(), old.differenceFrom(now, ROOT), "the mounts below were not recorded: not compared");
        assertTrue(old.differenceFrom(new FileSystemIdentity(old.source(), "ext4", "8:17", "8:17", 3,
                old.pathInFileSystem(), Optional.empty(), Optional.of(List.of())), ROOT).isPresent());
    }

    @Test
    void identitiesDifferByFileSystemDeviceOrInode() {
        FileSystemIdentity disk = disk("/");
        assertTrue(disk.differenceFrom(disk, ROOT).isEmpty());
        String unmounted = difference(disk, new FileSystemIdentity(bytes("/dev/sda1"), "ext4", "8:1", "8:1", 131074,
                bytes("/mnt/backup"), Optional.empty(), Optional.of(List.of())));
        assertTrue(unmounted.contains("now lies on /dev/sda1") && unmounted.contains("not on /dev/sdb1"), unmounted);
        assertTrue(disk.differenceFrom(new FileSystemIdentity(bytes("/dev/sdb1"), "ext4", "8:33", "8:33", 2, bytes("/"),
                Optional.empty(), Optional.of(List.of())), ROOT).isPresent(), "a block device's number counts");
        assertTrue(difference(disk, new FileSystemIdentity(bytes("/dev/sdb1"), "ext4", "8:17", "8:17", 12, bytes("/"),
                Optional.empty(), Optional.of(List.of()))).contains("another directory"));
    }

    @Test
    void btrfsSubvolumesDifferByTheirPathInTheFileSystemAndTheirId() {
        FileSystemIdentity data = new FileSystemIdentity(bytes("/dev/sdc"), "btrfs", "0:41", "0:44", 256, bytes("/@data"),
                Optional.of("256"), Optional.of(List.of()));
        assertTrue(data.differenceFrom(new FileSystemIdentity(bytes("/dev/sdc"), "btrfs", "0:38", "0:40", 256,
                bytes("/@data"), Optional.of("256"), Optional.of(List.of())), ROOT).isEmpty(),
                "numbers of file systems without a block device are handed out at mount time");
        String snapshot = difference(data, new FileSystemIdentity(bytes("/dev/sdc"), "btrfs", "0:41", "0:45", 256,
                bytes("/@snap"), Optional.of("257"), Optional.of(List.of())));
        assertTrue(snapshot.contains("/@snap") && snapshot.contains("/@data") && snapshot.contains("another subvolume"),
                snapshot);
        String recreated = difference(data, new FileSystemIdentity(bytes("/dev/sdc"), "btrfs", "0:41", "0:45", 256,
                bytes("/@data"), Optional.of("259"), Optional.of(List.of())));
        assertTrue(recreated.contains("subvolume 259") && recreated.contains("subvolume 256"), recreated);
    }

    @Test
    void aMountBelowThatWentAwayAppearedOrWasReplacedIsADifferenceNamingItsPoint() {
        FileSystemIdentity before = disk("/", tmpfs("media", "photos"), tmpfs("caf\u00e9", "latin"));
        assertTrue(before.differenceFrom(disk("/", tmpfs("caf\u00e9", "latin"), tmpfs("media", "photos")), ROOT).isEmpty(),
                "the same mounts in another order");

        FileSystemIdentity.Difference gone = before.differenceFrom(disk("/", tmpfs("caf\u00e9", "latin")), ROOT)
                .orElseThrow();
        assertEquals(Optional.of("mount /srv/nfs/media"), gone.fixBelow());
        assertTrue(gone.description().contains("/srv/nfs/media had photos (tmpfs, /) mounted")
                && gone.description().contains("/dev/sdb1"), gone.description());

        String appeared = difference(before, disk("/", tmpfs("media", "photos"), tmpfs("caf\u00e9", "latin"),
                tmpfs("media/new", "blank")));
        assertTrue(appeared.contains("/srv/nfs/media/new has blank (tmpfs, /) mounted over it")
                && appeared.contains("was a directory of /dev/sdb1"), appeared);
        assertEquals(Optional.of("unmount /srv/nfs/media/new"), before.differenceFrom(disk("/", tmpfs("media", "photos"),
                tmpfs("caf\u00e9", "latin"), tmpfs("media/new", "blank")), ROOT).orElseThrow().fixBelow());
        assertEquals(Optional.empty(), before.differenceFrom(disk("/other", tmpfs("media", "photos")), ROOT)
                .orElseThrow().fixBelow(), "the directory's own difference has the caller's fix");

        String replaced = difference(before, disk("/", tmpfs("media", "other"), tmpfs("caf\u00e9", "latin")));
        assertTrue(replaced.contains("/srv/nfs/media has other (tmpfs, /) mounted, not photos (tmpfs, /)"), replaced);
        String latin = difference(before, disk("/", tmpfs("media", "photos")));
        assertTrue(latin.contains("/srv/nfs/caf\\xe9"), "named with the byte escaped: " + latin);
    }

    @Test
    void theIdentityOfALiveDirectoryIsStable() throws IOException {
        FileSystemIdentity now = FileSystemIdentity.of(dir, path -> false);
        byte[] path = org.changeq.pipeline.PathBytes.of(dir.toRealPath());
        assertTrue(now.differenceFrom(FileSystemIdentity.of(dir, path2 -> false), path).isEmpty());
        Path other = Files.createDirectory(dir.resolve("other"));
        assertTrue(now.differenceFrom(FileSystemIdentity.of(other, path2 -> false), path).orElseThrow().description()
                .contains("another directory"));
    }
}
