package org.changeq.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.changeq.pipeline.ExitCodes;
import org.junit.jupiter.api.Test;

/** What the unit files promise, read as text: settings that tie them to the programs. */
class UnitContentsTest {

    @Test
    void theTrackerIsANotifyServiceWithAWatchdog() throws IOException {
        List<String> tracker = settings("changeq-tracker.service");
        assertTrue(tracker.contains("Type=notify"));
        assertTrue(tracker.contains("NotifyAccess=main"), "only the JVM, which the launchers exec into, may notify");
        assertTrue(tracker.stream().anyMatch(s -> s.matches("WatchdogSec=\\d+s")), tracker.toString());
        assertTrue(tracker.contains("Restart=always"));
        assertTrue(tracker.contains("KillSignal=SIGTERM"));
    }

    @Test
    void theTrackerReloadsOnSighup() throws IOException {
        // The tracker installs a SIGHUP handler: without it the JVM would exit, and a reload would be a restart.
        assertEquals("/bin/kill -HUP $MAINPID", value(settings("changeq-tracker.service"), "ExecReload"));
    }

    @Test
    void restartsStopOnTheExitCodesARestartCannotFix() throws IOException {
        String prevent = value(settings("changeq-tracker.service"), "RestartPreventExitStatus");
        Set<Integer> codes = Arrays.stream(prevent.split("\\s+")).map(Integer::valueOf).collect(Collectors.toSet());
        assertEquals(Set.of(ExitCodes.USAGE, ExitCodes.CONFIG, ExitCodes.ROOT_UNAVAILABLE), codes);
    }

    @Test
    void servicesRunAsChangeqWithReadSearchOnlyAndNeverForbidWritableExecutableMemory() throws IOException {
        for (String unit : List.of("changeq-tracker.service", "changeq-sync@.service", "changeq-sync-follow@.service",
                "changeq-verify@.service")) {
            List<String> settings = settings(unit);
            assertTrue(settings.contains("User=changeq"), unit);
            assertTrue(settings.contains("AmbientCapabilities=CAP_DAC_READ_SEARCH"), unit);
            assertTrue(settings.contains("CapabilityBoundingSet=CAP_DAC_READ_SEARCH"), unit);
            assertTrue(settings.contains("ProtectSystem=strict"), unit);
            assertTrue(settings.contains("ReadWritePaths=/var/lib/changeq"), unit);
            assertTrue(settings.contains("NoNewPrivileges=yes"), unit);
            assertTrue(settings.stream().noneMatch(s -> s.startsWith("MemoryDenyWriteExecute=")),
                    unit + ": the JVM's JIT needs writable and executable memory");
        }
        assertEquals("AF_UNIX", value(settings("changeq-tracker.service"), "RestrictAddressFamilies"));
        assertEquals("AF_UNIX AF_INET AF_INET6", value(settings("changeq-sync@.service"), "RestrictAddressFamilies"));
    }

    @Test
    void theFollowerHasTheSyncUnitsHardeningAndIsANotifyServiceThatRestartsOnFailure() throws IOException {
        List<String> follow = settings("changeq-sync-follow@.service");
        List<String> sync = settings("changeq-sync@.service");
        List<String> hardening = sync.subList(sync.indexOf("User=changeq"), sync.size());
        assertEquals(hardening, follow.subList(follow.indexOf("User=changeq"), follow.indexOf("WantedBy=multi-user.target")),
                "the same hardening as the timer's runs, line for line");
        assertEquals("/usr/bin/changeq-sync follow --config /etc/changeq/changeq.yaml --route %i", value(follow, "ExecStart"));
        assertTrue(follow.contains("Type=notify"));
        assertTrue(follow.contains("NotifyAccess=main"), "only the JVM, which the launchers exec into, may notify");
        assertTrue(follow.stream().anyMatch(s -> s.matches("WatchdogSec=\\d+s")), follow.toString());
        assertTrue(follow.contains("Restart=on-failure"));
        assertTrue(follow.contains("KillSignal=SIGTERM"));
        assertTrue(follow.contains("Nice=10") && follow.contains("IOSchedulingClass=idle"));
        Set<Integer> prevent = Arrays.stream(value(follow, "RestartPreventExitStatus").split("\\s+")).map(Integer::valueOf)
                .collect(Collectors.toSet());
        assertEquals(Set.of(ExitCodes.USAGE, ExitCodes.CONFIG), prevent);
    }

