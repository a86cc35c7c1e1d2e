package org.changeq.nativetests.faults;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.changeq.pipeline.testing.Poll;
import org.junit.jupiter.api.Assumptions;

/**
 * A kernel setting under {@code /proc/sys} that a scenario lowers for a while. {@link #close()} restores the value
 * it found; a scenario that cannot write the setting is skipped with the reason printed.
 */
final class Sysctl implements AutoCloseable {

    private final Path file;
    private final String original;
    private boolean changed;

    private Sysctl(Path file, String original) {
        this.file = file;
        this.original = original;
    }

    /** The setting, or the scenario is skipped (printed) when it cannot be read or written here. */
    static Sysctl writableOrSkip(String key, long normalAtLeast) throws InterruptedException {
        java.util.Optional<Sysctl> setting = writable(key, normalAtLeast);
        if (setting.isEmpty()) {
            Assumptions.abort("cannot change " + key + " here");
        }
        return setting.get();
    }

    /**
     * The setting, or empty (the reason printed) when it cannot be read or written here. Other tests lower these
     * settings for a moment too: the value is taken as the machine's own only once it is at least
     * {@code normalAtLeast}, so a value lowered by someone else is never "restored" for good.
     */
    static java.util.Optional<Sysctl> writable(String key, long normalAtLeast) throws InterruptedException {
        Path file = Path.of("/proc/sys", key.replace('.', '/'));
        String reason = null;
        String value = null;
        try {
            Poll.until(java.time.Duration.ofSeconds(60),
                    key + " to be back at a normal value (at least " + normalAtLeast + ")",
                    () -> Long.parseLong(read(file)) >= normalAtLeast);
            value = read(file);
            if (!Files.isWritable(file)) {
                reason = file + " is not writable (not root, or a read-only /proc/sys in a container)";
            }
        } catch (IOException e) {
            reason = "cannot read " + file + ": " + e.getMessage();
        }
        if (reason != null) {
            System.out.println("  " + key + " unchanged: " + reason);
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new Sysctl(file, value));
    }

    long originalValue() {
        return Long.parseLong(original);
    }

    void set(long value) throws IOException {
        changed = true;
        Files.writeString(file, value + "\n");
    }

    /** Puts the original value back; idempotent. */
    @Override
    public void close() throws IOException {
        if (changed) {
            Files.writeString(file, original + "\n");
            changed = false;
        }
    }

    /** Files.readString reads procfs as size 0 and may stop after one byte: read a whole line instead. */
    static String read(Path file) throws IOException {
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII)) {
            String line = reader.readLine();
            return line == null ? "" : line.trim();
        }
    }
}
