package org.changeq.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.changeq.pipeline.state.RunProgressFile;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.pipeline.testing.Poll;
import org.changeq.sync.RsyncProgress.Figures;
import org.changeq.tracker.SystemdNotifier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

/** The reports of a run, with rsync's lines handed in as the stdout thread hands them. */
class RunProgressTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    @TempDir
    Path state;

    @AfterEach
    void defaultInterval() {
        System.clearProperty(RunProgress.INTERVAL_PROPERTY);
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "RunProgress", contains = "ignoring -Dchangeq.progress-interval=soon")
    @ExpectLog(level = Level.WARN, logger = "RunProgress", contains = "ignoring -Dchangeq.progress-interval=0")
    void theIntervalIsThirtySecondsUnlessThePropertySaysOtherwise() {
        assertEquals(Duration.ofSeconds(30), RunProgress.interval());
        System.setProperty(RunProgress.INTERVAL_PROPERTY, "10s");
        assertEquals(Duration.ofSeconds(10), RunProgress.interval());
        System.setProperty(RunProgress.INTERVAL_PROPERTY, "PT0.5S");
        assertEquals(Duration.ofMillis(500), RunProgress.interval());
        System.setProperty(RunProgress.INTERVAL_PROPERTY, "soon");
        assertEquals(Duration.ofSeconds(30), RunProgress.interval());
        System.setProperty(RunProgress.INTERVAL_PROPERTY, "0");
        assertEquals(Duration.ofSeconds(30), RunProgress.interval());
    }

    @Test
    void theFileCountsWhatThePassesSentNotWhatTheirDryRunsLookedAtAndGoesWithTheRun() throws Exception {
        System.setProperty(RunProgress.INTERVAL_PROPERTY, "PT0.05S");
        RunProgressFile file = new StateLayout(state).runProgress("r");
        RunProgress progress = new RunProgress("r", Optional.of(file), SystemdNotifier.fromEnvironment(Map.of()),
                Clock.systemUTC());
        progress.start();
        try {
            RunProgressFile.Snapshot preparing = file.read().orElseThrow(() -> new AssertionError("written at the start"));
            assertEquals(ProcessHandle.current().pid(), preparing.pid());
            assertFalse(preparing.rsyncRunning());
            try (RunProgress.Pass dryRun = progress.pass("full sync: counting what it deletes (dry run)", false)) {
                Poll.until(TIMEOUT, "the dry run, rsync silent yet", () -> file.read().map(snapshot -> snapshot.rsyncRunning()
                        && snapshot.describe().endsWith("rsync is building the file list, nothing sent yet")).orElse(false));
                dryRun.reported(new Figures(9_000_000, 3, 0, 3, true));
                Poll.until(TIMEOUT, "the dry run's checks", () -> file.read().map(snapshot -> snapshot.checked() == 3)
                        .orElse(false));
            }
            try (RunProgress.Pass full = progress.pass("full sync", true)) {
                full.itemized(">f+++++++++ photos/a\\#012b".getBytes(UTF_8));
                full.reported(new Figures(1_000, -1, -1, -1, false));
                full.reported(new Figures(5_000, 2, 1, 4, false));
                Poll.until(TIMEOUT, "the full pass's figures", () -> file.read().map(snapshot -> snapshot.files() == 2)
                        .orElse(false));
                RunProgressFile.Snapshot sending = file.read().orElseThrow();
                assertEquals("full sync", sending.activity());
                assertEquals(5_000, sending.bytes(), "the dry run's bytes are not sent");
                assertEquals(3, sending.checked());
                assertEquals(4, sending.total());
                assertFalse(sending.listComplete());
                assertArrayEquals("photos/a\nb".getBytes(UTF_8), sending.current(), "rsync's escape undone");
            }
            try (RunProgress.Pass directories = progress.pass("incremental sync: directory attributes", true)) {
                directories.reported(new Figures(100, 1, 0, 1, true));
            }
            Poll.until(TIMEOUT, "both passes summed", () -> file.read().map(snapshot -> snapshot.files() == 3
                    && snapshot.bytes() == 5_100 && !snapshot.rsyncRunning()).orElse(false));
        } finally {
            progress.close();
        }
        assertEquals(Optional.empty(), file.read(), "removed at the end");
        assertTrue(Thread.getAllStackTraces().keySet().stream()
                .noneMatch(thread -> thread.getName().equals("changeq-sync-progress")), "the reporter was joined");
    }
}
