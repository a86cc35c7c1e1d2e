package org.changeq.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.state.RetryList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CodecTest {

    @TempDir
    Path dir;

    @Test
    void metricsRoundTripAndCountersContinueAcrossRuns() throws IOException {
        Path file = dir.resolve("changeq_sync_offsite.prom");
        SyncMetrics.read(file).after(0, true, true, 1_700_000_000.5, 2.25, 7, 2, 40).write(file, "offsite");
        SyncMetrics.read(file).after(9, false, false, 1_700_000_100, 1, 0, 0, 12).write(file, "offsite");
        SyncMetrics.read(file).after(0, true, false, 1_700_000_200, 3, 5, 1, 3).write(file, "offsite");
        String text = Files.readString(file);
        assertTrue(text.contains("changeq_sync_last_success_timestamp_seconds{route=\"offsite\"} 1700000200\n"), text);
        assertTrue(text.contains("changeq_sync_last_run_duration_seconds{route=\"offsite\"} 3\n"), text);
        assertTrue(text.contains("changeq_sync_files_total{route=\"offsite\"} 12\n"), text);
        assertTrue(text.contains("changeq_sync_deleted_total{route=\"offsite\"} 3\n"), text);
        assertTrue(text.contains("# TYPE changeq_sync_deleted_total counter\n"), text);
        assertTrue(text.contains("changeq_sync_backlog_records{route=\"offsite\"} 3\n"), text);
        assertTrue(text.contains("changeq_sync_full_sync_total{route=\"offsite\"} 1\n"), text);
        assertTrue(text.contains("changeq_sync_failures_total{route=\"offsite\"} 1\n"), text);
        assertTrue(text.contains("# TYPE changeq_sync_files_total counter\n"), text);
        assertTrue(text.contains("changeq_sync_last_exit_code{route=\"offsite\"} 0\n"), text);
        assertEquals(new SyncMetrics(1_700_000_200, 3, 12, 3, 3, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, SyncMetrics.Changes.NONE), SyncMetrics.decode(text));
        SyncMetrics.read(file).after(12, true, false, 1_700_000_300, 1, 0, 0, 0).withHeldDeletions(160).write(file, "offsite");
        assertTrue(Files.readString(file).contains("changeq_sync_held_deletions{route=\"offsite\"} 160\n"));
        assertEquals(160, SyncMetrics.read(file).heldDeletions());
        SyncMetrics.read(file).withHistory(5_000_000_000L, 30).write(file, "offsite");
        SyncMetrics.read(file).after(0, true, false, 1_700_000_400, 1, 0, 0, 0).write(file, "offsite");
        String withHistory = Files.readString(file);
        assertTrue(withHistory.contains("changeq_sync_history_bytes{route=\"offsite\"} 5000000000\n"), withHistory);
        assertTrue(withHistory.contains("changeq_sync_history_runs{route=\"offsite\"} 30\n"), withHistory);
        assertEquals(30, SyncMetrics.read(file).historyRuns(), "a run without retention keeps the last figures");
        try (var files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "no temporary file is left behind");
        }
    }

    @Test
    void whatTheLastRunChangedIsExportedByKindAndReadBack() {
        SyncMetrics.Changes changes = new SyncMetrics.Changes(3, 2, 6, 40, 11, 250, 0);
        String text = SyncMetrics.NONE.after(0, true, false, 200, 1, 43, 8, 0).withChanges(changes).encode("r");
        assertTrue(text.contains("# TYPE changeq_sync_changes gauge\n"
                + "changeq_sync_changes{route=\"r\",kind=\"overwritten\"} 3\n"
                + "changeq_sync_changes{route=\"r\",kind=\"deleted\"} 2\n"
                + "changeq_sync_changes{route=\"r\",kind=\"renamed_away\"} 6\n"
                + "changeq_sync_changes{route=\"r\",kind=\"sent\"} 40\n"), text);
        assertTrue(text.contains("changeq_sync_change_window{route=\"r\"} 11\n"), text);
        assertTrue(text.contains("changeq_sync_change_limit{route=\"r\"} 250\n"), text);
        assertEquals(changes, SyncMetrics.decode(text).changes(), "round trip");
        String older = "changeq_sync_change_refused{route=\"r\"} 40\n";
        assertEquals(new SyncMetrics.Changes(0, 0, 0, 0, 0, 0, 40), SyncMetrics.decode(older).changes(),
                "a file written before the counts by kind reads them as 0");
    }

    @Test
    void aFailedRunKeepsTheLastSuccessTime() {
        SyncMetrics before = new SyncMetrics(100, 1, 5, 0, 0, 1, 0, 0, 2, 50, 1, 1, 90, 0, 0, 0, 0, SyncMetrics.Changes.NONE);
        SyncMetrics after = before.after(12, false, true, 200, 2.5, 0, 0, 9);
        assertEquals(new SyncMetrics(100, 2.5, 5, 0, 9, 1, 1, 12, 2, 50, 1, 1, 90, 0, 0, 0, 0, SyncMetrics.Changes.NONE), after, "a refused run leaves the retry gauges as they were");
        assertTrue(after.encode("r").contains("changeq_sync_last_run_duration_seconds{route=\"r\"} 2.500\n"));
    }

    @Test
    void metricsOfTheVersionBeforeTheExitCodeStillDecode() {
        String older = "changeq_sync_last_success_timestamp_seconds{route=\"r\"} 100\nchangeq_sync_failures_total{route=\"r\"} 2\n";
        assertEquals(new SyncMetrics(100, 0, 0, 0, 0, 0, 2, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, SyncMetrics.Changes.NONE), SyncMetrics.decode(older),
                "a file without the tracker gauge says nothing against the tracker");
    }

    @Test
    void aPartialRunThatKeptItsFailuresCountsAsAFailureButNotAsFallingBehind() throws IOException {
        RetryList retry = new RetryList(List.of(
                new RetryList.Entry("a".getBytes(StandardCharsets.US_ASCII), RetryList.Kind.FILE, 1_700_000_000_500L, ""),
                new RetryList.Entry("b".getBytes(StandardCharsets.US_ASCII), RetryList.Kind.FILE, 1_700_000_050_000L, "")),
                false);
        SyncMetrics after = new SyncMetrics(100, 1, 5, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, SyncMetrics.Changes.NONE).after(8, true, true, 200, 2, 3, 0, 4).withRetry(retry);
        assertEquals(new SyncMetrics(200, 2, 8, 0, 4, 1, 1, 8, 2, 1_700_000_000.5, 1, 1, 0, 0, 0, 0, 0, SyncMetrics.Changes.NONE), after);
        String text = after.encode("r");
        assertTrue(text.contains("# TYPE changeq_sync_retry_paths gauge\nchangeq_sync_retry_paths{route=\"r\"} 2\n"), text);
        assertTrue(text.contains("changeq_sync_retry_oldest_failure_timestamp_seconds{route=\"r\"} 1700000000.500\n"), text);
        assertEquals(after, SyncMetrics.decode(text));
        assertEquals(0, after.withRetry(RetryList.EMPTY).retryOldestFailureSeconds());
    }

    @Test
    void whatTheRunSawOfTheTrackerIsExported() {
        String text = SyncMetrics.NONE.after(ExitCodes.TRACKER_NOT_RUNNING, false, false, 200, 1, 0, 0, 0)
                .withTracker(new SyncMetrics.Tracker(false, true, 1_700_000_000)).encode("r");
        assertTrue(text.contains("changeq_tracker_running{route=\"r\"} 0\n"), text);
        assertTrue(text.contains("changeq_sync_root_tracked{route=\"r\"} 1\n"), text);
        assertTrue(text.contains("changeq_queue_last_record_timestamp_seconds{route=\"r\"} 1700000000\n"), text);
        assertEquals(1, SyncMetrics.decode(text).failuresTotal());
        assertEquals(0, SyncMetrics.decode(text).lastSuccessSeconds(), "a run while no tracker records is no success");
    }

    @Test
    void aRootTheTrackerDoesNotWatchAsConfiguredIsExportedAndNoSuccess() {
        String text = SyncMetrics.NONE.after(ExitCodes.TRACKER_NOT_RUNNING, false, true, 200, 1, 0, 0, 0)
                .withTracker(new SyncMetrics.Tracker(true, false, 1_700_000_000)).encode("r");
        assertTrue(text.contains("# TYPE changeq_sync_root_tracked gauge\nchangeq_sync_root_tracked{route=\"r\"} 0\n"),
                text);
        assertTrue(text.contains("changeq_tracker_running{route=\"r\"} 1\n"), text);
        assertEquals(0, SyncMetrics.decode(text).rootTracked());
        assertEquals(0, SyncMetrics.decode(text).lastSuccessSeconds());
    }

    @Test
    void labelValuesAreEscaped() {
        assertEquals("a\\\"b\\\\c\\n", SyncMetrics.escapeLabel("a\"b\\c\n"));
    }

    @Test
    void theCursorIsAVersionedIndexFile() throws IOException {
        var cursor = new org.changeq.pipeline.state.StateLayout(dir).cursor("offsite");
        cursor.write(42);
        assertEquals("changeq-cursor 1 42\n", Files.readString(dir.resolve("cursors/offsite.cursor")));
        assertEquals(42, cursor.read().getAsLong());
    }

    @Test
    void summaryLineFormat() {
        SyncReport report = new SyncReport("offsite", "incremental", "changes", 3, 2, 1, 1234, 1.5, OptionalInt.of(23),
                ExitCodes.SYNC_PARTIAL, 5, List.of(), List.of(), List.of(), true, Optional.empty(), 4);
        assertEquals("route=offsite mode=incremental reason=changes files=3 deleted=2 failed=1 bytes=1234 seconds=1.500"
                + " rsync-exit=23 exit=8 changed=4", report.summaryLine());
        SyncReport unrecorded = new SyncReport("offsite", "incremental", "changes", 3, 0, 0, 1234, 1.5, OptionalInt.of(0),
                ExitCodes.TRACKER_NOT_RUNNING, 5, List.of(), List.of(), List.of(), false, Optional.empty(), 0);
        assertTrue(unrecorded.summaryLine().endsWith(" rsync-exit=0 exit=14 changed=0 tracker=stopped"), unrecorded.summaryLine());
        SyncReport stopped = new SyncReport("offsite", "full", "first-run", 0, 0, 0, 0, 0.5, OptionalInt.of(20),
                ExitCodes.TERMINATED, 5, List.of(), List.of(), List.of(), true, Optional.of("SIGTERM"), 0);
        assertTrue(stopped.summaryLine().endsWith(" rsync-exit=20 exit=143 changed=0 interrupted=SIGTERM"), stopped.summaryLine());
        assertEquals("route=offsite mode=none reason=none files=0 deleted=0 failed=0 bytes=0 seconds=0.010 rsync-exit=none"
                + " exit=4 changed=0", SyncReport.undecided("offsite", 0.01, ExitCodes.ROOT_UNAVAILABLE).summaryLine());
    }

    @Test
    void ages() {
        SyncMain.AgeConverter ages = new SyncMain.AgeConverter();
        assertEquals(Duration.ofDays(1), ages.convert("1d"));
        assertEquals(Duration.ofHours(12), ages.convert("12h"));
        assertEquals(Duration.ZERO, ages.convert("0"));
        assertEquals(Duration.ofMinutes(90), ages.convert("PT90M"));
        assertThrows(picocli.CommandLine.TypeConversionException.class, () -> ages.convert("3w"));
    }
}
