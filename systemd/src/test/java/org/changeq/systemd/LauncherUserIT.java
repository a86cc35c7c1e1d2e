package org.changeq.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which user, with which capabilities, the built launchers run a program as when root starts them, read
 * through a stand-in {@code java} that prints its user name and ambient capability set.
 */
class LauncherUserIT {
    /** CAP_DAC_READ_SEARCH: reading every root, as the units grant it. */
    private static final String READ_ANYTHING = "0000000000000004";
    /** Also CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID: the local-destination drop-in's. */
    private static final String KEEP_OWNERS = "000000000000001f";

    @TempDir
    Path javaHome;

    @BeforeEach
    void standInJava() throws Exception {
        Assumptions.assumeTrue((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0,
                "not root: the launchers switch users only when root starts them");
        Assumptions.assumeTrue(ModuleFiles.onPath("setpriv") != null, "no setpriv (util-linux); skipping");
        Path java = Files.createDirectories(javaHome.resolve("bin")).resolve("java");
        Files.writeString(java, "#!/bin/sh\nid -un\nsed -n 's/^CapAmb:[[:space:]]*//p' /proc/self/status\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(javaHome.resolve("release"), "JAVA_VERSION=\"17.0.15\"\n");
    }

    private ModuleFiles.Result run(String launcher, String user, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(ModuleFiles.target("changeq/bin/" + launcher).toString()));
        command.addAll(args.length == 0 ? List.of("--help") : List.of(args));
        return ModuleFiles.run(javaHome, command, Map.of("JAVA_HOME", javaHome.toString(), "CHANGEQ_USER", user));
    }

    @Test
    void rootRunsTheSyncAsTheServiceUserWithTheCapabilitiesOfTheUnitAndItsDropIn() throws Exception {
        for (List<String> args : List.of(List.of("--config", "/etc/changeq/changeq.yaml", "--route", "mirror"),
                List.of("--route", "mirror", "--full"), List.of("follow", "--route", "mirror"))) {
            ModuleFiles.Result sync = run("changeq-sync", "nobody", args.toArray(String[]::new));
            assertEquals(0, sync.exitCode(), sync.toString());
            assertEquals("nobody\n" + KEEP_OWNERS + "\n", sync.stdout(), args.toString());
        }
    }

    /** Runs that write nothing but their output keep no capability a write to another user's file needs. */
    @Test
    void rootsChecksDryRunsAndHelpOnlyRead() throws Exception {
        for (List<String> args : List.of(List.of("--config", "c.yaml", "--route", "mirror", "--dry-run"),
                List.of("-n", "--route", "mirror"), List.of("check", "--config", "c.yaml"), List.of("--help"),
                List.of("--version"))) {
            ModuleFiles.Result sync = run("changeq-sync", "nobody", args.toArray(String[]::new));
            assertEquals(0, sync.exitCode(), sync.toString());
            assertEquals("nobody\n" + READ_ANYTHING + "\n", sync.stdout(), args.toString());
        }
    }

    @Test
    void rootRunsTheQueueToolAndTheTrackerAsTheServiceUserAbleToReadEveryRoot() throws Exception {
        for (String launcher : List.of("changeq-queue", "changeq-tracker")) {
            ModuleFiles.Result result = run(launcher, "nobody");
            assertEquals(0, result.exitCode(), result.toString());
            assertEquals("nobody\n" + READ_ANYTHING + "\n", result.stdout(), launcher);
        }
    }

    @Test
    void changeqUserRootKeepsRoot() throws Exception {
        ModuleFiles.Result result = run("changeq-sync", "root");
        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.stdout().startsWith("root\n"), result.toString());
    }

    @Test
    void anUnknownUserIsRefusedWithTheWayOut() throws Exception {
        ModuleFiles.Result result = run("changeq-sync", "no-such-changeq-user");
        assertEquals(1, result.exitCode(), result.toString());
        assertTrue(result.stderr().contains("CHANGEQ_USER=no-such-changeq-user names no user")
                && result.stderr().contains("CHANGEQ_USER=root"), result.toString());
        assertEquals("", result.stdout(), "nothing ran");
    }
}
