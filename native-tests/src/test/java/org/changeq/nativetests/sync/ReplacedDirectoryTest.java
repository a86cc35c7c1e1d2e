package org.changeq.nativetests.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.manifest.QueueRecord;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.pipeline.testing.Poll;
import org.changeq.sync.SyncReport;
import org.changeq.tracker.Tracker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.event.Level;

/**
 * A directory of a root replaced by a symbolic link to a directory outside the root, after a file in it was recorded:
 * the stale record must not make rsync read through the link (rsync before 3.5.0 follows it and copies the outside
 * file; 3.5.0 refuses another user's link and fails the pass). The real tracker on the kernel's inotify writes the
 * queue; real rsync sends, locally and to a daemon.
 */
class ReplacedDirectoryTest {

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
    void aFileBelowADirectoryReplacedByALinkOutsideTheRootIsNeverReadThroughIt(TestDestination.Kind kind)
            throws Exception {
        destination = TestDestination.start(kind, tmp);
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("shadow"), "OUTSIDE THE ROOT");
        Trees.write(bench.root, "kept", "kept");
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", destination.dest()));
        tracker = Tracker.start(config);
        assertTrue(tracker.awaitReady(TIMEOUT), "the tracker did not get ready");
        assertEquals("full", bench.sync(config, "r").mode());

        // mkdir x; echo decoy > x/shadow; mv x x.old; ln -s OUTSIDE x
        Trees.write(bench.root, "x/shadow", "decoy");
        awaitRecord(bench, "x/shadow", false);
        Files.move(bench.root.resolve("x"), bench.root.resolve("x.old"));
        Files.createSymbolicLink(bench.root.resolve("x"), outside);
        awaitRecord(bench, "x", false);

        SyncReport report = bench.sync(config, "r");
        assertEquals(ExitCodes.OK, report.exitCode(), report.errors().toString());
        assertEquals(OptionalLong.of(bench.queueEnd()), bench.cursor("r"), "the cursor moves");
        Path copy = destination.directory();
        assertEquals("decoy", Files.readString(copy.resolve("x.old/shadow")));
        assertTrue(Files.isSymbolicLink(copy.resolve("x")), "x is sent as what it is now, a link");
        assertEquals(List.of(), filesHolding(copy, "OUTSIDE THE ROOT"), "nothing was read through the link");
    }

    /**
     * The swap after the run read the queue, as it looks to the run: the records name {@code x/shadow} and nothing
     * yet of {@code x}'s replacement. The check right before rsync leaves the entry out.
     */
    @ParameterizedTest
    @EnumSource(TestDestination.Kind.class)
    @ExpectLog(level = Level.WARN, logger = "AncestorCheck",
            contains = "leaving out the paths below x/sub: it is a symbolic link now")
    void anEntryBelowALinkTheRecordsDoNotKnowOfYetIsLeftOutRightBeforeRsync(TestDestination.Kind kind)
            throws Exception {
        destination = TestDestination.start(kind, tmp);
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("shadow"), "OUTSIDE THE ROOT");
        Trees.write(bench.root, "x/sub/shadow", "decoy");
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", destination.dest()).set("propagate-deletes", "true"));
        assertEquals("full", bench.sync(config, "r").mode());

        Trees.write(bench.root, "x/sub/gone", "gone");
        bench.changed("x/sub/shadow", "x/sub/gone", "x/other");
        bench.record(writer -> writer.publish(RecordType.DELETE, SyncBench.ROOT, false, "x/sub/deleted".getBytes(UTF_8)));
        Files.move(bench.root.resolve("x/sub"), bench.root.resolve("x/sub.old"));
        Files.createSymbolicLink(bench.root.resolve("x/sub"), outside);
        Files.writeString(outside.resolve("gone"), "OUTSIDE THE ROOT");
        Files.writeString(outside.resolve("deleted"), "OUTSIDE THE ROOT");
        Trees.write(bench.root, "x/other", "other");

        SyncReport report = bench.sync(config, "r");
        assertEquals(ExitCodes.OK, report.exitCode(), report.errors().toString());
        assertEquals(OptionalLong.of(bench.queueEnd()), bench.cursor("r"), "the cursor moves");
        Path copy = destination.directory();
        assertEquals("other", Files.readString(copy.resolve("x/other")), "the entries beside it are sent");
        assertEquals(List.of(), filesHolding(copy, "OUTSIDE THE ROOT"), "nothing was read through the link");
        assertEquals("decoy", Files.readString(copy.resolve("x/sub/shadow")), "nothing of it was replaced either");
    }

    /** Regular files below {@code directory} (links not followed) whose content is {@code content}. */
    private static List<Path> filesHolding(Path directory, String content) throws IOException {
        try (Stream<Path> paths = Files.walk(directory)) {
            List<Path> holding = new ArrayList<>();
            for (Path path : paths.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).toList()) {
                if (Files.readString(path).equals(content)) {
                    holding.add(path);
                }
            }
            return holding;
        }
    }

    /** Waits until the tracker has recorded a CHANGE of {@code path} as a directory or not. */
    private static void awaitRecord(SyncBench bench, String path, boolean directory) throws InterruptedException {
        Poll.until(TIMEOUT, () -> "a CHANGE of " + path + " in " + records(bench), () -> records(bench).stream()
                .anyMatch(record -> record.type() == RecordType.CHANGE && record.directory() == directory
                        && Arrays.equals(record.path(), path.getBytes(UTF_8))));
    }

    private static List<QueueRecord> records(SyncBench bench) {
        List<QueueRecord> records = new ArrayList<>();
        try (ManifestReader reader = ManifestReader.open(bench.queue)) {
            reader.read(ManifestReader.NO_INDEX, Long.MAX_VALUE, (index, record) -> records.add(record));
        }
        return records;
    }
}
