package org.changeq.sync;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import org.changeq.pipeline.state.VerifyState;
import org.changeq.pipeline.state.StateDirectory;

/**
 * What {@code changeq-sync verify} found for a route, in the Prometheus text format, for node_exporter's textfile
 * collector: {@code changeq_verify_<route>.prom}, beside the sync's file. Every value comes from the route's
 * {@link VerifyState} and the last run: nothing is carried over from the previous file. Immutable.
 *
 * @param state the state after the run
 * @param files the files the run compared
 * @param bytes their size at the source
 */
record VerifyMetrics(VerifyState state, long files, long bytes) {

    static Path file(Path metricsDirectory, String route) {
        return metricsDirectory.resolve("changeq_verify_" + route + ".prom");
    }

    void write(Path file, String route) throws IOException {
        StateDirectory.replace(file, encode(route).getBytes(StandardCharsets.UTF_8), false);
    }

    String encode(String route) {
        String label = "route=\"" + SyncMetrics.escapeLabel(route) + "\"";
        StringBuilder out = new StringBuilder(2048);
        header(out, "changeq_verify_mismatches", "gauge", "Paths the last verify found different at the destination,"
                + " by kind: content, missing, type (repaired by the next run), extra (only reported).");
        state.counts().forEach((kind, count) -> out.append("changeq_verify_mismatches{").append(label)
                .append(",kind=\"").append(kind.token).append("\"} ").append(count).append('\n'));
        metric(out, label, "changeq_verify_last_run_files", "Files the last verify compared by content.", files);
        metric(out, label, "changeq_verify_last_run_bytes", "Bytes the last verify read at the source.", bytes);
        metric(out, label, "changeq_verify_cycle_files", "Files verified in the current cycle, slices and recent.",
                state.cycleFiles());
        metric(out, label, "changeq_verify_cycle_bytes", "Bytes read in the current cycle.", state.cycleBytes());
        metric(out, label, "changeq_verify_coverage_ratio", "Share of the current cycle's slices verified so far.",
                state.coverage());
        metric(out, label, "changeq_verify_cycle_start_timestamp_seconds", "Unix time the current cycle began.",
                state.cycleStartMillis() / 1000.0);
        metric(out, label, "changeq_verify_cycle_seconds", "How long a cycle lasts: every file is verified once within.",
                state.slices() * 86400.0);
        metric(out, label, "changeq_verify_last_run_timestamp_seconds", "Unix time the last verify finished.",
                state.lastRunFinishedMillis() / 1000.0);
        metric(out, label, "changeq_verify_last_complete_cycle_timestamp_seconds",
                "Unix time the last cycle that verified every file ended (0 = none yet).",
                state.lastCompleteCycleMillis() / 1000.0);
        return out.toString();
    }

    private static void header(StringBuilder out, String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void metric(StringBuilder out, String label, String name, String help, double value) {
        header(out, name, "gauge", help);
        out.append(name).append('{').append(label).append("} ").append(value == Math.rint(value)
                ? Long.toString((long) value) : String.format(Locale.ROOT, "%.3f", value)).append('\n');
    }
}
