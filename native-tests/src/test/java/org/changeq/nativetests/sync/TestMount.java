package org.changeq.nativetests.sync;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * A real file system mounted at a directory for a test: an ext4 image on a loop device (which keeps its
 * identity across unmount and mount, as a disk does), a tmpfs (a new file system each time), or a btrfs image
 * and its subvolumes. Needs root; where mounting is not possible the test is skipped with the reason.
 * {@link #close()} unmounts.
 */
public final class TestMount implements AutoCloseable {

    private final Path point;
    private final List<String> mountCommand;
    private boolean mounted;
    /** A loop device this mount set up and keeps while unmounted, so that mounting again shows the same source. */
    private String loopDevice;

    private TestMount(Path point, List<String> mountCommand) {
        this.point = point;
        this.mountCommand = mountCommand;
    }

    /**
     * An ext4 file system of a few MiB in {@code image}, mounted at {@code point} (created if needed) from a loop
     * device of its own that stays attached until {@link #close()}: like a disk, it is the same source each time.
     */
    public static TestMount ext4OrSkip(Path image, Path point) throws IOException, InterruptedException {
        requireRoot();
        Files.createDirectories(point);
        Trees.run(List.of("truncate", "-s", "16M", image.toString()), 0);
        Trees.run(List.of("mkfs.ext4", "-q", "-F", image.toString()), 0);
        String device = new String(Trees.run(List.of("losetup", "--find", "--show", image.toString()), -1),
                StandardCharsets.UTF_8).strip();
        Assumptions.assumeTrue(device.startsWith("/dev/loop"), () -> "cannot set up a loop device here: " + device);
        TestMount mount;
        try {
            mount = mountedOrSkip(point, List.of("mount", device, point.toString()));
        } catch (RuntimeException e) {
            Trees.run(List.of("losetup", "-d", device), -1);
            throw e;
        }
        mount.loopDevice = device;
        return mount;
    }

    /**
     * A btrfs file system of 300 MiB in {@code image}, its top level mounted at {@code point} (created if needed),
     * where the test makes subvolumes and snapshots with {@code btrfs subvolume}; {@link #subvolume} mounts one
     * elsewhere. Needs btrfs-progs.
     */
    public static TestMount btrfsOrSkip(Path image, Path point) throws IOException, InterruptedException {
        requireRoot();
        Assumptions.assumeTrue(new ProcessBuilder("sh", "-c", "command -v mkfs.btrfs").start().waitFor() == 0,
                "mkfs.btrfs is missing (apt-get install btrfs-progs)");
        Files.createDirectories(point);
        Trees.run(List.of("truncate", "-s", "300M", image.toString()), 0);
        Trees.run(List.of("mkfs.btrfs", "-q", "-f", image.toString()), 0);
        return mountedOrSkip(point, List.of("mount", "-o", "loop", image.toString(), point.toString()));
    }

    /**
     * Mounts the subvolume {@code name} (a path inside the top level, e.g. {@code @data}) of this btrfs file
     * system at {@code point}, from the same loop device. Unmount it before this mount.
     */
    public TestMount subvolume(String name, Path point) throws IOException, InterruptedException {
        String device = new String(Trees.run(List.of("findmnt", "-n", "-o", "SOURCE", "--mountpoint", this.point.toString()),
                0), StandardCharsets.UTF_8).strip().replaceFirst("\\[.*$", "");
        Files.createDirectories(point);
        return mountedOrSkip(point, List.of("mount", "-t", "btrfs", "-o", "subvol=" + name, device, point.toString()));
    }

    /** A tmpfs mounted at {@code point} (created if needed). */
    public static TestMount tmpfsOrSkip(Path point) throws IOException, InterruptedException {
        requireRoot();
        Files.createDirectories(point);
        return mountedOrSkip(point, List.of("mount", "-t", "tmpfs", "changeq-test", point.toString()));
    }

    private static TestMount mountedOrSkip(Path point, List<String> command) throws IOException, InterruptedException {
        TestMount mount = new TestMount(point, command);
        byte[] output = Trees.run(command, -1);
        mount.mounted = isMountPoint(point);
        Assumptions.assumeTrue(mount.mounted, () -> "cannot mount here (" + String.join(" ", command) + ": "
                + new String(output, StandardCharsets.UTF_8).strip() + ")");
        return mount;
    }

    private static void requireRoot() throws IOException, InterruptedException {
        String uid = new String(Trees.run(List.of("id", "-u"), 0), StandardCharsets.US_ASCII).strip();
        Assumptions.assumeTrue(uid.equals("0"), "mounting file systems needs root; running as uid " + uid);
    }

    private static boolean isMountPoint(Path point) throws IOException, InterruptedException {
        return new ProcessBuilder("mountpoint", "-q", point.toString()).start().waitFor() == 0;
    }

    public Path point() {
        return point;
    }

    /** Unmounts: the directory is then the empty mount point on the file system below. */
    public void unmount() throws IOException, InterruptedException {
        Trees.run(List.of("umount", point.toString()), 0);
        mounted = false;
    }

    /** Mounts the same file system again (for tmpfs: a new, empty one). */
    public void mountAgain() throws IOException, InterruptedException {
        Trees.run(mountCommand, 0);
        mounted = true;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        if (mounted) {
            unmount();
        }
        if (loopDevice != null) {
            Trees.run(List.of("losetup", "-d", loopDevice), 0);
            loopDevice = null;
        }
    }
}
