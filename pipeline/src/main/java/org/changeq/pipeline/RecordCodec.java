package org.changeq.pipeline;

import java.nio.charset.StandardCharsets;
import net.openhft.chronicle.bytes.BytesIn;
import net.openhft.chronicle.bytes.BytesOut;

/**
 * The one place the layout of a queue record is defined.
 *
 * <pre>
 * u8      format version ({@value #FORMAT_VERSION})
 * u8      record type ({@link RecordType#code()})
 * u8      flags (bit 0: the path named a directory)
 * stopbit root name length, then the root name in UTF-8
 * i64     time observed, epoch milliseconds
 * stopbit path length, then the path bytes, raw
 * </pre>
 *
 * A reader rejects versions it does not know instead of guessing. Stateless; thread-safe.
 */
final class RecordCodec {

    static final int FORMAT_VERSION = 1;
    private static final int FLAG_DIRECTORY = 1;

    private RecordCodec() {
    }

    static void write(BytesOut<?> out, RecordType type, String root, long timeMillis, boolean directory,
                      byte[] path, int pathLength) {
        out.writeUnsignedByte(FORMAT_VERSION);
        out.writeUnsignedByte(type.code());
        out.writeUnsignedByte(directory ? FLAG_DIRECTORY : 0);
        byte[] rootBytes = root.getBytes(StandardCharsets.UTF_8);
        out.writeStopBit(rootBytes.length);
        out.write(rootBytes);
        out.writeLong(timeMillis);
        out.writeStopBit(pathLength);
        out.write(path, 0, pathLength);
    }

    static void write(BytesOut<?> out, QueueRecord record) {
        write(out, record.type(), record.root(), record.timeMillis(), record.directory(),
                record.path(), record.path().length);
    }

    /**
     * @throws RecordFormatException when the bytes are not a record of a known version
     */
    static QueueRecord read(BytesIn<?> in) {
        return read(in, new RootNames());
    }

    /**
     * Reads a record, taking root names from {@code roots}: a queue names a handful of roots millions
     * of times, and decoding each one afresh was a visible share of a large read.
     *
     * @throws RecordFormatException when the bytes are not a record of a known version
     */
    static QueueRecord read(BytesIn<?> in, RootNames roots) {
        if (in.readRemaining() < 3) {
            throw new RecordFormatException("record too short: " + in.readRemaining() + " bytes");
        }
        int version = in.readUnsignedByte();
        if (version != FORMAT_VERSION) {
            throw new RecordFormatException("record format version " + version
                    + " is not supported (this build reads version " + FORMAT_VERSION
                    + "); use a changeq at least as new as the tracker that wrote the queue");
        }
        RecordType type;
        try {
            type = RecordType.fromCode(in.readByte());
        } catch (IllegalArgumentException e) {
            throw new RecordFormatException(e.getMessage());
        }
        int flags = in.readUnsignedByte();
        String root = roots.intern(readSized(in));
        long time = in.readLong();
        byte[] path = readSized(in);
        return new QueueRecord(type, root, time, (flags & FLAG_DIRECTORY) != 0, path);
    }

    private static byte[] readSized(BytesIn<?> in) {
        long length = in.readStopBit();
        if (length < 0 || length > in.readRemaining()) {
            throw new RecordFormatException("field length " + length + " exceeds the record ("
                    + in.readRemaining() + " bytes left)");
        }
        byte[] bytes = new byte[(int) length];
        in.read(bytes);
        return bytes;
    }

    /** The root names one reader has seen. Not thread-safe: one per reader. */
    static final class RootNames {
        private final java.util.Map<java.nio.ByteBuffer, String> names = new java.util.HashMap<>();

        String intern(byte[] bytes) {
            return names.computeIfAbsent(java.nio.ByteBuffer.wrap(bytes), key -> new String(bytes, StandardCharsets.UTF_8));
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
