package org.changeq.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JVM flags the built launchers pass, read through a stand-in {@code java} that prints its arguments:
 * the tracker's memory flags, and native heap trimming only on runtimes that have it (an unknown -XX flag
 * would stop the JVM from starting at all).
 */
class LauncherFlagsIT {

    @TempDir
    Path javaHome;

    private List<String> flags(Path dist, String launcher) throws IOException, InterruptedException {
        return flags(dist, launcher, "17.0.15");
    }

    private List<String> flags(String launcher, String javaVersion, String... arguments)
            throws IOException, InterruptedException {
        return flags(ModuleFiles.target("changeq"), launcher, javaVersion, arguments);
    }

    private List<String> flags(Path dist, String launcher, String javaVersion, String... arguments)
            throws IOException, InterruptedException {
        Path bin = Files.createDirectories(javaHome.resolve("bin"));
        Path java = bin.resolve("java");
        Files.writeString(java, "#!/bin/sh\nprintf '%s\\n' \"$@\"\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(javaHome.resolve("release"), "IMPLEMENTOR=\"test\"\nJAVA_VERSION=\"" + javaVersion + "\"\n");
        List<String> command = new ArrayList<>(List.of(dist.resolve("bin/" + launcher).toString()));
        command.addAll(List.of(arguments));
        command.add("--help");
        ModuleFiles.Result result = ModuleFiles.run(javaHome, command, Map.of("JAVA_HOME", javaHome.toString(), "CHANGEQ_JAVA_OPTS", ""));
        assertEquals(0, result.exitCode(), result.toString());
        return result.stdout().lines().toList();
    }

    @Test
    void theTrackerHasASmallYoungGenerationAndTrimsNativeMemoryWhereTheRuntimeCan() throws Exception {
        List<String> current = flags("changeq-tracker", "17.0.15");
        assertTrue(current.containsAll(List.of("-XX:TieredStopAtLevel=1", "-Xmn4m",
                "-XX:TrimNativeHeapInterval=5000")), current.toString());
        assertTrue(current.contains("org.changeq.tracker.TrackerMain"), current.toString());

        for (String withoutTrim : List.of("17.0.8", "17", "20.0.2", "21")) {
            List<String> older = flags("changeq-tracker", withoutTrim);
            assertFalse(older.stream().anyMatch(flag -> flag.startsWith("-XX:TrimNativeHeapInterval")),
                    withoutTrim + ": " + older);
            assertTrue(older.contains("-Xmn4m"), older.toString());
        }
        assertTrue(flags("changeq-tracker", "21.0.1").contains("-XX:TrimNativeHeapInterval=5000"));
    }

    @Test
    void eachProgramStartsFromItsOwnClassDataArchiveWhenOneWasMade(@TempDir Path dist) throws Exception {
        for (String part : List.of("bin/changeq-tracker", "bin/changeq-sync", "libexec/changeq-java")) {
            Path copy = Files.createDirectories(dist.resolve(part).getParent()).resolve(dist.resolve(part).getFileName());
            Files.copy(ModuleFiles.target("changeq/" + part), copy);
        }
        assertFalse(String.join(" ", flags(dist, "changeq-tracker")).contains("SharedArchiveFile"));

        Files.createDirectories(dist.resolve("cds"));
        Files.writeString(dist.resolve("cds/tracker.jsa"), "");

        assertTrue(flags(dist, "changeq-tracker").contains("-XX:SharedArchiveFile=" + dist.resolve("cds/tracker.jsa")));
        assertFalse(String.join(" ", flags(dist, "changeq-sync")).contains("SharedArchiveFile"),
                "the sync has no archive of its own here");
    }

