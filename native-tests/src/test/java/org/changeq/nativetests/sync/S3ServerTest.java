package org.changeq.nativetests.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The S3 server the rclone tests use, driven by Debian's rclone: it stores, lists, goes down and comes back. */
class S3ServerTest {

    /** One try, no retries inside rclone: an outage shows at once instead of after rclone's back-off. */
    private static final List<String> NO_RETRIES = List.of("--retries", "1", "--low-level-retries", "1");

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

        assertEquals(0, rclone("mkdir", server.remotePath("bucket")).exitCode);
        assertEquals(0, rclone("copy", file.toString(), server.remotePath("bucket/host1")).exitCode);

        Result listing = rclone("lsf", "-R", "--files-only", server.remotePath("bucket"));
        assertEquals(0, listing.exitCode, listing.output);
        assertEquals("host1/hello.txt\n", listing.output);
        assertEquals("hello\n", Files.readString(server.dataDirectory().resolve("bucket/host1/hello.txt")));
    }

    @Test
    void aStoppedServerIsRcloneExitOneAndARestartedOneServesTheSameObjects() throws Exception {
        Path file = Files.writeString(dir.resolve("kept.txt"), "kept\n");
        assertEquals(0, rclone("mkdir", server.remotePath("outage")).exitCode);
        assertEquals(0, rclone("copy", file.toString(), server.remotePath("outage")).exitCode);

        server.stop();
        Result down = rclone("lsf", server.remotePath("outage"));
        assertEquals(1, down.exitCode, down.output);
        Result copyWhileDown = rclone("copy", file.toString(), server.remotePath("outage/later"));
        assertEquals(1, copyWhileDown.exitCode, copyWhileDown.output);

        server.start();
        assertEquals(0, rclone("copy", file.toString(), server.remotePath("outage/later")).exitCode);
        Result listing = rclone("lsf", "-R", "--files-only", server.remotePath("outage"));
        assertEquals("kept.txt\nlater/kept.txt\n", listing.output);
    }

    private record Result(int exitCode, String output) {
    }

    private Result rclone(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(NO_RETRIES);
        command.addAll(List.of(args));
        Path output = Files.createTempFile(dir, "rclone", ".out");
        Process process = server.rclone(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        int exitCode = process.waitFor();
        return new Result(exitCode, Files.readString(output));
    }
}
