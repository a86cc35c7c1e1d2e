package org.changeq.pipeline.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import net.openhft.chronicle.bytes.Bytes;
import org.junit.jupiter.api.Test;

class RecordCodecTest {

    private static QueueRecord roundTrip(QueueRecord record) {
        Bytes<?> bytes = Bytes.allocateElasticOnHeap();
        try {
            RecordCodec.write(bytes, record);
            return RecordCodec.read(bytes);
        } finally {
            bytes.releaseLast();
        }
    }

    @Test
    void everyRecordTypeRoundTrips() {
        for (RecordType type : RecordType.values()) {
            byte[] path = type.carriesPath() ? "dir/file".getBytes(StandardCharsets.UTF_8) : new byte[0];
            QueueRecord record = new QueueRecord(type, "nfs", 1_700_000_000_123L, type == RecordType.SUBTREE, path);
            assertEquals(record, roundTrip(record), type.name());
        }
    }

    @Test
    void theContentWriteFlagRoundTripsBesideTheDirectoryFlag() {
        for (boolean directory : new boolean[] {false, true}) {
            for (boolean contentWritten : new boolean[] {false, true}) {
                QueueRecord record = new QueueRecord(RecordType.CHANGE, "nfs", 7, directory,
                        "dir/file".getBytes(StandardCharsets.UTF_8), contentWritten);
                assertEquals(record, roundTrip(record));
            }
        }
    }

    /** Bytes exactly as the version-1 codec wrote them, with and without its directory flag. */
    @Test
    void recordsOfVersionOneStayReadableAndCarryNoContentWrite() {
        byte[] change = {1, 1, 0, 3, 'n', 'f', 's', 0x7b, 0x68, (byte) 0xe5, (byte) 0xcf, (byte) 0x8b, 1, 0, 0,
                3, 'a', '/', 'b'};
        byte[] subtree = {1, 3, 1, 3, 'n', 'f', 's', 2, 0, 0, 0, 0, 0, 0, 0, 1, 'd'};
        Bytes<?> bytes = Bytes.allocateElasticOnHeap();
        try {
            bytes.write(change);
            bytes.write(subtree);
            assertEquals(new QueueRecord(RecordType.CHANGE, "nfs", 1_700_000_000_123L, false,
                    "a/b".getBytes(StandardCharsets.UTF_8), false), RecordCodec.read(bytes));
            assertEquals(new QueueRecord(RecordType.SUBTREE, "nfs", 2, true, new byte[] {'d'}, false),
                    RecordCodec.read(bytes));
        } finally {
            bytes.releaseLast();
        }
    }

    @Test
    void aContentWriteIsWrittenAsTheCurrentVersionWithFlagBitOne() {
        Bytes<?> bytes = Bytes.allocateElasticOnHeap();
        try {
            RecordCodec.write(bytes, new QueueRecord(RecordType.CHANGE, "nfs", 0, false, new byte[] {'x'}, true));
            assertEquals(3, bytes.readUnsignedByte(0), "format version");
            assertEquals(2, bytes.readUnsignedByte(2), "flags");
        } finally {
            bytes.releaseLast();
        }
    }

    @Test
    void pathBytesSurviveExactly() {
        byte[] nasty = {'a', '\n', 'b', '\r', (byte) 0xff, (byte) 0xc3, '#', ';', '-', ' ', '*', '[', 0x7f};
        QueueRecord record = new QueueRecord(RecordType.CHANGE, "root", 1, false, nasty);
        assertEquals(record, roundTrip(record));
    }

    @Test
    void longPathsRoundTrip() {
        byte[] path = new byte[4000];
        java.util.Arrays.fill(path, (byte) 'x');
        for (int i = 255; i < path.length; i += 256) {
            path[i] = '/';
        }
        QueueRecord record = new QueueRecord(RecordType.DELETE, "r", 5, false, path);
        assertEquals(record, roundTrip(record));
    }

