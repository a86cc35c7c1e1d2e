package org.changeq.sync;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.changeq.pipeline.state.StateDirectory;

/**
 * What a directory is beyond its path: the file system it lies on and its inode there. A route
 * remembers the identity of its root (and of a local destination) at its first successful run and
 * compares it before every run, so that a disk that is not mounted (its mount point is then an
 * empty directory on the parent file system), a replaced directory or another file system is
 * refused instead of synced. The one codec of the identity files. Immutable.
 *
 * <p>The mount is described by what is mounted and where inside that file system the directory
 * lies, not by the mount point: inside a hardened systemd unit the same directory is seen through
 * bind mounts at other mount points, and must still be the same directory.
 *
 * @param source          what is mounted ({@code /dev/sdb1}, {@code pool/data}, {@code nas:/export})
 * @param fsType          the file system type
 * @param mountDevice     the mount's device as {@code major:minor}
 * @param device          the directory's {@code st_dev} as {@code major:minor} (differs from the mount's on btrfs subvolumes)
 * @param inode           the directory's {@code st_ino}
 * @param pathInFileSystem where the directory lies inside its file system (for messages)
 */
record FileSystemIdentity(String source, String fsType, String mountDevice, String device, long inode,
                          String pathInFileSystem) {

    static final int FORMAT_VERSION = 1;
    private static final String MAGIC = "changeq-identity";
    private static final Path MOUNT_TABLE = Path.of("/proc/self/mountinfo");

    /** The identity of {@code directory} now, following symbolic links. */
    static FileSystemIdentity of(Path directory) throws IOException {
        Path real = directory.toRealPath();
        long dev = ((Number) Files.getAttribute(real, "unix:dev")).longValue();
        long inode = ((Number) Files.getAttribute(real, "unix:ino")).longValue();
        Mount mount = Mount.holding(real, Files.readAllLines(MOUNT_TABLE, StandardCharsets.UTF_8));
        String inside = mount.root.equals("/") ? "" : mount.root;
        String relative = mount.point.relativize(real).toString();
        return new FileSystemIdentity(mount.source, mount.fsType, mount.device, majorMinor(dev), inode,
                relative.isEmpty() ? (inside.isEmpty() ? "/" : inside) : inside + "/" + relative);
    }

    /**
     * How {@code now} differs from this remembered identity so that it is not the same directory;
     * empty when it is. Device numbers of file systems without a block device (major 0: tmpfs, NFS,
     * btrfs subvolumes, ZFS) are handed out at mount time, so only those of block devices count.
     */
    Optional<String> differenceFrom(FileSystemIdentity now) {
        if (!source.equals(now.source) || !fsType.equals(now.fsType)) {
            return Optional.of("it now lies on " + now.describeFileSystem() + ", not on " + describeFileSystem()
                    + " as when the route first synced it");
        }
        if (isBlockDevice(mountDevice) && !mountDevice.equals(now.mountDevice)
                || isBlockDevice(device) && !device.equals(now.device)) {
            return Optional.of("its file system now has device " + now.device + ", not " + device
                    + " as when the route first synced it");
        }
        if (inode != now.inode) {
            return Optional.of("it is another directory than the one the route first synced (inode " + now.inode
                    + ", was " + inode + "): deleted and created again, or replaced");
        }
        return Optional.empty();
    }

    String describeFileSystem() {
        return source + " (" + fsType + ", device " + mountDevice + ", " + pathInFileSystem + ")";
    }

    private static boolean isBlockDevice(String majorMinor) {
        return !majorMinor.startsWith("0:");
    }

    /** glibc's encoding of {@code dev_t}. */
    static String majorMinor(long dev) {
        long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
        long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
        return major + ":" + minor;
    }

    String encode() {
        return MAGIC + " " + FORMAT_VERSION + "\n"
                + "source " + escape(source) + "\n"
                + "fs-type " + escape(fsType) + "\n"
                + "mount-device " + mountDevice + "\n"
                + "device " + device + "\n"
                + "inode " + inode + "\n"
                + "path " + escape(pathInFileSystem) + "\n";
    }

    static FileSystemIdentity decode(String text, Path origin) {
        String[] lines = text.split("\n");
        if (lines.length == 0 || !lines[0].startsWith(MAGIC + " ")) {
            throw new IllegalStateException(origin + " is not a changeq identity file; move it away and run with "
                    + "--accept-root-change (or --accept-dest-change) to record the directory as it is now");
        }
        String version = lines[0].substring(MAGIC.length() + 1).strip();
        if (!version.equals(String.valueOf(FORMAT_VERSION))) {
            throw new IllegalStateException(origin + " has identity format version " + version + "; this build reads version "
                    + FORMAT_VERSION);
        }
        Map<String, String> fields = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int space = lines[i].indexOf(' ');
            if (space > 0) {
                fields.put(lines[i].substring(0, space), lines[i].substring(space + 1));
            }
        }
        try {
            return new FileSystemIdentity(unescape(fields.get("source")), unescape(fields.get("fs-type")),
                    fields.get("mount-device").strip(), fields.get("device").strip(),
                    Long.parseLong(fields.get("inode").strip()), unescape(fields.get("path")));
        } catch (RuntimeException e) {
            throw new IllegalStateException(origin + " is incomplete or malformed (" + e + "); move it away and run with "
                    + "--accept-root-change (or --accept-dest-change) to record the directory as it is now", e);
        }
    }

    static Optional<FileSystemIdentity> read(Path file) throws IOException {
        try {
            return Optional.of(decode(new String(StateDirectory.read(file), StandardCharsets.UTF_8), file));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    void write(Path file) throws IOException {
        StateDirectory.replace(file, encode().getBytes(StandardCharsets.UTF_8), true);
    }

    /** Values are one line each: a newline or backslash in a mount source is written as in mountinfo. */
    private static String escape(String value) {
        return value.replace("\\", "\\134").replace("\n", "\\012");
    }

    private static String unescape(String value) {
        StringBuilder out = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\' && isOctal(value, i + 1)) {
                out.append((char) Integer.parseInt(value.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean isOctal(String value, int from) {
        if (from + 3 > value.length()) {
            return false;
        }
        for (int i = from; i < from + 3; i++) {
            if (value.charAt(i) < '0' || value.charAt(i) > '7') {
                return false;
            }
        }
        return true;
    }

    /** One line of {@code /proc/self/mountinfo}. */
    record Mount(String device, String root, Path point, String fsType, String source) {

        /**
         * The mount that holds {@code path}: the longest mount point above it; of mounts stacked on
         * one point, the last listed is the one on top.
         */
        static Mount holding(Path path, List<String> mountInfo) {
            Mount best = null;
            for (String line : mountInfo) {
                Mount mount = parse(line);
                if (mount != null && path.startsWith(mount.point)
                        && (best == null || mount.point.getNameCount() >= best.point.getNameCount())) {
                    best = mount;
                }
            }
            if (best == null) {
                throw new IllegalStateException("no mount in " + MOUNT_TABLE + " holds " + path);
            }
            return best;
        }

        /** {@code ID PARENT MAJOR:MINOR ROOT POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER-OPTIONS}. */
        static Mount parse(String line) {
            String[] fields = line.split(" ");
            int separator = List.of(fields).indexOf("-");
            if (fields.length < 7 || separator < 6 || separator + 2 >= fields.length) {
                return null;
            }
            return new Mount(fields[2], unescape(fields[3]), Path.of(unescape(fields[4])), unescape(fields[separator + 1]),
                    unescape(fields[separator + 2]));
        }
    }
}
