package org.changeq.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.changeq.pipeline.config.PathFilter;
import org.changeq.pipeline.config.RouteConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PendingChangesTest {

    @TempDir
    Path dir;

    static RouteConfig route(String root, List<String> includes, List<String> excludes, boolean propagateDeletes) {
        return new RouteConfig("r", root, "/dest/", includes, excludes, Optional.empty(), Optional.empty(),
                PathFilter.of(includes), PathFilter.of(excludes), RouteConfig.DEFAULT_RSYNC_ARGS,
                RouteConfig.DEFAULT_BACKLOG_THRESHOLD, Optional.empty(), true, propagateDeletes);
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** Writes records through the real writer, one handler batch per record, so nothing merges early. */
    private void write(QueueRecord... records) {
        try (ManifestWriter writer = ManifestWriter.start(dir.resolve("q"), dir.resolve("s"), 1024,
                r -> new Thread(r, "changeq-writer"), failure -> { throw new AssertionError(failure); })) {
            for (QueueRecord record : records) {
                if (record.type().carriesPath()) {
                    writer.publish(record.type(), record.root(), record.directory(), record.path());
                } else {
                    writer.publishMarker(record.type(), record.root());
                }
            }
        }
    }

    private PendingChanges scan(RouteConfig route) {
        try (ManifestReader reader = ManifestReader.open(dir.resolve("q"))) {
            return PendingChanges.scan(reader, route, ManifestReader.NO_INDEX, reader.lastIndex());
        }
    }

    private static QueueRecord change(String root, String path) {
        return new QueueRecord(RecordType.CHANGE, root, 0, false, bytes(path));
    }

    private static QueueRecord of(RecordType type, String path, boolean directory) {
        return new QueueRecord(type, "nfs", 0, directory, bytes(path));
    }

    private static List<String> paths(List<PendingChanges.Entry> entries) {
        return entries.stream().map(e -> new String(e.path(), StandardCharsets.UTF_8)).toList();
    }

    @Test
    void onePathOnceAndOnlyThisRootAndRoute() {
        write(change("nfs", "a"), change("nfs", "immich/x"), change("backup", "b"), change("nfs", "c"));
        PendingChanges pending = scan(route("nfs", List.of(), List.of("/immich/"), false));
        assertEquals(List.of("a", "c"), paths(pending.toSend(false)));
        assertEquals(3, pending.backlogRecords());
        assertEquals(2, pending.uniquePaths());
    }

    @Test
    void deletesAreSentOnlyWhenTheRoutePropagatesThem() {
        write(change("nfs", "a"), of(RecordType.DELETE, "a", false), change("nfs", "b"));
        assertEquals(List.of("b"), paths(scan(route("nfs", List.of(), List.of(), false)).toSend(false)));
        assertEquals(List.of("a", "b"), paths(scan(route("nfs", List.of(), List.of(), true)).toSend(true)));
    }

    @Test
    void pathsInsideAPendingSubtreeAreCarriedByIt() {
        write(change("nfs", "a/x"), of(RecordType.SUBTREE, "a", true), change("nfs", "a-b"),
                change("nfs", "a/y/z"), change("nfs", "ab"));
        assertEquals(List.of("a", "a-b", "ab"), paths(scan(route("nfs", List.of(), List.of(), false)).toSend(false)));
    }

    @Test
    void overflowsCountOnlyForTheRoutesRoot() {
        write(QueueRecord.marker(RecordType.OVERFLOW, "backup", 0));
        assertEquals(0, scan(route("nfs", List.of(), List.of(), false)).overflows());
        assertEquals(1, scan(route("backup", List.of(), List.of(), false)).overflows());
    }

    @Test
    void aStartWithoutAStopIsAGapUntilTheRootIsRescanned() {
        // Each writer appends START ... STOP; a second START straight after START is an unclean stop.
        write(change("nfs", "a"));
        try (ManifestWriter writer = ManifestWriter.start(dir.resolve("q"), dir.resolve("s"), 1024,
                r -> new Thread(r, "changeq-writer"), failure -> { throw new AssertionError(failure); })) {
            assertEquals(0, scan(route("nfs", List.of(), List.of(), false)).unhealedGaps());
            // No STOP: simulate a crash by starting another writer's START record after this one.
            writer.publishMarker(RecordType.START, "");
            writer.publishMarker(RecordType.RESCAN, "backup");
        }
        PendingChanges nfs = scan(route("nfs", List.of(), List.of(), false));
        assertEquals(1, nfs.unhealedGaps());
        assertEquals(1, nfs.toSend(false).size());
    }
}
