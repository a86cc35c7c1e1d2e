package org.changeq.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import net.openhft.chronicle.core.time.SetTimeProvider;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.TestConfigs;
import org.changeq.pipeline.manifest.ChronicleSettings;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.state.StateLayout;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Retention on a real Chronicle queue with one cycle file per day. */
class QueueRetentionTest {

    static {
        ChronicleSettings.apply();
    }

    private static final long DAY = Duration.ofDays(1).toMillis();
    private static final Instant NOW = Instant.parse("2026-11-20T12:00:00Z");

    @TempDir
    Path dir;

    private Path queue;
    private Path state;
    private final long[] lastIndexOfDay = new long[4];

    @BeforeEach
    void fourDaysOfRecords() throws IOException {
        queue = dir.resolve("queue");
        state = dir.resolve("state");
        long day0 = NOW.toEpochMilli() - 10 * DAY;
        SetTimeProvider time = new SetTimeProvider(day0);
        try (SingleChronicleQueue q = SingleChronicleQueueBuilder.binary(queue).rollCycle(RollCycles.FAST_DAILY)
                .timeProvider(time).build();
             ExcerptAppender appender = q.createAppender()) {
            for (int day = 0; day < 4; day++) {
                time.currentTimeMillis(day0 + day * DAY);
                appender.writeText("record of day " + day);
                lastIndexOfDay[day] = appender.lastIndexAppended();
            }
        }
        try (Stream<Path> files = Files.list(queue)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".cq4")).toList()) {
                Files.setLastModifiedTime(file, FileTime.from(NOW.minus(Duration.ofDays(5))));
            }
        }
        assertEquals(4, cycleFiles().size());
    }

    private List<String> cycleFiles() throws IOException {
        try (Stream<Path> files = Files.list(queue)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".cq4")).sorted().toList();
        }
    }

    private ChangeqConfig config(String... routes) {
        StringBuilder yaml = new StringBuilder("queue: " + queue + "\nstate: " + state + "\nroots:\n  nfs: {path: " + dir
                + "/root}\nroutes:\n");
        for (String route : routes) {
            yaml.append("  ").append(route).append(": {root: nfs, dest: /dst/").append(route).append("}\n");
        }
        return TestConfigs.load(yaml.toString());
    }

    private List<Path> retain(ChangeqConfig config, Duration minimumAge) throws IOException {
        try (ManifestReader reader = ManifestReader.open(queue)) {
            return QueueRetention.apply(config, reader, minimumAge, NOW);
        }
    }

    @Test
    void deletesOnlyCycleFilesEveryRouteHasPassed() throws IOException {
        List<String> all = cycleFiles();
        new StateLayout(state).cursor("a").write(lastIndexOfDay[3]);
        new StateLayout(state).cursor("b").write(lastIndexOfDay[1]);
        assertEquals(1, retain(config("a", "b"), Duration.ofDays(1)).size());
        assertEquals(all.subList(1, 4), cycleFiles(), "day 0 is below both cursors; day 1 holds b's cursor");

        new StateLayout(state).cursor("b").write(lastIndexOfDay[3]);
        retain(config("a", "b"), Duration.ofDays(1));
        assertEquals(all.subList(3, 4), cycleFiles(), "the cycle of the last record is kept");
    }

    @Test
    void aRouteWithoutACursorBlocksRetention() throws IOException {
        new StateLayout(state).cursor("a").write(lastIndexOfDay[3]);
        assertEquals(List.of(), retain(config("a", "new-route"), Duration.ofDays(1)));
        assertEquals(4, cycleFiles().size());
    }

    @Test
    void filesYoungerThanTheMinimumAgeStay() throws IOException {
        new StateLayout(state).cursor("a").write(lastIndexOfDay[3]);
        assertEquals(List.of(), retain(config("a"), Duration.ofDays(6)));
        assertEquals(3, retain(config("a"), Duration.ofDays(4)).size());
    }
}
