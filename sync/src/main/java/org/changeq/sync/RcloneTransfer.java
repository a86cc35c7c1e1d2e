package org.changeq.sync;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Consumer;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.PathBytes;
import org.changeq.pipeline.config.HistorySettings;
import org.changeq.pipeline.config.RcloneDestination;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.pipeline.plan.DeletionLists;
import org.changeq.pipeline.state.StateDirectory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rclone destination kind: each pass one or a few rclone commands whose JSON log {@link RcloneLog} reads back into
 * rsync's terms (itemized lines, an outcome with rsync's exit status). Every command names the route's config file,
 * never creates a bucket ({@code --s3-no-check-bucket}: a typo must not receive the tree), leaves retrying to changeq
 * ({@code --retries 1}, two low-level tries: an unreachable server fails the run in seconds) and skips symbolic links,
 * which S3 cannot hold. With history, what a pass overwrites or deletes goes into the run's directory of the history
 * ({@code --backup-dir}: on S3 a server-side copy and a delete). Measured facts it builds on: docs/rclone.md.
 * Immutable: the variants are new transfers.
 */
final class RcloneTransfer implements Transfer {

    private static final Logger LOG = LoggerFactory.getLogger(RcloneTransfer.class);
    static final String RCLONE = "rclone";
    /** rclone 1.60's S3 client refuses every command while it is set ("LoadCustomCABundleError"). */
    private static final Set<String> UNSET = Set.of("AWS_CA_BUNDLE");
    private static final String HISTORY = HistorySettings.DIRECTORY;

    private final RouteConfig route;
    private final RcloneDestination destination;
    private final Path root;
    private final String source;
    private final boolean deleteOnFull;
    private final boolean dryRun;
    private final OptionalLong maxDelete;
    /** The run directory of the history that receives what the passes overwrite or delete; empty without history. */
    private final Optional<String> historyRun;

    RcloneTransfer(RouteConfig route, Path root, boolean dryRun) {
        this(route, root, route.deleteOnFull(), dryRun, OptionalLong.empty(), Optional.empty());
    }

    private RcloneTransfer(RouteConfig route, Path root, boolean deleteOnFull, boolean dryRun,
                           OptionalLong maxDelete, Optional<String> historyRun) {
        this.route = route;
        this.destination = route.rclone().orElseThrow();
        this.root = root;
        this.source = root + "/";
        this.deleteOnFull = deleteOnFull;
        this.dryRun = dryRun;
        this.maxDelete = maxDelete;
        this.historyRun = historyRun;
    }

    @Override
    public Transfer asDryRun() {
        return new RcloneTransfer(route, root, deleteOnFull, true, maxDelete, historyRun);
    }

    /** rclone's itemized lines always carry the plain name: the failure check is the dry run. */
    @Override
    public Transfer asFailureCheck() {
        return asDryRun();
    }

    /** A fence only, as rsync's: the deletion guard counted the preview before anything was deleted. */
    @Override
    public Transfer limitingDeletions(long limit) {
        return new RcloneTransfer(route, root, deleteOnFull, dryRun, OptionalLong.of(limit), historyRun);
    }

    @Override
    public Transfer withoutDeletions() {
        return new RcloneTransfer(route, root, false, dryRun, maxDelete, historyRun);
    }

    @Override
    public Transfer keepingHistoryIn(String run) {
        return new RcloneTransfer(route, root, deleteOnFull, dryRun, maxDelete, Optional.of(run));
    }

    @Override
    public Pass fullPass() {
        return fullPass(deleteOnFull);
    }

