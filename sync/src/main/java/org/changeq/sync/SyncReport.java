package org.changeq.sync;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The result of one run.
 *
 * @param mode      {@code incremental} or {@code full}; {@code none} when the run ended before it decided
 * @param reason    the policy's token ({@code first-run}, {@code backlog}, {@code changes}, ...); {@code none} when
 *                  the run ended before it decided
 * @param files     files that arrived at the destination: those rsync transferred, less those that went to the retry
 *                  list
 * @param deleted   paths rsync deleted at the destination
 * @param failedPaths paths the run put in the retry list: rsync failed to send them, the next runs send them again
 * @param rsyncExit rsync's exit status; empty when no rsync ran
 * @param exitCode  the program's exit code from {@code ExitCodes}
 * @param backlog   path records of the route's root since the cursor
 * @param itemized  the first rsync {@code --itemize-changes} lines (escaped)
 * @param errors    the first lines rsync wrote to stderr (escaped)
 * @param failed    after an exit 23, the first paths rsync failed to send (escaped), each with rsync's message for it:
 *                  the retry list the run stored
 * @param trackerRunning whether a changeq-tracker held the queue when the run started (true when not known)
 * @param stoppedBy the signal that stopped the run ({@code SIGTERM}, {@code SIGINT}): it committed nothing
 * @param changed   files that existed at the destination and the run overwrote or deleted (would, in a dry run)
 */
public record SyncReport(String route, String mode, String reason, long files, long deleted, long failedPaths,
                         long bytes, double seconds, OptionalInt rsyncExit, int exitCode, long backlog,
                         List<String> itemized, List<String> errors, List<String> failed, boolean trackerRunning,
                         Optional<String> stoppedBy, long changed) {

    /** What {@code mode} and {@code reason} say of a run that ended before it decided. */
    public static final String UNDECIDED = "none";

    /** A run that ended with {@code exitCode} before it decided anything, or sent anything. */
    static SyncReport undecided(String route, double seconds, int exitCode) {
        return new SyncReport(route, UNDECIDED, UNDECIDED, 0, 0, 0, 0, seconds, OptionalInt.empty(), exitCode, 0,
                List.of(), List.of(), List.of(), true, Optional.empty(), 0);
    }

    /**
     * {@code route=NAME mode=... reason=... files=N deleted=N failed=N bytes=N seconds=S rsync-exit=N|none exit=N
     * changed=N},
     * then {@code interrupted=SIGTERM} (or {@code SIGINT}) for a run a signal stopped and {@code tracker=stopped} when
     * no tracker records changes: one line per run.
     */
    public String summaryLine() {
        return String.format(Locale.ROOT, "route=%s mode=%s reason=%s files=%d deleted=%d failed=%d bytes=%d seconds=%.3f"
                        + " rsync-exit=%s exit=%d changed=%d%s%s",
                route, mode, reason, files, deleted, failedPaths, bytes, seconds,
                rsyncExit.isPresent() ? Integer.toString(rsyncExit.getAsInt()) : "none", exitCode, changed,
                stoppedBy.map(signal -> " interrupted=" + signal).orElse(""),
                trackerRunning ? "" : " tracker=stopped");
    }
}
