package org.changeq.pipeline.manifest;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reading whole queues in tests. */
public final class TestQueues {

    private TestQueues() {
    }

    /** Every record in the queue, in order; none when no queue was created there yet. */
    public static List<QueueRecord> records(Path queue) {
        if (!Files.exists(queue.resolve("metadata.cq4t"))) {
            return List.of();
        }
        List<QueueRecord> records = new ArrayList<>();
        try (ManifestReader reader = ManifestReader.open(queue)) {
            reader.read(ManifestReader.NO_INDEX, Long.MAX_VALUE, (index, record) -> records.add(record));
        }
        return records;
    }
}
