package org.changeq.pipeline.state;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The deletions a route's runs made at its destination without explicit consent, kept in {@code <state>/deletions/ROUTE.ledger}
 * so that the route's {@code max-delete} bounds them over its {@code max-delete-window}, not per run: a follower that
 * sends an {@code rm -rf} in many small runs meets the same limit as one run would. Full and incremental runs count
 * alike. The one codec of that file. Immutable.
 *
 * <p>Format, version 1: the line {@code changeq-deletions 1}, then one line {@code MILLIS COUNT} per run that deleted,
 * oldest first. A run writes its line (with fsync) before rsync may delete, with the count rsync's dry run
 * announced, so that a crash between the deletions and the cursor's commit still counts them.
 *
 * @param runs the deleting runs still inside the window, oldest first
 */
public record DeletionLedger(List<Run> runs) {

    public static final DeletionLedger EMPTY = new DeletionLedger(List.of());
    static final int FORMAT_VERSION = 1;
    private static final String MAGIC = "changeq-deletions";

    public DeletionLedger {
        runs = List.copyOf(runs);
    }

    /** The paths one run deleted (or was about to) at {@code millis}. */
    public record Run(long millis, long count) {
        public Run {
            if (count < 0) {
                throw new IllegalArgumentException("a run deletes 0 or more paths, got " + count);
            }
        }
    }

    /** The runs of the last {@code window} before {@code nowMillis}; older ones no longer count. */
    public DeletionLedger within(Duration window, long nowMillis) {
        long since = nowMillis - window.toMillis();
        return new DeletionLedger(runs.stream().filter(run -> run.millis() > since).toList());
    }

    /** The paths deleted by the runs in this ledger. */
    public long total() {
        return runs.stream().mapToLong(Run::count).sum();
    }

    /** This ledger with one more run. */
    public DeletionLedger plus(long millis, long count) {
        List<Run> more = new ArrayList<>(runs);
        more.add(new Run(millis, count));
        return new DeletionLedger(more);
    }

    /** The stored ledger; {@link #EMPTY} when the file does not exist. */
    public static DeletionLedger read(Path file) throws IOException {
        try {
            return decode(StateDirectory.read(file), file);
        } catch (NoSuchFileException e) {
            return EMPTY;
        }
    }

    /** Replaces the stored ledger atomically and durably. */
    public void write(Path file) throws IOException {
        StateDirectory.replace(file, encode(), true);
    }

    byte[] encode() {
        StringBuilder text = new StringBuilder(MAGIC + " " + FORMAT_VERSION + "\n");
        for (Run run : runs) {
            text.append(run.millis()).append(' ').append(run.count()).append('\n');
        }
        return text.toString().getBytes(StandardCharsets.US_ASCII);
    }

    static DeletionLedger decode(byte[] bytes, Path source) {
        List<String> lines = new String(bytes, StandardCharsets.US_ASCII).lines().toList();
        if (lines.isEmpty() || !lines.get(0).startsWith(MAGIC + " ")) {
            throw malformed(source, "not a changeq deletion ledger (first line '" + (lines.isEmpty() ? "" : lines.get(0)) + "')");
        }
        if (!lines.get(0).equals(MAGIC + " " + FORMAT_VERSION)) {
            throw new IllegalStateException(source + " has deletion ledger format " + lines.get(0).substring(MAGIC.length() + 1)
                    + "; this build reads version " + FORMAT_VERSION);
        }
        List<Run> runs = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] fields = line.split(" ");
            try {
                if (fields.length != 2) {
                    throw new NumberFormatException();
                }
                runs.add(new Run(Long.parseLong(fields[0]), Long.parseLong(fields[1])));
            } catch (IllegalArgumentException e) {
                throw malformed(source, "the line '" + line + "' is not 'MILLIS COUNT'");
            }
        }
        return new DeletionLedger(runs);
    }

    private static IllegalStateException malformed(Path source, String what) {
        return new IllegalStateException(source + " is malformed: " + what + "; the route's recent deletions are not known"
                + " any more: move it away (the route's max-delete then counts from now)");
    }
}
