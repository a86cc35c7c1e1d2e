package org.changeq.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * The shipped Grafana dashboard: every query names only metrics changeq-sync exports, is narrowed to the chosen hosts
 * and routes, and is PromQL that {@code promtool} accepts; README describes every panel.
 */
class GrafanaDashboardTest {
    /** A metric name followed by its label selector (or none). */
    private static final Pattern SELECTOR = Pattern.compile("(changeq_[a-z_]+)(\\{[^}]*})?");
    /** Grafana's {@code label_values(SELECTOR, LABEL)} variable query: the selector is PromQL. */
    private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\((.+), *[a-z_]+\\)");
    private static final String HOSTS_AND_ROUTES = "{instance=~\"$instance\", route=~\"$route\"}";

    private final Map<?, ?> dashboard = loadDashboard();

    @TempDir
    Path dir;

    @Test
    void everyPanelQueriesExportedMetricsOfTheChosenHostsAndRoutes() throws Exception {
        Set<String> exported = exportedMetrics();
        Map<String, String> queries = panelQueries();
        assertTrue(queries.size() >= 10, queries.toString());
        queries.forEach((where, expr) -> {
            Matcher selector = SELECTOR.matcher(expr);
            assertTrue(selector.find(), where + " queries a changeq metric: " + expr);
            do {
                assertTrue(exported.contains(selector.group(1)), where + " names an exported metric: " + selector.group(1));
                assertEquals(HOSTS_AND_ROUTES, selector.group(2), where + " narrows " + selector.group(1) + " to $instance and $route");
            } while (selector.find());
        });
        variableSelectors().forEach((where, selector) -> {
            Matcher metric = SELECTOR.matcher(selector);
            assertTrue(metric.matches() && exported.contains(metric.group(1)), where + " lists an exported metric: " + selector);
        });
        Set<String> covered = queries.values().stream()
                .flatMap(expr -> SELECTOR.matcher(expr).results().map(match -> match.group(1)))
                .collect(Collectors.toCollection(TreeSet::new));
        for (String metric : List.of("changeq_sync_last_success_timestamp_seconds", "changeq_sync_backlog_records",
                "changeq_sync_failures_total", "changeq_sync_retry_paths", "changeq_sync_change_refused",
                "changeq_sync_held_deletions", "changeq_sync_history_bytes")) {
            assertTrue(covered.contains(metric), "a panel shows " + metric);
        }
    }

    @Test
    void readmeDescribesEveryPanel() throws Exception {
        String readme = Files.readString(ModuleFiles.module().resolveSibling("README.md"));
        for (Map<?, ?> panel : panels()) {
            assertFalse(((String) panel.get("description")).isBlank(), panel.get("title") + " has a description");
            assertTrue(readme.contains("- **" + panel.get("title") + "**"), "README describes the panel " + panel.get("title"));
        }
    }

