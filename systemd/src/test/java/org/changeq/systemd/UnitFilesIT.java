package org.changeq.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code systemd-analyze verify} on every unit. It exits 0 even on unknown keys and bad values
 * (it only complains on stderr), so a unit passes on exit 0 with empty stderr; and it requires
 * {@code ExecStart=} to name an existing executable, so the units are checked in a copy whose
 * {@code /usr/bin/changeq-*} point at the launchers the build just made.
 */
class UnitFilesIT {
    private static final Pattern EXPOSURE = Pattern.compile("Overall exposure level for (\\S+): (\\d+\\.\\d+)");
    /** systemd rates 0-10; the units score about 1-2 with systemd 252. Above this, hardening was lost. */
    private static final double MAX_EXPOSURE = 3.0;

    @TempDir
    Path units;

    private Path systemdAnalyze;

    @BeforeEach
    void copyUnitsWithBuiltLaunchers() throws IOException {
        systemdAnalyze = ModuleFiles.onPath("systemd-analyze");
        Assumptions.assumeTrue(systemdAnalyze != null, "systemd-analyze is not installed; skipping unit verification");
        Path launchers = ModuleFiles.target("changeq/bin");
        try (var files = Files.list(ModuleFiles.source("units"))) {
            for (Path unit : files.toList()) {
                String text = Files.readString(unit);
                String rewritten = withBuiltLaunchers(text);
                assertEquals(unit.toString().endsWith(".service"), !rewritten.equals(text), unit + " starts a changeq launcher");
                Files.writeString(units.resolve(unit.getFileName()), rewritten);
            }
        }
        for (String launcher : List.of("changeq-tracker", "changeq-sync")) {
            assertTrue(Files.isExecutable(launchers.resolve(launcher)), launchers.resolve(launcher) + " was built executable");
        }
    }

    @Test
    void everyUnitAndARouteInstanceVerifiesCleanly() throws Exception {
        for (String unit : List.of("changeq-tracker.service", "changeq-sync@.service", "changeq-sync@.timer",
                "changeq-sync@mirror.service", "changeq-sync@mirror.timer", "changeq-sync-follow@.service",
                "changeq-sync-follow@mirror.service", "changeq-verify@.service", "changeq-verify@.timer",
                "changeq-verify@mirror.service", "changeq-verify@mirror.timer")) {
            assertClean(verify(unit), unit);
        }
    }

    @Test
    void theExampleDropInsVerifyCleanly() throws Exception {
        for (String unit : List.of("changeq-sync@mirror.service", "changeq-sync-follow@mirror.service")) {
            Path dropIns = Files.createDirectories(units.resolve(unit + ".d"));
            for (String dropIn : List.of("local-destination.conf", "node-exporter-textfile.conf")) {
                Files.writeString(dropIns.resolve(dropIn), withBuiltLaunchers(Files.readString(ModuleFiles.source("examples/" + dropIn))));
                assertClean(verify(unit), unit + " with " + dropIn);
            }
        }
    }

    @Test
    void theCheckCatchesAnUnknownKey() throws Exception {
        Path unit = units.resolve("changeq-tracker.service");
        Files.writeString(unit, Files.readString(unit).replace("NotifyAccess=main", "NotifyAcess=main"));
        ModuleFiles.Result result = verify("changeq-tracker.service");
        assertEquals(0, result.exitCode(), "systemd-analyze verify still exits 0: " + result);
        assertTrue(result.stderr().contains("NotifyAcess"), "and says so on stderr only: " + result);
    }

    @Test
    void hardeningKeepsTheExposureLow() throws Exception {
        for (String unit : List.of("changeq-tracker.service", "changeq-sync@mirror.service", "changeq-sync-follow@mirror.service")) {
            ModuleFiles.Result result = ModuleFiles.run(units,
                    List.of(systemdAnalyze.toString(), "security", "--offline=true", "--no-pager", unit));
            Matcher exposure = EXPOSURE.matcher(result.stdout() + result.stderr());
            assertTrue(exposure.find(), "no exposure level in: " + result);
            double level = Double.parseDouble(exposure.group(2));
            System.out.printf("systemd-analyze security: %s exposure %.1f%n", exposure.group(1), level);
            assertTrue(level <= MAX_EXPOSURE, unit + " exposure " + level + " > " + MAX_EXPOSURE + "\n" + result.stdout());
        }
    }

    private static String withBuiltLaunchers(String unit) {
        return unit.replace("ExecStart=/usr/bin/changeq-", "ExecStart=" + ModuleFiles.target("changeq/bin") + "/changeq-");
    }

    /**
     * verify also runs {@code man} for each {@code Documentation=man:} page: MANPATH finds the pages the build made
     * (the trailing colon appends the system's, for {@code inotify(7)}).
     */
    private ModuleFiles.Result verify(String unit) throws IOException, InterruptedException {
        return ModuleFiles.run(units, List.of(systemdAnalyze.toString(), "verify", "--no-pager", unit),
                Map.of("MANPATH", ModuleFiles.target("man") + ":"));
    }

    private static void assertClean(ModuleFiles.Result result, String unit) {
        assertEquals(0, result.exitCode(), unit + ": " + result);
        assertEquals("", result.stderr(), unit + ": " + result);
    }
}