    /**
     * {@code rclone sync} (or {@code copy}) of the whole root. The marker and the history directory are neither sent
     * nor deleted. A dry run names a backup directory it never creates, so that rclone's preview tells an overwrite
     * ({@code skipped: move} before the copy) from a new file.
     */
    @Override
    public Pass fullPass(boolean delete) {
        List<String> args = new ArrayList<>(List.of(delete ? "sync" : "copy"));
        // rclone counts the delete that ends each server-side copy into the history as a deletion too: with history
        // the fence would stop a sync that overwrites more than it may delete. The preview counted the deletions.
        if (delete && historyRun.isEmpty()) {
            maxDelete.ifPresent(limit -> args.addAll(List.of("--max-delete", Long.toString(limit))));
        }
        args.addAll(protectedPaths());
        args.addAll(backupDir(""));
        args.addAll(List.of("--", source, destination.target()));
        Map<String, byte[]> none = Map.of();
        return new Invocation(rclone(args), none);
    }

    /**
     * The NUL-separated paths of {@code list}: rclone reads them one a line from a list of its own beside it
     * ({@code --files-from-raw}, which keeps {@code #}, {@code ;} and leading spaces as names). These go on their own
     * instead: a name with a newline or a carriage return, which no line carries intact ({@code copyto}); a directory,
     * which the list skips without a word (1.60 copies only the files it names) where a whole subtree is meant
     * ({@code copy}); and a name rclone cannot take at all ({@link #unsendable}), which is never dropped.
     */
    @Override
    public Pass recursivePass(Path list) {
        return new ListedCopy(list, List.of());
    }

    /** As {@link #recursivePass}, compared by content ({@code --checksum}): a same-size, same-time rewrite is sent. */
    @Override
    public Pass contentPass(Path list) {
        return new ListedCopy(list, List.of("--checksum"));
    }

    /** S3 keeps no directories: their attributes have nowhere to go. */
    @Override
    public Pass directoryPass(Path list) {
        return new NoPass();
    }

    /**
     * {@code rclone delete} of exactly the deleted paths (each an object, or all below it when it was a directory)
     * that are still gone at the source, by filter rules naming them; a deleted name with a newline, which no rule can
     * carry, by {@code deletefile}.
     */
    @Override
    public Pass deletionPass(DeletionLists lists) {
        return new Deletion(lists);
    }

    /**
     * A dry run of {@code rclone sync} of each directory of {@code directories} one level deep: what it would delete is
     * what the destination holds there that the source does not ({@link Verify}'s extra paths). Dry runs only.
     */
    @Override
    public Pass extraPass(Path directories) {
        if (!dryRun) {
            throw new IllegalStateException("the pass that finds extra paths deletes them unless it is a dry run");
        }
        return new Extra(directories);
    }

    private final class Extra implements Pass {

        private final Path directories;

        Extra(Path directories) {
            this.directories = directories;
        }

        @Override
        public List<String> command() {
            return command("DIR");
        }

        private List<String> command(String directory) {
            String relative = directory.isEmpty() ? "" : directory + "/";
            List<String> args = new ArrayList<>(List.of("sync", "--max-depth", "1"));
            args.addAll(protectedPaths());
            args.addAll(backupDir(relative));
            args.addAll(List.of("--", source + relative, destination.target() + "/" + relative));
            return rclone(args);
        }

        @Override
        public RsyncRunner.Outcome run(Consumer<byte[]> itemized, RsyncProgress progress)
                throws SyncException, InterruptedException {
            RsyncRunner.Outcome outcome = RsyncRunner.Outcome.NOT_RUN;
            List<byte[]> entries;
            try {
                entries = entries(StateDirectory.read(directories));
            } catch (IOException e) {
                throw new SyncException(ExitCodes.SOFTWARE, "cannot read the list " + directories + ": " + e, e);
            }
            for (byte[] entry : entries) {
                // DIR/. (the root as .): the directory's entries.
                byte[] directory = Arrays.copyOf(entry, Math.max(0, entry.length - (entry.length == 1 ? 1 : 2)));
                if (!ByteStrings.isValidUtf8(directory)) {
                    LOG.info("{} at {} is not compared for extra objects: a name that is not UTF-8 cannot be given to"
                            + " rclone as an argument", ByteStrings.escape(directory), destination.target());
                    continue;
                }
                Consumer<byte[]> relative = directory.length == 0 ? itemized
                        : line -> itemized.accept(prefixed(line, directory));
                outcome = outcome.plus(invoke(command(new String(directory, StandardCharsets.UTF_8)),
                        new RcloneLog.Names(directory.length == 0 ? root : PathBytes.resolve(root, directory), Map.of()),
                        false, relative, progress));
                if (!outcome.succeeded() && !outcome.partial()) {
                    break;
                }
            }
            return outcome;
        }
    }

