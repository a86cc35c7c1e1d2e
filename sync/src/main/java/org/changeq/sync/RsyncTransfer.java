package org.changeq.sync;

import java.nio.charset.Charset;
import java.nio.charset.CharsetEncoder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.Consumer;
import org.changeq.pipeline.config.RootConfig;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.pipeline.plan.DeletionLists;

/**
 * The rsync destination kind: the rsync argument vectors of one route, each run by {@link RsyncRunner}. Never run
 * through a shell. Every invocation compares
 * modification times to the nanosecond ({@code --modify-window=-1}): rsync's default quick check
 * skips a same-size rewrite within the same second. Thread-safe (immutable).
 */
final class RsyncTransfer implements Transfer {

    static final String RSYNC = "rsync";
    static final String DRY_RUN = "--dry-run";

    private final RouteConfig route;
    private final List<String> filters;
    private final String source;
    private final boolean dryRun;
    private final boolean plainNames;
    private final OptionalLong maxDelete;
    private final boolean deleting;
    /** {@code --backup --backup-dir=...} of a run that keeps history; empty otherwise. */
    private final List<String> backup;

    RsyncTransfer(RouteConfig route, RootConfig root, boolean dryRun) {
        this(route, filters(route, root), root.path() + "/", dryRun, false, OptionalLong.empty(), true, List.of());
    }

    /**
     * The route's filter rules, after the rule that keeps a remote destination's {@link DestinationMarker}: excluded,
     * it is neither sent from the root nor deleted by {@code --delete} ({@code --delete-excluded} is refused in
     * rsync-args).
     */
    private static List<String> filters(RouteConfig route, RootConfig root) {
        List<String> filters = new ArrayList<>();
        if (!route.localDestination()) {
            filters.add("--filter=- /" + DestinationMarker.NAME);
        }
        filters.add(History.filter(route));
        filters.addAll(FilterRules.of(route, root));
        return List.copyOf(filters);
    }

    private RsyncTransfer(RouteConfig route, List<String> filters, String source, boolean dryRun, boolean plainNames,
                         OptionalLong maxDelete, boolean deleting, List<String> backup) {
        this.route = route;
        this.filters = filters;
        this.source = source;
        this.dryRun = dryRun;
        this.plainNames = plainNames;
        this.maxDelete = maxDelete;
        this.deleting = deleting;
        this.backup = backup;
    }

    /** The same passes with {@code --dry-run}: what a pass would do, without doing it. */
    @Override
    public RsyncTransfer asDryRun() {
        return new RsyncTransfer(route, filters, source, true, plainNames, maxDelete, deleting, backup);
    }

    /**
     * The same passes with {@code --dry-run}, each item printed as {@code %i %n} alone: the default {@code %i %n%L}
     * appends {@code -> TARGET} to links and {@code => NAME} to hard links, which a name can contain too.
     * {@link FailedPaths} reads the names.
     */
    @Override
    public RsyncTransfer asFailureCheck() {
        return new RsyncTransfer(route, filters, source, true, true, maxDelete, deleting, backup);
    }

    /** The same passes with rsync's own fence: no more than {@code limit} deletions, exit 25 past it. */
    @Override
    public RsyncTransfer limitingDeletions(long limit) {
        return new RsyncTransfer(route, filters, source, dryRun, plainNames, OptionalLong.of(limit), deleting, backup);
    }

    /**
     * The same full pass sending what is new or changed and deleting nothing, whatever the route says: deletions held
     * back by its max-delete must not hold back the rest.
     */
    @Override
    public RsyncTransfer withoutDeletions() {
        return new RsyncTransfer(route, filters, source, dryRun, plainNames, maxDelete, false, backup);
    }

    /**
     * The same passes moving what they overwrite or delete at the destination into the history's run directory
     * {@code run} ({@link History}).
     */
    @Override
    public RsyncTransfer keepingHistoryIn(String run) {
        return new RsyncTransfer(route, filters, source, dryRun, plainNames, maxDelete, deleting, History.backup(run));
    }

    /** The pass for files and SUBTREE directories: recursive. A listed path that is gone is the deletion pass's. */
    @Override
    public Pass recursivePass(Path list) {
        return new Invocation(listedPass(list));
    }

    /**
     * The pass for deletions: the directories deleted paths were in, each synced one level deep with {@code --delete},
     * the receiver protecting all in them but the deleted paths ({@link DeletionLists}). A deleted directory goes with
     * all it held; a path the route excludes stays.
     */
    @Override
    public Pass deletionPass(DeletionLists lists) {
        List<String> args = common();
        // Before the merge file: rsync reads it while parsing the options, and --from0 makes its rules NUL-terminated.
        args.add("--from0");
        // Before the route's rules, whose includes would otherwise match first and leave the siblings unprotected.
        // Its rules bind only the receiver: what the sender lists stays the route's choice.
        args.add("--filter=. " + lists.filter());
        args.addAll(filters);
        args.add("--no-r");
        args.add("--dirs");
        args.add("--delete");
        addMaxDelete(args);
        args.add("--files-from=" + lists.directories());
        args.add("--ignore-missing-args");
        return new Invocation(endpoints(args));
    }

    /**
     * The pass for directories whose own attributes changed: no recursion into them. With {@code -r}
     * a listed directory is walked whole on both ends; measured here on a 50,000-file directory whose
     * mtime changed: 0.30 s with {@code -r}, 0.05 s with {@code --no-r --dirs}. The price is a second
     * rsync invocation (one more connection to a daemon) in runs that have such entries.
     */
    @Override
    public Pass directoryPass(Path list) {
        return new Invocation(listedPass(list, "--no-r", "--dirs"));
    }

