package org.changeq.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.ConfigLoader;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.sync.SyncMain;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The /etc/changeq/changeq.yaml the package installs is a generic example: it loads, names no one's hosts, and
 * {@code changeq-sync check} on it tells a new user which path to adapt, and passes once the paths exist.
 */
class ShippedConfigTest {
    private static final Path SHIPPED = ModuleFiles.source("etc/changeq.yaml");

    @TempDir
    Path dir;

    @Test
    void loadsAsOneRootWithOneRouteToALocalDisk() throws Exception {
        ChangeqConfig config = ConfigLoader.load(SHIPPED);

        assertEquals(Path.of("/var/lib/changeq/queue"), config.queue());
        assertEquals(Path.of("/var/lib/changeq/state"), config.state());
        assertEquals(Set.of("data"), config.roots().keySet());
        assertEquals(Path.of("/srv/data"), config.root("data").path());
        assertEquals(Set.of("mirror"), config.routes().keySet(), "README's commands name the route mirror");
        RouteConfig mirror = config.route("mirror");
        assertEquals("/mnt/backup/data/", mirror.dest());
        assertTrue(mirror.deleteOnFull());
    }

    @Test
    void namesNoOnesHostsOrTrees() throws Exception {
        String text = Files.readString(SHIPPED, StandardCharsets.UTF_8);
        for (String household : List.of("Viki", "anca", "nfs", "immich", "pve")) {
            assertFalse(text.contains(household), household + " is in the generic example");
        }
    }

    @Test
    void theCommentedNasRouteLoadsOnceUncommented() throws Exception {
        String shipped = Files.readString(SHIPPED, StandardCharsets.UTF_8);
        int route = shipped.indexOf("  # offsite:");
        String uncommented = shipped.substring(0, route)
                + shipped.substring(route).replaceAll("(?m)^  # (offsite:)$", "  $1").replaceAll("(?m)^  #   ", "    ");
        Path file = Files.writeString(dir.resolve("changeq.yaml"), uncommented);

        RouteConfig offsite = ConfigLoader.load(file).route("offsite");

        assertEquals("rsync://nas/backup/data/", offsite.dest());
        assertEquals(List.of("-rltp", "--chmod=D0775,F0664"), offsite.rsyncArgs());
        assertEquals(java.time.Duration.ofDays(30), offsite.history().orElseThrow().keep(), "the NAS keeps history");
        assertTrue(ConfigLoader.load(file).route("mirror").history().isEmpty(), "a local mirror keeps none");
    }

    @Test
    void checkOnTheUnchangedFileNamesTheRootToAdapt() throws Exception {
        Assumptions.assumeFalse(Files.exists(Path.of("/srv/data")), "this host has a /srv/data");

        Run check = check(SHIPPED);

        assertEquals(ExitCodes.CHECK_FAILED, check.exitCode(), check.toString());
        assertTrue(check.out().contains("root 'data' (/srv/data): MISSING or not a directory"), check.toString());
        assertEquals("", check.err(), "no stack trace, no other complaint");
    }

    @Test
    void checkPassesOnceThePathsExist() throws Exception {
        Path root = Files.createDirectories(dir.resolve("srv/data"));
        Files.writeString(root.resolve("notes.txt"), "kept\n");
        Files.createDirectories(dir.resolve("mnt/backup/data"));
        String adapted = Files.readString(SHIPPED, StandardCharsets.UTF_8);
        for (Map.Entry<String, String> path : Map.of(" /srv/data", " " + dir.resolve("srv/data"),
                " /mnt/backup/data/", " " + dir.resolve("mnt/backup/data") + "/",
                " /var/lib/changeq/", " " + dir.resolve("var") + "/").entrySet()) {
            adapted = adapted.replace(path.getKey(), path.getValue());
        }
        Path file = Files.writeString(dir.resolve("changeq.yaml"), adapted);

        Run check = check(file);

        assertEquals(ExitCodes.OK, check.exitCode(), check.toString());
    }

    record Run(int exitCode, String out, String err) {
    }

    private static Run check(Path config) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = SyncMain.commandLine(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8)).execute("check", "--config", config.toString());
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
