package org.changeq.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The .deb as users run it, under a real systemd booted in a container (src/test/sh/installed-system.sh):
 * apt install, the example's three routes, root running README's commands by hand, every route's runs
 * under its unit, owners kept by the local mirror, a corruption at the NAS found by the verify unit and repaired,
 * a root added and the tracker reloaded, kill -9 and catch-up,
 * stop, purge. The Debian root
 * file system is built once and kept in {@value #ROOTFS_CACHE}.
 */
class InstalledSystemIT {
    private static final String ROOTFS_CACHE = "/var/cache/changeq-it";
    /** A cold run builds the root file system first (about a minute with a nearby mirror). */
    private static final long DEADLINE_SECONDS = 900;

    @TempDir
    Path work;

    @Test
    void thePackageWorksAsInstalledUnderSystemd() throws Exception {
        String version = System.getProperty("changeq.version").replace("-SNAPSHOT", "~SNAPSHOT");
        Path deb = ModuleFiles.target("changeq_" + version + "_all.deb");
        assertTrue(Files.isRegularFile(deb), deb + " was built");
        Path script = ModuleFiles.module().resolve("src/test/sh/installed-system.sh");

        long started = System.nanoTime();
        Path s3proxy = Path.of(System.getProperty("changeq.test.s3proxy.jar"));
        assertTrue(Files.isRegularFile(s3proxy), s3proxy + " was copied by the build");
        ModuleFiles.Result result = ModuleFiles.run(work, List.of("bash", script.toString(), deb.toString(), ROOTFS_CACHE,
                work.resolve("system").toString(), s3proxy.toString()), Map.of(), DEADLINE_SECONDS);
        long seconds = (System.nanoTime() - started) / 1_000_000_000;

        Assumptions.assumeTrue(result.exitCode() != 77, "cannot boot systemd in a container here ("
                + (result.stdout() + result.stderr()).strip() + "); skipping the installed-system test");
        System.out.print(result.stdout());
        System.out.printf("installed-system test took %d s%n", seconds);
        assertEquals(0, result.exitCode(), result.toString());
    }
}