    /**
     * The pass for files whose content was written: compared by content ({@code --checksum}), since a tool may have
     * put back their old size and modification time and rsync's quick check would skip them. These files are listed
     * here instead of in the recursive pass, not in both: {@code --checksum} reads a file that differs in time only
     * on both ends and then transfers it, where the quick check would transfer it at once, but a file sent by the
     * recursive pass first would be read on both ends again afterwards (BENCHMARKS.md has the figures). A listed
     * path that is gone was or will be recorded as deleted; the recursive pass deletes it.
     */
    @Override
    public Pass contentPass(Path list) {
        return new Invocation(listedPass(list, "--checksum"));
    }

    /**
     * A dry run over directories, each one level deep with {@code --delete}: what it would delete is what the
     * destination holds in them that the source does not ({@link Verify}'s extra paths). Dry runs only.
     */
    @Override
    public Pass extraPass(Path directories) {
        if (!dryRun) {
            throw new IllegalStateException("the pass that finds extra paths deletes them unless it is a dry run");
        }
        return new Invocation(listedPass(directories, "--no-r", "--dirs", "--delete"));
    }

    /**
     * A pass over the NUL-separated paths in {@code list}, under the route's rules, with {@code passOptions}; a listed
     * path that is gone is skipped.
     */
    private List<String> listedPass(Path list, String... passOptions) {
        List<String> args = common();
        args.addAll(filters);
        args.addAll(List.of(passOptions));
        args.add("--from0");
        args.add("--files-from=" + list);
        args.add("--ignore-missing-args");
        return endpoints(args);
    }

    /** The whole tree, with {@code --delete} when the route deletes on full syncs. */
    @Override
    public Pass fullPass() {
        return fullPass(route.deleteOnFull() && deleting);
    }

    @Override
    public Pass fullPass(boolean delete) {
        List<String> args = common();
        if (delete) {
            args.add("--delete");
            addMaxDelete(args);
        }
        args.addAll(filters);
        return new Invocation(endpoints(args));
    }

    /**
     * Copies the destination's {@link DestinationMarker} below {@code directory}, under its path relative to the
     * module or login ({@code --relative}: the sender then stats the whole path instead of entering its directory, so a
     * destination directory that does not exist is a missing argument like a missing marker); copies nothing, and
     * succeeds, when either is missing. Without recursion: a directory of that name is no marker.
     */
    @Override
    public Pass fetchMarker(Path directory) {
        List<String> args = connection();
        args.add("--no-r");
        args.add("--relative");
        args.add("--ignore-missing-args");
        args.add("--");
        args.add(destinationDirectory() + DestinationMarker.NAME);
        args.add(directory + "/");
        requireEncodable(args);
        return new Invocation(List.copyOf(args));
    }

    /** Puts the marker {@code file} at the top of the destination. */
    @Override
    public Pass placeMarker(Path file) {
        List<String> args = connection();
        args.add("--");
        args.add(file.toString());
        args.add(destinationDirectory());
        requireEncodable(args);
        return new Invocation(List.copyOf(args));
    }

    @Override
    public History history(Path scratch) {
        return new History(route, new History.Rsync(route, this, scratch));
    }

    /** One rsync invocation. */
    private record Invocation(List<String> command) implements Pass {

        @Override
        public RsyncRunner.Outcome run(Consumer<byte[]> itemized, RsyncProgress progress)
                throws SyncException, InterruptedException {
            return RsyncRunner.run(command, itemized, progress);
        }
    }

    /** The route's own arguments (ssh command, password file, port, timeouts) and nothing a pass adds. */
    List<String> connection() {
        List<String> args = new ArrayList<>();
        args.add(RSYNC);
        args.addAll(route.rsyncArgs());
        return args;
    }

    /** {@code dest} as a directory, ending in a slash; {@code host:} (the login's home) as it is. */
    String destinationDirectory() {
        String dest = route.dest();
        return dest.endsWith("/") || dest.endsWith(":") ? dest : dest + "/";
    }

    private void addMaxDelete(List<String> args) {
        maxDelete.ifPresent(limit -> args.add("--max-delete=" + limit));
    }

    private List<String> common() {
        List<String> args = new ArrayList<>();
        args.add(RSYNC);
        args.addAll(route.rsyncArgs());
        args.add("--modify-window=-1");
        args.add("--itemize-changes");
        // What a long pass has done so far, for RunProgress: these lines are read, never logged.
        args.add("--info=progress2");
        if (plainNames) {
            args.add("--out-format=%i %n");
        }
        args.add("--stats");
        args.addAll(backup);
        if (dryRun) {
            args.add(DRY_RUN);
        }
        return args;
    }

    private List<String> endpoints(List<String> args) {
        args.add("--");
        args.add(source);
        args.add(route.dest());
        requireEncodable(args);
        return List.copyOf(args);
    }

    /**
     * The JVM encodes process arguments with the platform charset; under the POSIX locale a
     * non-ASCII root, destination or pattern would silently become '?'.
     */
    static void requireEncodable(List<String> args) {
        Charset charset = Charset.forName(System.getProperty("sun.jnu.encoding", Charset.defaultCharset().name()));
        CharsetEncoder encoder = charset.newEncoder();
        for (String arg : args) {
            if (!encoder.canEncode(arg)) {
                throw new IllegalArgumentException("rsync argument '" + arg + "' cannot be passed in the platform charset "
                        + charset + "; run changeq-sync with a UTF-8 locale (e.g. LANG=C.UTF-8)");
            }
        }
    }
}