    @Test
    void promtoolAcceptsEveryQueryAndEachShowsEveryHostAndRoute() throws Exception {
        Path promtool = ModuleFiles.onPath("promtool");
        Assumptions.assumeTrue(promtool != null,
                "promtool is not installed (Debian: package prometheus); skipping the PromQL check of the dashboard");
        // Every query as a recording rule, the dashboard's variables replaced by what "All" selects.
        StringBuilder rules = new StringBuilder("groups:\n  - name: changeq-grafana\n    rules:\n");
        int rule = 0;
        List<String> queries = new ArrayList<>(panelQueries().values());
        queries.addAll(variableSelectors().values());
        for (String expr : queries) {
            String promql = expr.replace("$instance", ".+").replace("$route", ".+");
            rules.append("      - record: changeq_dashboard:query_").append(++rule).append('\n')
                    .append("        expr: '").append(promql.replace("'", "''")).append("'\n");
        }
        Path file = Files.writeString(dir.resolve("changeq-grafana-queries.yml"), rules);

        ModuleFiles.Result check = ModuleFiles.run(dir, List.of(promtool.toString(), "check", "rules", file.toString()));
        assertEquals(0, check.exitCode(), check + "\n" + rules);
        assertTrue(check.stdout().contains("SUCCESS: " + rule + " rules found"), check.toString());

        // Two hosts with two routes each, every exported metric rising by one a minute for three hours: each query
        // shows one series per host and route, none merged away or lost.
        StringBuilder test = new StringBuilder("rule_files:\n  - changeq-grafana-queries.yml\nevaluation_interval: 1m\n"
                + "tests:\n  - interval: 1m\n    input_series:\n");
        for (String metric : exportedMetrics()) {
            for (String instance : List.of("pve:9100", "nas:9100")) {
                for (String route : List.of("mirror", "offsite")) {
                    test.append("      - series: '").append(metric).append("{instance=\"").append(instance)
                            .append("\",job=\"node\",route=\"").append(route).append("\"}'\n")
                            .append("        values: '1+1x180'\n");
                }
            }
        }
        test.append("    promql_expr_test:\n");
        for (int query = 1; query <= rule; query++) {
            test.append("      - expr: count(count by (instance, route) (changeq_dashboard:query_").append(query).append("))\n")
                    .append("        eval_time: 2h\n")
                    .append("        exp_samples:\n          - labels: '{}'\n            value: 4\n");
        }
        Path unitTest = Files.writeString(dir.resolve("changeq-grafana-queries-test.yml"), test);
        ModuleFiles.Result perHostAndRoute = ModuleFiles.run(dir,
                List.of(promtool.toString(), "test", "rules", unitTest.toString()));
        assertEquals(0, perHostAndRoute.exitCode(), perHostAndRoute + "\n" + rules);
    }

    /** Each panel's queries, by panel title and query id. */
    private Map<String, String> panelQueries() {
        Map<String, String> queries = new LinkedHashMap<>();
        for (Map<?, ?> panel : panels()) {
            for (Object target : (List<?>) panel.get("targets")) {
                Map<?, ?> query = (Map<?, ?>) target;
                queries.put("panel '" + panel.get("title") + "' query " + query.get("refId"), (String) query.get("expr"));
            }
        }
        return queries;
    }

    /** The series selector of each variable's {@code label_values} query, by variable name. */
    private Map<String, String> variableSelectors() {
        Map<String, String> selectors = new LinkedHashMap<>();
        for (Object item : (List<?>) ((Map<?, ?>) dashboard.get("templating")).get("list")) {
            Map<?, ?> variable = (Map<?, ?>) item;
            if ("query".equals(variable.get("type"))) {
                String query = (String) ((Map<?, ?>) variable.get("query")).get("query");
                Matcher labelValues = LABEL_VALUES.matcher(query);
                assertTrue(labelValues.matches(), "variable " + variable.get("name") + " lists label values: " + query);
                selectors.put("variable " + variable.get("name"), labelValues.group(1));
            }
        }
        assertEquals(Set.of("variable instance", "variable route"), selectors.keySet());
        return selectors;
    }

    private List<Map<?, ?>> panels() {
        List<Map<?, ?>> panels = new ArrayList<>();
        for (Object panel : (List<?>) dashboard.get("panels")) {
            panels.add((Map<?, ?>) panel);
        }
        return panels;
    }

    private static Map<?, ?> loadDashboard() {
        try {
            // JSON is YAML: the loader the alert rules' test uses reads it.
            return (Map<?, ?>) new Load(LoadSettings.builder().build())
                    .loadFromString(Files.readString(ModuleFiles.source("examples/changeq-grafana.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The metric names changeq-sync writes, read from the one class that writes them. */
    private static Set<String> exportedMetrics() throws Exception {
        String source = Files.readString(ModuleFiles.module()
                .resolveSibling("sync/src/main/java/org/changeq/sync/SyncMetrics.java"));
        Set<String> names = Pattern.compile("\"(changeq_[a-z_]+[a-z])\"").matcher(source).results()
                .map(match -> match.group(1)).collect(Collectors.toCollection(TreeSet::new));
        assertTrue(names.contains("changeq_sync_last_success_timestamp_seconds"), names.toString());
        return names;
    }
}
