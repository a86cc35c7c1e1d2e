package org.changeq.pipeline.state;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * The one codec of the files that count what a route's runs did at its destination over a sliding window
 * ({@link ChangeLedger}, {@link DeletionLedger}): the line {@code MAGIC 1}, then one line of space-separated numbers per
 * run, its time in milliseconds first, oldest first. Each ledger names its magic, its columns and what is lost when its
 * file is malformed. Immutable.
 *
 * @param <R> one run's record
 */
final class WindowedLedger<R> {

    private static final int FORMAT_VERSION = 1;

    private final String magic;
    private final String kind;
    private final String columns;
    private final String consequence;
    private final Function<long[], R> fromFields;
    private final Function<R, long[]> toFields;

    /**
     * @param magic       the first line's word, e.g. {@code changeq-changes}
     * @param kind        what the file is, in messages, e.g. {@code change ledger}
     * @param columns     the names of a run line's fields, the time first, e.g. {@code MILLIS COUNT}
     * @param consequence what a malformed file costs and how to recover, the end of its message
     * @param fromFields  a run from its line's numbers; may throw {@link IllegalArgumentException}
     * @param toFields    a run's line's numbers, its time first
     */
    WindowedLedger(String magic, String kind, String columns, String consequence, Function<long[], R> fromFields,
            Function<R, long[]> toFields) {
        this.magic = magic;
        this.kind = kind;
        this.columns = columns;
        this.consequence = consequence;
        this.fromFields = fromFields;
        this.toFields = toFields;
    }

    /** The runs of the last {@code window} before {@code nowMillis}; older ones no longer count. */
    List<R> within(List<R> runs, Duration window, long nowMillis) {
        long since = nowMillis - window.toMillis();
        return runs.stream().filter(run -> toFields.apply(run)[0] > since).toList();
    }

    /** The runs with one more. */
    static <R> List<R> plus(List<R> runs, R run) {
        List<R> more = new ArrayList<>(runs);
        more.add(run);
        return more;
    }

    /** The stored runs; none when the file does not exist. */
    List<R> read(Path file) throws IOException {
        try {
            return decode(StateDirectory.read(file), file);
        } catch (NoSuchFileException e) {
            return List.of();
        }
    }

    /** Replaces the stored runs atomically and durably. */
    void write(Path file, List<R> runs) throws IOException {
        StateDirectory.replace(file, encode(runs), true);
    }

    private byte[] encode(List<R> runs) {
        StringBuilder text = new StringBuilder(magic + " " + FORMAT_VERSION + "\n");
        for (R run : runs) {
            long[] fields = toFields.apply(run);
            for (int i = 0; i < fields.length; i++) {
                text.append(i == 0 ? "" : " ").append(fields[i]);
            }
            text.append('\n');
        }
        return text.toString().getBytes(StandardCharsets.US_ASCII);
    }

    List<R> decode(byte[] bytes, Path source) {
        List<String> lines = new String(bytes, StandardCharsets.US_ASCII).lines().toList();
        if (lines.isEmpty() || !lines.get(0).startsWith(magic + " ")) {
            throw malformed(source, "not a changeq " + kind + " (first line '" + (lines.isEmpty() ? "" : lines.get(0)) + "')");
        }
        if (!lines.get(0).equals(magic + " " + FORMAT_VERSION)) {
            throw new IllegalStateException(source + " has " + kind + " format " + lines.get(0).substring(magic.length() + 1)
                    + "; this build reads version " + FORMAT_VERSION);
        }
        int width = columns.split(" ").length;
        List<R> runs = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] fields = line.split(" ");
            try {
                if (fields.length != width) {
                    throw new NumberFormatException();
                }
                runs.add(fromFields.apply(Arrays.stream(fields).mapToLong(Long::parseLong).toArray()));
            } catch (IllegalArgumentException e) {
                throw malformed(source, "the line '" + line + "' is not '" + columns + "'");
            }
        }
        return runs;
    }

    private IllegalStateException malformed(Path source, String what) {
        return new IllegalStateException(source + " is malformed: " + what + "; " + consequence);
    }
}
