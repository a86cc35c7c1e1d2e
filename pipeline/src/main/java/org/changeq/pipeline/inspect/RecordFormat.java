package org.changeq.pipeline.inspect;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.OptionalLong;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.manifest.QueueRecord;
import org.changeq.pipeline.manifest.RecordType;

/**
 * How changeq-queue renders records and values: human lines with every control character and invalid
 * UTF-8 byte escaped visibly (one record is always one line), or JSON objects, one per line, whose shape
 * is the same in every subcommand and described by a schema under {@code docs/json/}: each time as
 * ISO-8601 with its offset plus the same instant as a number ({@code <key>_epoch_ms}), {@code null} for
 * what is absent, and each file name as {@code <key>} plus {@code <key>_base64}: the name itself when its
 * bytes are valid UTF-8, else their base64.
 */
public final class RecordFormat {

    public enum TimeStyle { LOCAL, UTC, EPOCH }

    private static final DateTimeFormatter HUMAN_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");
    /** Milliseconds always, and the offset always: {@code Z} for UTC, else {@code +01:00}. */
    private static final DateTimeFormatter JSON_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX");

    private final boolean json;
    private final TimeStyle timeStyle;
    private final ZoneId zone;

    public RecordFormat(boolean json, TimeStyle timeStyle) {
        this.json = json;
        this.timeStyle = timeStyle;
        this.zone = timeStyle == TimeStyle.UTC ? ZoneOffset.UTC : ZoneId.systemDefault();
    }

    boolean json() {
        return json;
    }

    /** A time for a human: local, UTC or seconds since the epoch, as the command line asked. */
    String time(long epochMillis) {
        return switch (timeStyle) {
            case EPOCH -> String.format("%d.%03d", Math.floorDiv(epochMillis, 1000), Math.floorMod(epochMillis, 1000));
            case UTC -> HUMAN_TIME.format(Instant.ofEpochMilli(epochMillis).atZone(zone)) + "Z";
            case LOCAL -> HUMAN_TIME.format(Instant.ofEpochMilli(epochMillis).atZone(zone));
        };
    }

    /** An empty JSON object whose times are in this format's zone. */
    public JsonLine line() {
        return new JsonLine(zone);
    }

    String record(long index, QueueRecord record) {
        if (json) {
            JsonLine line = line()
                    .field("index", index)
                    .time("time", record.timeMillis())
                    .field("type", record.type().name())
                    .optional("root", record.root());
            if (record.type().carriesPath()) {
                line.path("path", record.path())
                        .field("directory", record.directory())
                        .field("content_written", record.type() == RecordType.CHANGE && record.contentWritten());
            } else {
                line.nullPath("path").nullField("directory").nullField("content_written");
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
    public static final class JsonLine {
        private final StringBuilder out = new StringBuilder("{");
        private final ZoneId zone;

        private JsonLine(ZoneId zone) {
            this.zone = zone;
        }

        public JsonLine field(String key, String value) {
            key(key);
            quote(value);
            return this;
        }

        public JsonLine field(String key, long value) {
            key(key);
            out.append(value);
            return this;
        }

        public JsonLine field(String key, boolean value) {
            key(key);
            out.append(value);
            return this;
        }

        public JsonLine nullField(String key) {
            key(key);
            out.append("null");
            return this;
        }

        JsonLine field(String key, OptionalLong value) {
            return value.isPresent() ? field(key, value.getAsLong()) : nullField(key);
        }

        /** Text that is absent when empty: {@code null} then, never {@code ""}. */
        JsonLine optional(String key, String value) {
            return value == null || value.isEmpty() ? nullField(key) : field(key, value);
        }

        /** An instant: {@code <key>} in ISO-8601 with its offset, and {@code <key>_epoch_ms}, a number. */
        public JsonLine time(String key, long epochMillis) {
            field(key, JSON_TIME.format(Instant.ofEpochMilli(epochMillis).atZone(zone)));
            return field(key + "_epoch_ms", epochMillis);
        }

        /** {@link #time} of an instant that may be absent: both keys {@code null} then. */
        JsonLine time(String key, OptionalLong epochMillis) {
            return epochMillis.isPresent() ? time(key, epochMillis.getAsLong())
                    : nullField(key).nullField(key + "_epoch_ms");
        }

        /**
         * A file name: {@code <key>} is the name when its bytes are valid UTF-8, else their base64, and
         * {@code <key>_base64} says which.
         */
        public JsonLine path(String key, byte[] bytes) {
            boolean text = ByteStrings.isValidUtf8(bytes);
            field(key, text ? new String(bytes, StandardCharsets.UTF_8) : Base64.getEncoder().encodeToString(bytes));
            return field(key + "_base64", !text);
        }

        /** No file name: {@code <key>} is {@code null}, {@code <key>_base64} false. */
        JsonLine nullPath(String key) {
            return nullField(key).field(key + "_base64", false);
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
