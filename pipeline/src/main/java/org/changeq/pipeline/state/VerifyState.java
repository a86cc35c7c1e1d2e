package org.changeq.pipeline.state;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.changeq.pipeline.ByteStrings;

/**
 * Where {@code changeq-sync verify} stands in a route's cycle and what its last run found, kept in
 * {@code <state>/verify/ROUTE}, written by verify under the route's lock and read by {@code changeq-queue stat}. The one
 * codec of that file. Immutable.
 *
 * <p>Format, version 1: the line {@code changeq-verify 1}, then one line per field, {@code NAME VALUE...}
 * ({@code cycle-start}, {@code slices}, {@code slices-done}, {@code cycle-files}, {@code cycle-bytes},
 * {@code last-run STARTED FINISHED}, {@code last-complete-cycle}, times in milliseconds since the epoch, 0 for never),
 * then {@code mismatches N} and N entries of two NUL-terminated fields: the kind's token and the path, raw bytes
 * relative to the root.
 *
 * @param cycleStartMillis         when the current cycle began; 0 before the first run
 * @param slices                   the slices of the current cycle: fixed when it began, so that a changed
 *                                 {@code verify-cycle} cannot skip or repeat a file within it
 * @param slicesDone               the slices of the current cycle verified so far, from the first
 * @param cycleFiles               the files verified in the current cycle, slices and recent ones
 * @param cycleBytes               their bytes
 * @param lastRunStartedMillis     when the last run started; 0 before the first
 * @param lastRunFinishedMillis    when it finished
 * @param lastCompleteCycleMillis  when the last cycle that verified every slice ended; 0 before the first
 * @param mismatches               what the last run found, each path once
 */
