package org.changeq.pipeline.state;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What one run of a route changed at its destination: each file it sent new, each it overwrote, each path it deleted,
 * byte-exact, kept in {@code <state>/runs/ROUTE.changes/MILLIS.run} for the route's last {@value #KEPT_RUNS} runs that
 * committed. The one codec of those files. Immutable.
 *
 * <p>Format, version 1, NUL-separated: {@code changeq-run-changes\0 1\0}, then {@code KIND\0PATH\0} per path
 * ({@code new}, {@code overwritten}, {@code deleted}; the path relative to the root, raw). A run that changed more than
 * {@value #LISTED_PATHS} paths lists the first of them and ends with {@code more\0N\0}; the counts cover all.
 *
 * @param startedMillis when the run started: the file's name
 * @param counts        the paths of each kind the run changed, listed or not
 * @param entries       the listed paths, in the order rsync changed them
 */
public record RunChanges(long startedMillis, Map<Kind, Long> counts, List<Entry> entries) {

    /** The runs whose records are kept. */
    public static final int KEPT_RUNS = 100;
    /** The paths listed per run; beyond it, only counted. */
    public static final int LISTED_PATHS = 100_000;
    static final int FORMAT_VERSION = 1;
    private static final String MAGIC = "changeq-run-changes";
    private static final String MORE = "more";
    private static final String SUFFIX = ".run";

    public RunChanges {
        counts = Map.copyOf(counts);
        entries = List.copyOf(entries);
    }

    /** What a run did to a path at the destination. */
    public enum Kind {
        NEW("new"), OVERWRITTEN("overwritten"), DELETED("deleted");

        public final String token;

        Kind(String token) {
            this.token = token;
        }
    }

    /** One path the run changed. */
    public record Entry(Kind kind, byte[] path) {
    }

    public long count(Kind kind) {
        return counts.getOrDefault(kind, 0L);
    }

    /** The files that existed at the destination and were overwritten or deleted: the summary line's {@code changed=}. */
    public long changed() {
        return count(Kind.OVERWRITTEN) + count(Kind.DELETED);
    }

    /** {@code 3 new, 40 overwritten, 0 deleted}. */
    public String describe() {
        return count(Kind.NEW) + " new, " + count(Kind.OVERWRITTEN) + " overwritten, " + count(Kind.DELETED) + " deleted";
    }

    /**
     * Collects a run's changes as rsync makes them; confined to one thread at a time. A path itemized twice (a dry
     * run's deletion pass lists again what its earlier passes would send) is counted once, among the listed paths.
     */
    public static final class Builder {
        private final Map<Kind, Long> counts = new EnumMap<>(Kind.class);
        private final List<Entry> entries = new ArrayList<>();
        private final Set<ByteBuffer> listed = new HashSet<>();

        /** @return whether it counted the path: false for one it has listed already */
        public boolean add(Kind kind, byte[] path) {
            if (entries.size() < LISTED_PATHS) {
                if (!listed.add(ByteBuffer.wrap(path))) {
                    return false;
                }
                entries.add(new Entry(kind, path));
            }
            counts.merge(kind, 1L, Long::sum);
            return true;
        }

        public RunChanges build(long startedMillis) {
            return new RunChanges(startedMillis, counts, entries);
        }
    }

    /** Stores this record in {@code directory} (fsync'd) and removes the oldest beyond {@value #KEPT_RUNS}. */
    public void write(Path directory) throws IOException {
        StateDirectory.replace(directory.resolve(startedMillis + SUFFIX), encode(), true);
        List<Path> runs = names(directory);
        for (Path old : runs.subList(0, Math.max(0, runs.size() - KEPT_RUNS))) {
            StateDirectory.deleteIfExists(directory.resolve(old));
        }
    }

    /** The stored runs' file names, oldest first. */
    private static List<Path> names(Path directory) throws IOException {
        List<Path> names = new ArrayList<>(StateDirectory.list(directory, SUFFIX));
        names.sort(Comparator.comparingLong(RunChanges::millis));
        return names;
    }

    /**
     * The record of the route's {@code back}-th last run ({@code 1}: the last); empty when fewer are kept.
     *
     * @throws IllegalStateException a record is malformed or of another version, naming the file and the fix
     */
    public static Optional<RunChanges> read(Path directory, int back) throws IOException {
        List<Path> names = names(directory);
        if (back < 1 || back > names.size()) {
            return Optional.empty();
        }
        Path file = directory.resolve(names.get(names.size() - back));
        return Optional.of(decode(StateDirectory.read(file), millis(file.getFileName()), file));
    }

    private static long millis(Path name) {
        String text = name.toString();
        try {
            return Long.parseLong(text.substring(0, text.length() - SUFFIX.length()));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        field(out, MAGIC.getBytes(StandardCharsets.US_ASCII));
        field(out, String.valueOf(FORMAT_VERSION).getBytes(StandardCharsets.US_ASCII));
        for (Entry entry : entries) {
            field(out, entry.kind().token.getBytes(StandardCharsets.US_ASCII));
            field(out, entry.path());
        }
        long total = counts.values().stream().mapToLong(Long::longValue).sum();
        if (total > entries.size()) {
            // The counts of the paths not listed, by kind: "more" then KIND=N,KIND=N.
            field(out, MORE.getBytes(StandardCharsets.US_ASCII));
            StringBuilder unlisted = new StringBuilder();
            for (Kind kind : Kind.values()) {
                long listed = entries.stream().filter(entry -> entry.kind() == kind).count();
                unlisted.append(unlisted.length() > 0 ? "," : "").append(kind.token).append('=').append(count(kind) - listed);
            }
            field(out, unlisted.toString().getBytes(StandardCharsets.US_ASCII));
        }
        return out.toByteArray();
    }

    private static void field(ByteArrayOutputStream out, byte[] bytes) {
        out.writeBytes(bytes);
        out.write(0);
    }

    static RunChanges decode(byte[] bytes, long startedMillis, Path source) {
        List<byte[]> fields = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == 0) {
                fields.add(Arrays.copyOfRange(bytes, start, i));
                start = i + 1;
            }
        }
        if (start != bytes.length || fields.size() < 2 || fields.size() % 2 != 0
                || !MAGIC.equals(ascii(fields.get(0)))) {
            throw new IllegalStateException(source + " is not a changeq run record; move it away (only that run's list"
                    + " is lost)");
        }
        if (!String.valueOf(FORMAT_VERSION).equals(ascii(fields.get(1)))) {
            throw new IllegalStateException(source + " has run record format " + ascii(fields.get(1))
                    + "; this build reads version " + FORMAT_VERSION);
        }
        Map<Kind, Long> counts = new EnumMap<>(Kind.class);
        List<Entry> entries = new ArrayList<>();
        for (int i = 2; i < fields.size(); i += 2) {
            String token = ascii(fields.get(i));
            if (token.equals(MORE)) {
                for (String unlisted : ascii(fields.get(i + 1)).split(",")) {
                    String[] pair = unlisted.split("=");
                    try {
                        counts.merge(kind(pair[0], source), Long.parseLong(pair[1]), Long::sum);
                    } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
                        throw new IllegalStateException(source + " has a malformed count '" + unlisted + "'; move it"
                                + " away (only that run's list is lost)", e);
                    }
                }
                continue;
            }
            Kind kind = kind(token, source);
            counts.merge(kind, 1L, Long::sum);
            entries.add(new Entry(kind, fields.get(i + 1)));
        }
        return new RunChanges(startedMillis, counts, entries);
    }

    private static Kind kind(String token, Path source) {
        for (Kind kind : Kind.values()) {
            if (kind.token.equals(token)) {
                return kind;
            }
        }
        throw new IllegalStateException(source + " names an unknown kind of change '" + token + "'; move it away (only"
                + " that run's list is lost)");
    }

    private static String ascii(byte[] bytes) {
        return new String(bytes, StandardCharsets.US_ASCII);
    }
}
