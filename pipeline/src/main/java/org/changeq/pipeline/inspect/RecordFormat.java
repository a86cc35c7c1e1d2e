package org.changeq.pipeline.inspect;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.manifest.QueueRecord;
import org.changeq.pipeline.manifest.RecordType;

/**
 * How changeq-queue renders records and values: human lines with every control character and invalid
 * UTF-8 byte escaped visibly (one record is always one line), or JSON objects, one per line, carrying
 * paths as strings when they are valid UTF-8 and as base64 with a flag otherwise.
 */
final class RecordFormat {

    enum TimeStyle { LOCAL, UTC, EPOCH }

    private static final DateTimeFormatter HUMAN_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");

    private final boolean json;
    private final TimeStyle timeStyle;
    private final ZoneId zone;

    RecordFormat(boolean json, TimeStyle timeStyle) {
        this.json = json;
        this.timeStyle = timeStyle;
        this.zone = timeStyle == TimeStyle.UTC ? ZoneId.of("UTC") : ZoneId.systemDefault();
    }

    boolean json() {
        return json;
    }

    String time(long epochMillis) {
        return switch (timeStyle) {
            case EPOCH -> String.format("%d.%03d", Math.floorDiv(epochMillis, 1000), Math.floorMod(epochMillis, 1000));
            case UTC -> HUMAN_TIME.format(Instant.ofEpochMilli(epochMillis).atZone(zone)) + "Z";
            case LOCAL -> HUMAN_TIME.format(Instant.ofEpochMilli(epochMillis).atZone(zone));
        };
    }

    String record(long index, QueueRecord record) {
        if (json) {
            JsonLine line = new JsonLine()
                    .field("index", index)
                    .field("time", time(record.timeMillis()))
                    .field("epoch_ms", record.timeMillis())
                    .field("type", record.type().name())
                    .field("root", record.root());
            if (record.type().carriesPath()) {
                line.field("directory", record.directory());
                if (record.type() == RecordType.CHANGE) {
                    line.field("content_written", record.contentWritten());
                }
                line.path("path", record.path());
            }
            return line.toString();
        }
        StringBuilder out = new StringBuilder(96)
                .append(time(record.timeMillis())).append("  ")
                .append(String.format("%-20d", index)).append("  ")
                .append(String.format("%-8s", record.type().name())).append(' ')
                .append(record.root().isEmpty() ? "-" : record.root());
        if (record.type().carriesPath()) {
            out.append("  ").append(record.path().length == 0 ? "." : ByteStrings.escape(record.path()));
            if (record.directory()) {
                out.append('/');
            }
            if (record.type() == RecordType.CHANGE && record.contentWritten()) {
                out.append("  (content written)");
            }
        }
        return out.toString();
    }

    /** A JSON object on one line. Keys are ours; values are escaped per RFC 8259. */
    static final class JsonLine {
        private final StringBuilder out = new StringBuilder("{");

        JsonLine field(String key, String value) {
            key(key);
            quote(value);
            return this;
        }

        JsonLine field(String key, long value) {
            key(key);
            out.append(value);
            return this;
        }

        JsonLine field(String key, boolean value) {
            key(key);
            out.append(value);
            return this;
        }

        JsonLine nullField(String key) {
            key(key);
            out.append("null");
            return this;
        }

        /** A path: a string when the bytes are valid UTF-8, else base64 and {@code <key>_base64: true}. */
        JsonLine path(String key, byte[] bytes) {
            if (ByteStrings.isValidUtf8(bytes)) {
                return field(key, new String(bytes, StandardCharsets.UTF_8));
            }
            field(key, Base64.getEncoder().encodeToString(bytes));
            return field(key + "_base64", true);
        }

        /** Inserts an already rendered JSON value (object or array). */
        JsonLine raw(String key, String json) {
            key(key);
            out.append(json);
            return this;
        }

        private void key(String key) {
            if (out.length() > 1) {
                out.append(',');
            }
            quote(key);
            out.append(':');
        }

        private void quote(String value) {
            out.append('"');
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                switch (c) {
                    case '"' -> out.append("\\\"");
                    case '\\' -> out.append("\\\\");
                    case '\n' -> out.append("\\n");
                    case '\r' -> out.append("\\r");
                    case '\t' -> out.append("\\t");
                    default -> {
                        if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                            out.append(String.format("\\u%04x", (int) c));
                        } else {
                            out.append(c);
                        }
                    }
                }
            }
            out.append('"');
        }

        @Override
        public String toString() {
            return out + "}";
        }
    }
}
