package org.changeq.pipeline.mount;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;
import org.changeq.pipeline.ByteStrings;

/**
 * One line of {@code /proc/self/mountinfo} (proc(5)): {@code ID PARENT MAJOR:MINOR ROOT POINT OPTIONS
 * [OPTIONAL...] - TYPE SOURCE SUPER-OPTIONS}. Paths and the source are the kernel's bytes, octal escapes decoded;
 * nothing is decoded as text. Immutable.
 *
 * @param id           the mount's id (handed out at mount time: never part of an identity)
 * @param parentId     the id of the mount it is mounted on, or of the one below it when stacked on one point
 * @param device       {@code st_dev} of the file system's files as {@code major:minor} (anonymous {@code 0:N} for
 *                     tmpfs, btrfs, ZFS, NFS: handed out at mount time)
 * @param root         where the mount's root lies inside its file system: {@code /} for a whole file system, the
 *                     subvolume's path ({@code /@data}) on btrfs, the directory a bind mount shows
 * @param point        where it is mounted, absolute
 * @param fsType       the file system type ({@code ext4}, {@code btrfs}, {@code fuse.sshfs})
 * @param source       what is mounted ({@code /dev/sdb1}, {@code pool/data}, {@code nas:/export})
 * @param superOptions the file system's own options ({@code rw,subvolid=256,subvol=/@data})
 */
public record Mount(int id, int parentId, String device, byte[] root, byte[] point, String fsType, byte[] source,
                    byte[] superOptions) {

    /**
     * The btrfs subvolume's id, from {@code subvolid=} in the super options; empty for other file systems. The
     * subvolume's path alone is not enough: a subvolume deleted and created again under the same name is another one.
     */
    public Optional<String> subvolumeId() {
        if (!fsType.equals("btrfs")) {
            return Optional.empty();
        }
        for (String option : new String(superOptions, StandardCharsets.ISO_8859_1).split(",")) {
            if (option.startsWith("subvolid=")) {
                return Optional.of(option.substring("subvolid=".length()));
            }
        }
        return Optional.empty();
    }

    /** Whether the directory {@code absolutePath} is this mount's point or lies below it. */
    public boolean holds(byte[] absolutePath) {
        return isAtOrBelow(absolutePath, point);
    }

    /**
     * Where {@code absolutePath}, which this mount {@link #holds}, lies below its point: no leading slash, empty for
     * the point itself.
     */
    public byte[] below(byte[] absolutePath) {
        return pathBelow(point, absolutePath);
    }

    /** Where {@code path}, at or below {@code top}, lies below it: no leading slash, empty for {@code top} itself. */
    public static byte[] pathBelow(byte[] top, byte[] path) {
        assert isAtOrBelow(path, top);
        int start = top.length == 1 ? 1 : Math.min(path.length, top.length + 1);
        return Arrays.copyOfRange(path, start, path.length);
    }

    /** Whether {@code path} is {@code top} or lies below it, comparing whole names. */
    static boolean isAtOrBelow(byte[] path, byte[] top) {
        if (top.length == 1 && top[0] == '/') {
            return path.length > 0 && path[0] == '/';
        }
        return path.length >= top.length && Arrays.equals(path, 0, top.length, top, 0, top.length)
                && (path.length == top.length || path[top.length] == '/');
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Mount that && id == that.id && parentId == that.parentId && device.equals(that.device)
                && Arrays.equals(root, that.root) && Arrays.equals(point, that.point) && fsType.equals(that.fsType)
                && Arrays.equals(source, that.source) && Arrays.equals(superOptions, that.superOptions);
    }

    @Override
    public int hashCode() {
        return Integer.hashCode(id) * 31 + Arrays.hashCode(point);
    }

    @Override
    public String toString() {
        return ByteStrings.escape(source) + " (" + fsType + ") at " + ByteStrings.escape(point);
    }
}
