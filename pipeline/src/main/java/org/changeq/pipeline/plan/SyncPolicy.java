package org.changeq.pipeline.plan;

import java.time.LocalDate;
import java.util.Optional;
import org.changeq.pipeline.config.FullWindow;
import org.changeq.pipeline.state.RetryList;

/** The full-sync policy: a pure function of what a run knows. Thread-safe (stateless). */
public final class SyncPolicy {

    /** The longest window run looked back over; windows are days of a month or week. */
    private static final int MAX_WINDOW_DAYS = 62;

    private SyncPolicy() {
    }

    public enum Mode {
        INCREMENTAL, FULL;

        public String token() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Why a run is what it is; the token goes into the summary line. */
    public enum Reason {
        FIRST_RUN("first-run", "the route has no committed cursor yet"),
        IDENTITY("identity", "the root's identity is not recorded yet, or a changed root or destination was accepted:"
                + " a full sync sends everything and records it"),
        ROUTE_CHANGED("route-changed", "what the route selects or where it sends (root, excludes, includes or the"
                + " lists they name, dest, rsync-args) changed since its cursor was committed: only a full sync brings the"
                + " destination to it"),
        FORCED("forced", "--full was given or the force flag file exists"),
        FLAG_FILE("flag-file", "the legacy .force-full-sync file exists in the root"),
        GAP("gap", "the tracker was down or records were lost since the cursor"),
        OVERFLOW("overflow", "events were dropped (OVERFLOW) for the root since the cursor"),
        RETRY_OVERFLOW("retry-overflow", "more paths failed in an earlier run than the retry list holds"
                + " (" + RetryList.LIMIT + "): a full sync sends them all again"),
        BACKLOG("backlog", "the backlog since the cursor is above the route's backlog-threshold"),
        ROOT_NOT_TRACKED("root-not-tracked", "the running changeq-tracker does not watch the route's root as configured"
                + " (another real path, other excludes, or not at all): the queue does not show its changes"),
        WINDOW("window", "today is in the route's full-window and no full sync ran in this window yet"),
        CHANGES("changes", "there are pending changes"),
        NOTHING_TO_DO("nothing-to-do", "no pending changes for this route");

        private final String token;
        private final String explanation;

        Reason(String token, String explanation) {
            this.token = token;
            this.explanation = explanation;
        }

        public String token() {
            return token;
        }

        public String explanation() {
            return explanation;
        }
    }

    /**
     * What the run knows when it decides.
     *
     * @param hasCursor       whether the route committed a cursor before
     * @param identityKnown   whether the root's identity is recorded and was not just accepted as changed
     * @param routeChanged    what the route selects or where it sends changed since its cursor was committed
     * @param recordsRetained false when retention deleted records after the cursor
     * @param forced          {@code --full} or changeq's force flag
     * @param legacyFlagFile  the root's {@code .force-full-sync} exists
     * @param overflow        an OVERFLOW for the root since the cursor
     * @param unhealedGap     a START without a preceding STOP since the cursor, not followed by a RESCAN of the root
     * @param retryOverflow   an earlier run failed to send more paths than the retry list holds
     * @param backlog         path records of the root since the cursor
     */
    public record Facts(boolean hasCursor, boolean identityKnown, boolean routeChanged, boolean recordsRetained, boolean forced, boolean legacyFlagFile,
                 boolean overflow, boolean unhealedGap, boolean retryOverflow, long backlog, long backlogThreshold,
                 Optional<FullWindow> window, Optional<LocalDate> lastFullSync, LocalDate today) {
    }

    /** The first rule that makes the run full, in order of precedence; empty means incremental. */
    public static Optional<Reason> fullSyncReason(Facts facts) {
        if (!facts.hasCursor()) {
            return full(Reason.FIRST_RUN);
        }
        if (!facts.identityKnown()) {
            return full(Reason.IDENTITY);
        }
        if (facts.routeChanged()) {
            return full(Reason.ROUTE_CHANGED);
        }
        if (facts.forced()) {
            return full(Reason.FORCED);
        }
        if (facts.legacyFlagFile()) {
            return full(Reason.FLAG_FILE);
        }
        if (!facts.recordsRetained() || facts.unhealedGap()) {
            return full(Reason.GAP);
        }
        if (facts.overflow()) {
            return full(Reason.OVERFLOW);
        }
        if (facts.retryOverflow()) {
            return full(Reason.RETRY_OVERFLOW);
        }
        if (facts.backlog() > facts.backlogThreshold()) {
            return full(Reason.BACKLOG);
        }
        if (facts.window().isPresent() && fullSyncDue(facts.window().get(), facts.lastFullSync(), facts.today())) {
            return full(Reason.WINDOW);
        }
        return Optional.empty();
    }

    /**
     * Whether today lies in the window and no full sync ran since the window's current run of days
     * began (days 1-7 of this month, say: a full sync on the 2nd satisfies the 3rd to the 7th).
     */
    static boolean fullSyncDue(FullWindow window, Optional<LocalDate> lastFullSync, LocalDate today) {
        if (!window.contains(today)) {
            return false;
        }
        LocalDate start = today;
        for (int i = 0; i < MAX_WINDOW_DAYS && window.contains(start.minusDays(1)); i++) {
            start = start.minusDays(1);
        }
        return lastFullSync.isEmpty() || lastFullSync.get().isBefore(start);
    }

    private static Optional<Reason> full(Reason reason) {
        return Optional.of(reason);
    }
}
