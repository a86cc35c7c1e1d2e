package org.changeq.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.changeq.nativetests.sync.S3Server;
import org.changeq.nativetests.sync.Trees;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.TestConfigs;
import org.changeq.pipeline.testing.ExpectLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

/** The rclone destination's files pass against a real S3 server (S3Proxy on loopback). */
class RcloneTransferTest {

    /** One server for the class; each test uses a bucket or a prefix of its own. */
    @RegisterExtension
    static final S3Server.ForClass S3 = new S3Server.ForClass("dest");

    @TempDir
    Path dir;

    private Transfer transfer(Path root, String dest) {
        ChangeqConfig config = TestConfigs.config(root.toString(), "[]", "{root: nfs, dest: '" + dest
                + "', rclone-config: " + S3.server().rcloneConfig() + "}");
        return Transfer.of(config.route("r"), config.root("nfs"), false);
    }

    /** {@code names} NUL-terminated, as the run writes a pass's list. */
    private Path list(List<String> names) throws Exception {
        ByteArrayOutputStream list = new ByteArrayOutputStream();
        for (String name : names) {
            list.write(name.getBytes(StandardCharsets.UTF_8));
            list.write(0);
        }
        return Files.write(Files.createDirectories(dir.resolve("lists")).resolve("r.files"), list.toByteArray());
    }

    @Test
    void theFilesPassSendsEveryListedNameAsItIsAndNothingElse() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        List<String> files = List.of("#hash", ";semi", " lead", "-dash", "new\nline", "d/plain", "arrived/a",
                "arrived/deeper/b");
        for (String name : files) {
            Trees.write(root, name, "content of " + name);
        }
        Trees.write(root, "unlisted", "not sent");

        // "arrived" is a directory that arrived whole: one entry for all it holds.
        RsyncRunner.Outcome outcome = transfer(root, "rclone://" + S3Server.REMOTE + "/dest/host1/")
                .recursivePass(list(List.of("#hash", ";semi", " lead", "-dash", "new\nline", "d/plain", "arrived")))
                .run();

        assertEquals(0, outcome.exitCode(), String.join(" | ", outcome.errors()));
        Path objects = S3.server().dataDirectory().resolve("dest/host1");
        for (String name : files) {
            assertEquals("content of " + name, Files.readString(objects.resolve(name)), name);
        }
        assertFalse(Files.exists(objects.resolve("unlisted")));
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "RcloneLog", contains = "NoSuchBucket")
    void aMissingBucketFailsThePassAndIsNeverMade() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Trees.write(root, "file", "file");

        RsyncRunner.Outcome outcome = transfer(root, "rclone://" + S3Server.REMOTE + "/absent/host1/")
                .recursivePass(list(List.of("file"))).run();

        assertEquals(1, outcome.exitCode(), "the pass failed, a whole-destination failure, not one path's");
        assertFalse(Files.exists(S3.server().dataDirectory().resolve("absent")), "no bucket made");
    }
}