public record VerifyState(long cycleStartMillis, int slices, int slicesDone, long cycleFiles, long cycleBytes,
                          long lastRunStartedMillis, long lastRunFinishedMillis, long lastCompleteCycleMillis,
                          List<Mismatch> mismatches) {

    public static final VerifyState NONE = new VerifyState(0, 0, 0, 0, 0, 0, 0, 0, List.of());
    static final int FORMAT_VERSION = 1;
    private static final String MAGIC = "changeq-verify";
    private static final List<String> FIELDS = List.of("cycle-start", "slices", "slices-done", "cycle-files",
            "cycle-bytes", "last-run", "last-complete-cycle", "mismatches");

    public VerifyState {
        if (slicesDone < 0 || slicesDone > slices) {
            throw new IllegalArgumentException("slices done " + slicesDone + " is not within 0.." + slices);
        }
        mismatches = List.copyOf(mismatches);
    }

    /** How a destination path differs from its source. */
    public enum Kind {
        /** Both are files, their contents differ. */
        CONTENT("content"),
        /** The destination lacks the path. */
        MISSING("missing"),
        /** The destination holds another type of file there (a directory for a file, a file for a link...). */
        TYPE("type"),
        /** The destination holds a path the source does not: reported, never deleted by verify. */
        EXTRA("extra");

        public final String token;

        Kind(String token) {
            this.token = token;
        }

        /** Whether the route's next run repairs it: everything but an extra path. */
        public boolean repaired() {
            return this != EXTRA;
        }

        static Kind of(String token, Path source) {
            for (Kind kind : values()) {
                if (kind.token.equals(token)) {
                    return kind;
                }
            }
            throw malformed(source, "unknown mismatch kind '" + token + "'");
        }
    }

    /** One path that differs. */
    public record Mismatch(Kind kind, byte[] path) {

        public Mismatch {
            Objects.requireNonNull(kind, "kind");
            for (byte b : path) {
                if (b == 0) {
                    throw new IllegalArgumentException("a path holds no NUL byte");
                }
            }
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Mismatch that && kind == that.kind && Arrays.equals(path, that.path);
        }

        @Override
        public int hashCode() {
            return 31 * kind.hashCode() + Arrays.hashCode(path);
        }

        @Override
        public String toString() {
            return kind.token + " " + ByteStrings.escape(path);
        }
    }

    /** The share of the current cycle's slices verified so far: 0 before the first run. */
    public double coverage() {
        return slices == 0 ? 0 : (double) slicesDone / slices;
    }

    /** The mismatches of each kind. */
    public Map<Kind, Long> counts() {
        Map<Kind, Long> counts = new LinkedHashMap<>();
        for (Kind kind : Kind.values()) {
            counts.put(kind, mismatches.stream().filter(mismatch -> mismatch.kind() == kind).count());
        }
        return counts;
    }

    /** The stored state; {@link #NONE} when verify never ran for the route. */
    public static VerifyState read(Path file) throws IOException {
        try {
            return decode(StateDirectory.read(file), file);
        } catch (NoSuchFileException e) {
            return NONE;
        }
    }

    /** Replaces the stored state atomically and durably. */
    public void write(Path file) throws IOException {
        StateDirectory.replace(file, encode(), true);
    }

    byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256 + mismatches.size() * 64);
        out.writeBytes(ascii(MAGIC + " " + FORMAT_VERSION + "\n"
                + "cycle-start " + cycleStartMillis + "\n"
                + "slices " + slices + "\n"
                + "slices-done " + slicesDone + "\n"
                + "cycle-files " + cycleFiles + "\n"
                + "cycle-bytes " + cycleBytes + "\n"
                + "last-run " + lastRunStartedMillis + " " + lastRunFinishedMillis + "\n"
                + "last-complete-cycle " + lastCompleteCycleMillis + "\n"
                + "mismatches " + mismatches.size() + "\n"));
        for (Mismatch mismatch : mismatches) {
            out.writeBytes(ascii(mismatch.kind().token));
            out.write(0);
            out.writeBytes(mismatch.path());
            out.write(0);
        }
        return out.toByteArray();
    }

    static VerifyState decode(byte[] bytes, Path source) {
        int at = 0;
        long[][] values = new long[FIELDS.size()][];
        for (int line = 0; line <= FIELDS.size(); line++) {
            int newline = ByteStrings.indexOf(bytes, (byte) '\n', at);
            if (newline < 0) {
                throw malformed(source, "it ends before its line " + (line + 1));
            }
            String[] words = new String(bytes, at, newline - at, StandardCharsets.US_ASCII).split(" ");
            at = newline + 1;
            if (line == 0) {
                if (words.length != 2 || !words[0].equals(MAGIC)) {
                    throw malformed(source, "not a changeq verify file (first line '" + String.join(" ", words) + "')");
                }
                if (!words[1].equals(String.valueOf(FORMAT_VERSION))) {
                    throw new IllegalStateException(source + " has verify format version " + words[1] + "; this build"
                            + " reads version " + FORMAT_VERSION);
                }
                continue;
            }
            String field = FIELDS.get(line - 1);
            int arity = field.equals("last-run") ? 2 : 1;
            if (words.length != arity + 1 || !words[0].equals(field)) {
                throw malformed(source, "line " + (line + 1) + " is not '" + field + "' with " + arity + " number(s)");
            }
            values[line - 1] = new long[arity];
            for (int i = 0; i < arity; i++) {
                try {
                    values[line - 1][i] = Long.parseLong(words[i + 1]);
                } catch (NumberFormatException e) {
                    throw malformed(source, "'" + field + "' is not a number");
                }
            }
        }
        List<Mismatch> mismatches = new ArrayList<>();
        for (long i = 0; i < values[7][0]; i++) {
            int kindEnd = ByteStrings.indexOf(bytes, (byte) 0, at);
            int pathEnd = kindEnd < 0 ? -1 : ByteStrings.indexOf(bytes, (byte) 0, kindEnd + 1);
            if (pathEnd < 0) {
                throw malformed(source, "the mismatch list is cut off");
            }
            mismatches.add(new Mismatch(Kind.of(new String(bytes, at, kindEnd - at, StandardCharsets.US_ASCII), source),
                    Arrays.copyOfRange(bytes, kindEnd + 1, pathEnd)));
            at = pathEnd + 1;
        }
        if (at != bytes.length) {
            throw malformed(source, "it holds more than its " + values[7][0] + " mismatches");
        }
        try {
            return new VerifyState(values[0][0], Math.toIntExact(values[1][0]), Math.toIntExact(values[2][0]),
                    values[3][0], values[4][0], values[5][0], values[5][1], values[6][0], mismatches);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw malformed(source, e.getMessage());
        }
    }

    private static IllegalStateException malformed(Path source, String what) {
        return new IllegalStateException(source + " is malformed: " + what + "; move it away: the next changeq-sync"
                + " verify starts a new cycle");
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
