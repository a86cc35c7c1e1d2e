package org.changeq.pipeline.state;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The fingerprint of what a route selected and where it sent it when its cursor was last committed
 * ({@code org.changeq.pipeline.plan.RouteSelection}). Written after the cursor by every successful run.
 * Format, one line, versioned: {@code changeq-route-selection 1 HEX}.
 */
public final class RouteSelectionFile {

    static final int FORMAT_VERSION = 1;
    private static final String MAGIC = "changeq-route-selection";
    private static final Pattern FINGERPRINT = Pattern.compile("[0-9a-f]{64}");

    /**
     * What the file says.
     *
     * @param fingerprint the recorded fingerprint; empty when the file is missing (a route last run by a version that
     *                    did not record one) or unreadable
     * @param unreadable  why the file could not be read, when it could not: a run treats that as a changed selection
     */
    public record Recorded(Optional<String> fingerprint, Optional<String> unreadable) {

        static final Recorded NONE = new Recorded(Optional.empty(), Optional.empty());
    }

    private final Path file;

    public RouteSelectionFile(Path file) {
        this.file = file;
    }

    static String encode(String fingerprint) {
        if (!FINGERPRINT.matcher(fingerprint).matches()) {
            throw new IllegalArgumentException("not a SHA-256 in hex: " + fingerprint);
        }
        return MAGIC + " " + FORMAT_VERSION + " " + fingerprint + "\n";
    }

    static Recorded decode(String text, Path source) {
        String[] fields = text.strip().split(" ");
        if (fields.length != 3 || !fields[0].equals(MAGIC)) {
            return unreadable(source + " is not a changeq route-selection file");
        }
        if (!fields[1].equals(String.valueOf(FORMAT_VERSION))) {
            return unreadable(source + " has format version " + fields[1] + "; this build reads version " + FORMAT_VERSION);
        }
        if (!FINGERPRINT.matcher(fields[2]).matches()) {
            return unreadable(source + " holds a malformed fingerprint");
        }
        return new Recorded(Optional.of(fields[2]), Optional.empty());
    }

    private static Recorded unreadable(String why) {
        return new Recorded(Optional.empty(), Optional.of(why));
    }

    public Recorded read() throws IOException {
        try {
            return decode(new String(StateDirectory.read(file), StandardCharsets.ISO_8859_1), file);
        } catch (NoSuchFileException e) {
            return Recorded.NONE;
        }
    }

    public void write(String fingerprint) throws IOException {
        StateDirectory.replace(file, encode(fingerprint).getBytes(StandardCharsets.US_ASCII), true);
    }
}
