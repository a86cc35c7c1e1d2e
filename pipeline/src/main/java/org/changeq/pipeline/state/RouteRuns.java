package org.changeq.pipeline.state;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.changeq.pipeline.plan.SyncPolicy;

/**
 * How a route's last run ended and when it last succeeded, kept in {@code <state>/runs/ROUTE} by the sync at the end
 * of each run, for {@code changeq-queue stat}: the first thing asked of a backup is whether it ran and how that went.
 * The metrics file says much of it too, but it may live elsewhere ({@code --metrics-dir}) and keeps no run's start or
 * mode. The one codec of that file. Immutable.
 *
 * <p>Format, version 1: the line {@code changeq-route-runs 1}, then {@code last} and, once a run succeeded,
 * {@code success}, each followed by {@code STARTED FINISHED MODE EXIT FILES} (milliseconds since the epoch, {@code full},
 * {@code incremental} or {@code -} for a run refused before it chose, changeq's exit code, files rsync transferred).
 *
 * @param last        the last run, empty before the first
 * @param lastSuccess the last run that committed its cursor, empty before the first
 */
public record RouteRuns(Optional<Run> last, Optional<Run> lastSuccess) {

    public static final RouteRuns NONE = new RouteRuns(Optional.empty(), Optional.empty());
    static final int FORMAT_VERSION = 1;
    private static final String MAGIC = "changeq-route-runs";
    private static final String NO_MODE = "-";

    /**
     * One run.
     *
     * @param mode empty when the run was refused before it chose one (a root or destination that is not what it was)
     */
    public record Run(long startedMillis, long finishedMillis, Optional<SyncPolicy.Mode> mode, int exitCode, long files) {
        public long durationMillis() {
            return finishedMillis - startedMillis;
        }
    }

    /**
     * These runs after one more.
     *
     * @param success the run committed its cursor: it sent everything, or everything but the paths it put in the retry
     *                list (the metrics' last success)
     */
    public RouteRuns after(Run run, boolean success) {
        return new RouteRuns(Optional.of(run), success ? Optional.of(run) : lastSuccess);
    }

    /** The stored runs; {@link #NONE} when the route has not run since this file was introduced. */
    public static RouteRuns read(Path file) throws IOException {
        try {
            return decode(StateDirectory.read(file), file);
        } catch (NoSuchFileException e) {
            return NONE;
        }
    }

    /**
     * Adds a run that just ended to the file. An unreadable file is replaced: it only informs, and the last success it
     * named is then forgotten rather than the run failing.
     */
    public static void record(Path file, Run run, boolean success) throws IOException {
        RouteRuns before;
        try {
            before = read(file);
        } catch (IllegalStateException malformed) {
            before = NONE;
        }
        StateDirectory.replace(file, before.after(run, success).encode(), false);
    }

    byte[] encode() {
        StringBuilder text = new StringBuilder(MAGIC + " " + FORMAT_VERSION + "\n");
        last.ifPresent(run -> append(text, "last", run));
        lastSuccess.ifPresent(run -> append(text, "success", run));
        return text.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static void append(StringBuilder text, String label, Run run) {
        text.append(label).append(' ').append(run.startedMillis()).append(' ').append(run.finishedMillis()).append(' ')
                .append(run.mode().map(SyncPolicy.Mode::token).orElse(NO_MODE)).append(' ').append(run.exitCode())
                .append(' ').append(run.files()).append('\n');
    }

    static RouteRuns decode(byte[] bytes, Path source) {
        List<String> lines = new String(bytes, StandardCharsets.US_ASCII).lines().toList();
        if (lines.isEmpty() || !lines.get(0).startsWith(MAGIC + " ")) {
            throw malformed(source, "not a changeq route-runs file (first line '" + (lines.isEmpty() ? "" : lines.get(0))
                    + "')");
        }
        if (!lines.get(0).equals(MAGIC + " " + FORMAT_VERSION)) {
            throw new IllegalStateException(source + " has route-runs format " + lines.get(0).substring(MAGIC.length() + 1)
                    + "; this build reads version " + FORMAT_VERSION + ": the route's next run replaces it");
        }
        Optional<Run> last = Optional.empty();
        Optional<Run> success = Optional.empty();
        for (String line : lines.subList(1, lines.size())) {
            String[] fields = line.split(" ");
            Run run;
            try {
                if (fields.length != 6) {
                    throw new NumberFormatException();
                }
                run = new Run(Long.parseLong(fields[1]), Long.parseLong(fields[2]), mode(fields[3]),
                        Integer.parseInt(fields[4]), Long.parseLong(fields[5]));
            } catch (IllegalArgumentException e) {
                throw malformed(source, "the line '" + line + "' is not 'last|success STARTED FINISHED MODE EXIT FILES'");
            }
            switch (fields[0]) {
                case "last" -> last = Optional.of(run);
                case "success" -> success = Optional.of(run);
                default -> throw malformed(source, "the line '" + line + "' is neither 'last' nor 'success'");
            }
        }
        return new RouteRuns(last, success);
    }

    private static Optional<SyncPolicy.Mode> mode(String token) {
        if (token.equals(NO_MODE)) {
            return Optional.empty();
        }
        for (SyncPolicy.Mode mode : SyncPolicy.Mode.values()) {
            if (mode.token().equals(token)) {
                return Optional.of(mode);
            }
        }
        throw new IllegalArgumentException(token);
    }

    private static IllegalStateException malformed(Path source, String what) {
        return new IllegalStateException(source + " is malformed: " + what + "; the route's next run replaces it");
    }
}
