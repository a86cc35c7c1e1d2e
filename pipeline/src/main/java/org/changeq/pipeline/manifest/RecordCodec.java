package org.changeq.pipeline.manifest;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.openhft.chronicle.bytes.BytesIn;
import net.openhft.chronicle.bytes.BytesOut;

/**
 * The one place the layout of a queue record is defined.
 *
 * <pre>
 * u8      format version ({@value #FORMAT_VERSION})
 * u8      record type ({@link RecordType#code()})
 * u8      flags (bit 0: the path named a directory; bit 1, since version 2: the file's content was written)
 * stopbit root name length, then the root name in UTF-8
 * i64     time observed, epoch milliseconds
 * stopbit path length, then the path bytes, raw
 * </pre>
 *
 * Version 3 added the type {@link RecordType#RENAMED_AWAY}, which an older reader must refuse rather than take for
 * an unknown record; a record of an older version never has it.
 * Version 1 had no content-write bit; its records read as without one, which is what that tracker's syncs assumed.
 * Version 2 is a new number for a new bit rather than a bit a version-1 reader would silently ignore: a sync too old
 * to compare written files by content refuses the queue instead of skipping rewrites. A reader rejects versions it
 * does not know instead of guessing. Stateless; thread-safe.
 */
final class RecordCodec {

    static final int FORMAT_VERSION = 3;
    /** The first version with {@link RecordType#RENAMED_AWAY}. */
    private static final int RENAMED_AWAY_VERSION = 3;
    /** The oldest version this build still reads: queues written before the content-write bit. */
    static final int OLDEST_READABLE_VERSION = 1;
    private static final int FLAG_DIRECTORY = 1;
    private static final int FLAG_CONTENT_WRITTEN = 2;

    private RecordCodec() {
    }

    static void write(BytesOut<?> out, RecordType type, String root, long timeMillis, boolean directory,
                      boolean contentWritten, byte[] path, int pathLength) {
        out.writeUnsignedByte(FORMAT_VERSION);
        out.writeUnsignedByte(type.code());
        out.writeUnsignedByte((directory ? FLAG_DIRECTORY : 0) | (contentWritten ? FLAG_CONTENT_WRITTEN : 0));
        byte[] rootBytes = root.getBytes(StandardCharsets.UTF_8);
        out.writeStopBit(rootBytes.length);
        out.write(rootBytes);
        out.writeLong(timeMillis);
        out.writeStopBit(pathLength);
        out.write(path, 0, pathLength);
    }

    static void write(BytesOut<?> out, QueueRecord record) {
        write(out, record.type(), record.root(), record.timeMillis(), record.directory(), record.contentWritten(),
                record.path(), record.path().length);
    }

    /**
     * @throws RecordFormatException when the bytes are not a record of a known version
     */
    static QueueRecord read(BytesIn<?> in) {
        return read(in, new RootNames());
    }

    /**
     * Reads a record, taking root names from {@code roots}.
     *
     * @throws RecordFormatException when the bytes are not a record of a known version
     */
    static QueueRecord read(BytesIn<?> in, RootNames roots) {
        RecordView view = new RecordView();
        read(in, roots, view);
        return view.toRecord();
    }

    /**
     * Decodes a record into {@code view}, allocating nothing once the view's buffer fits the
     * path: a large backlog is millions of records.
     *
     * @throws RecordFormatException when the bytes are not a record of a known version
     */
    static void read(BytesIn<?> in, RootNames roots, RecordView view) {
        if (in.readRemaining() < 3) {
            throw new RecordFormatException("record too short: " + in.readRemaining() + " bytes");
        }
        int version = in.readUnsignedByte();
        if (version < OLDEST_READABLE_VERSION || version > FORMAT_VERSION) {
            throw new RecordFormatException("record format version " + version
                    + " is not supported (this build reads versions " + OLDEST_READABLE_VERSION + " to " + FORMAT_VERSION
                    + "); use a changeq at least as new as the tracker that wrote the queue");
        }
        RecordType type;
        try {
            type = RecordType.fromCode(in.readByte());
        } catch (IllegalArgumentException e) {
            throw new RecordFormatException(e.getMessage());
        }
        if (type == RecordType.RENAMED_AWAY && version < RENAMED_AWAY_VERSION) {
            throw new RecordFormatException("record type " + type + " in a record of format version " + version);
        }
        int flags = in.readUnsignedByte();
        int rootLength = sizedField(in);
        String root = roots.read(in, rootLength);
        long time = in.readLong();
        view.set(type, root, time, (flags & FLAG_DIRECTORY) != 0, (flags & FLAG_CONTENT_WRITTEN) != 0);
        int pathLength = sizedField(in);
        in.read(view.pathBuffer(pathLength), 0, pathLength);
    }

    private static int sizedField(BytesIn<?> in) {
        long length = in.readStopBit();
        if (length < 0 || length > in.readRemaining()) {
            throw new RecordFormatException("field length " + length + " exceeds the record ("
                    + in.readRemaining() + " bytes left)");
        }
        return (int) length;
    }

    /**
     * The root names one reader has seen: a queue names a handful of roots millions of times, and
     * decoding each one afresh was a visible share of a large read. Not thread-safe: one per reader.
     */
    static final class RootNames {
        private final List<byte[]> encoded = new ArrayList<>();
        private final List<String> names = new ArrayList<>();
        private byte[] scratch = new byte[64];

        /** Reads {@code length} bytes of root name, returning the one String per distinct name. */
        String read(BytesIn<?> in, int length) {
            if (length > scratch.length) {
                scratch = new byte[length];
            }
            in.read(scratch, 0, length);
            for (int i = 0; i < encoded.size(); i++) {
                byte[] known = encoded.get(i);
                if (Arrays.equals(known, 0, known.length, scratch, 0, length)) {
                    return names.get(i);
                }
            }
            byte[] name = Arrays.copyOf(scratch, length);
            encoded.add(name);
            names.add(new String(name, StandardCharsets.UTF_8));
            return names.get(names.size() - 1);
        }
    }

    /** A queue excerpt that is not a changeq record this build understands. */
    static final class RecordFormatException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        RecordFormatException(String message) {
            super(message);
        }
    }
}
