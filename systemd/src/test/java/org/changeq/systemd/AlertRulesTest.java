package org.changeq.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * The shipped Prometheus rules: well-formed everywhere, and where {@code promtool} is installed,
 * accepted by it and firing as {@code src/test/resources/changeq-alerts-test.yml} expects.
 */
class AlertRulesTest {
    /** What changeq-sync exports; a rule naming anything else would never fire. */
    private static final Set<String> SYNC_METRICS = Set.of("changeq_sync_last_success_timestamp_seconds",
            "changeq_sync_failures_total", "changeq_sync_backlog_records", "changeq_sync_full_sync_total",
            "changeq_sync_last_run_duration_seconds", "changeq_sync_last_exit_code", "changeq_tracker_running",
            "changeq_sync_root_tracked", "changeq_sync_retry_paths", "changeq_sync_retry_oldest_failure_timestamp_seconds",
            "changeq_sync_history_bytes", "changeq_sync_change_refused", "changeq_verify_mismatches",
            "changeq_verify_cycle_start_timestamp_seconds", "changeq_verify_cycle_seconds",
            "changeq_verify_last_run_timestamp_seconds");
    private static final Pattern METRIC = Pattern.compile("changeq_[a-z_]+");
    private static final Set<String> SEVERITIES = Set.of("critical", "warning", "info");

    private final Path rules = ModuleFiles.source("examples/changeq-alerts.yml");

    @TempDir
    Path dir;

    @Test
    void everyRuleIsACompleteAlertOnSyncMetrics() throws Exception {
        Object document = new Load(LoadSettings.builder().build()).loadFromString(Files.readString(rules));
        List<?> groups = (List<?>) ((Map<?, ?>) document).get("groups");
        assertEquals(1, groups.size());
        Map<?, ?> group = (Map<?, ?>) groups.get(0);
        assertEquals("changeq", group.get("name"));

        Set<String> alerts = new TreeSet<>();
        for (Object item : (List<?>) group.get("rules")) {
            Map<?, ?> rule = (Map<?, ?>) item;
            String alert = (String) rule.get("alert");
            assertTrue(alerts.add(alert), "alert names are unique: " + alert);
            String expr = assertInstanceOf(String.class, rule.get("expr"), alert + ".expr");
            Matcher metric = METRIC.matcher(expr);
            assertTrue(metric.find(), alert + " uses a changeq metric");
            do {
                assertTrue(SYNC_METRICS.contains(metric.group()), alert + " names an exported metric: " + metric.group());
            } while (metric.find());
            if (rule.containsKey("for")) {
                assertTrue(((String) rule.get("for")).matches("\\d+[smhd]"), alert + ".for: " + rule.get("for"));
            }
            Map<?, ?> labels = (Map<?, ?>) rule.get("labels");
            assertTrue(SEVERITIES.contains(labels.get("severity")), alert + " has a severity: " + labels);
            Map<?, ?> annotations = (Map<?, ?>) rule.get("annotations");
            assertFalse(((String) annotations.get("summary")).isBlank(), alert + " has a summary");
            assertFalse(((String) annotations.get("description")).isBlank(), alert + " has a description");
        }
        assertEquals(Set.of("ChangeqSyncStale", "ChangeqSyncFailing", "ChangeqSyncRefused", "ChangeqSyncPathsStuck",
                "ChangeqBacklogHigh", "ChangeqFullSyncsFrequent", "ChangeqSyncSlow", "ChangeqMetricsMissing", "ChangeqTrackerNotRunning",
                "ChangeqRootNotTracked", "ChangeqHistoryGrowing", "ChangeqSyncMassChange", "ChangeqVerifyMismatch",
                "ChangeqVerifyStale"), alerts);
    }

    @Test
    void promtoolAcceptsTheRulesAndTheirUnitTestsPass() throws Exception {
        Path promtool = ModuleFiles.onPath("promtool");
        Assumptions.assumeTrue(promtool != null,
                "promtool is not installed (Debian: package prometheus); skipping promtool check/test rules");
        Path copy = Files.copy(rules, dir.resolve("changeq-alerts.yml"));
        Path unitTests = Files.copy(ModuleFiles.module().resolve("src/test/resources/changeq-alerts-test.yml"),
                dir.resolve("changeq-alerts-test.yml"), StandardCopyOption.REPLACE_EXISTING);

        ModuleFiles.Result check = ModuleFiles.run(dir, List.of(promtool.toString(), "check", "rules", copy.toString()));
        assertEquals(0, check.exitCode(), check.toString());
        long rulesWritten = Files.readAllLines(rules).stream().filter(line -> line.strip().startsWith("- alert:")).count();
        assertTrue(check.stdout().contains("SUCCESS: " + rulesWritten + " rules found"), check.toString());

        ModuleFiles.Result test = ModuleFiles.run(dir, List.of(promtool.toString(), "test", "rules", unitTests.toString()));
        assertEquals(0, test.exitCode(), test.toString());
        assertTrue(test.stdout().contains("SUCCESS"), test.toString());
    }
}