    /**
     * Copies the marker object below {@code directory}. rclone says "directory not found" (exit 3) alike for a missing
     * object, prefix or bucket: each is a destination without the marker, which the route refuses once it placed one.
     */
    @Override
    public Pass fetchMarker(Path directory) {
        return new Invocation(rclone(List.of("copyto", "--", destination.target() + "/" + DestinationMarker.NAME,
                directory + "/" + DestinationMarker.NAME)), Map.of(), true);
    }

    @Override
    public Pass placeMarker(Path file) {
        return new Invocation(rclone(List.of("copyto", "--", file.toString(),
                destination.target() + "/" + DestinationMarker.NAME)), Map.of());
    }

    @Override
    public History history(Path scratch) {
        return new History(route, new HistoryStore());
    }

    /**
     * The history below the remote path: listed with {@code rclone lsjson}, a run directory removed with
     * {@code rclone purge}, a version copied back with {@code rclone copy}. S3 keeps no directories: the listing holds
     * files only.
     */
    private final class HistoryStore implements History.Store {

        /** {@code lsjson}'s times, as rsync's {@code %M} shows them. */
        private static final java.time.format.DateTimeFormatter MODIFIED =
                java.time.format.DateTimeFormatter.ofPattern("uuuu/MM/dd-HH:mm:ss").withZone(java.time.ZoneOffset.UTC);

        @Override
        public String destination() {
            return destination.target() + "/";
        }

        private String location() {
            return destination() + HISTORY;
        }

        @Override
        public List<History.Entry> list() throws SyncException, IOException, InterruptedException {
            Path listing = Files.createTempFile("changeq-rclone-", ".json");
            Path log = Files.createTempFile("changeq-rclone-", ".log");
            try {
                List<String> command = new ArrayList<>(rclone(List.of("lsjson", "-R", "--files-only", "--",
                        location())));
                command.addAll(1, List.of("--log-file", log.toString()));
                RsyncRunner.Outcome listed = RsyncRunner.run(command, UNSET, listing);
                if (listed.exitCode() == 3) {
                    // "directory not found": no run kept anything yet.
                    return List.of();
                }
                RsyncRunner.Outcome outcome = RcloneLog.read(log, new RcloneLog.Names(root, Map.of())).outcome(listed);
                if (!outcome.succeeded()) {
                    throw failure("cannot list the history " + location(), outcome);
                }
                List<History.Entry> entries = new ArrayList<>();
                for (String line : Files.readAllLines(listing, StandardCharsets.UTF_8)) {
                    String object = line.strip();
                    if (object.endsWith(",")) {
                        object = object.substring(0, object.length() - 1);
                    }
                    if (!object.startsWith("{")) {
                        continue;
                    }
                    entry(JsonLine.parse(object)).ifPresent(entries::add);
                }
                return entries;
            } finally {
                Files.deleteIfExists(listing);
                Files.deleteIfExists(log);
            }
        }

        /** {@code {"Path":"RUN/a/b","Size":2,"ModTime":"2026-12-07T12:00:00.5Z",...}}; empty outside a run directory. */
        private static Optional<History.Entry> entry(Map<String, Object> object) {
            if (!(object.get("Path") instanceof String path) || path.indexOf('/') < 0) {
                return Optional.empty();
            }
            String modified = object.get("ModTime") instanceof String time
                    ? MODIFIED.format(java.time.OffsetDateTime.parse(time).toInstant()) : "";
            long size = object.get("Size") instanceof Number number ? number.longValue() : 0;
            int slash = path.indexOf('/');
            return Optional.of(new History.Entry(path.substring(0, slash),
                    path.substring(slash + 1).getBytes(StandardCharsets.UTF_8), size, modified, false));
        }

