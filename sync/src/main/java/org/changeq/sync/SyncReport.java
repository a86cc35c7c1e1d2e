package org.changeq.sync;

import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;

/**
 * The result of one run.
 *
 * @param mode      {@code incremental} or {@code full}
 * @param reason    the policy's token ({@code first-run}, {@code backlog}, {@code changes}, ...)
 * @param rsyncExit rsync's exit status; empty when no rsync ran
 * @param exitCode  the program's exit code from {@code ExitCodes}
 * @param backlog   path records of the route's root since the cursor
 * @param itemized  the first rsync {@code --itemize-changes} lines (escaped)
 * @param errors    the first lines rsync wrote to stderr (escaped)
 * @param failed    after an exit 23, the first paths rsync failed to send (escaped), each with rsync's message for it:
 *                  the retry list the run stored
 * @param trackerRunning whether a changeq-tracker held the queue when the run started
 */
public record SyncReport(String route, String mode, String reason, long files, long bytes, double seconds,
                         OptionalInt rsyncExit, int exitCode, long backlog, List<String> itemized,
                         List<String> errors, List<String> failed, boolean trackerRunning) {

    /**
     * {@code route=NAME mode=... reason=... files=N bytes=N seconds=S rsync-exit=N|none}, and {@code tracker=stopped}
     * when no tracker records changes: one line per run.
     */
    public String summaryLine() {
        return String.format(Locale.ROOT, "route=%s mode=%s reason=%s files=%d bytes=%d seconds=%.3f rsync-exit=%s%s",
                route, mode, reason, files, bytes, seconds,
                rsyncExit.isPresent() ? Integer.toString(rsyncExit.getAsInt()) : "none",
                trackerRunning ? "" : " tracker=stopped");
    }
}
