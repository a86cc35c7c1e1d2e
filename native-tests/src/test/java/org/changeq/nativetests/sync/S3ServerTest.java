package org.changeq.nativetests.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The S3 server the rclone tests use, driven by Debian's rclone: it stores, lists, goes down and comes back. */
class S3ServerTest {

    /** One server for the class: S3Proxy takes seconds to start. Each test uses a bucket of its own. */
    @TempDir
    static Path serverDir;

    private static S3Server server;

    @TempDir
    Path dir;

    @BeforeAll
    static void startServer() throws Exception {
        server = S3Server.start(serverDir);
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    @Test
    void rcloneMakesABucketCopiesAFileAndListsIt() throws Exception {
        Path file = Files.writeString(dir.resolve("hello.txt"), "hello\n");

        assertEquals(0, server.run("mkdir", server.remotePath("bucket")).exitCode());
        assertEquals(0, server.run("copy", file.toString(), server.remotePath("bucket/host1")).exitCode());

        S3Server.Run listing = server.run("lsf", "-R", "--files-only", server.remotePath("bucket"));
        assertEquals(0, listing.exitCode(), listing.text());
        assertEquals("host1/hello.txt\n", listing.text());
        assertEquals("hello\n", Files.readString(server.dataDirectory().resolve("bucket/host1/hello.txt")));
    }

    @Test
    void aStoppedServerIsRcloneExitOneAndARestartedOneServesTheSameObjects() throws Exception {
        Path file = Files.writeString(dir.resolve("kept.txt"), "kept\n");
        assertEquals(0, server.run("mkdir", server.remotePath("outage")).exitCode());
        assertEquals(0, server.run("copy", file.toString(), server.remotePath("outage")).exitCode());

        server.stop();
        S3Server.Run down = server.run("lsf", server.remotePath("outage"));
        assertEquals(1, down.exitCode(), down.text());
        S3Server.Run copyWhileDown = server.run("copy", file.toString(), server.remotePath("outage/later"));
        assertEquals(1, copyWhileDown.exitCode(), copyWhileDown.text());

        server.start();
        assertEquals(0, server.run("copy", file.toString(), server.remotePath("outage/later")).exitCode());
        S3Server.Run listing = server.run("lsf", "-R", "--files-only", server.remotePath("outage"));
        assertEquals("kept.txt\nlater/kept.txt\n", listing.text());
    }
}
