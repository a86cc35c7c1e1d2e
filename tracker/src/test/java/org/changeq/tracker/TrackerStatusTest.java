package org.changeq.tracker;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import org.changeq.pipeline.config.PathFilter;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.state.TrackerRootsFile;
import org.changeq.pipeline.state.TrackerRootsFile.Condition;
import org.changeq.pipeline.state.TrackerRootsFile.RootStatus;
import org.changeq.tracker.NotifyReceiver;
import org.changeq.tracker.SystemdNotifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tracker's STATUS= lines and watchdog pings, received on a real datagram socket, and its roots file. */
class TrackerStatusTest {

    private static final TrackerRootsFile.Selection ANYWHERE = new TrackerRootsFile.Selection(new byte[] {'/'},
            List.of());

    @TempDir
    Path dir;

    private long nanos = 1_000_000_000_000L;
    private int watched;

    @Test
    void walksPingTheWatchdogAndSayHowFarTheyAreAndTheIdleLineNamesTheRootsNotWatched() throws Exception {
        String socket = dir.resolve("notify").toString();
        try (NotifyReceiver systemd = NotifyReceiver.bind(socket)) {
            SystemdNotifier notifier = SystemdNotifier.fromEnvironment(Map.of(SystemdNotifier.NOTIFY_SOCKET, socket,
                    SystemdNotifier.WATCHDOG_USEC, "60000000"));
            TrackerRootsFile rootsFile = new StateLayout(dir.resolve("state")).trackerRoots();
            TrackerStatus status = new TrackerStatus(notifier, rootsFile, () -> watched, () -> nanos);

            watched = 120_000;
            status.walking(new WatchTree.Root("nfs", "/srv/nfs".getBytes(ISO_8859_1), PathFilter.of(List.of())),
                    watched);
            assertEquals("WATCHDOG=1", systemd.receive());
            assertEquals("STATUS=walking /srv/nfs: 120,000 directories watched", systemd.receive());

            long unmountedAt = 1_764_400_000_000L;
            List<RootStatus> roots = List.of(new RootStatus("nfs", Condition.WATCHED, 1, "", ANYWHERE),
                    new RootStatus("backup", Condition.UNMOUNTED, unmountedAt, "/mnt/backup was unmounted; mount it", ANYWHERE));
            status.rootsChanged(roots);
            TrackerRootsFile.Snapshot written = rootsFile.read().orElseThrow();
            assertEquals(roots, written.roots());
            assertEquals(ProcessHandle.current().pid(), written.pid());

            status.ready();
            String since = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss")
                    .format(Instant.ofEpochMilli(unmountedAt).atZone(ZoneId.systemDefault()));
            assertEquals("READY=1\nSTATUS=watching 120,000 directories in 2 roots; NOT WATCHED: backup (unmounted since "
                    + since + ")", systemd.receive());

            watched++;
            status.refresh();
            // Not sent: a new count alone waits for the refresh interval, so the next datagram is the next line.
            status.rootsChanged(List.of(roots.get(0), new RootStatus("backup", Condition.WATCHED, unmountedAt + 9, "", ANYWHERE)));
            status.refresh();
            assertEquals("STATUS=watching 120,001 directories in 2 roots", systemd.receive());

            watched++;
            nanos += TrackerStatus.IDLE_REFRESH_NANOS;
            status.refresh();
            assertEquals("STATUS=watching 120,002 directories in 2 roots", systemd.receive());
        }
    }
}
