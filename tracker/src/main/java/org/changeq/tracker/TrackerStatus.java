package org.changeq.tracker;

import java.io.IOException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.state.StateDirectory;
import org.changeq.pipeline.state.TrackerRootsFile;
import org.changeq.pipeline.state.TrackerRootsFile.RootStatus;
import org.changeq.tracker.SystemdNotifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the running tracker says about itself: systemd's {@code STATUS=} line ("walking /srv/nfs: 120,000
 * directories watched", "watching N directories in M roots", plus the roots not watched), the watchdog
 * keep-alive while a walk keeps the reader thread from reading, and the roots file that changeq-queue shows.
 *
 * <p>Confined to the reader thread. Never throws: a roots file that cannot be written is logged.
 */
final class TrackerStatus implements TreeWatcher.Listener {

    private static final Logger LOG = LoggerFactory.getLogger(TrackerStatus.class);

    /** While idle, a changed directory count alone refreshes the status line no more often than this. */
    static final long IDLE_REFRESH_NANOS = 10_000_000_000L;
    private static final DateTimeFormatter SINCE = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT);

    private final SystemdNotifier systemd;
    private final TrackerRootsFile rootsFile;
    private final IntSupplier watchedDirectories;
    private final LongSupplier nanoClock;
    private List<RootStatus> roots = List.of();
    private String sent;
    private long sentNanos;
    /** A walk or a root's change was reported since the last idle line: the next refresh says so at once. */
    private boolean changed;

    TrackerStatus(SystemdNotifier systemd, TrackerRootsFile rootsFile, IntSupplier watchedDirectories,
                  LongSupplier nanoClock) {
        this.systemd = systemd;
        this.rootsFile = rootsFile;
        this.watchedDirectories = watchedDirectories;
        this.nanoClock = nanoClock;
    }

    @Override
    public void walking(WatchTree.Root root, int watched) {
        if (systemd.watchdogInterval().isPresent()) {
            systemd.watchdog();
        }
        send(String.format(Locale.ROOT, "walking %s: %,d directories watched", ByteStrings.escape(root.absolutePath),
                watched));
        changed = true;
    }

    @Override
    public void rootsChanged(List<RootStatus> now) {
        roots = List.copyOf(now);
        changed = true;
        try {
            rootsFile.write(new TrackerRootsFile.Snapshot(System.currentTimeMillis(), ProcessHandle.current().pid(),
                    roots));
        } catch (IOException | StateDirectory.Refused e) {
            LOG.warn("cannot write {} ({}); changeq-queue stat shows an older view of the roots", rootsFile.path(),
                    e.getMessage());
        }
    }

    /** The idle line, with {@code READY=1}: every root is walked. */
    void ready() {
        String line = idleLine();
        systemd.ready(line);
        sent = line;
        sentNanos = nanoClock.getAsLong();
        changed = false;
    }

    /**
     * Sends the idle line if it says something new: at once after a walk or a root's change, otherwise when the
     * directory count changed and the last line is {@link #IDLE_REFRESH_NANOS} old.
     */
    void refresh() {
        String line = idleLine();
        if (line.equals(sent) || !changed && nanoClock.getAsLong() - sentNanos < IDLE_REFRESH_NANOS) {
            return;
        }
        send(line);
        changed = false;
    }

    /** "watching N directories in M roots", and each root that is not watched, with its condition and since when. */
    String idleLine() {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "watching %,d directories in %d root%s",
                watchedDirectories.getAsInt(), roots.size(), roots.size() == 1 ? "" : "s"));
        String separator = "; NOT WATCHED: ";
        for (RootStatus root : roots) {
            if (!root.watched()) {
                line.append(separator).append(root.root()).append(" (").append(root.condition().token())
                        .append(" since ").append(SINCE.format(Instant.ofEpochMilli(root.sinceMillis())
                                .atZone(ZoneId.systemDefault()))).append(')');
                separator = ", ";
            }
        }
        return line.toString();
    }

    private void send(String line) {
        systemd.status(line);
        sent = line;
        sentNanos = nanoClock.getAsLong();
    }
}
