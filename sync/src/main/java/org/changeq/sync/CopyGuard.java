package org.changeq.sync;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Predicate;
import org.changeq.pipeline.DirectoryAccess;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.PathBytes;
import org.changeq.pipeline.config.RootConfig;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.pipeline.mount.MountTable;
import org.changeq.pipeline.state.StateLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What keeps a run from destroying a copy: a root or local destination that is not the directory the
 * route synced before (a disk that is not mounted, a replaced directory) is refused before rsync
 * starts ({@link DeletionGuard} keeps deletions within the route's {@code max-delete}). Confined to
 * the run's thread.
 */
final class CopyGuard {

    private static final Logger LOG = LoggerFactory.getLogger(CopyGuard.class);
    private static final Predicate<byte[]> NOTHING_IGNORED = path -> false;

    private final RouteConfig route;
    private final RootConfig root;
    private final StateLayout layout;
    private final SyncRequest request;
    private final String command;

    /**
     * @param command how the operator runs this route by hand, for the fixes the messages name
     */
    CopyGuard(RouteConfig route, RootConfig root, StateLayout layout, SyncRequest request, String command) {
        this.route = route;
        this.root = root;
        this.layout = layout;
        this.request = request;
        this.command = command;
    }

    /**
     * The identities of the root and of a local destination now, after checking them against the ones
     * remembered.
     *
     * @param root        the root's identity now
     * @param destination a local destination's identity now, empty for a remote one or one that does not exist yet
     * @param rootAccepted the root differs from the remembered one and the operator accepted it
     * @param destinationAccepted the same for the destination
     * @param rootToRecord the root's identity is to be written after a successful run: accepted, first, or
     *                     remembered by an older version without the mounts below it
     * @param destinationToRecord the same for the destination
     */
    record Identities(FileSystemIdentity root, Optional<FileSystemIdentity> destination, boolean rootAccepted,
                      boolean destinationAccepted, boolean rootToRecord, boolean destinationToRecord) {

        boolean accepted() {
            return rootAccepted || destinationAccepted;
        }
    }

    /** What a comparison with the remembered identity found. */
    private record Comparison(boolean accepted, boolean toRecord) {
    }

    /**
     * Refuses a root that is missing, unreadable, or not the directory the route first synced, and a
     * local destination that is missing or not the directory the route first wrote. Either includes the file
     * systems mounted below it, except below the root's excluded directories.
     *
     * @throws SyncException with {@code ROOT_UNAVAILABLE} or {@code DESTINATION_CHANGED}; nothing was sent
     */
    Identities checkIdentities() throws SyncException, IOException {
        Path rootPath = root.path();
        if (!Files.isDirectory(rootPath) || !DirectoryAccess.canListAndSearch(rootPath)) {
            throw new SyncException(ExitCodes.ROOT_UNAVAILABLE, "root '" + root.name() + "' (" + rootPath
                    + ") is missing, not a directory or unreadable; route '" + route.name() + "' sends nothing. Mount it,"
                    + " or fix 'roots:' in the config");
        }
        String rootWhat = "root '" + root.name() + "' (" + rootPath + ")";
        FileSystemIdentity rootNow = identify(rootWhat, rootPath, this::excludedByRoot, ExitCodes.ROOT_UNAVAILABLE);
        Comparison rootComparison = compare(rootWhat, layout.rootIdentity(route.name()), rootNow, rootPath,
                request.acceptRootChange(), ExitCodes.ROOT_UNAVAILABLE, "--accept-root-change", "mount " + rootPath);

        if (!route.localDestination()) {
            return new Identities(rootNow, Optional.empty(), rootComparison.accepted(), false, rootComparison.toRecord(),
                    false);
        }
        Path destPath = Path.of(route.dest());
        Optional<FileSystemIdentity> remembered = FileSystemIdentity.read(layout.destinationIdentity(route.name()));
        if (!Files.isDirectory(destPath)) {
            if (remembered.isPresent() && !request.acceptDestinationChange()) {
                throw new SyncException(ExitCodes.DESTINATION_CHANGED, "the destination " + destPath + " of route '"
                        + route.name() + "' is missing, although the route wrote it before (on "
                        + remembered.get().describeFileSystem() + "); rsync would create it on the file system below."
                        + " Nothing was sent. Mount the backup disk, or run '" + command + " --accept-dest-change' to"
                        + " start over on a new one (its run is full)");
            }
            return new Identities(rootNow, Optional.empty(), rootComparison.accepted(), remembered.isPresent(),
                    rootComparison.toRecord(), true);
        }
        String destWhat = "the destination " + destPath;
        FileSystemIdentity destNow = identify(destWhat, destPath, NOTHING_IGNORED, ExitCodes.DESTINATION_CHANGED);
        Comparison destComparison = compare(destWhat, layout.destinationIdentity(route.name()), destNow, destPath,
                request.acceptDestinationChange(), ExitCodes.DESTINATION_CHANGED, "--accept-dest-change",
                "mount the backup disk");
        return new Identities(rootNow, Optional.of(destNow), rootComparison.accepted(), destComparison.accepted(),
                rootComparison.toRecord(), destComparison.toRecord());
    }

    /** A mount in an excluded directory (a ZFS child dataset left out on purpose) is not the route's business. */
    private boolean excludedByRoot(byte[] relativePath) {
        return root.excludes().matchesSelfOrAncestor(relativePath, true);
    }

    private FileSystemIdentity identify(String what, Path directory, Predicate<byte[]> ignoredBelow, int exitCode)
            throws SyncException {
        try {
            return FileSystemIdentity.of(directory, ignoredBelow);
        } catch (IOException e) {
            throw new SyncException(exitCode, "route '" + route.name() + "': cannot tell which file system " + what
                    + " lies on (" + e.getMessage() + "), so it cannot be compared with the one the route synced"
                    + " before. Nothing was sent. Check that the directory and " + MountTable.PROC_SELF_MOUNTINFO
                    + " are readable by the user changeq-sync runs as", e);
        }
    }

    /** @param fix what sets a difference of the directory itself right */
    private Comparison compare(String what, Path rememberedFile, FileSystemIdentity now, Path directory, boolean accept,
                               int exitCode, String acceptOption, String fix) throws SyncException, IOException {
        Optional<FileSystemIdentity> remembered = FileSystemIdentity.read(rememberedFile);
        if (remembered.isEmpty()) {
            return new Comparison(false, true);
        }
        Optional<FileSystemIdentity.Difference> difference = remembered.get().differenceFrom(now,
                PathBytes.of(directory.toRealPath()));
        if (difference.isEmpty()) {
            if (remembered.get().mountsBelowUnknown()) {
                LOG.info("route '{}': {} was remembered by an older version, without the file systems mounted below"
                        + " it; a successful run records them as they are now", route.name(), what);
                return new Comparison(false, true);
            }
            return new Comparison(false, false);
        }
        if (accept) {
            LOG.warn("route '{}': {} is not the directory the route synced before: {}; accepted by {}, this run is full"
                    + " and records it as it is now", route.name(), what, difference.get().description(), acceptOption);
            return new Comparison(true, true);
        }
        throw new SyncException(exitCode, "route '" + route.name() + "': " + what + " is not the directory the route"
                + " synced before: " + difference.get().description() + ". Nothing was sent. Fix: "
                + difference.get().fixBelow().orElse(fix) + "; or, if it was changed on purpose, run '" + command + " "
                + acceptOption + "' once (its run is full and records it as it is now)");
    }

    /** Remembers the identities after a successful run: the first one, one that accepted a change, or an old one. */
    void recordAfterSuccess(Identities identities) throws IOException {
        if (identities.rootToRecord()) {
            identities.root().write(layout.rootIdentity(route.name()));
        }
        if (route.localDestination() && identities.destinationToRecord()) {
            // Now, not before the run: rsync created a destination that did not exist yet.
            FileSystemIdentity.of(Path.of(route.dest()), NOTHING_IGNORED).write(layout.destinationIdentity(route.name()));
        }
    }
}
