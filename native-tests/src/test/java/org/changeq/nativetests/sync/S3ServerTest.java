package org.changeq.nativetests.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The S3 server the rclone tests use, driven by Debian's rclone: it stores, lists, goes down and comes back. */
class S3ServerTest {

    /** One server for the class; each test uses a bucket or a prefix of its own. */
    @RegisterExtension
    static final S3Server.ForClass S3 = new S3Server.ForClass();

    @TempDir
    Path dir;

    @Test
    void rcloneMakesABucketCopiesAFileAndListsIt() throws Exception {
        Path file = Files.writeString(dir.resolve("hello.txt"), "hello\n");

        assertEquals(0, S3.server().run("mkdir", S3.server().remotePath("bucket")).exitCode());
        assertEquals(0, S3.server().run("copy", file.toString(), S3.server().remotePath("bucket/host1")).exitCode());

        S3Server.Run listing = S3.server().run("lsf", "-R", "--files-only", S3.server().remotePath("bucket"));
        assertEquals(0, listing.exitCode(), listing.text());
        assertEquals("host1/hello.txt\n", listing.text());
        assertEquals("hello\n", Files.readString(S3.server().dataDirectory().resolve("bucket/host1/hello.txt")));
    }

    @Test
    void aStoppedServerIsRcloneExitOneAndARestartedOneServesTheSameObjects() throws Exception {
        Path file = Files.writeString(dir.resolve("kept.txt"), "kept\n");
        assertEquals(0, S3.server().run("mkdir", S3.server().remotePath("outage")).exitCode());
        assertEquals(0, S3.server().run("copy", file.toString(), S3.server().remotePath("outage")).exitCode());

        S3.server().stop();
        S3Server.Run down = S3.server().run("lsf", S3.server().remotePath("outage"));
        assertEquals(1, down.exitCode(), down.text());
        S3Server.Run copyWhileDown = S3.server().run("copy", file.toString(), S3.server().remotePath("outage/later"));
        assertEquals(1, copyWhileDown.exitCode(), copyWhileDown.text());

        S3.server().start();
        assertEquals(0, S3.server().run("copy", file.toString(), S3.server().remotePath("outage/later")).exitCode());
        S3Server.Run listing = S3.server().run("lsf", "-R", "--files-only", S3.server().remotePath("outage"));
        assertEquals("kept.txt\nlater/kept.txt\n", listing.text());
    }
}
