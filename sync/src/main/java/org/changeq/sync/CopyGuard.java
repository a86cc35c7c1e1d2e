package org.changeq.sync;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.RootConfig;
import org.changeq.pipeline.config.RouteConfig;
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
     */
    record Identities(FileSystemIdentity root, Optional<FileSystemIdentity> destination, boolean rootAccepted,
                      boolean destinationAccepted) {

        boolean accepted() {
            return rootAccepted || destinationAccepted;
        }
    }

    /**
     * Refuses a root that is missing, unreadable, or not the directory the route first synced, and a
     * local destination that is missing or not the directory the route first wrote.
     *
     * @throws SyncException with {@code ROOT_UNAVAILABLE} or {@code DESTINATION_CHANGED}; nothing was sent
     */
    Identities checkIdentities() throws SyncException, IOException {
        Path rootPath = root.path();
        if (!Files.isDirectory(rootPath) || !Files.isReadable(rootPath)) {
            throw new SyncException(ExitCodes.ROOT_UNAVAILABLE, "root '" + root.name() + "' (" + rootPath
                    + ") is missing, not a directory or unreadable; route '" + route.name() + "' sends nothing. Mount it,"
                    + " or fix 'roots:' in the config");
        }
        FileSystemIdentity rootNow = FileSystemIdentity.of(rootPath);
        boolean rootAccepted = compare("root '" + root.name() + "' (" + rootPath + ")", layout.rootIdentity(route.name()),
                rootNow, request.acceptRootChange(), ExitCodes.ROOT_UNAVAILABLE, "--accept-root-change",
                "mount " + rootPath);

        if (!route.localDestination()) {
            return new Identities(rootNow, Optional.empty(), rootAccepted, false);
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
            return new Identities(rootNow, Optional.empty(), rootAccepted, remembered.isPresent());
        }
        FileSystemIdentity destNow = FileSystemIdentity.of(destPath);
        boolean destAccepted = compare("the destination " + destPath, layout.destinationIdentity(route.name()), destNow,
                request.acceptDestinationChange(), ExitCodes.DESTINATION_CHANGED, "--accept-dest-change",
                "mount the backup disk");
        return new Identities(rootNow, Optional.of(destNow), rootAccepted, destAccepted);
    }

    /** @return whether it differs and the operator accepted that */
    private boolean compare(String what, Path rememberedFile, FileSystemIdentity now, boolean accept, int exitCode,
                            String acceptOption, String fix) throws SyncException, IOException {
        Optional<FileSystemIdentity> remembered = FileSystemIdentity.read(rememberedFile);
        Optional<String> difference = remembered.flatMap(before -> before.differenceFrom(now));
        if (difference.isEmpty()) {
            return false;
        }
        if (accept) {
            LOG.warn("route '{}': {} is not the directory the route synced before: {}; accepted by {}, this run is full"
                    + " and records it as it is now", route.name(), what, difference.get(), acceptOption);
            return true;
        }
        throw new SyncException(exitCode, "route '" + route.name() + "': " + what + " is not the directory the route"
                + " synced before: " + difference.get() + ". Nothing was sent. Fix: " + fix + "; or, if it was replaced"
                + " on purpose, run '" + command + " " + acceptOption + "' once (its run is full)");
    }

    /** Remembers the identities after a successful run: the first one, or one that accepted a change. */
    void recordAfterSuccess(Identities identities) throws IOException {
        Path rootFile = layout.rootIdentity(route.name());
        if (identities.rootAccepted() || !Files.exists(rootFile)) {
            identities.root().write(rootFile);
        }
        Path destFile = layout.destinationIdentity(route.name());
        if (route.localDestination() && (identities.destinationAccepted() || !Files.exists(destFile))) {
            FileSystemIdentity.of(Path.of(route.dest())).write(destFile);
        }
    }
}
