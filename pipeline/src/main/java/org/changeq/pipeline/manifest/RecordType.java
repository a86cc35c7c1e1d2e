package org.changeq.pipeline.manifest;

/**
 * The kinds of record in the manifest queue. The byte codes are part of the on-disk format
 * ({@link RecordCodec}); never renumber them.
 */
public enum RecordType {
    /** A file or directory was created, written, or had its metadata changed. */
    CHANGE(1, true),
    /** A path was deleted or moved out of the tree. */
    DELETE(2, true),
    /** A directory appeared or moved in: sync it recursively. */
    SUBTREE(3, true),
    /** Events were lost for a root: the next sync of every route on it must be full. */
    OVERFLOW(4, false),
    /** The tracker started. A START not preceded by a STOP marks a gap. */
    START(5, false),
    /** The tracker stopped cleanly after flushing everything it had observed. */
    STOP(6, false),
    /** The catch-up scan after a gap finished for a root. */
    RESCAN(7, false),
    /**
     * A directory renamed within its root: its old name, gone because the directory has the new name of the SUBTREE
     * record that follows. A destination deletes it like a DELETE, once the new name arrived, and max-delete does not
     * count it: a rename is no loss. Since record format version 3.
     */
    RENAMED_AWAY(8, true);

    private final byte code;
    private final boolean carriesPath;

    RecordType(int code, boolean carriesPath) {
        this.code = (byte) code;
        this.carriesPath = carriesPath;
    }

    public byte code() {
        return code;
    }

    /** Whether records of this type name a path (as opposed to lifecycle and loss markers). */
    public boolean carriesPath() {
        return carriesPath;
    }

    public static RecordType fromCode(byte code) {
        if (code < 0 || code >= BY_CODE.length || BY_CODE[code] == null) {
            throw new IllegalArgumentException("unknown record type code " + code);
        }
        return BY_CODE[code];
    }

    /** Indexed by code: decoding runs once per record, and {@code values()} copies its array each call. */
    private static final RecordType[] BY_CODE = byCode();

    private static RecordType[] byCode() {
        int highest = 0;
        for (RecordType type : values()) {
            highest = Math.max(highest, type.code);
        }
        RecordType[] byCode = new RecordType[highest + 1];
        for (RecordType type : values()) {
            byCode[type.code] = type;
        }
        return byCode;
    }
}
