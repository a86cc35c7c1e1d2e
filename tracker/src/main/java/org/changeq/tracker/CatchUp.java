package org.changeq.tracker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.OptionalLong;
import org.changeq.pipeline.manifest.IndexFile;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.manifest.QueueNotFoundException;
import org.changeq.pipeline.manifest.QueueRecord;

/**
 * What a starting tracker must catch up on: the changes made while no tracker ran, and those the previous
 * tracker had not recorded yet when it stopped. Decided before the tracker appends its own START, from the
 * queue's last record (when the previous tracker last wrote, and whether that was a clean STOP) and the state
 * directory. Not thread-safe; used once at start.
 *
 * <p>The last record alone does not bound what the previous tracker missed: while its reader walked a new tree,
 * re-walked after an overflow or walked the next root, it kept appending records stamped later than changes
 * still waiting in the kernel's event queue. The watermark ({@link org.changeq.pipeline.state.StateLayout#trackerWatermark})
 * does: every change made before it was recorded. So the scan starts at the older of the two.
 *
 * <p>The scan publishes every path whose status-change time ({@code st_ctime}) is at or after that time minus
 * {@link #SAFETY_MARGIN_MILLIS}. The margin exists because the two clocks differ: file timestamps come from the
 * kernel's coarse clock, which lags the wall clock the tracker stamps records with by up to a scheduler tick, and
 * some file systems store times in whole seconds (or two, on FAT); a change is also queued a moment after its
 * ctime is set. A change made just before that time may therefore carry a slightly earlier ctime.
 */
final class CatchUp {

    /** How far before the last record's time, or the watermark, the scan still looks. */
    static final long SAFETY_MARGIN_MILLIS = 2_000;

    /**
     * The decision.
     *
     * @param sinceMillis publish changes at or after this time; {@link TreeWatcher#NO_CATCH_UP} when there is
     *                    nothing to catch up (the first start) or nothing can be trusted ({@code lost})
     * @param lost        the tracker cannot tell what it missed: record an OVERFLOW for every root
     * @param description what was found, for the log
     */
    record Decision(long sinceMillis, boolean lost, String description) {
    }

    private CatchUp() {
    }

    /**
     * @param queue         the queue directory (it may not exist yet)
     * @param pending       the catch-up a previous start did not finish, if its file is present
     * @param watermarkFile the previous tracker's watermark; absent when that tracker predates it
     * @param ranBefore     whether a tracker ran on this state directory before
     * @param nowMillis     the wall clock now
     */
    static Decision decide(Path queue, OptionalLong pending, IndexFile watermarkFile, boolean ranBefore,
                           long nowMillis) {
        QueueRecord last = lastRecord(queue);
        if (last == null) {
            if (ranBefore || pending.isPresent()) {
                return new Decision(TreeWatcher.NO_CATCH_UP, true, "the queue " + queue + " is missing or empty "
                        + "although a tracker ran on this state directory before; an OVERFLOW is recorded for every "
                        + "root, so each route's next sync is full");
            }
            return new Decision(TreeWatcher.NO_CATCH_UP, false, "first start on this queue: nothing to catch up");
        }
        OptionalLong watermark;
        try {
            watermark = watermarkFile.read();
        } catch (IOException | IllegalStateException e) {
            // Written without fsync: after a power cut it may be empty, and then nothing bounds what was missed.
            return new Decision(TreeWatcher.NO_CATCH_UP, true, "cannot read " + watermarkFile.path() + " ("
                    + e.getMessage() + "), so what the previous tracker had not recorded is unknown; an OVERFLOW is "
                    + "recorded for every root, so each route's next sync is full");
        }
        long latest = Math.max(last.timeMillis(), watermark.orElse(last.timeMillis()));
        if (latest > nowMillis) {
            return new Decision(TreeWatcher.NO_CATCH_UP, true, "the queue's last record or the watermark is dated "
                    + Instant.ofEpochMilli(latest) + ", after the clock's now " + Instant.ofEpochMilli(nowMillis)
                    + " (the clock went backwards); an OVERFLOW is recorded for every root, so each route's next "
                    + "sync is full");
        }
        long recordedUntil = Math.min(last.timeMillis(), watermark.orElse(last.timeMillis()));
        long since = recordedUntil - SAFETY_MARGIN_MILLIS;
        String previous = switch (last.type()) {
            case STOP -> "a clean stop";
            default -> "an unclean stop (last record " + last.type() + ")";
        };
        if (pending.isPresent() && pending.getAsLong() < since) {
            since = pending.getAsLong();
            previous += ", and an unfinished catch-up scan";
        }
        return new Decision(since, false, "catching up after " + previous + ": publishing what changed since "
                + Instant.ofEpochMilli(since) + " (the older of the last record, "
                + Instant.ofEpochMilli(last.timeMillis()) + ", and the watermark, " + (watermark.isPresent() ? Instant.ofEpochMilli(watermark.getAsLong())
                : "none yet") + ", minus " + SAFETY_MARGIN_MILLIS + " ms)");
    }

    /** The catch-up a previous start did not finish, or empty. */
    static OptionalLong pending(IndexFile file) {
        try {
            return file.read();
        } catch (IOException | IllegalStateException e) {
            // Unreadable means unknown: the queue's last record still bounds what was missed since the last
            // start; an older unfinished scan would be missed, so say so.
            org.slf4j.LoggerFactory.getLogger(CatchUp.class).warn("cannot read {} ({}); catching up from the "
                    + "queue's last record only", file.path(), e.getMessage());
            return OptionalLong.empty();
        }
    }

    private static QueueRecord lastRecord(Path queue) {
        if (!Files.isDirectory(queue)) {
            return null;
        }
        try (ManifestReader reader = ManifestReader.open(queue)) {
            long last = reader.lastIndex();
            if (last == ManifestReader.NO_INDEX) {
                return null;
            }
            QueueRecord[] found = new QueueRecord[1];
            reader.readFrom(last, last, (index, record) -> {
                found[0] = record;
                return false;
            });
            return found[0];
        } catch (QueueNotFoundException e) {
            return null;
        }
    }
}
