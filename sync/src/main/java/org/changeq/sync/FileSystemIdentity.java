package org.changeq.sync;

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.PathBytes;
import org.changeq.pipeline.mount.Mount;
import org.changeq.pipeline.mount.MountTable;
import org.changeq.pipeline.state.StateDirectory;

/**
 * What a directory is beyond its path: the file system it lies on, where inside that file system it lies, its
 * inode there, and the file systems mounted below it. A route remembers the identity of its root (and of a local
 * destination) at its first successful run and compares it before every run, so that a disk that is not mounted
 * (its mount point is then an empty directory on the parent file system), a replaced directory, another file
 * system or btrfs subvolume, or a file system mounted below the directory that went away, appeared or was replaced
 * is refused instead of synced. The one codec of the identity files. Immutable.
 *
 * <p>The mount is described by what is mounted and where inside that file system the directory lies, not by mount
 * ids or anonymous device numbers: inside a hardened systemd unit the same directory is seen through bind mounts
 * and remounts, and must still be the same directory. The same holds for the mounts below, which are compared by
 * their mount point relative to the directory.
 *
 * @param source           what is mounted ({@code /dev/sdb1}, {@code pool/data}, {@code nas:/export})
 * @param fsType           the file system type
 * @param mountDevice      the mount's device as {@code major:minor}
 * @param device           the directory's {@code st_dev} as {@code major:minor} (differs from the mount's on btrfs subvolumes)
 * @param inode            the directory's {@code st_ino}
 * @param pathInFileSystem where the directory lies inside its file system: the mount's root (mountinfo's fourth
 *                         field, e.g. a btrfs subvolume {@code /@data}) followed by the path below the mount point
 * @param subvolumeId      the btrfs subvolume's id, empty elsewhere
 * @param mountsBelow      the file systems mounted below the directory; empty when the file was written by
 *                         version 1, which did not record them
 */