    @Test
    void oneViewDecodesRecordsOfEveryLengthAndRootInTurn() {
        byte[] longPath = new byte[1000];
        java.util.Arrays.fill(longPath, (byte) 0xfe);
        List<QueueRecord> records = List.of(
                new QueueRecord(RecordType.CHANGE, "nfs", 1, false, longPath),
                new QueueRecord(RecordType.SUBTREE, "home", 2, true, "a\nb".getBytes(StandardCharsets.UTF_8)),
                QueueRecord.marker(RecordType.STOP, "", 3),
                new QueueRecord(RecordType.DELETE, "nfs", 4, false, "x".getBytes(StandardCharsets.UTF_8)));
        Bytes<?> bytes = Bytes.allocateElasticOnHeap();
        try {
            records.forEach(record -> RecordCodec.write(bytes, record));
            RecordCodec.RootNames roots = new RecordCodec.RootNames();
            RecordView view = new RecordView();
            String firstRoot = null;
            for (QueueRecord record : records) {
                RecordCodec.read(bytes, roots, view);
                assertEquals(record, view.toRecord());
                if (record.timeMillis() == 1) {
                    firstRoot = view.root();
                }
            }
            assertSame(firstRoot, view.root(), "one String per root name");
        } finally {
            bytes.releaseLast();
        }
    }

    @Test
    void unknownTypeCodeIsRefused() {
        Bytes<?> bytes = Bytes.allocateElasticOnHeap();
        try {
            RecordCodec.write(bytes, QueueRecord.marker(RecordType.START, "", 1));
            bytes.writeUnsignedByte(1, 99);
            assertThrows(RecordCodec.RecordFormatException.class, () -> RecordCodec.read(bytes));
        } finally {
            bytes.releaseLast();
        }
    }

    @Test
    void aRenamedAwayRecordIsVersionThreeAndRefusedInAnOlderVersion() {
        Bytes<?> bytes = Bytes.allocateElasticOnHeap();
        try {
            QueueRecord renamed = new QueueRecord(RecordType.RENAMED_AWAY, "nfs", 5, true, new byte[] {'d'});
            RecordCodec.write(bytes, renamed);
            assertEquals(3, bytes.readUnsignedByte(0), "format version");
            assertEquals(renamed, RecordCodec.read(bytes));
            bytes.readPosition(0);
            bytes.writeUnsignedByte(0, 2);
            var failure = assertThrows(RecordCodec.RecordFormatException.class, () -> RecordCodec.read(bytes));
            assertTrue(failure.getMessage().contains("RENAMED_AWAY in a record of format version 2"), failure.getMessage());
        } finally {
            bytes.releaseLast();
        }
    }

    @Test
    void unknownVersionIsRefusedWithAClearMessage() {
        Bytes<?> bytes = Bytes.allocateElasticOnHeap();
        try {
            RecordCodec.write(bytes, QueueRecord.marker(RecordType.START, "", 1));
            bytes.writeUnsignedByte(0, 9);
            var failure = assertThrows(RecordCodec.RecordFormatException.class, () -> RecordCodec.read(bytes));
            assertTrue(failure.getMessage().contains("version 9"), failure.getMessage());
        } finally {
            bytes.releaseLast();
        }
    }

    @Test
    void truncatedRecordIsRefused() {
        Bytes<?> bytes = Bytes.allocateElasticOnHeap();
        try {
            RecordCodec.write(bytes, new QueueRecord(RecordType.CHANGE, "r", 1, false, new byte[100]));
            bytes.writeLimit(bytes.writePosition() - 10);
            bytes.writePosition(bytes.writePosition() - 10);
            assertThrows(RecordCodec.RecordFormatException.class, () -> RecordCodec.read(bytes));
        } finally {
            bytes.releaseLast();
        }
    }

    @Test
    void typeCodesAreStable() {
        assertEquals(1, RecordType.CHANGE.code());
        assertEquals(2, RecordType.DELETE.code());
        assertEquals(3, RecordType.SUBTREE.code());
        assertEquals(4, RecordType.OVERFLOW.code());
        assertEquals(5, RecordType.START.code());
        assertEquals(6, RecordType.STOP.code());
        assertEquals(7, RecordType.RESCAN.code());
        assertEquals(8, RecordType.RENAMED_AWAY.code());
    }
}
