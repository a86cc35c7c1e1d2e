package org.changeq.pipeline.state;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * The date of a route's last successful full sync, so a calendar window owes only one.
 * Format, one line, versioned: {@code changeq-last-full 1 2024-05-01}.
 */
public final class LastFullSyncFile {

    static final int FORMAT_VERSION = 1;
    private static final String MAGIC = "changeq-last-full";

    private final Path file;

    public LastFullSyncFile(Path file) {
        this.file = file;
    }

    static String encode(LocalDate date) {
        return MAGIC + " " + FORMAT_VERSION + " " + date + "\n";
    }

    static LocalDate decode(String text, Path source) {
        String[] fields = text.strip().split(" ");
        if (fields.length != 3 || !fields[0].equals(MAGIC)) {
            throw new IllegalStateException(source + " is not a changeq last-full file (content: '" + text.strip()
                    + "'); delete it and the next window owes a full sync again");
        }
        if (!fields[1].equals(String.valueOf(FORMAT_VERSION))) {
            throw new IllegalStateException(source + " has format version " + fields[1] + "; this build reads version "
                    + FORMAT_VERSION);
        }
        try {
            return LocalDate.parse(fields[2]);
        } catch (DateTimeParseException e) {
            throw new IllegalStateException(source + " holds a malformed date '" + fields[2]
                    + "'; delete it and the next window owes a full sync again", e);
        }
    }

    public Optional<LocalDate> read() throws IOException {
        return StateDirectory.readIfPresent(file)
                .map(bytes -> decode(new String(bytes, StandardCharsets.US_ASCII), file));
    }

    public void write(LocalDate date) throws IOException {
        StateDirectory.replace(file, encode(date).getBytes(StandardCharsets.US_ASCII), true);
    }
}