record FileSystemIdentity(byte[] source, String fsType, String mountDevice, String device, long inode,
                          byte[] pathInFileSystem, Optional<String> subvolumeId,
                          Optional<List<MountBelow>> mountsBelow) {

    /**
     * Version 2 added the subvolume id and the mounts below. A version 1 file is read with those unknown: its
     * directory is compared as before (plus its path inside the file system, which version 1 recorded), the mounts
     * below are not, and the next successful run rewrites it as version 2 with the mounts it finds then. So a file
     * system below the root that is missing at the very first run after the upgrade is not noticed.
     */
    static final int FORMAT_VERSION = 2;
    private static final int VERSION_WITHOUT_MOUNTS = 1;
    private static final String MAGIC = "changeq-identity";
    private static final String NONE = "-";

    /**
     * A file system mounted below the directory.
     *
     * @param point       the mount point relative to the directory, no leading slash
     * @param root        the mount's root inside its file system
     * @param subvolumeId the btrfs subvolume's id, empty elsewhere
     */
    record MountBelow(byte[] point, byte[] source, String fsType, byte[] root, Optional<String> subvolumeId) {

        static MountBelow of(byte[] point, Mount mount) {
            return new MountBelow(point, mount.source(), mount.fsType(), mount.root(), mount.subvolumeId());
        }

        boolean sameFileSystem(MountBelow other) {
            return Arrays.equals(source, other.source) && fsType.equals(other.fsType) && Arrays.equals(root, other.root)
                    && subvolumeId.equals(other.subvolumeId);
        }

        String describe() {
            return ByteStrings.escape(source) + " (" + fsType + ", " + ByteStrings.escape(root)
                    + subvolumeId.map(id -> ", subvolume " + id).orElse("") + ")";
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof MountBelow that && Arrays.equals(point, that.point) && sameFileSystem(that);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(point);
        }
    }

    /**
     * How this remembered identity and the one now differ.
     *
     * @param description what changed, naming both file systems
     * @param fixBelow    for a difference below the directory, what sets it right ({@code mount /srv/nfs/photos});
     *                    empty when the directory itself differs
     */
    record Difference(String description, Optional<String> fixBelow) {
    }

    /**
     * The identity of {@code directory} now, following symbolic links.
     *
     * @param ignoredBelow paths relative to the directory whose mounts do not count (a root's excluded directories)
     * @throws IOException the directory cannot be looked at, or no mount in the mount table holds it
     */
    static FileSystemIdentity of(Path directory, Predicate<byte[]> ignoredBelow) throws IOException {
        Path real = directory.toRealPath();
        long dev = ((Number) Files.getAttribute(real, "unix:dev")).longValue();
        long inode = ((Number) Files.getAttribute(real, "unix:ino")).longValue();
        byte[] realBytes = PathBytes.of(real);
        MountTable table = MountTable.read();
        Mount mount = table.holding(realBytes).orElseThrow(() -> new IOException("no mount in "
                + MountTable.PROC_SELF_MOUNTINFO + " holds " + ByteStrings.escape(realBytes)));
        List<MountBelow> below = new ArrayList<>();
        for (Mount child : table.visibleBelow(realBytes)) {
            byte[] point = Mount.pathBelow(realBytes, child.point());
            // A file bound over a file (a container's resolv.conf) hides no tree a full sync could delete.
            if (!ignoredBelow.test(point) && Files.isDirectory(PathBytes.resolve(real, point), LinkOption.NOFOLLOW_LINKS)) {
                below.add(MountBelow.of(point, child));
            }
        }
        return new FileSystemIdentity(mount.source(), mount.fsType(), mount.device(), majorMinor(dev), inode,
                join(mount.root(), mount.below(realBytes)), mount.subvolumeId(), Optional.of(List.copyOf(below)));
    }

    /** The mount's root and the path below its point as one path, as version 1 wrote it. */
    private static byte[] join(byte[] mountRoot, byte[] below) {
        byte[] inside = mountRoot.length == 1 && mountRoot[0] == '/' ? new byte[0] : mountRoot;
        if (below.length == 0) {
            return inside.length == 0 ? new byte[] {'/'} : inside;
        }
        byte[] joined = Arrays.copyOf(inside, inside.length + 1 + below.length);
        joined[inside.length] = '/';
        System.arraycopy(below, 0, joined, inside.length + 1, below.length);
        return joined;
    }

    /**
     * How {@code now} differs from this remembered identity so that it is not the same directory, or the file
     * systems below it are not the same; empty when nothing differs. Device numbers of file systems without a block
     * device (major 0: tmpfs, NFS, btrfs subvolumes, ZFS) are handed out at mount time, so only those of block
     * devices count.
     *
     * @param directory the directory's path, for the mount points the difference names
     */
    Optional<Difference> differenceFrom(FileSystemIdentity now, byte[] directory) {
        Optional<String> own = ownDifferenceFrom(now);
        if (own.isPresent()) {
            return Optional.of(new Difference(own.get(), Optional.empty()));
        }
        if (mountsBelow.isEmpty() || now.mountsBelow.isEmpty()) {
            return Optional.empty();
        }
        Map<String, MountBelow> before = byPoint(mountsBelow.get());
        Map<String, MountBelow> after = byPoint(now.mountsBelow.get());
        List<String> changes = new ArrayList<>();
        List<String> fixes = new ArrayList<>();
        for (Map.Entry<String, MountBelow> entry : before.entrySet()) {
            MountBelow was = entry.getValue();
            MountBelow is = after.get(entry.getKey());
            String point = ByteStrings.escape(absolute(directory, was.point));
            if (is == null) {
                changes.add(point + " had " + was.describe() + " mounted, and is now a directory of the file system"
                        + " above it (" + now.describeFileSystem() + ")");
                fixes.add("mount " + point);
            } else if (!was.sameFileSystem(is)) {
                changes.add(point + " has " + is.describe() + " mounted, not " + was.describe());
                fixes.add("mount " + ByteStrings.escape(was.source) + " at " + point + " instead");
            }
        }
        for (Map.Entry<String, MountBelow> entry : after.entrySet()) {
            if (!before.containsKey(entry.getKey())) {
                MountBelow is = entry.getValue();
                String point = ByteStrings.escape(absolute(directory, is.point));
                changes.add(point + " has " + is.describe() + " mounted over it, and was a directory of "
                        + describeFileSystem() + " before");
                fixes.add("unmount " + point);
            }
        }
        if (changes.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new Difference("the file systems mounted below it are not the ones the route synced: "
                + String.join("; ", changes), Optional.of(String.join(", ", fixes))));
    }

    private Optional<String> ownDifferenceFrom(FileSystemIdentity now) {
        if (!Arrays.equals(source, now.source) || !fsType.equals(now.fsType)) {
            return Optional.of("it now lies on " + now.describeFileSystem() + ", not on " + describeFileSystem()
                    + " as when the route first synced it");
        }
        if (isBlockDevice(mountDevice) && !mountDevice.equals(now.mountDevice)
                || isBlockDevice(device) && !device.equals(now.device)) {
            return Optional.of("its file system now has device " + now.device + ", not " + device
                    + " as when the route first synced it");
        }
        // Every btrfs subvolume's root directory is inode 256 on an anonymous device: only the path inside the file
        // system and the subvolume id tell two subvolumes, or a subvolume and its snapshot, apart.
        if (!Arrays.equals(pathInFileSystem, now.pathInFileSystem) || subvolumeId.isPresent()
                && now.subvolumeId.isPresent() && !subvolumeId.equals(now.subvolumeId)) {
            return Optional.of("it is another directory of its file system: " + now.describeFileSystem() + ", not "
                    + describeFileSystem() + " as when the route first synced it (another subvolume or snapshot, or"
                    + " another directory bind-mounted there)");
        }
        if (inode != now.inode) {
            return Optional.of("it is another directory than the one the route first synced (inode " + now.inode
                    + ", was " + inode + "): deleted and created again, or replaced");
        }
        return Optional.empty();
    }

    /** Whether the file was written by a version that did not record the mounts below the directory. */
    boolean mountsBelowUnknown() {
        return mountsBelow.isEmpty();
    }

    String describeFileSystem() {
        return ByteStrings.escape(source) + " (" + fsType + ", device " + mountDevice + ", "
                + ByteStrings.escape(pathInFileSystem) + subvolumeId.map(id -> ", subvolume " + id).orElse("") + ")";
    }

    private static Map<String, MountBelow> byPoint(List<MountBelow> mounts) {
        Map<String, MountBelow> byPoint = new LinkedHashMap<>();
        for (MountBelow mount : mounts) {
            // A map key only: ISO-8859-1 keeps every byte.
            byPoint.put(new String(mount.point, ISO_8859_1), mount);
        }
        return byPoint;
    }

    private static byte[] absolute(byte[] directory, byte[] relative) {
        boolean slash = !(directory.length == 1 && directory[0] == '/');
        byte[] path = Arrays.copyOf(directory, directory.length + (slash ? 1 : 0) + relative.length);
        if (slash) {
            path[directory.length] = '/';
        }
        System.arraycopy(relative, 0, path, path.length - relative.length, relative.length);
        return path;
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

    /**
     * One line per field, values with mountinfo's octal escapes for every byte outside printable ASCII, so the
     * file is ASCII and the bytes come back exactly. A mount below is one line of space-separated escaped values:
     * {@code mount-below POINT SOURCE FS-TYPE ROOT SUBVOLUME-ID|-}.
     */
    String encode() {
        StringBuilder text = new StringBuilder(MAGIC + " " + FORMAT_VERSION + "\n"
                + "source " + MountTable.escape(source) + "\n"
                + "fs-type " + MountTable.escape(fsType.getBytes(ISO_8859_1)) + "\n"
                + "mount-device " + mountDevice + "\n"
                + "device " + device + "\n"
                + "inode " + inode + "\n"
                + "path " + MountTable.escape(pathInFileSystem) + "\n"
                + "subvolume-id " + subvolumeId.orElse(NONE) + "\n");
        for (MountBelow mount : mountsBelow.orElseThrow()) {
            text.append("mount-below ").append(MountTable.escape(mount.point)).append(' ')
                    .append(MountTable.escape(mount.source)).append(' ')
                    .append(MountTable.escape(mount.fsType.getBytes(ISO_8859_1))).append(' ')
                    .append(MountTable.escape(mount.root)).append(' ').append(mount.subvolumeId.orElse(NONE))
                    .append('\n');
        }
        return text.toString();
    }

    /**
     * Reads versions 1 and 2. Version 1 escaped only the backslash and newline and wrote the rest as UTF-8; read
     * as bytes, its values come back exactly with the same unescaping.
     */
    static FileSystemIdentity decode(byte[] content, Path origin) {
        String text = new String(content, ISO_8859_1);
        String[] lines = text.split("\n");
        if (lines.length == 0 || !lines[0].startsWith(MAGIC + " ")) {
            throw new IllegalStateException(origin + " is not a changeq identity file; move it away and run with "
                    + "--accept-root-change (or --accept-dest-change) to record the directory as it is now");
        }
        String version = lines[0].substring(MAGIC.length() + 1).strip();
        if (!version.equals(String.valueOf(FORMAT_VERSION)) && !version.equals(String.valueOf(VERSION_WITHOUT_MOUNTS))) {
            throw new IllegalStateException(origin + " has identity format version " + version + "; this build reads"
                    + " versions " + VERSION_WITHOUT_MOUNTS + " and " + FORMAT_VERSION);
        }
        Map<String, String> fields = new LinkedHashMap<>();
        List<MountBelow> mounts = new ArrayList<>();
        try {
            for (int i = 1; i < lines.length; i++) {
                int space = lines[i].indexOf(' ');
                if (space <= 0) {
                    continue;
                }
                String key = lines[i].substring(0, space);
                String value = lines[i].substring(space + 1);
                if (key.equals("mount-below")) {
                    String[] parts = value.split(" ");
                    if (parts.length != 5) {
                        throw new IllegalArgumentException("a mount-below line has " + parts.length + " values, not 5");
                    }
                    mounts.add(new MountBelow(bytes(parts[0]), bytes(parts[1]), new String(bytes(parts[2]), ISO_8859_1),
                            bytes(parts[3]), optional(parts[4])));
                } else {
                    fields.put(key, value);
                }
            }
            boolean withMounts = version.equals(String.valueOf(FORMAT_VERSION));
            return new FileSystemIdentity(bytes(fields.get("source")), new String(bytes(fields.get("fs-type")), ISO_8859_1),
                    fields.get("mount-device").strip(), fields.get("device").strip(),
                    Long.parseLong(fields.get("inode").strip()), bytes(fields.get("path")),
                    withMounts ? optional(fields.get("subvolume-id").strip()) : Optional.empty(),
                    withMounts ? Optional.of(List.copyOf(mounts)) : Optional.empty());
        } catch (RuntimeException e) {
            throw new IllegalStateException(origin + " is incomplete or malformed (" + e + "); move it away and run with "
                    + "--accept-root-change (or --accept-dest-change) to record the directory as it is now", e);
        }
    }

    private static byte[] bytes(String escaped) {
        return MountTable.unescape(escaped.getBytes(ISO_8859_1));
    }

    private static Optional<String> optional(String value) {
        return value.equals(NONE) ? Optional.empty() : Optional.of(value);
    }

    static Optional<FileSystemIdentity> read(Path file) throws IOException {
        try {
            return Optional.of(decode(StateDirectory.read(file), file));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    void write(Path file) throws IOException {
        StateDirectory.replace(file, encode().getBytes(StandardCharsets.US_ASCII), true);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof FileSystemIdentity that && Arrays.equals(source, that.source) && fsType.equals(that.fsType)
                && mountDevice.equals(that.mountDevice) && device.equals(that.device) && inode == that.inode
                && Arrays.equals(pathInFileSystem, that.pathInFileSystem) && subvolumeId.equals(that.subvolumeId)
                && mountsBelow.equals(that.mountsBelow);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(inode) * 31 + Arrays.hashCode(pathInFileSystem);
    }

    @Override
    public String toString() {
        return describeFileSystem() + ", inode " + inode + mountsBelow.map(mounts -> ", mounts below: " + mounts.stream()
                .map(mount -> ByteStrings.escape(mount.point) + " " + mount.describe()).toList()).orElse("");
    }
}