    @Test
    void theSyncInstanceIsTheRoute() throws IOException {
        List<String> sync = settings("changeq-sync@.service");
        assertTrue(sync.contains("Type=oneshot"));
        assertTrue(sync.contains("NotifyAccess=main"), "a long run's progress reaches systemctl status as STATUS=");
        assertEquals("/usr/bin/changeq-sync --config /etc/changeq/changeq.yaml --route %i --wait 1h",
                value(sync, "ExecStart"));
        assertTrue(sync.contains("Nice=10") && sync.contains("IOSchedulingClass=idle"));
        assertEquals(String.valueOf(ExitCodes.TERMINATED), value(sync, "SuccessExitStatus"),
                "systemctl stop of a run is a stop, not a failed unit");
        List<String> timer = settings("changeq-sync@.timer");
        assertTrue(timer.contains("Persistent=true"));
        assertTrue(timer.stream().anyMatch(s -> s.startsWith("RandomizedDelaySec=")));
    }

    @Test
    void verifyRunsDailyAtIdlePriorityWithTheSyncUnitsHardening() throws IOException {
        List<String> verify = settings("changeq-verify@.service");
        List<String> sync = settings("changeq-sync@.service");
        assertEquals(sync.subList(sync.indexOf("User=changeq"), sync.size()),
                verify.subList(verify.indexOf("User=changeq"), verify.size()),
                "the same hardening as the sync's runs, line for line");
        assertEquals("/usr/bin/changeq-sync verify --config /etc/changeq/changeq.yaml --route %i --wait 1h",
                value(verify, "ExecStart"));
        assertTrue(verify.contains("Type=oneshot"));
        assertTrue(verify.contains("Nice=19") && verify.contains("IOSchedulingClass=idle"));
        List<String> timer = settings("changeq-verify@.timer");
        assertTrue(timer.contains("Persistent=true"));
        assertTrue(timer.contains("WantedBy=timers.target"));
        assertTrue(timer.stream().anyMatch(s -> s.matches("OnCalendar=\\*-\\*-\\* \\d\\d:\\d\\d")), timer.toString());
    }

    @Test
    void everyExecStartNamesAShippedLauncher() throws IOException {
        Set<String> launchers = new TreeSet<>();
        try (var files = Files.list(ModuleFiles.source("dist/bin"))) {
            files.forEach(file -> launchers.add(file.getFileName().toString()));
        }
        for (String unit : List.of("changeq-tracker.service", "changeq-sync@.service", "changeq-sync-follow@.service",
                "changeq-verify@.service")) {
            String command = value(settings(unit), "ExecStart").split(" ")[0];
            assertTrue(command.startsWith("/usr/bin/"), unit + ": " + command);
            assertTrue(launchers.contains(command.substring("/usr/bin/".length())), unit + ": " + command + " not in " + launchers);
        }
    }

    /** The unit's {@code Key=value} lines, without comments and section headers. */
    static List<String> settings(String unit) throws IOException {
        List<String> settings = new ArrayList<>();
        for (String line : Files.readAllLines(ModuleFiles.source("units").resolve(unit))) {
            String trimmed = line.strip();
            if (!trimmed.isEmpty() && !trimmed.startsWith("#") && !trimmed.startsWith("[")) {
                settings.add(trimmed);
            }
        }
        return settings;
    }

    private static String value(List<String> settings, String key) {
        List<String> values = settings.stream().filter(s -> s.startsWith(key + "=")).map(s -> s.substring(key.length() + 1)).toList();
        assertEquals(1, values.size(), key + " is set once: " + values);
        assertFalse(values.get(0).isBlank(), key);
        return values.get(0);
    }
}
