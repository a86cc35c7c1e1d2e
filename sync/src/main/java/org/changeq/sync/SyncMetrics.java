package org.changeq.sync;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.state.RetryList;
import org.changeq.pipeline.state.StateDirectory;

/**
 * A route's metrics in the Prometheus text format, for node_exporter's textfile collector: the
 * one codec for {@code changeq_sync_<route>.prom}. Counters continue from the previous file.
 * Immutable.
 *
 * @param lastSuccessSeconds Unix time of the last run that committed its cursor (0 = never): it sent everything, or
 *                           everything but the paths it put in the retry list
 * @param lastRunSeconds     duration of the last run
 * @param filesTotal         files that arrived at the destination, over all runs: those rsync transferred, less those
 *                           that went to the retry list
 * @param deletedTotal       paths rsync deleted at the destination, over all runs
 * @param backlogRecords     path records since the cursor at the start of the last run
 * @param fullSyncTotal      successful full syncs, over all runs
 * @param failuresTotal      failed runs, over all runs
 * @param lastExitCode       the exit code of the last run ({@code ExitCodes}): 4, 12 and 13 are refusals that protect a copy
 * @param retryPaths         paths in the route's retry list: rsync failed to send them, every run sends them again
 * @param retryOldestFailureSeconds Unix time the longest-waiting of them first failed (0 = none waits); an age
 *                           computed when the file is written would be stale between runs
 * @param followRetryWaitSeconds how long the route's follower waits before it tries again after failed runs; 0 while
 *                           its runs succeed, and when no follower runs (timer runs leave it as it is)
 * @param rootTracked        1 when the running tracker watched the route's root as configured (same real path, same
 *                           excludes) at the last run; 0 when it did not, and the run was full for that reason
 * @param heldDeletions      deletions the route's max-delete holds back until an operator consents
 * @param historyBytes       the size of the files the route's history keeps at the destination, after the last
 *                           retention (0 without history)
 * @param historyRuns        the run directories the route's history keeps at the destination
 * @param changes            what the last run changed at the destination, and the route's max-change window
 */
