package org.changeq.pipeline.mount;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MountTableTest {

    /** Lines as the kernel writes them; {@code bytes} keeps non-ASCII bytes as they are (one char per byte). */
    private static MountTable table(String... lines) {
        return MountTable.parse((String.join("\n", lines) + "\n").getBytes(ISO_8859_1));
    }

    private static byte[] bytes(String oneCharPerByte) {
        return oneCharPerByte.getBytes(ISO_8859_1);
    }

    private static List<String> points(List<Mount> mounts) {
        return mounts.stream().map(mount -> new String(mount.point(), ISO_8859_1)).toList();
    }

    @Test
    void octalEscapesBecomeTheirBytesAndOtherBytesStayAsTheyAre() {
        MountTable table = table("29 1 8:1 / / rw - ext4 /dev/sda1 rw",
                "40 29 0:40 /a\\134b /srv/with\\040space\\011tab\\012newline rw shared:1 - tmpfs my\\040src rw",
                "41 29 0:41 / /srv/caf\u00e9-\u00e9t\u00e9 rw - tmpfs tmpfs rw");
        Mount escaped = table.mounts().get(1);
        assertArrayEquals(bytes("/srv/with space\ttab\nnewline"), escaped.point());
        assertArrayEquals(bytes("/a\\b"), escaped.root());
        assertArrayEquals(bytes("my src"), escaped.source());
        assertEquals("tmpfs", escaped.fsType());
        // Latin-1 bytes: invalid UTF-8, read exactly.
        assertArrayEquals(new byte[] {'/', 's', 'r', 'v', '/', 'c', 'a', 'f', (byte) 0xe9, '-', (byte) 0xe9, 't',
                (byte) 0xe9}, table.mounts().get(2).point());
        assertEquals(Optional.of(table.mounts().get(2)), table.holding(bytes("/srv/caf\u00e9-\u00e9t\u00e9/x")));
    }

    @Test
    void aLineWithoutMountinfosShapeIsSkippedAndTheOthersRead() {
        MountTable table = table("garbage", "", "29 1 8:1 / / rw - ext4 /dev/sda1 rw", "x y 8:1 / /z rw - ext4 a rw",
                "30 29 0:5 / /no-separator rw ext4 a rw");
        assertEquals(List.of("/"), points(table.mounts()));
    }

    @Test
    void optionalFieldsBeforeTheSeparatorAreSkipped() {
        Mount mount = table("50 29 0:50 /@data /srv/data rw,relatime shared:5 master:1 - btrfs /dev/loop0 "
                + "rw,space_cache=v2,subvolid=256,subvol=/@data").mounts().get(0);
        assertEquals("btrfs", mount.fsType());
        assertArrayEquals(bytes("/dev/loop0"), mount.source());
        assertArrayEquals(bytes("/@data"), mount.root());
        assertEquals(Optional.of("256"), mount.subvolumeId());
        assertEquals(Optional.empty(), table("51 29 0:51 / /t rw - tmpfs t rw,subvolid=9").mounts().get(0)
                .subvolumeId());
    }

    @Test
    void theMountHoldingAPathIsTheLastListedAtOrAboveIt() {
        MountTable table = table("1 0 8:1 / / rw - ext4 /dev/sda1 rw",
                "2 1 8:2 / /srv rw - ext4 /dev/sdb1 rw",
                "3 2 0:3 / /srv/data rw - tmpfs first rw",
                "4 3 0:4 / /srv/data rw - tmpfs stacked rw",
                "5 1 0:5 / /srvx rw - tmpfs other rw");
        assertEquals("stacked", new String(table.holding(bytes("/srv/data/a")).orElseThrow().source(), ISO_8859_1));
        assertEquals("/dev/sdb1", new String(table.holding(bytes("/srv/dat")).orElseThrow().source(), ISO_8859_1));
        assertEquals("/dev/sda1", new String(table.holding(bytes("/sr")).orElseThrow().source(), ISO_8859_1));
        assertEquals(Optional.empty(), MountTable.parse(new byte[0]).holding(bytes("/srv")));
    }

    @Test
    void mountsBelowADirectoryAreTheVisibleOnesOnly() {
        MountTable table = table("1 0 8:1 / / rw - ext4 /dev/sda1 rw",
                "2 1 8:2 / /srv rw - ext4 /dev/sdb1 rw",
                "3 2 0:3 / /srv/a rw - tmpfs a rw",
                "4 2 0:4 / /srv/b/deep rw - tmpfs hidden-later rw",
                "5 2 0:5 / /srv/c rw - tmpfs c-below rw",
                "6 5 0:6 / /srv/c rw - tmpfs c-on-top rw",
                "7 2 0:7 / /srv/b rw - tmpfs b-hides-deep rw",
                "8 1 0:8 / /srvx rw - tmpfs not-below rw");
        List<Mount> below = table.visibleBelow(bytes("/srv"));
        assertEquals(List.of("/srv/a", "/srv/b", "/srv/c"), points(below));
        assertEquals("c-on-top", new String(below.get(2).source(), ISO_8859_1));
        assertEquals(List.of(), table.visibleBelow(bytes("/srv/a")));
    }

    @Test
    void aMountOnTheDirectoryOrAboveItHidesWhatWasMountedBelowBefore() {
        MountTable table = table("1 0 8:1 / / rw - ext4 /dev/sda1 rw",
                "2 1 0:2 / /srv/r/child rw - tmpfs old-child rw",
                "3 1 0:3 / /srv rw - tmpfs over-srv rw",
                "4 3 0:4 / /srv/r/new rw - tmpfs new-child rw");
        assertEquals(List.of("/srv/r/new"), points(table.visibleBelow(bytes("/srv/r"))));
    }

    @Test
    void escapeAndUnescapeRoundTripEveryByte() {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (int b = 0; b < 256; b++) {
            all.write(b);
        }
        byte[] raw = all.toByteArray();
        String escaped = MountTable.escape(raw);
        assertFalse(escaped.contains(" ") || escaped.contains("\n"), escaped);
        assertTrue(escaped.chars().allMatch(c -> c > ' ' && c < 0x7f), escaped);
        assertArrayEquals(raw, MountTable.unescape(escaped.getBytes(ISO_8859_1)));
    }
}
