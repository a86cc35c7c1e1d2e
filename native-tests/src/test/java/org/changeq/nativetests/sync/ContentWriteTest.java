package org.changeq.nativetests.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.manifest.QueueRecord;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.testing.Poll;
import org.changeq.sync.SyncReport;
import org.changeq.tracker.Tracker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Rewrites that leave a file's size and modification time as they were, seen by the real tracker on the kernel's
 * inotify and sent by the real rsync: rsync's quick check alone would call these files unchanged.
 */
class ContentWriteTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    private TestDestination destination;
    private Tracker tracker;

    @AfterEach
    void stop() throws InterruptedException {
        if (tracker != null) {
            tracker.close();
        }
        if (destination != null) {
            destination.close();
        }
    }

    @ParameterizedTest
    @EnumSource(TestDestination.Kind.class)
    void sameSizeRewritesWhoseOldTimeIsPutBackArriveAndAnUntouchedWriteIsOnlyCompared(TestDestination.Kind kind)
            throws Exception {
        destination = TestDestination.start(kind, tmp);
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Path retouched = Trees.write(bench.root, "photos/retouched.jpg", "original pixels");
        Path replaced = Trees.write(bench.root, "photos/replaced.jpg", "first version A");
        Path replacement = Trees.write(bench.root, "photos/replacement.jpg", "other version B");
        Path opened = bench.root.resolve("opened.bin");
        Files.write(opened, new byte[1 << 20]);
        Trees.run(List.of("touch", "-r", replaced.toString(), replacement.toString()), 0);
        Path stamp = tmp.resolve("stamp");
        Trees.run(List.of("touch", "-r", retouched.toString(), stamp.toString()), 0);
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", destination.dest()));
        tracker = Tracker.start(config);
        assertTrue(tracker.awaitReady(TIMEOUT), "the tracker did not get ready");
        assertEquals("full", bench.sync(config, "r").mode());
        Path destOpened = destination.directory().resolve("opened.bin");
        Object openedAtDestination = Files.getAttribute(destOpened, "unix:ino");

        // A same-size edit in place whose tool puts the old time back, to the nanosecond.
        Files.writeString(retouched, "edited  pixels!");
        Trees.run(List.of("touch", "-r", stamp.toString(), retouched.toString()), 0);
        // cp -p of another file of the same size and time over it.
        Trees.run(List.of("cp", "-p", replacement.toString(), replaced.toString()), 0);
        // Opened for writing, closed without writing a byte.
        FileChannel.open(opened, StandardOpenOption.WRITE).close();
        awaitContentWrites(bench, "photos/retouched.jpg", "photos/replaced.jpg", "opened.bin");

        SyncReport report = bench.sync(config, "r");
        assertEquals("incremental", report.mode());
        assertEquals(ExitCodes.OK, report.exitCode(), report.errors().toString());
        Path destination = this.destination.directory();
        assertEquals("edited  pixels!", Files.readString(destination.resolve("photos/retouched.jpg")),
                "the edit whose old time was put back");
        assertEquals("other version B", Files.readString(destination.resolve("photos/replaced.jpg")),
                "the cp -p over a file of the same size and time");
        Trees.assertSameTree(bench.root, destination);
        assertTrue(report.itemized().stream().noneMatch(line -> line.endsWith(" opened.bin")),
                "the unchanged file is compared, not sent: " + report.itemized());
        assertEquals(openedAtDestination, Files.getAttribute(destOpened, "unix:ino"),
                "the destination's copy was not replaced");
        assertTrue(Files.readString(bench.state.resolve("lists/r.content"), UTF_8).contains("./opened.bin\0"),
                "it was in the pass that compares by content");
    }

    /** Waits until the tracker has recorded a content write of each path. */
    private static void awaitContentWrites(SyncBench bench, String... paths) throws InterruptedException {
        Poll.until(TIMEOUT, () -> "content writes of " + Arrays.toString(paths) + " in " + records(bench), () -> {
            List<QueueRecord> records = records(bench);
            return Arrays.stream(paths).allMatch(path -> records.stream().anyMatch(record ->
                    record.type() == RecordType.CHANGE && record.contentWritten()
                            && Arrays.equals(record.path(), path.getBytes(UTF_8))));
        });
    }

    private static List<QueueRecord> records(SyncBench bench) {
        List<QueueRecord> records = new ArrayList<>();
        try (ManifestReader reader = ManifestReader.open(bench.queue)) {
            reader.read(ManifestReader.NO_INDEX, Long.MAX_VALUE, (index, record) -> records.add(record));
        }
        return records;
    }
}