record SyncMetrics(double lastSuccessSeconds, double lastRunSeconds, long filesTotal, long deletedTotal, long backlogRecords,
                   long fullSyncTotal, long failuresTotal, long lastExitCode, long retryPaths,
                   double retryOldestFailureSeconds, long trackerRunning, long rootTracked,
                   double queueLastRecordSeconds, double followRetryWaitSeconds, long heldDeletions,
                   long historyBytes, long historyRuns, Changes changes) {

    static final SyncMetrics NONE = new SyncMetrics(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, Changes.NONE);

    /** The kinds of {@code changeq_sync_changes}, as its {@code kind} label names them. */
    static final List<String> CHANGE_KINDS = List.of("overwritten", "deleted", "renamed_away", "sent");

    /**
     * What the last run changed at the destination, as its passes itemized it, and the brake on mass change.
     *
     * @param overwritten files it overwrote
     * @param deleted     paths it deleted, those below a directory renamed within the root left out
     * @param renamedAway paths it deleted below a directory renamed within the root
     * @param sent        files it sent that were new there
     * @param window      files the route's runs overwrote, deleted or renamed away within max-change-window (those
     *                    consented to not counted), after the run
     * @param limit       the route's max-change in files at the run
     * @param refused     the files the run would have changed when max-change refused it (exit 15); 0 when it was not
     */
    record Changes(long overwritten, long deleted, long renamedAway, long sent, long window, long limit, long refused) {
        static final Changes NONE = new Changes(0, 0, 0, 0, 0, 0, 0);

        long of(String kind) {
            return switch (kind) {
                case "overwritten" -> overwritten;
                case "deleted" -> deleted;
                case "renamed_away" -> renamedAway;
                case "sent" -> sent;
                default -> throw new IllegalArgumentException("no change kind '" + kind + "'");
            };
        }
    }

    /**
     * What the run saw of the tracker.
     *
     * @param running           a changeq-tracker held the queue
     * @param rootTracked       it watched the route's root as configured
     * @param lastRecordSeconds Unix time of the queue's last record, 0 for an empty queue
     */
    record Tracker(boolean running, boolean rootTracked, double lastRecordSeconds) {
    }

    private enum Metric {
        LAST_SUCCESS("changeq_sync_last_success_timestamp_seconds", "gauge",
                "Unix time of the route's last sync that sent everything, or everything but its retry list."),
        LAST_DURATION("changeq_sync_last_run_duration_seconds", "gauge", "Duration of the route's last run."),
        FILES("changeq_sync_files_total", "counter",
                "Files that arrived at the route's destination (those rsync failed to send, in the retry list, not counted)."),
        DELETED("changeq_sync_deleted_total", "counter", "Paths rsync deleted at the route's destination."),
        BACKLOG("changeq_sync_backlog_records", "gauge", "Queue records pending for the route when its last run started."),
        FULL("changeq_sync_full_sync_total", "counter", "Successful full syncs of the route."),
        FAILURES("changeq_sync_failures_total", "counter", "Failed runs of the route."),
        LAST_EXIT_CODE("changeq_sync_last_exit_code", "gauge",
                "Exit code of the route's last run: 0 ok, 4 root not what it was, 12 deletions refused, 13 destination not what it was."),
        RETRY_PATHS("changeq_sync_retry_paths", "gauge",
                "Paths rsync failed to send for the route, which every run sends again (its retry list)."),
        RETRY_OLDEST("changeq_sync_retry_oldest_failure_timestamp_seconds", "gauge",
                "Unix time the longest-waiting path of the route's retry list first failed; 0 when none waits."),
        TRACKER_RUNNING("changeq_tracker_running", "gauge",
                "1 when a changeq-tracker held the queue at the route's last run, 0 when none records changes."),
        ROOT_TRACKED("changeq_sync_root_tracked", "gauge",
                "1 when the running changeq-tracker watched the route's root as configured at the route's last run; 0 "
                        + "when it did not (root added or excludes changed without a reload): such runs are full."),
        QUEUE_LAST_RECORD("changeq_queue_last_record_timestamp_seconds", "gauge",
                "Unix time of the queue's last record at the route's last run: when anything was last recorded."),
        FOLLOW_RETRY_WAIT("changeq_sync_follow_retry_wait_seconds", "gauge",
                "Seconds the route's follower waits before it tries again after failed runs (destination down); 0 while its runs succeed."),
        HELD_DELETIONS("changeq_sync_held_deletions", "gauge",
                "Deletions the route's max-delete holds back until an operator consents (changeq-sync --allow-deletes N)."),
        HISTORY_BYTES("changeq_sync_history_bytes", "gauge",
                "Size of the files the route's history keeps at its destination (earlier versions), after the last retention."),
        HISTORY_RUNS("changeq_sync_history_runs", "gauge",
                "Run directories the route's history keeps at its destination, after the last retention."),
        CHANGE_REFUSED("changeq_sync_change_refused", "gauge",
                "Files at the destination the route's last run would have overwritten, deleted or renamed away when "
                        + "max-change refused it (exit 15, nothing sent); 0 when it was not refused."),
        CHANGES("changeq_sync_changes", "gauge",
                "Files the route's last run changed at its destination, by kind: overwritten, deleted, renamed_away "
                        + "(deleted below a directory renamed within the root), sent (new there)."),
        CHANGE_WINDOW("changeq_sync_change_window", "gauge",
                "Files the route's runs overwrote, deleted or renamed away within max-change-window, consented ones "
                        + "not counted: a run is refused when it would take this past changeq_sync_change_limit."),
        CHANGE_LIMIT("changeq_sync_change_limit", "gauge",
                "The route's max-change in files at its last run (a percentage measured against the destination).");

        final String name;
        final String type;
        final String help;

        Metric(String name, String type, String help) {
            this.name = name;
            this.type = type;
            this.help = help;
        }
    }

    String encode(String route) {
        StringBuilder out = new StringBuilder(1024);
        for (Metric metric : Metric.values()) {
            out.append("# HELP ").append(metric.name).append(' ').append(metric.help).append('\n');
            out.append("# TYPE ").append(metric.name).append(' ').append(metric.type).append('\n');
            if (metric == Metric.CHANGES) {
                for (String kind : CHANGE_KINDS) {
                    out.append(metric.name).append("{route=\"").append(escapeLabel(route)).append("\",kind=\"")
                            .append(kind).append("\"} ").append(format(changes.of(kind))).append('\n');
                }
            } else {
                out.append(metric.name).append("{route=\"").append(escapeLabel(route)).append("\"} ")
                        .append(format(valueOf(metric))).append('\n');
            }
        }
        return out.toString();
    }

    /** Reads the values back; unknown lines are ignored, missing metrics are zero. */
    static SyncMetrics decode(String text) {
        Map<String, Double> values = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.lastIndexOf(' ');
            if (brace > 0 && space > brace) {
                try {
                    values.put(line.substring(0, brace) + kindOf(line.substring(brace, space)),
                            Double.parseDouble(line.substring(space + 1)));
                } catch (NumberFormatException ignored) {
                    // A hand-edited or foreign line: the counter restarts rather than the run failing.
                }
            }
        }
        return new SyncMetrics(
                values.getOrDefault(Metric.LAST_SUCCESS.name, 0.0),
                values.getOrDefault(Metric.LAST_DURATION.name, 0.0),
                values.getOrDefault(Metric.FILES.name, 0.0).longValue(),
                values.getOrDefault(Metric.DELETED.name, 0.0).longValue(),
                values.getOrDefault(Metric.BACKLOG.name, 0.0).longValue(),
                values.getOrDefault(Metric.FULL.name, 0.0).longValue(),
                values.getOrDefault(Metric.FAILURES.name, 0.0).longValue(),
                values.getOrDefault(Metric.LAST_EXIT_CODE.name, 0.0).longValue(),
                values.getOrDefault(Metric.RETRY_PATHS.name, 0.0).longValue(),
                values.getOrDefault(Metric.RETRY_OLDEST.name, 0.0),
                // A file of the version before this metric says nothing about the tracker: assume it ran.
                values.getOrDefault(Metric.TRACKER_RUNNING.name, 1.0).longValue(),
                values.getOrDefault(Metric.ROOT_TRACKED.name, 1.0).longValue(),
                values.getOrDefault(Metric.QUEUE_LAST_RECORD.name, 0.0),
                values.getOrDefault(Metric.FOLLOW_RETRY_WAIT.name, 0.0),
                values.getOrDefault(Metric.HELD_DELETIONS.name, 0.0).longValue(),
                values.getOrDefault(Metric.HISTORY_BYTES.name, 0.0).longValue(),
                values.getOrDefault(Metric.HISTORY_RUNS.name, 0.0).longValue(),
                new Changes(changeCount(values, "overwritten"), changeCount(values, "deleted"),
                        changeCount(values, "renamed_away"), changeCount(values, "sent"),
                        values.getOrDefault(Metric.CHANGE_WINDOW.name, 0.0).longValue(),
                        values.getOrDefault(Metric.CHANGE_LIMIT.name, 0.0).longValue(),
                        values.getOrDefault(Metric.CHANGE_REFUSED.name, 0.0).longValue()));
    }

    private static long changeCount(Map<String, Double> values, String kind) {
        return values.getOrDefault(Metric.CHANGES.name + "/" + kind, 0.0).longValue();
    }

    /** {@code /KIND} for a sample labelled {@code kind="KIND"}; empty for one without that label. */
    private static String kindOf(String labels) {
        int start = labels.indexOf("kind=\"");
        int end = start < 0 ? -1 : labels.indexOf('"', start + 6);
        return end < 0 ? "" : "/" + labels.substring(start + 6, end);
    }

    static SyncMetrics read(Path file) throws IOException {
        try {
            return decode(new String(StateDirectory.read(file), StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return NONE;
        }
    }

    void write(Path file, String route) throws IOException {
        StateDirectory.replace(file, encode(route).getBytes(StandardCharsets.UTF_8), false);
    }

    /**
     * The metrics after one more run that ended with {@code exitCode}.
     *
     * @param committed the run moved the cursor: it succeeded, or ended in a partial transfer whose failed paths went
     *                  to the retry list (a failure all the same, but the route is not falling behind)
     */
    SyncMetrics after(int exitCode, boolean committed, boolean full, double endSeconds, double durationSeconds, long files,
                      long deleted, long backlog) {
        return new SyncMetrics(committed ? endSeconds : lastSuccessSeconds, durationSeconds, filesTotal + files,
                deletedTotal + deleted, backlog,
                fullSyncTotal + (committed && full ? 1 : 0), failuresTotal + (exitCode == ExitCodes.OK ? 0 : 1), exitCode,
                retryPaths, retryOldestFailureSeconds, trackerRunning, rootTracked, queueLastRecordSeconds, followRetryWaitSeconds,
                heldDeletions, historyBytes, historyRuns, changes);
    }

    /** The same metrics with the retry list as it is after the run. */
    SyncMetrics withRetry(RetryList retry) {
        return new SyncMetrics(lastSuccessSeconds, lastRunSeconds, filesTotal, deletedTotal, backlogRecords, fullSyncTotal,
                failuresTotal, lastExitCode, retry.entries().size(),
                retry.oldestFailureMillis().isPresent() ? retry.oldestFailureMillis().getAsLong() / 1000.0 : 0,
                trackerRunning, rootTracked, queueLastRecordSeconds, followRetryWaitSeconds, heldDeletions, historyBytes,
                historyRuns, changes);
    }

    /** The same metrics with what the run saw of the tracker. */
    SyncMetrics withTracker(Tracker tracker) {
        return new SyncMetrics(lastSuccessSeconds, lastRunSeconds, filesTotal, deletedTotal, backlogRecords, fullSyncTotal,
                failuresTotal, lastExitCode, retryPaths, retryOldestFailureSeconds, tracker.running() ? 1 : 0,
                tracker.rootTracked() ? 1 : 0, tracker.lastRecordSeconds(), followRetryWaitSeconds, heldDeletions,
                historyBytes, historyRuns, changes);
    }

    /** The same metrics with the follower's wait before its next try. */
    SyncMetrics withFollowRetryWait(double seconds) {
        return new SyncMetrics(lastSuccessSeconds, lastRunSeconds, filesTotal, deletedTotal, backlogRecords, fullSyncTotal,
                failuresTotal, lastExitCode, retryPaths, retryOldestFailureSeconds, trackerRunning, rootTracked, queueLastRecordSeconds,
                seconds, heldDeletions, historyBytes, historyRuns, changes);
    }

    /** The same metrics with the deletions held back after the run. */
    SyncMetrics withHeldDeletions(long held) {
        return new SyncMetrics(lastSuccessSeconds, lastRunSeconds, filesTotal, deletedTotal, backlogRecords, fullSyncTotal,
                failuresTotal, lastExitCode, retryPaths, retryOldestFailureSeconds, trackerRunning, rootTracked, queueLastRecordSeconds,
                followRetryWaitSeconds, held, historyBytes, historyRuns, changes);
    }

    /** The same metrics with what the route's history holds after retention. */
    SyncMetrics withHistory(long bytes, long runs) {
        return new SyncMetrics(lastSuccessSeconds, lastRunSeconds, filesTotal, deletedTotal, backlogRecords, fullSyncTotal,
                failuresTotal, lastExitCode, retryPaths, retryOldestFailureSeconds, trackerRunning, rootTracked, queueLastRecordSeconds,
                followRetryWaitSeconds, heldDeletions, bytes, runs, changes);
    }

    /** The same metrics with what the last run changed, and the route's max-change window after it. */
    SyncMetrics withChanges(Changes changes) {
        return new SyncMetrics(lastSuccessSeconds, lastRunSeconds, filesTotal, deletedTotal, backlogRecords, fullSyncTotal,
                failuresTotal, lastExitCode, retryPaths, retryOldestFailureSeconds, trackerRunning, rootTracked, queueLastRecordSeconds,
                followRetryWaitSeconds, heldDeletions, historyBytes, historyRuns, changes);
    }

    private double valueOf(Metric metric) {
        return switch (metric) {
            case LAST_SUCCESS -> lastSuccessSeconds;
            case LAST_DURATION -> lastRunSeconds;
            case FILES -> filesTotal;
            case DELETED -> deletedTotal;
            case BACKLOG -> backlogRecords;
            case FULL -> fullSyncTotal;
            case FAILURES -> failuresTotal;
            case LAST_EXIT_CODE -> lastExitCode;
            case RETRY_PATHS -> retryPaths;
            case RETRY_OLDEST -> retryOldestFailureSeconds;
            case TRACKER_RUNNING -> trackerRunning;
            case ROOT_TRACKED -> rootTracked;
            case QUEUE_LAST_RECORD -> queueLastRecordSeconds;
            case FOLLOW_RETRY_WAIT -> followRetryWaitSeconds;
            case HELD_DELETIONS -> heldDeletions;
            case HISTORY_BYTES -> historyBytes;
            case HISTORY_RUNS -> historyRuns;
            case CHANGE_REFUSED -> changes.refused();
            case CHANGES -> throw new IllegalArgumentException("changeq_sync_changes has a sample per kind");
            case CHANGE_WINDOW -> changes.window();
            case CHANGE_LIMIT -> changes.limit();
        };
    }

    private static String format(double value) {
        return value == Math.rint(value) && Math.abs(value) < 1e15
                ? Long.toString((long) value)
                : String.format(Locale.ROOT, "%.3f", value);
    }

    /** Prometheus label values escape backslash, double quote and newline. */
    static String escapeLabel(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
