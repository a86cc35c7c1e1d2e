package org.changeq.pipeline;

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
    RESCAN(7, false);

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
        for (RecordType type : values()) {
            if (type.code == code) {
                return type;
            }
        }
        throw new IllegalArgumentException("unknown record type code " + code);
    }
}
