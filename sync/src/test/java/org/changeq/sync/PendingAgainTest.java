package org.changeq.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.function.Consumer;
import org.changeq.pipeline.manifest.ChronicleSettings;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.manifest.ManifestWriter;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.manifest.WriterLock;
import org.changeq.pipeline.state.RetryList;
import org.changeq.pipeline.state.RetryList.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which failed paths a newer record sends again: only those it sends at least as fully as their retry entry would. */
class PendingAgainTest {

    static {
        ChronicleSettings.apply();
    }

    @TempDir
    Path dir;

    private void record(Consumer<ManifestWriter> body) {
        ManifestWriter writer = ManifestWriter.start(WriterLock.acquire(dir.resolve("queue"), dir.resolve("state")), 1024,
                ManifestWriter.WRITER_THREADS, failure -> {
                    throw new AssertionError("append failed", failure);
                });
        try {
            body.accept(writer);
        } finally {
            writer.close();
        }
    }

    private static RetryList.Entry entry(String path, Kind kind) {
        return new RetryList.Entry(path.getBytes(UTF_8), kind, 0, "");
    }

    @Test
    void aNewerRecordCoversAFailedPathOnlyWhereItSendsWhatTheEntryWould() {
        record(writer -> writer.publish(RecordType.CHANGE, "nfs", false, "before/the/end".getBytes(UTF_8)));
        long end;
        try (ManifestReader reader = ManifestReader.open(dir.resolve("queue"))) {
            end = reader.lastIndex();
        }
        record(writer -> {
            writer.publish(RecordType.CHANGE, "nfs", false, "docs/a.txt".getBytes(UTF_8));
            writer.publishContentWrite("nfs", "db/live.sqlite".getBytes(UTF_8));
            writer.publish(RecordType.CHANGE, "nfs", true, "photos".getBytes(UTF_8));
            writer.publish(RecordType.SUBTREE, "nfs", true, "new".getBytes(UTF_8));
            writer.publish(RecordType.DELETE, "nfs", false, "old".getBytes(UTF_8));
            writer.publish(RecordType.CHANGE, "other", false, "elsewhere".getBytes(UTF_8));
        });
        try (ManifestReader reader = ManifestReader.open(dir.resolve("queue"))) {
            PendingAgain pending = PendingAgain.read(reader, "nfs", end);
            assertTrue(pending.covers(entry("docs/a.txt", Kind.FILE)));
            assertFalse(pending.covers(entry("docs/a.txt", Kind.CONTENT)), "a metadata change is not compared by content");
            assertTrue(pending.covers(entry("db/live.sqlite", Kind.CONTENT)));
            assertTrue(pending.covers(entry("photos", Kind.DIRECTORY)));
            assertFalse(pending.covers(entry("photos", Kind.SUBTREE)), "a directory's record sends only its attributes");
            assertFalse(pending.covers(entry("photos/x.jpg", Kind.FILE)));
            assertTrue(pending.covers(entry("new", Kind.SUBTREE)));
            assertTrue(pending.covers(entry("new/deep/f", Kind.FILE)));
            assertFalse(pending.covers(entry("newer", Kind.FILE)), "a subtree covers paths below it, not beside it");
            assertFalse(pending.covers(entry("old", Kind.DELETION)));
            assertFalse(pending.covers(entry("elsewhere", Kind.FILE)), "another root's record");
            assertFalse(pending.covers(entry("before/the/end", Kind.FILE)), "a record the run read itself");
        }
        record(writer -> writer.publishMarker(RecordType.OVERFLOW, "nfs"));
        try (ManifestReader reader = ManifestReader.open(dir.resolve("queue"))) {
            assertTrue(PendingAgain.read(reader, "nfs", end).covers(entry("old", Kind.DELETION)),
                    "an overflow makes the next run full");
        }
    }
}
