package org.changeq.nativetests.sync;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * What Debian's rclone does where an rclone destination has to take care (docs/rclone.md): names a path list drops or
 * cannot carry, invalid UTF-8, which rclone's s3 encoding stores escaped, and a bucket that does not exist.
 */
class RcloneFactsTest {

    /** One server for the class; each test uses a bucket or a prefix of its own. */
    @RegisterExtension
    static final S3Server.ForClass S3 = new S3Server.ForClass("names");

    private static final byte[] NEWLINE_NAME = "new\nline".getBytes(StandardCharsets.UTF_8);
    private static final byte[] INVALID_UTF8_NAME = {'b', 'a', 'd', (byte) 0xff, 'n', 'a', 'm', 'e'};
    /** rclone's InvalidUtf8 encoding of byte 0xFF: U+201B then the byte in hex. */
    private static final String INVALID_UTF8_KEY = "bad\u201BFFname";

    @TempDir
    Path dir;

    @Test
    void filesFromTakesCommentsAndLeadingSpacesFromTheListAndFilesFromRawDoesNot() throws Exception {
        Path source = Files.createDirectories(dir.resolve("src"));
        List<String> names = List.of("#hash", ";semi", " lead", "-dash", "plain");
        for (String name : names) {
            Trees.write(source, name, name + "\n");
        }
        Path list = Files.writeString(dir.resolve("list"), String.join("\n", names) + "\n");

        S3Server.Run cooked = S3.server().run("copy", "--files-from", list.toString(), source.toString(),
                S3.server().remotePath("names/cooked"));
        assertEquals(0, cooked.exitCode(), cooked.text());
        assertEquals("-dash\nplain\n", S3.server().run("lsf", S3.server().remotePath("names/cooked")).text(),
                "#hash and ;semi are comments, ' lead' was trimmed to a name that does not exist: all silently skipped");

        S3Server.Run raw = S3.server().run("copy", "--files-from-raw", list.toString(), source.toString(),
                S3.server().remotePath("names/raw"));
        assertEquals(0, raw.exitCode(), raw.text());
        assertEquals(" lead\n#hash\n-dash\n;semi\nplain\n", S3.server().run("lsf", S3.server().remotePath("names/raw")).text());
    }

    @Test
    void aCopyToAMissingBucketMakesItUnlessTheBucketIsNotChecked() throws Exception {
        Path file = Trees.write(dir, "file", "file\n");

        S3Server.Run unchecked = S3.server().run("copy", "--s3-no-check-bucket", file.toString(), S3.server().remotePath("absent/x"));
        assertEquals(1, unchecked.exitCode(), unchecked.text());
        assertTrue(unchecked.text().contains("NoSuchBucket"), unchecked.text());
        assertFalse(Files.exists(S3.server().dataDirectory().resolve("absent")));

        S3Server.Run made = S3.server().run("copy", file.toString(), S3.server().remotePath("absent/x"));
        assertEquals(0, made.exitCode(), made.text());
        assertEquals("file\n", Files.readString(S3.server().dataDirectory().resolve("absent/x/file")));
    }

    @Test
    void aNewlineNameIsDroppedByAPathListAndCarriedByCopyto() throws Exception {
        Path source = Files.createDirectories(dir.resolve("src"));
        Path file = Trees.write(source, NEWLINE_NAME, "newline\n");
        Path list = Files.write(dir.resolve("list"), (new String(NEWLINE_NAME, StandardCharsets.UTF_8) + "\n")
                .getBytes(StandardCharsets.UTF_8));

        S3Server.Run listed = S3.server().run("copy", "-v", "--files-from-raw", list.toString(), source.toString(),
                S3.server().remotePath("names/listed"));
        assertEquals(0, listed.exitCode(), listed.text());
        assertTrue(listed.text().contains("There was nothing to transfer"), listed.text());
        assertFalse(Files.exists(S3.server().dataDirectory().resolve("names/listed")), "nothing arrived");

        S3Server.Run copied = S3.server().run("copyto", file.toString(),
                S3.server().remotePath("names/single/" + new String(NEWLINE_NAME, StandardCharsets.UTF_8)));
        assertEquals(0, copied.exitCode(), copied.text());
        assertEquals("newline\n", Files.readString(Trees.path(S3.server().dataDirectory(), bytes("names/single/", NEWLINE_NAME))));
        S3Server.Run listing = S3.server().run("lsf", S3.server().remotePath("names/single"));
        assertEquals("new\u240Aline\n", listing.text(), "rclone lists the newline in its display encoding");
    }

    @Test
    void anInvalidUtf8NameIsStoredEscapedListedBackAsItsBytesAndNotSentAgain() throws Exception {
        Path source = Files.createDirectories(dir.resolve("src"));
        Trees.write(source, INVALID_UTF8_NAME, "bytes\n");
        Trees.write(source, "plain", "plain\n");

        S3Server.Run first = S3.server().run("sync", "-v", source.toString(), S3.server().remotePath("names/tree"));
        assertEquals(0, first.exitCode(), first.text());
        assertEquals("bytes\n", Files.readString(S3.server().dataDirectory().resolve("names/tree/" + INVALID_UTF8_KEY)));

        S3Server.Run listing = S3.server().run("lsf", S3.server().remotePath("names/tree"));
        assertArrayEquals(bytes("", INVALID_UTF8_NAME, "\nplain\n".getBytes(StandardCharsets.UTF_8)), listing.output());

        S3Server.Run second = S3.server().run("sync", "-v", source.toString(), S3.server().remotePath("names/tree"));
        assertEquals(0, second.exitCode(), second.text());
        assertTrue(second.text().contains("There was nothing to transfer"), second.text());
        assertFalse(second.text().contains("Deleted"), second.text());
    }

    private static byte[] bytes(String prefix, byte[]... parts) {
        List<byte[]> all = new ArrayList<>();
        all.add(prefix.getBytes(StandardCharsets.UTF_8));
        all.addAll(List.of(parts));
        int length = all.stream().mapToInt(part -> part.length).sum();
        byte[] joined = new byte[length];
        int at = 0;
        for (byte[] part : all) {
            System.arraycopy(part, 0, joined, at, part.length);
            at += part.length;
        }
        return joined;
    }
}