    /**
     * chronicle-core reads {@code system.properties} from the working directory and its parent: the JVM starts in
     * {@code /}, whatever directory root typed the command in, while a relative {@code --config} still means that
     * directory. Through the real launcher and JVM.
     */
    @Test
    void theJvmStartsInTheRootDirectoryAndARelativeConfigMeansTheCallersDirectory(@TempDir Path typedIn)
            throws Exception {
        Path here = Files.createDirectories(typedIn.resolve("here"));
        Files.writeString(here.resolve("system.properties"), "chronicle.analytics.disable=false\n");
        Files.writeString(typedIn.resolve("system.properties"), "chronicle.analytics.disable=false\n");
        Files.writeString(here.resolve("changeq.yaml"), "queue: relative/queue\n");

        ModuleFiles.Result result = ModuleFiles.run(here, List.of(ModuleFiles.target("changeq").resolve(
                "bin/changeq-queue").toString(), "stat", "--config", "changeq.yaml"), Map.of("CHANGEQ_USER", "root"));

        assertEquals(3, result.exitCode(), result.toString());
        assertTrue(result.stderr().contains(here.resolve("changeq.yaml").toString()), result.toString());

        Path bin = Files.createDirectories(javaHome.resolve("bin"));
        Files.writeString(bin.resolve("java"), "#!/bin/sh\npwd\nprintf '%s\\n' \"$@\"\n");
        Files.setPosixFilePermissions(bin.resolve("java"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(javaHome.resolve("release"), "JAVA_VERSION=\"17.0.15\"\n");
        ModuleFiles.Result standIn = ModuleFiles.run(here, List.of(ModuleFiles.target("changeq").resolve(
                "bin/changeq-sync").toString(), "--help"), Map.of("JAVA_HOME", javaHome.toString(), "CHANGEQ_USER", "root",
                "CHANGEQ_JAVA_OPTS", ""));
        List<String> lines = standIn.stdout().lines().toList();
        assertEquals("/", lines.get(0), standIn.toString());
        assertTrue(lines.contains("-Dchangeq.invocation.dir=" + here), standIn.toString());
    }

    @Test
    void theBatchProgramsKeepTheDefaultCompilerAndYoungGeneration() throws Exception {
        List<String> sync = flags("changeq-sync", "17.0.15");
        assertFalse(sync.stream().anyMatch(flag -> flag.startsWith("-XX:TieredStopAtLevel")
                || flag.startsWith("-Xmn") || flag.startsWith("-XX:MaxHeapFreeRatio")), sync.toString());
        assertTrue(sync.contains("-XX:+UseSerialGC"), sync.toString());
        // A route named "follow" is not the follower.
        assertFalse(flags("changeq-sync", "17.0.15", "--route", "follow").contains("-XX:TieredStopAtLevel=1"));
    }

    /** The real JVM with each program's flags: a flag combination it corrects prints a warning on stdout. */
    @Test
    void theRuntimeAcceptsEveryProgramsFlagsWithoutAWord(@TempDir Path workingDirectory) throws Exception {
        Path dist = ModuleFiles.target("changeq");
        for (List<String> command : List.of(List.of("changeq-tracker"), List.of("changeq-sync"),
                List.of("changeq-sync", "follow"), List.of("changeq-queue"))) {
            List<String> line = new ArrayList<>(List.of(dist.resolve("bin/" + command.get(0)).toString()));
            line.addAll(command.subList(1, command.size()));
            line.add("--help");
            ModuleFiles.Result result = ModuleFiles.run(workingDirectory, line,
                    Map.of("CHANGEQ_JAVA_OPTS", "", "CHANGEQ_USER", "root"));
            assertEquals(0, result.exitCode(), command + ": " + result);
            assertFalse(result.stdout().contains("[warning]") || result.stderr().contains("[warning]"),
                    command + ": " + result);
        }
    }

    @Test
    void theFollowerIsAlwaysOnLikeTheTrackerButKeepsItsOwnHeapShape() throws Exception {
        List<String> follower = flags("changeq-sync", "17.0.15", "follow");
        assertTrue(follower.containsAll(List.of("-XX:TieredStopAtLevel=1", "-XX:ReservedCodeCacheSize=16m",
                "-XX:TrimNativeHeapInterval=5000", "-Xms16m", "-Xmn8m", "-XX:MaxHeapFreeRatio=30")), follower.toString());
        assertFalse(follower.contains("-Xmn4m"), follower.toString());
        assertTrue(follower.contains("org.changeq.sync.SyncMain"), follower.toString());
        assertFalse(flags("changeq-sync", "17.0.8", "follow").stream()
                .anyMatch(flag -> flag.startsWith("-XX:TrimNativeHeapInterval")));
    }
}