        @Override
        public void remove(List<String> runs) throws SyncException, IOException, InterruptedException {
            for (String run : runs) {
                RsyncRunner.Outcome outcome = invoke(rclone(List.of("purge", "--", location() + "/" + run)),
                        new RcloneLog.Names(root, Map.of()), true, line -> { }, RsyncProgress.NONE);
                if (!outcome.succeeded()) {
                    throw failure("removing the expired run directory " + location() + "/" + run, outcome);
                }
            }
        }

        /** A file or a directory alike: filter rules that take {@code path} and everything below it. */
        @Override
        public long copy(String base, String path, Path into) throws SyncException, IOException, InterruptedException {
            // Filter rules, not --include beside --exclude, whose order rclone leaves open.
            List<String> args = new ArrayList<>(List.of("copy", "--ignore-times", "--filter", "- /"
                    + DestinationMarker.NAME, "--filter", "- /" + HISTORY + "/**"));
            if (!path.isEmpty()) {
                String rule = new String(glob(path.getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
                args.addAll(List.of("--filter", "+ /" + rule, "--filter", "+ /" + rule + "/**", "--filter", "- **"));
            }
            args.addAll(List.of("--", base, into.toString()));
            RsyncRunner.Outcome outcome = invoke(rclone(args), new RcloneLog.Names(into, Map.of()), true, line -> { },
                    RsyncProgress.NONE);
            if (!outcome.succeeded()) {
                throw failure("copying " + base + path + " into " + into, outcome);
            }
            return outcome.files();
        }

        private SyncException failure(String what, RsyncRunner.Outcome outcome) {
            int exitCode = RouteSync.exitCodeOf(outcome);
            return new SyncException(exitCode == ExitCodes.OK ? ExitCodes.SYNC_FAILED : exitCode, "route '"
                    + route.name() + "': " + what + " failed (rclone exit " + outcome.exitCode()
                    + (outcome.errors().isEmpty() ? "" : ": " + String.join(" | ", outcome.errors())) + ")");
        }
    }

    private static List<String> protectedPaths() {
        return List.of("--exclude", "/" + DestinationMarker.NAME, "--exclude", "/" + HISTORY + "/**");
    }

    /**
     * The backup directory of a command whose destination is {@code relative} (empty or ending in a slash) below the
     * destination's top: the history's run directory, or, in a dry run, one it never creates, so that rclone's preview
     * tells an overwrite ({@code skipped: move} before the copy) from a new file. rclone keeps a replaced object under
     * its name relative to the command's destination, so the backup directory lies as deep.
     */
    private List<String> backupDir(String relative) {
        if (dryRun) {
            return List.of("--backup-dir", destination.target() + "/" + HISTORY + "/.dry-run");
        }
        return historyRun.map(run -> List.of("--backup-dir", runDirectory(run) + "/" + relative)).orElse(List.of());
    }

    /** {@code REMOTE:PATH/.changeq-history/RUN}. */
    private String runDirectory(String run) {
        return destination.target() + "/" + HISTORY + "/" + run;
    }

    private List<String> rclone(List<String> args) {
        List<String> command = new ArrayList<>(List.of(RCLONE, "--config", destination.config().toString(),
                // A missing bucket is an error, never one made: a typo must not receive the tree.
                "--s3-no-check-bucket", "--retries", "1", "--low-level-retries", "2", "--skip-links",
                "--use-json-log", "--log-level", "INFO"));
        if (dryRun) {
            command.add("--dry-run");
        }
        command.addAll(args);
        RsyncTransfer.requireEncodable(command);
        return List.copyOf(command);
    }

    /**
     * Runs one rclone command with its log in a temporary file and reads the log back.
     *
     * @param missingIsNothing rclone's "not found" (exit 3) means there was nothing to copy
     */
    private RsyncRunner.Outcome invoke(List<String> command, RcloneLog.Names names, boolean missingIsNothing,
                                       Consumer<byte[]> itemized, RsyncProgress progress)
            throws SyncException, InterruptedException {
        Path log;
        try {
            log = Files.createTempFile("changeq-rclone-", ".log");
        } catch (IOException e) {
            throw new SyncException(ExitCodes.SOFTWARE, "cannot create a temporary file for rclone's log: " + e
                    + "; check that " + System.getProperty("java.io.tmpdir") + " is writable", e);
        }
        try {
            List<String> logged = new ArrayList<>(command);
            logged.addAll(1, List.of("--log-file", log.toString()));
            RsyncRunner.Outcome raw = RsyncRunner.run(logged, UNSET, line -> { }, RsyncProgress.NONE);
            RcloneLog read = RcloneLog.read(log, names);
            read.feed(itemized.andThen(progress::itemized));
            if (missingIsNothing && raw.exitCode() == 3) {
                return RsyncRunner.Outcome.NOT_RUN;
            }
            return read.outcome(raw);
        } catch (IOException e) {
            throw new SyncException(ExitCodes.SOFTWARE, "cannot read rclone's log " + log + ": " + e, e);
        } finally {
            try {
                Files.deleteIfExists(log);
            } catch (IOException e) {
                // A temporary file: the system's cleaning removes it.
            }
        }
    }

    private final class Invocation implements Pass {
        private final List<String> command;
        private final Map<String, byte[]> listed;
        private final boolean missingIsNothing;

        Invocation(List<String> command, Map<String, byte[]> listed) {
            this(command, listed, false);
        }

        Invocation(List<String> command, Map<String, byte[]> listed, boolean missingIsNothing) {
            this.command = command;
            this.listed = listed;
            this.missingIsNothing = missingIsNothing;
        }

        @Override
        public List<String> command() {
            return command;
        }

        @Override
        public RsyncRunner.Outcome run(Consumer<byte[]> itemized, RsyncProgress progress)
                throws SyncException, InterruptedException {
            return invoke(command, new RcloneLog.Names(root, listed), missingIsNothing, itemized, progress);
        }
    }

    /** A pass with nothing to do at this destination. */
    private static final class NoPass implements Pass {
        @Override
        public List<String> command() {
            return List.of();
        }

        @Override
        public RsyncRunner.Outcome run(Consumer<byte[]> itemized, RsyncProgress progress) {
            return RsyncRunner.Outcome.NOT_RUN;
        }
    }

    private final class ListedCopy implements Pass {

        private final Path list;
        private final Path lines;
        private final List<String> options;

        ListedCopy(Path list, List<String> options) {
            this.list = list;
            this.lines = list.resolveSibling(list.getFileName() + ".lines");
            this.options = options;
        }

        @Override
        public List<String> command() {
            List<String> args = new ArrayList<>(List.of("copy"));
            args.addAll(options);
            args.addAll(backupDir(""));
            args.addAll(List.of("--files-from-raw", lines.toString(), "--", source, destination.target()));
            return rclone(args);
        }

        @Override
        public RsyncRunner.Outcome run(Consumer<byte[]> itemized, RsyncProgress progress)
                throws SyncException, InterruptedException {
            List<Entry> alone = new ArrayList<>();
            Map<String, byte[]> listed = new HashMap<>();
            try {
                StateDirectory.replace(lines, asLines(StateDirectory.read(list), alone, listed), false);
            } catch (IOException e) {
                throw new SyncException(ExitCodes.SOFTWARE, "cannot write rclone's list " + lines + " from " + list + ": "
                        + e + "; check that the user changeq-sync runs as may write " + lines.getParent(), e);
            }
            RsyncRunner.Outcome outcome = invoke(command(), new RcloneLog.Names(root, listed), false, itemized, progress);
            for (Entry entry : alone) {
                byte[] name = entry.name();
                if (!outcome.succeeded() && !outcome.partial()) {
                    break;
                }
                Optional<String> unsendable = unsendable(name);
                if (unsendable.isPresent()) {
                    // Never dropped: a dry run lists it as still to send, so the failure check puts it in the retry list.
                    if (dryRun) {
                        itemized.accept(RcloneLog.itemizedNew(name));
                    } else {
                        String error = "cannot copy " + ByteStrings.escape(name) + " to " + destination.target() + ": "
                                + unsendable.get();
                        LOG.warn("{}", error);
                        outcome = outcome.plus(new RsyncRunner.Outcome(RsyncRunner.PARTIAL_TRANSFER, 0, 0, 0, 0, 0,
                                List.of(), List.of(), List.of(error)));
                    }
                    continue;
                }
                String decoded = new String(name, StandardCharsets.UTF_8);
                List<String> args = new ArrayList<>(List.of(entry.subtree() ? "copy" : "copyto"));
                args.addAll(options);
                // copyto's destination is the file's directory, copy's the subtree.
                String into = entry.subtree() ? decoded + "/" : decoded.substring(0, decoded.lastIndexOf('/') + 1);
                args.addAll(backupDir(into));
                args.addAll(List.of("--", source + decoded, destination.target() + "/" + decoded));
                // copyto names the object by its last segment.
                Map<String, byte[]> single = new HashMap<>();
                single.put(RcloneLog.Names.display(name), name);
                single.put(RcloneLog.Names.display(lastSegment(name)), name);
                Consumer<byte[]> relative = entry.subtree() ? line -> itemized.accept(prefixed(line, name)) : itemized;
                RcloneLog.Names names = entry.subtree() ? new RcloneLog.Names(PathBytes.resolve(root, name), Map.of())
                        : new RcloneLog.Names(root, single);
                outcome = outcome.plus(invoke(rclone(args), names, false, relative, progress));
            }
            return outcome;
        }
    }

    /**
     * Why rclone 1.60 cannot send {@code name} as it is; empty when it can. A process argument is a string, so a name
     * that is not UTF-8 cannot be given alone. A name holding U+201B, the quote of rclone's encoding, is read from a
     * list and from an argument as the encoded name it looks like (measured: {@code bad‛FFname} is taken for
     * {@code bad\xffname}, and nothing is sent), so it would be skipped without a word.
     */
    private static Optional<String> unsendable(byte[] name) {
        if (holdsQuote(name)) {
            return Optional.of("rclone reads a name holding U+201B as its encoding of another name and skips it");
        }
        if (!ByteStrings.isValidUtf8(name)) {
            return Optional.of("a name that is not UTF-8 and holds a newline or names a directory cannot be given to"
                    + " rclone as an argument");
        }
        return Optional.empty();
    }

    private static boolean holdsQuote(byte[] name) {
        for (int i = 0; i + 2 < name.length; i++) {
            if (name[i] == (byte) 0xe2 && name[i + 1] == (byte) 0x80 && name[i + 2] == (byte) 0x9b) {
                return true;
            }
        }
        return false;
    }

    /** An itemized line of a subtree's own copy, whose names are relative to the subtree, relative to the root. */
    private static byte[] prefixed(byte[] line, byte[] subtree) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(line.length + subtree.length + 1);
        out.write(line, 0, RsyncRunner.ITEMIZE_WIDTH);
        out.writeBytes(subtree);
        out.write('/');
        out.write(line, RsyncRunner.ITEMIZE_WIDTH, line.length - RsyncRunner.ITEMIZE_WIDTH);
        return out.toByteArray();
    }

