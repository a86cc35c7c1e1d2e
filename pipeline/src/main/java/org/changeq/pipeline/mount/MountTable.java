package org.changeq.pipeline.mount;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The mount table as {@code /proc/self/mountinfo} lists it, read as bytes: a mount point may hold any byte (a
 * Latin-1 name, a newline), and services run without {@code LANG}, so no line is ever decoded as text and no
 * line of an unrelated mount can make reading fail. The one parser of mountinfo. Immutable.
 */
public final class MountTable {

    /** The calling process's mount table: inside a systemd unit, the unit's own mount namespace. */
    public static final Path PROC_SELF_MOUNTINFO = Path.of("/proc/self/mountinfo");

    private final List<Mount> mounts;

    private MountTable(List<Mount> mounts) {
        this.mounts = List.copyOf(mounts);
    }

    /** Reads {@link #PROC_SELF_MOUNTINFO}. */
    public static MountTable read() throws IOException {
        // A stream, not Files.readAllBytes: procfs reports the size 0.
        try (InputStream in = Files.newInputStream(PROC_SELF_MOUNTINFO)) {
            return parse(in.readAllBytes());
        }
    }

    /** Parses mountinfo's text; a line that does not have mountinfo's shape is skipped. */
    public static MountTable parse(byte[] mountinfo) {
        List<Mount> mounts = new ArrayList<>();
        int start = 0;
        while (start < mountinfo.length) {
            int end = start;
            while (end < mountinfo.length && mountinfo[end] != '\n') {
                end++;
            }
            parseLine(mountinfo, start, end).ifPresent(mounts::add);
            start = end + 1;
        }
        return new MountTable(mounts);
    }

    /** Every mount, in the kernel's order. */
    public List<Mount> mounts() {
        return mounts;
    }

    /**
     * The mount that holds {@code absolutePath}, the one whose files a look at the path sees. The kernel lists mounts
     * in the order they were made, so it is the last one listed at or above the path: a later mount deeper down is
     * mounted on the earlier one, a later one on the same point or higher up hides it.
     */
    public Optional<Mount> holding(byte[] absolutePath) {
        Mount top = null;
        for (Mount mount : mounts) {
            if (mount.holds(absolutePath)) {
                top = mount;
            }
        }
        return Optional.ofNullable(top);
    }

    /**
     * The mounts visible strictly below {@code absoluteDirectory}, ordered by mount point: of mounts stacked on one
     * point only the top one, and none hidden by a later mount on a directory above it (or on the directory itself).
     */
    public List<Mount> visibleBelow(byte[] absoluteDirectory) {
        List<Mount> visible = new ArrayList<>();
        // In the kernel's order, as for holding(): a later mount on a point at or above an earlier one's hides it.
        for (Mount mount : mounts) {
            if (Mount.isAtOrBelow(absoluteDirectory, mount.point())) {
                visible.clear();
            } else if (Mount.isAtOrBelow(mount.point(), absoluteDirectory)) {
                visible.removeIf(earlier -> Mount.isAtOrBelow(earlier.point(), mount.point()));
                visible.add(mount);
            }
        }
        visible.sort(Comparator.comparing(Mount::point, Arrays::compareUnsigned));
        return visible;
    }

    private static Optional<Mount> parseLine(byte[] text, int start, int end) {
        List<byte[]> fields = new ArrayList<>();
        int field = start;
        for (int i = start; i <= end; i++) {
            if (i == end || text[i] == ' ') {
                fields.add(Arrays.copyOfRange(text, field, i));
                field = i + 1;
            }
        }
        int separator = -1;
        for (int i = 6; i < fields.size(); i++) {
            if (fields.get(i).length == 1 && fields.get(i)[0] == '-') {
                separator = i;
                break;
            }
        }
        if (separator < 0 || separator + 2 >= fields.size()) {
            return Optional.empty();
        }
        try {
            return Optional.of(new Mount(Integer.parseInt(ascii(fields.get(0))), Integer.parseInt(ascii(fields.get(1))),
                    ascii(fields.get(2)), unescape(fields.get(3)), unescape(fields.get(4)),
                    ascii(unescape(fields.get(separator + 1))), unescape(fields.get(separator + 2)),
                    separator + 3 < fields.size() ? unescape(fields.get(separator + 3)) : new byte[0]));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static String ascii(byte[] bytes) {
        // ISO-8859-1 maps every byte to one char: nothing is lost, nothing throws.
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    /** The kernel writes a space, tab, newline and backslash (and sometimes more) as a backslash and three octal digits. */
    public static byte[] unescape(byte[] escaped) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(escaped.length);
        for (int i = 0; i < escaped.length; i++) {
            if (escaped[i] == '\\' && isOctal(escaped, i + 1) && isOctal(escaped, i + 2) && isOctal(escaped, i + 3)) {
                out.write((escaped[i + 1] - '0') << 6 | (escaped[i + 2] - '0') << 3 | (escaped[i + 3] - '0'));
                i += 3;
            } else {
                out.write(escaped[i]);
            }
        }
        return out.toByteArray();
    }

    /** The inverse of {@link #unescape}, for one-line text files: every byte outside printable ASCII, and the backslash. */
    public static String escape(byte[] raw) {
        StringBuilder out = new StringBuilder(raw.length);
        for (byte b : raw) {
            int value = b & 0xff;
            if (value <= ' ' || value >= 0x7f || value == '\\') {
                out.append('\\').append((char) ('0' + (value >> 6))).append((char) ('0' + (value >> 3 & 7)))
                        .append((char) ('0' + (value & 7)));
            } else {
                out.append((char) value);
            }
        }
        return out.toString();
    }

    private static boolean isOctal(byte[] bytes, int at) {
        return at < bytes.length && bytes[at] >= '0' && bytes[at] <= '7';
    }
}
