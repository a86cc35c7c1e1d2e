package org.changeq.sync;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.state.StateLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes queue cycle files that every configured route has passed: those whose cycle is strictly
 * below the cycle of the lowest committed cursor, and that were last written at least a minimum
 * age ago. A route without a cursor keeps everything. The cycle of the last record (the file the
 * writer appends to) is never deleted. Safe to run while the writer appends and other routes read
 * (each reads only at or after its own cursor). Blocking file I/O; not thread-safe.
 */
final class QueueRetention {

    private static final Logger LOG = LoggerFactory.getLogger(QueueRetention.class);

    private QueueRetention() {
    }

    /** @return the files deleted */
    static List<Path> apply(ChangeqConfig config, ManifestReader reader, Duration minimumAge, Instant now)
            throws IOException {
        long lowestCursor = Long.MAX_VALUE;
        for (String route : config.routes().keySet()) {
            OptionalLong cursor = new StateLayout(config.state()).cursor(route).read();
            if (cursor.isEmpty() || cursor.getAsLong() == ManifestReader.NO_INDEX) {
                LOG.debug("queue retention waits for route '{}', which has not committed a cursor past the start", route);
                return List.of();
            }
            lowestCursor = Math.min(lowestCursor, cursor.getAsLong());
        }
        long first = reader.firstIndex();
        long last = reader.lastIndex();
        if (lowestCursor == Long.MAX_VALUE || first == ManifestReader.NO_INDEX) {
            return List.of();
        }
        int keepFrom = Math.min(reader.cycleOf(lowestCursor), reader.cycleOf(last));
        Instant cutoff = now.minus(minimumAge);
        List<Path> deleted = new ArrayList<>();
        for (int cycle = reader.cycleOf(first); cycle < keepFrom; cycle++) {
            Path file = reader.fileOfCycle(cycle);
            try {
                if (Files.getLastModifiedTime(file).toInstant().isAfter(cutoff)) {
                    continue;
                }
                Files.delete(file);
                deleted.add(file);
                LOG.info("queue retention deleted {} (cycle {}; every route's cursor is past it)", file, cycle);
            } catch (NoSuchFileException e) {
                // No records were written in that cycle, or another route's run deleted it first.
            }
        }
        return deleted;
    }
}
