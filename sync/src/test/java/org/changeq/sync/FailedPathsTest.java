package org.changeq.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.state.RetryList;
import org.changeq.pipeline.state.RetryList.Entry;
import org.changeq.pipeline.state.RetryList.Kind;
import org.junit.jupiter.api.Test;

/** Lines as rsync 3.2.7 and 3.5.0 print them (--out-format='%i %n' of a dry run, and stderr). */
class FailedPathsTest {

    private static final long NOW = 1_700_000_000_000L;

    private static FailedPaths feed(RetryList previous, int limit, String... lines) {
        FailedPaths failed = new FailedPaths(previous, NOW, limit);
        for (String line : lines) {
            failed.accept(line.getBytes(StandardCharsets.ISO_8859_1));
        }
        return failed;
    }

    private static byte[] bytes(String path) {
        return path.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void everyItemStillDifferingIsAFailedPathOfItsKind() {
        RetryList list = feed(RetryList.EMPTY, 100,
                ".d..t...... ./",
                ".d..t...... stuck/",
                ">f+++++++++ stuck/new",
                "<f.st...... ok/nl\\#012name\\#377",
                "cL+++++++++ link",
                "*deleting   old/",
                "Number of files: 3 (reg: 2, dir: 1)").result(List.of());
        assertEquals(List.of(
                new Entry(new byte[0], Kind.DIRECTORY, NOW, ""),
                new Entry(bytes("stuck"), Kind.DIRECTORY, NOW, ""),
                new Entry(bytes("stuck/new"), Kind.FILE, NOW, ""),
                new Entry(new byte[] {'o', 'k', '/', 'n', 'l', '\n', 'n', 'a', 'm', 'e', (byte) 0xff}, Kind.FILE, NOW, ""),
                new Entry(bytes("link"), Kind.FILE, NOW, ""),
                new Entry(bytes("old"), Kind.DELETION, NOW, "")), list.entries(), "a deletion rsync failed to make is offered as one again");
        assertFalse(list.overflowed());
    }

    @Test
    void aFileTheContentPassLeftOutStaysComparedByContent() {
        FailedPaths failed = new FailedPaths(RetryList.EMPTY, NOW, 100);
        failed.acceptComparedByContent(bytes(">fc........ same-time"));
        failed.acceptComparedByContent(bytes("cd+++++++++ missing/"));
        failed.accept(bytes(">f.st...... plain"));
        assertEquals(List.of(
                new Entry(bytes("same-time"), Kind.CONTENT, NOW, ""),
                new Entry(bytes("missing"), Kind.SUBTREE, NOW, ""),
                new Entry(bytes("plain"), Kind.FILE, NOW, "")), failed.result(List.of()).entries());
    }

    @Test
    void aDirectoryMissingAtTheDestinationStandsForEverythingInIt() {
        RetryList previous = new RetryList(List.of(new Entry(bytes("new/deep/a"), Kind.FILE, 5, "")), false);
        RetryList list = feed(previous, 100,
                ">f+++++++++ new/deep/a",
                "cd+++++++++ new/",
                "cd+++++++++ new/deep/",
                ">f+++++++++ new/deep/b",
                ">f+++++++++ newer").result(List.of());
        assertEquals(List.of(new Entry(bytes("new"), Kind.SUBTREE, 5, ""), new Entry(bytes("newer"), Kind.FILE, NOW, "")),
                list.entries(), "folded in whatever order rsync lists them, keeping the oldest failure");
    }

    @Test
    void aPathFailingAgainKeepsItsFirstFailureAndTheListStopsAtItsLimit() {
        RetryList previous = new RetryList(List.of(new Entry(bytes("a"), Kind.FILE, 7, "old reason")), false);
        RetryList list = feed(previous, 2, ">f+++++++++ a", ">f+++++++++ b", ">f+++++++++ c", ">f..t...... a")
                .result(List.of());
        assertEquals(List.of(new Entry(bytes("a"), Kind.FILE, 7, ""), new Entry(bytes("b"), Kind.FILE, NOW, "")),
                list.entries());
        assertTrue(list.overflowed());
    }

    @Test
    void eachPathGetsTheMessageThatNamesItWhateverTheVersionsWording() {
        List<String> errors = List.of(
                "rsync: [sender] send_files failed to open \"/srv/nfs/secret\": Permission denied (13)",
                "rsync: [generator] failed to set times on \"stuck\" (in backup): Operation not permitted (1)",
                "rsync: [receiver] mkstemp \"stuck/.new.43iF5X\" (in backup) failed: Permission denied (13)",
                "rsync: mkstemp \"/mnt/backup/nfs/odd/.nl\\\\#012name.Ryu8Q1\" failed: Permission denied (13)",
                "rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1394)");
        assertEquals(errors.get(0), FailedPaths.reason(bytes("secret"), errors));
        assertEquals(errors.get(1), FailedPaths.reason(bytes("stuck"), errors));
        assertEquals(errors.get(2), FailedPaths.reason(bytes("stuck/new"), errors));
        assertEquals(errors.get(3), FailedPaths.reason(bytes("odd/nl\nname"), errors), "escaped as rsync and the log escape it");
        assertEquals("", FailedPaths.reason(bytes("ecret"), errors), "a name is matched whole");
        assertEquals("", FailedPaths.reason(bytes("tuck/new"), errors));
    }

    @Test
    void rsyncsEscapesRoundTripEveryByte() {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (int b = 1; b < 256; b++) {
            all.write(b);
        }
        all.writeBytes(bytes("\\#123 and \\#12"));
        byte[] name = all.toByteArray();
        byte[] escaped = FailedPaths.rsyncEscape(name);
        for (byte b : escaped) {
            assertTrue(b == '\t' || b >= 0x20 && b < 0x7f, "printable ASCII only: " + ByteStrings.escape(escaped));
        }
        assertTrue(new String(escaped, StandardCharsets.US_ASCII).endsWith("\\#134#123 and \\#12"),
                "a backslash that would read as an escape is escaped itself");
        assertArrayEquals(name, FailedPaths.unescape(escaped, 0));
    }
}
