package org.changeq.pipeline.plan;

import java.io.IOException;
import java.nio.file.Files;
import java.time.LocalDate;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import org.changeq.pipeline.config.RootConfig;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.pipeline.manifest.IndexFile;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.manifest.QueueIdentity;
import org.changeq.pipeline.state.FullSyncFlags;
import org.changeq.pipeline.state.RetryList;
import org.changeq.pipeline.state.StateLayout;

/**
 * What the state directory and the root say about a route before its records are read: cursor,
 * force flags, last full sync, whether retention kept everything after the cursor. The sync decides
 * its run from it and changeq-queue predicts that decision from the same facts.
 *
 * @param cursor         the committed cursor, empty before the first successful run
 * @param retained       false when retention deleted records after the cursor
 * @param flags          changeq's force flag ({@link StateLayout#forceFullFlag}) and the root's
 *                       {@value #LEGACY_FLAG_FILE}, each asking for one full sync per appearance
 * @param lastFullSync   the date of the last successful full sync
 * @param identityKnown  the root's identity was recorded by an earlier successful run
 * @param retry          the paths earlier runs failed to send, which this run sends again
 * @param queueReplaced  why the cursor belongs to another queue than this one (a queue deleted and created
 *                       anew: its indexes start again, so the cursor would skip or re-read), if it does
 * @param queue          the identity of the queue the route reads now, empty for a queue its tracker has not
 *                       given one yet: the cursor and claim of this run name it
 * @param selectionChanged why what the route selects or where it sends differs from when its cursor was committed
 *                       ({@link RouteSelection}), if it does. A route whose cursor was committed by a version that
 *                       recorded no selection is taken as unchanged: its next successful run records the selection,
 *                       and a change made together with the upgrade goes unnoticed.
 */
public record RouteState(OptionalLong cursor, boolean retained, FullSyncFlags flags, Optional<LocalDate> lastFullSync,
                         boolean identityKnown, RetryList retry, Optional<String> queueReplaced, Optional<UUID> queue,
                         Optional<String> selectionChanged) {

    /** The old pipeline's flag: a new or touched one makes the next run full; changeq never removes it. */
    public static final String LEGACY_FLAG_FILE = ".force-full-sync";

    public static RouteState read(StateLayout layout, RootConfig root, RouteConfig route, ManifestReader reader)
            throws IOException {
        Optional<IndexFile.Entry> entry = layout.cursor(route.name()).readEntry();
        OptionalLong cursor = entry.isPresent() ? OptionalLong.of(entry.get().index()) : OptionalLong.empty();
        Optional<UUID> queue = QueueIdentity.read(reader.directory()).map(QueueIdentity::id);
        Optional<String> replaced = entry.flatMap(saved -> whyReplaced(saved, queue, reader.lastIndex()));
        return new RouteState(cursor,
                cursor.isEmpty() || replaced.isPresent() || reader.retainsRecordsAfter(cursor.getAsLong()),
                FullSyncFlags.read(layout, route.name(), root.path().resolve(LEGACY_FLAG_FILE)),
                layout.lastFullSync(route.name()).read(), Files.exists(layout.rootIdentity(route.name())),
                RetryList.read(layout.retryList(route.name())), replaced, queue,
                cursor.isEmpty() ? Optional.empty() : RouteSelection.whyChanged(layout, root, route));
    }


    private static Optional<String> whyReplaced(IndexFile.Entry cursor, Optional<UUID> queue, long end) {
        if (cursor.queue().isPresent() && queue.isPresent() && !cursor.queue().equals(queue)) {
            return Optional.of("the queue was created anew since the route's cursor (queue id " + queue.get()
                    + ", the cursor's " + cursor.queue().get() + ")");
        }
        if (cursor.index() > end) {
            return Optional.of("the queue ends at index " + end + ", below the route's cursor " + cursor.index()
                    + ": it was created anew since");
        }
        return Optional.empty();
    }

    /** Where reading starts: after the cursor, or at the start of a queue the cursor does not belong to. */
    public long cursorOrStart() {
        return queueReplaced.isPresent() ? ManifestReader.NO_INDEX : cursor.orElse(ManifestReader.NO_INDEX);
    }

    /** Whether the run is full before a single record is read, so paths need not be collected. */
    public boolean fullRegardless(boolean forceRequested) {
        return cursor.isEmpty() || !identityKnown || forceRequested || flags.forceRequested() || flags.legacyRequested()
                || !retained || queueReplaced.isPresent() || retry.overflowed() || selectionChanged.isPresent();
    }

    /** The same state after the operator accepted a changed root or destination: its run records the identity anew. */
    public RouteState identityAccepted() {
        return new RouteState(cursor, retained, flags, lastFullSync, false, retry, queueReplaced, queue,
                selectionChanged);
    }

    public SyncPolicy.Facts facts(boolean forceRequested, ChangeScan.Result scan, RouteConfig route, LocalDate today) {
        return new SyncPolicy.Facts(cursor.isPresent(), identityKnown, selectionChanged.isPresent(), retained && queueReplaced.isEmpty(),
                forceRequested || flags.forceRequested(), flags.legacyRequested(),
                scan.overflow(), scan.unhealedGap() || !scan.reachedEnd(), retry.overflowed(), scan.backlog(), route.backlogThreshold(),
                route.fullWindow(),
                lastFullSync, today);
    }
}