    private static byte[] lastSegment(byte[] name) {
        int slash = name.length - 1;
        while (slash >= 0 && name[slash] != '/') {
            slash--;
        }
        return Arrays.copyOfRange(name, slash + 1, name.length);
    }

    /** An entry of a pass's list copied on its own; a subtree is a directory, copied whole. */
    private record Entry(byte[] name, boolean subtree) {
    }

    /**
     * {@code nulSeparated} one name a line; names holding a newline, directories and names rclone cannot take from a
     * list ({@link #holdsQuote}) go to {@code alone} instead.
     * {@code listed} receives each name by its display form, to map rclone's log back.
     */
    private byte[] asLines(byte[] nulSeparated, List<Entry> alone, Map<String, byte[]> listed) {
        ByteArrayOutputStream lines = new ByteArrayOutputStream(nulSeparated.length);
        for (byte[] name : entries(nulSeparated)) {
            if (ownName(name)) {
                // The marker and the history at the destination are changeq's, never a root's file of that name.
                continue;
            }
            boolean newline = false;
            for (byte b : name) {
                // rclone reads its list by lines, and drops a carriage return that ends one.
                newline |= b == '\n' || b == '\r';
            }
            Path path = PathBytes.resolve(root, name);
            if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                // Deleted since it was listed, as --files-from-raw skips it: copyto would fail on it (exit 1), and the
                // deletion pass removes it.
                continue;
            }
            boolean subtree = Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS);
            if (newline || subtree || holdsQuote(name)) {
                alone.add(new Entry(name, subtree));
            } else {
                lines.writeBytes(name);
                lines.write('\n');
                listed.put(RcloneLog.Names.display(name), name);
            }
        }
        return lines.toByteArray();
    }

    /** The marker at the destination's top, or the history directory or a path in it. */
    private static boolean ownName(byte[] path) {
        String name = new String(path, StandardCharsets.ISO_8859_1);
        return name.equals(DestinationMarker.NAME) || name.equals(HISTORY) || name.startsWith(HISTORY + "/");
    }

    /** The names of a NUL-separated list, relative to the root: without the {@code ./} rsync's lists begin with. */
    private static List<byte[]> entries(byte[] nulSeparated) {
        List<byte[]> entries = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < nulSeparated.length; i++) {
            if (nulSeparated[i] == 0) {
                int from = i - start >= 2 && nulSeparated[start] == '.' && nulSeparated[start + 1] == '/' ? start + 2
                        : start;
                entries.add(Arrays.copyOfRange(nulSeparated, from, i));
                start = i + 1;
            }
        }
        return entries;
    }

    private final class Deletion implements Pass {

        private final DeletionLists lists;
        private final Path rules;

        Deletion(DeletionLists lists) {
            this.lists = lists;
            this.rules = lists.filter().resolveSibling(lists.filter().getFileName() + ".rclone");
        }

        @Override
        public List<String> command() {
            List<String> args = new ArrayList<>(List.of("delete"));
            maxDelete.ifPresent(limit -> args.addAll(List.of("--max-delete", Long.toString(limit))));
            args.addAll(List.of("--filter-from", rules.toString(), "--", destination.target()));
            return rclone(args);
        }

        @Override
        public RsyncRunner.Outcome run(Consumer<byte[]> itemized, RsyncProgress progress)
                throws SyncException, InterruptedException {
            List<byte[]> gone = new ArrayList<>();
            List<byte[]> withNewline = new ArrayList<>();
            Map<String, byte[]> listed = new HashMap<>();
            ByteArrayOutputStream filter = new ByteArrayOutputStream();
            filter.writeBytes(("- /" + DestinationMarker.NAME + "\n- /" + HISTORY + "/**\n")
                    .getBytes(StandardCharsets.UTF_8));
            try {
                for (byte[] path : entries(StateDirectory.read(lists.deletedPaths()))) {
                    if (Files.exists(PathBytes.resolve(root, path), LinkOption.NOFOLLOW_LINKS) || ownName(path)) {
                        // Back at the source: the files pass sent it, and it stays.
                        continue;
                    }
                    if (!ByteStrings.isValidUtf8(path)) {
                        // rclone's rules are regular expressions over strings: an invalid byte would match any other.
                        LOG.info("the deletion of {} at {}, a name that is not UTF-8, is left to the next full sync",
                                ByteStrings.escape(path), destination.target());
                        continue;
                    }
                    listed.put(RcloneLog.Names.display(path), path);
                    boolean newline = false;
                    for (byte b : path) {
                        newline |= b == '\n';
                    }
                    if (newline) {
                        withNewline.add(path);
                        continue;
                    }
                    gone.add(path);
                    byte[] glob = glob(path);
                    filter.writeBytes("+ /".getBytes(StandardCharsets.US_ASCII));
                    filter.writeBytes(glob);
                    filter.writeBytes("\n+ /".getBytes(StandardCharsets.US_ASCII));
                    filter.writeBytes(glob);
                    filter.writeBytes("/**\n".getBytes(StandardCharsets.US_ASCII));
                }
                filter.writeBytes("- **\n".getBytes(StandardCharsets.US_ASCII));
                StateDirectory.replace(rules, filter.toByteArray(), false);
            } catch (NoSuchFileException e) {
                return RsyncRunner.Outcome.NOT_RUN;
            } catch (IOException e) {
                throw new SyncException(ExitCodes.SOFTWARE, "cannot write rclone's deletion rules " + rules + ": " + e
                        + "; check that the user changeq-sync runs as may write " + rules.getParent(), e);
            }
            RsyncRunner.Outcome outcome = RsyncRunner.Outcome.NOT_RUN;
            if (!gone.isEmpty()) {
                outcome = keep(List.of("copy", "--filter-from", rules.toString(), "--", destination.target()), "",
                        progress);
                if (outcome.succeeded()) {
                    outcome = outcome.plus(invoke(command(), new RcloneLog.Names(root, listed), false, itemized,
                            progress));
                }
            }
            for (byte[] path : withNewline) {
                if (!outcome.succeeded() && !outcome.partial()) {
                    break;
                }
                String decoded = new String(path, StandardCharsets.UTF_8);
                Map<String, byte[]> single = Map.of(RcloneLog.Names.display(lastSegment(path)), path);
                RsyncRunner.Outcome kept = keep(List.of("copyto", "--", destination.target() + "/" + decoded), decoded,
                        progress);
                outcome = outcome.plus(kept);
                if (kept.succeeded()) {
                    outcome = outcome.plus(invoke(rclone(List.of("deletefile", "--", destination.target() + "/"
                            + decoded)), new RcloneLog.Names(root, single), true, itemized, progress));
                }
            }
            return outcome;
        }

        /**
         * With history, copies what a deletion is about to remove into the run's directory ({@code args} and
         * {@code relative}, the run directory's own part of the copy's destination); rclone's {@code delete} keeps no
         * backup itself. A copy that fails leaves the object in place: the deletion waits for the next run.
         */
        private RsyncRunner.Outcome keep(List<String> args, String relative, RsyncProgress progress)
                throws SyncException, InterruptedException {
            if (historyRun.isEmpty() || dryRun) {
                return RsyncRunner.Outcome.NOT_RUN;
            }
            List<String> copy = new ArrayList<>(args);
            copy.add(runDirectory(historyRun.get()) + (relative.isEmpty() ? "" : "/" + relative));
            return invoke(rclone(copy), new RcloneLog.Names(root, Map.of()), true, line -> { }, progress);
        }
    }

    /**
     * {@code path} as an rclone glob matching itself alone: each of rclone's wildcard characters escaped, and each
     * blank in a class of its own ({@code [ ]}), since rclone trims a rule's line and a name may end in one.
     */
    private static byte[] glob(byte[] path) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(path.length + 8);
        for (byte b : path) {
            if (b == ' ' || b == '\t' || b == '\r') {
                out.write('[');
                out.write(b);
                out.write(']');
                continue;
            }
            if ("*?[]{}\\".indexOf(b) >= 0) {
                out.write('\\');
            }
            out.write(b);
        }
        return out.toByteArray();
    }
}
