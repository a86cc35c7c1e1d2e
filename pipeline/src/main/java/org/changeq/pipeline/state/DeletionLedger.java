package org.changeq.pipeline.state;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
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
    private static final WindowedLedger<Run> CODEC = new WindowedLedger<>("changeq-deletions", "deletion ledger",
            "MILLIS COUNT", "the route's recent deletions are not known any more: move it away (the route's max-delete"
            + " then counts from now)",
            fields -> new Run(fields[0], fields[1]), run -> new long[] {run.millis(), run.count()});

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
        return new DeletionLedger(CODEC.within(runs, window, nowMillis));
    }

    /** The paths deleted by the runs in this ledger. */
    public long total() {
        return runs.stream().mapToLong(Run::count).sum();
    }

    /** This ledger with one more run. */
    public DeletionLedger plus(long millis, long count) {
        return new DeletionLedger(WindowedLedger.plus(runs, new Run(millis, count)));
    }

    /** The stored ledger; {@link #EMPTY} when the file does not exist. */
    public static DeletionLedger read(Path file) throws IOException {
        return new DeletionLedger(CODEC.read(file));
    }

    /** Replaces the stored ledger atomically and durably. */
    public void write(Path file) throws IOException {
        CODEC.write(file, runs);
    }

    static DeletionLedger decode(byte[] bytes, Path source) {
        return new DeletionLedger(CODEC.decode(bytes, source));
    }
}
