package org.changeq.pipeline;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.wire.DocumentContext;

/**
 * Writes a synthetic manifest for benchmarks: {@code RECORDS} CHANGE records cycling over
 * {@code UNIQUE} paths in 1,000 directories, framed by START and STOP, plus a config with one
 * route. It appends with the record codec directly (the writer would dedupe the repeats).
 * Usage: GenerateQueueMain DIR RECORDS UNIQUE
 */
public final class GenerateQueueMain {
    private GenerateQueueMain() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long records = Long.parseLong(args[1]);
        int unique = Integer.parseInt(args[2]);
        Files.createDirectories(dir.resolve("tree"));
        Files.writeString(dir.resolve("changeq.yaml"), String.join("\n",
                "queue: " + dir.resolve("queue"),
                "state: " + dir.resolve("state"),
                "roots:",
                "  data: {path: " + dir.resolve("tree") + "}",
                "routes:",
                "  bench: {root: data, dest: " + dir.resolve("dest") + "/, exclude: [\"*.tmp\"]}",
                ""));
        long start = System.nanoTime();
        long now = System.currentTimeMillis();
        try (SingleChronicleQueue queue = Queues.openForWriting(dir.resolve("queue"));
             ExcerptAppender appender = queue.createAppender()) {
            append(appender, QueueRecord.marker(RecordType.START, "", now));
            for (long i = 0; i < records; i++) {
                int id = (int) (i % unique);
                byte[] path = ("dir-" + (id % 1000) + "/file-" + id + ".dat").getBytes(StandardCharsets.UTF_8);
                append(appender, new QueueRecord(RecordType.CHANGE, "data", now, false, path));
            }
            append(appender, QueueRecord.marker(RecordType.STOP, "", now));
        }
        System.err.printf("wrote %d records over %d paths in %.1f s%n", records, unique,
                (System.nanoTime() - start) / 1e9);
    }

    private static void append(ExcerptAppender appender, QueueRecord record) {
        try (DocumentContext context = appender.writingDocument()) {
            RecordCodec.write(context.wire().bytes(), record);
        }
    }
}
