package org.changeq.pipeline.state;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The files a route's runs overwrote, deleted or renamed away at its destination without explicit consent, kept in
 * {@code <state>/changes/ROUTE.ledger} so that the route's {@code max-change} bounds them over its
 * {@code max-change-window}, not per run: a follower that sends a mass rewrite in many small runs meets the same limit
 * as one run would. The one codec of that file. Immutable.
 *
 * <p>Format, version 1: the line {@code changeq-changes 1}, then one line {@code MILLIS OVERWRITTEN DELETED RENAMED}
 * per run that changed files, oldest first. A run writes its line (with fsync) before rsync may change anything, with
 * the counts of its dry run, so that a crash between the changes and the cursor's commit still counts them.
 *
 * @param runs the changing runs still inside the window, oldest first
 */
public record ChangeLedger(List<Run> runs) {

    public static final ChangeLedger EMPTY = new ChangeLedger(List.of());
    private static final WindowedLedger<Run> CODEC = new WindowedLedger<>("changeq-changes", "change ledger",
            "MILLIS OVERWRITTEN DELETED RENAMED", "the route's recent changes are not known any more: move it away (the"
            + " route's max-change then counts from now)",
            fields -> new Run(fields[0], fields[1], fields[2], fields[3]),
            run -> new long[] {run.millis(), run.overwritten(), run.deleted(), run.renamed()});

    public ChangeLedger {
        runs = List.copyOf(runs);
    }

    /** What one run changed (or was about to) at {@code millis}, by kind. */
    public record Run(long millis, long overwritten, long deleted, long renamed) {
        public Run {
            if (overwritten < 0 || deleted < 0 || renamed < 0) {
                throw new IllegalArgumentException("a run changes 0 or more paths of each kind, got " + overwritten + " "
                        + deleted + " " + renamed);
            }
        }

        long total() {
            return overwritten + deleted + renamed;
        }
    }

    /** The runs of the last {@code window} before {@code nowMillis}; older ones no longer count. */
    public ChangeLedger within(Duration window, long nowMillis) {
        return new ChangeLedger(CODEC.within(runs, window, nowMillis));
    }

    /** The paths changed by the runs in this ledger. */
    public long total() {
        return runs.stream().mapToLong(Run::total).sum();
    }

    /** The paths deleted or renamed away by the runs in this ledger: the destination held them before. */
    public long removed() {
        return runs.stream().mapToLong(run -> run.deleted() + run.renamed()).sum();
    }

    /** This ledger with one more run. */
    public ChangeLedger plus(Run run) {
        return new ChangeLedger(WindowedLedger.plus(runs, run));
    }

    /** The stored ledger; {@link #EMPTY} when the file does not exist. */
    public static ChangeLedger read(Path file) throws IOException {
        return new ChangeLedger(CODEC.read(file));
    }

    /** Replaces the stored ledger atomically and durably. */
    public void write(Path file) throws IOException {
        CODEC.write(file, runs);
    }

    static ChangeLedger decode(byte[] bytes, Path source) {
        return new ChangeLedger(CODEC.decode(bytes, source));
    }
}
