package org.changeq.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.TestConfigs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A route to an rclone remote runs, follows and is checked, but is not verified yet: verify refuses it plainly. */
class RcloneRouteRefusalTest {

    @TempDir
    Path dir;

    @Test
    void verifyOfAnRcloneRouteIsRefusedAsConfigurationBeforeItTouchesAnything() throws Exception {
        Path rcloneConfig = dir.resolve("rclone.conf");
        Files.writeString(rcloneConfig, "[s3test]\ntype = s3\n");
        Files.setPosixFilePermissions(rcloneConfig, PosixFilePermissions.fromString("rw-------"));
        ChangeqConfig config = TestConfigs.config(dir.resolve("root").toString(), "[]",
                "{root: nfs, dest: 'rclone://s3test/backup/', rclone-config: " + rcloneConfig + "}");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] args = {"verify", "--config", "/etc/changeq.yaml", "--route", "r"};
        int exit = SyncMain.run(args, file -> config, Clock.systemUTC(), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String said = err.toString(StandardCharsets.UTF_8);
        assertEquals(ExitCodes.CONFIG, exit, said);
        assertTrue(said.contains("route 'r': 'verify' is not supported for its rclone destination rclone://s3test/backup/"
                + " yet; only runs, follow mode and 'check' are"), said);
        assertTrue(!said.contains("\tat "), "no stack trace: " + said);
    }
}
