package org.changeq.pipeline.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Following the queue: each read returns what was appended since the last one, and nothing twice. */
class ManifestTailTest {

    @TempDir
    Path dir;

    /** One tracker session: START, a CHANGE for each name, STOP; the writer's thread is joined on close. */
    private void session(String... names) {
        try (ManifestWriter writer = ManifestWriter.start(WriterLock.acquire(dir.resolve("queue"), dir.resolve("state")),
                1024, runnable -> new Thread(runnable, "changeq-writer"), failure -> {
                    throw new AssertionError(failure);
                })) {
            for (String name : names) {
                writer.publish(RecordType.CHANGE, "nfs", false, name.getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    private static List<String> read(ManifestReader.Tail tail) {
        List<String> seen = new ArrayList<>();
        tail.readNew((index, record) -> seen.add(record.type() == RecordType.CHANGE
                ? new String(record.pathBuffer(), 0, record.pathLength(), StandardCharsets.UTF_8) : record.type().name()));
        return seen;
    }

    @Test
    void eachReadReturnsWhatWasAppendedSinceTheLastAndMoveToGoesBack() {
        session("a", "b");
        try (ManifestReader reader = ManifestReader.open(dir.resolve("queue"));
             ManifestReader.Tail tail = reader.tail(ManifestReader.NO_INDEX)) {
            assertEquals(List.of("START", "a", "b", "STOP"), read(tail));
            long end = tail.lastIndex();
            assertEquals(reader.lastIndex(), end);
            assertEquals(List.of(), read(tail), "nothing new");

            session("c");
            assertEquals(List.of("START", "c", "STOP"), read(tail), "the same tailer sees the next session");

            tail.moveTo(end);
            assertEquals(List.of("START", "c", "STOP"), read(tail), "after the given index, not at it");

            tail.moveTo(end);
            List<String> first = new ArrayList<>();
            assertEquals(1, tail.readNew((index, record) -> first.add(record.type().name()) && false));
            assertEquals(List.of("START"), first);
            assertEquals(List.of("c", "STOP"), read(tail), "a read the visitor stopped goes on after the record it stopped at");
        }
    }
}
