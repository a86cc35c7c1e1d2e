package org.changeq.tracker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.OptionalLong;
import org.changeq.pipeline.IndexFile;
import org.changeq.pipeline.ManifestReader;
import org.changeq.pipeline.QueueNotFoundException;
import org.changeq.pipeline.QueueRecord;

/**
 * What a starting tracker must catch up on: the changes made while no tracker ran. Decided before the
 * tracker appends its own START, from the queue's last record (when the previous tracker last wrote, and
 * whether that was a clean STOP) and the state directory. Not thread-safe; used once at start.
 *
 * <p>The scan publishes every path whose status-change time ({@code st_ctime}) is at or after the last
 * record's time minus {@link #SAFETY_MARGIN_MILLIS}. The margin exists because the two clocks differ:
 * file timestamps come from the kernel's coarse clock, which lags the wall clock the tracker stamps records
 * with by up to a scheduler tick, and some file systems store times in whole seconds (or two, on FAT); an
 * event is also read from the kernel queue some time after the change it reports. A change made just
 * before the last record was written may therefore carry a ctime slightly earlier than that record.
 */
final class CatchUp {

    /** How far before the last record's time the scan still looks. */
    static final long SAFETY_MARGIN_MILLIS = 2_000;

    /**
     * The decision.
     *
     * @param sinceMillis publish changes at or after this time; {@link TreeWatcher#NO_CATCH_UP} when there is
     *                    nothing to catch up (the first start) or nothing can be trusted ({@code lost})
     * @param lost        the tracker cannot tell when it stopped: record an OVERFLOW for every root
     * @param description what was found, for the log
     */
    record Decision(long sinceMillis, boolean lost, String description) {
    }

    private CatchUp() {
    }

    /**
     * @param queue      the queue directory (it may not exist yet)
     * @param pending    the catch-up a previous start did not finish, if its file is present
     * @param ranBefore  whether a tracker ran on this state directory before
     * @param nowMillis  the wall clock now
     */
    static Decision decide(Path queue, OptionalLong pending, boolean ranBefore, long nowMillis) {
        QueueRecord last = lastRecord(queue);
        if (last == null) {
            if (ranBefore || pending.isPresent()) {
                return new Decision(TreeWatcher.NO_CATCH_UP, true, "the queue " + queue + " is missing or empty "
                        + "although a tracker ran on this state directory before; an OVERFLOW is recorded for every "
                        + "root, so each route's next sync is full");
            }
            return new Decision(TreeWatcher.NO_CATCH_UP, false, "first start on this queue: nothing to catch up");
        }
        if (last.timeMillis() > nowMillis) {
            return new Decision(TreeWatcher.NO_CATCH_UP, true, "the queue's last record is dated "
                    + Instant.ofEpochMilli(last.timeMillis()) + ", after the clock's now " + Instant.ofEpochMilli(nowMillis)
                    + " (the clock went backwards); an OVERFLOW is recorded for every root, so each route's next "
                    + "sync is full");
        }
        long since = last.timeMillis() - SAFETY_MARGIN_MILLIS;
        String previous = switch (last.type()) {
            case STOP -> "a clean stop";
            default -> "an unclean stop (last record " + last.type() + ")";
        };
        if (pending.isPresent() && pending.getAsLong() < since) {
            since = pending.getAsLong();
            previous += ", and an unfinished catch-up scan";
        }
        return new Decision(since, false, "catching up after " + previous + ": publishing what changed since "
                + Instant.ofEpochMilli(since) + " (last record " + Instant.ofEpochMilli(last.timeMillis()) + " minus "
                + SAFETY_MARGIN_MILLIS + " ms)");
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
