package org.changeq.pipeline.plan;

import java.io.IOException;
import java.nio.file.Files;
import java.time.LocalDate;
import java.util.Optional;
import java.util.OptionalLong;
import org.changeq.pipeline.FullSyncFlags;
import org.changeq.pipeline.ManifestReader;
import org.changeq.pipeline.RetryList;
import org.changeq.pipeline.StateLayout;
import org.changeq.pipeline.config.RootConfig;
import org.changeq.pipeline.config.RouteConfig;

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
 */
public record RouteState(OptionalLong cursor, boolean retained, FullSyncFlags flags, Optional<LocalDate> lastFullSync,
                         boolean identityKnown, RetryList retry) {

    /** The old pipeline's flag: a new or touched one makes the next run full; changeq never removes it. */
    public static final String LEGACY_FLAG_FILE = ".force-full-sync";

    public static RouteState read(StateLayout layout, RootConfig root, RouteConfig route, ManifestReader reader)
            throws IOException {
        OptionalLong cursor = layout.cursor(route.name()).read();
        return new RouteState(cursor, cursor.isEmpty() || reader.retainsRecordsAfter(cursor.getAsLong()),
                FullSyncFlags.read(layout, route.name(), root.path().resolve(LEGACY_FLAG_FILE)),
                layout.lastFullSync(route.name()).read(), Files.exists(layout.rootIdentity(route.name())),
                RetryList.read(layout.retryList(route.name())));
    }

    public long cursorOrStart() {
        return cursor.orElse(ManifestReader.NO_INDEX);
    }

    /** Whether the run is full before a single record is read, so paths need not be collected. */
    public boolean fullRegardless(boolean forceRequested) {
        return cursor.isEmpty() || !identityKnown || forceRequested || flags.forceRequested() || flags.legacyRequested()
                || !retained || retry.overflowed();
    }

    /** The same state after the operator accepted a changed root or destination: its run records the identity anew. */
    public RouteState identityAccepted() {
        return new RouteState(cursor, retained, flags, lastFullSync, false, retry);
    }

    public SyncPolicy.Facts facts(boolean forceRequested, ChangeScan.Result scan, RouteConfig route, LocalDate today) {
        return new SyncPolicy.Facts(cursor.isPresent(), identityKnown, retained, forceRequested || flags.forceRequested(),
                flags.legacyRequested(),
                scan.overflow(), scan.unhealedGap(), retry.overflowed(), scan.backlog(), route.backlogThreshold(),
                route.fullWindow(),
                lastFullSync, today);
    }
}
