package org.changeq.sync;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.HistorySettings;
import org.changeq.pipeline.config.RouteConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A route's history at its destination: {@value HistorySettings#DIRECTORY}{@code /<run start UTC>/<path as in the
 * root>}, one directory per run, filled by rsync's {@code --backup --backup-dir} with what the run overwrote or deleted
 * there (rclone's {@code --backup-dir} at an rclone destination). A path's versions are the run directories that hold
 * it: the one of run R holds the content the path had before R. The directory lies inside the destination (inside a
 * daemon's module, or below the remote path) and is reached through the destination kind's {@link Store}: with the
 * route's own rsync arguments ({@link Rsync}, a local directory, a daemon or an ssh destination), or with rclone.
 *
 * <p>Protection: every pass of a route with history excludes {@code /}{@value HistorySettings#DIRECTORY}{@code /} (never
 * sent, never deleted: rsync 3.2.7 by itself deletes the backup directory in a full {@code --delete}, or moves the
 * older history into the new run's directory); every pass of a route without history protects it, so that turning
 * history off does not let the next full sync delete what it kept.
 *
 * <p>Retention ({@link #retain}) runs only after a run passed the route's identity checks and succeeded, and removes
 * whole run directories ({@link Store#remove}). Confined to the calling thread.
 */
final class History {

    /** {@code 2026-12-07T12-00-00Z}: sorts by time, and has no colon (a colon in an rsync argument names a host). */
    static final DateTimeFormatter RUN_NAME = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH-mm-ss'Z'")
            .withZone(ZoneOffset.UTC);
    /** {@code %i %l %M %n}: the change letters, the size, the modification time and the name of each listed entry. */
    private static final String LISTING_FORMAT = "--out-format=%i %l %M %n";
    private static final Logger LOG = LoggerFactory.getLogger(History.class);
    /**
     * How often runs measure a history with a max-size again, though none of its run directories expired by age: it
     * may pass its max-size by what the runs of this interval keep.
     */
    static final Duration SIZE_CHECK_INTERVAL = Duration.ofHours(1);

    private final RouteConfig route;
    private final HistorySettings settings;
    private final Store store;

    History(RouteConfig route, Store store) {
        this.route = route;
        this.settings = route.history().orElseThrow();
        this.store = store;
    }

    /** How a destination kind reaches the history at its destination. */
    interface Store {

        /** Every file (and, where the destination keeps them, directory) of the history; empty when there is none. */
        List<Entry> list() throws SyncException, IOException, InterruptedException;

        /** Removes the run directories {@code runs}, each with all it holds. */
        void remove(List<String> runs) throws SyncException, IOException, InterruptedException;

        /** The destination's top, as the store names it, ending in a slash. */
        String destination();

        /** {@code base + path} (file or directory) copied to {@code into/path}; the number of files found there. */
        long copy(String base, String path, Path into) throws SyncException, IOException, InterruptedException;
    }

    /** One file, link or directory in the history. */
    record Entry(String run, byte[] path, long size, String modified, boolean directory) {
    }

    /** The rule every pass carries for the history's directory (see the class comment). */
    static String filter(RouteConfig route) {
        return route.history().isPresent() ? "--filter=- /" + HistorySettings.DIRECTORY + "/"
                : "--filter=P /" + HistorySettings.DIRECTORY + "/***";
    }

    /** rsync's arguments that move what a pass overwrites or deletes into the run directory {@code run}. */
    static List<String> backup(String run) {
        return List.of("--backup", "--backup-dir=" + HistorySettings.DIRECTORY + "/" + run);
    }

    /**
     * The name of the run directory of a run starting at {@code now}: its second, or the second after the one in which
     * the route's previous run finished (a follower's runs can follow within a second). The caller waits until that
     * second has begun before rsync starts, so a run's name never lies after its own end, and two runs never share a
     * directory: the second would replace the version the first kept of a path it overwrote again.
     */
    static String runName(Instant now, Optional<Instant> previousFinish) {
        Instant second = now.truncatedTo(ChronoUnit.SECONDS);
        if (previousFinish.isPresent()) {
            Instant after = previousFinish.get().truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
            if (second.isBefore(after)) {
                second = after;
            }
        }
        return RUN_NAME.format(second);
    }

    /** The start of the run whose directory has this name; empty for a name that is not one. */
    static Optional<Instant> runStart(String name) {
        try {
            return Optional.of(Instant.from(RUN_NAME.parse(name)));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    /**
     * Everything the history holds, in run order (oldest first), each run's entries in the store's order; an empty list
     * when the destination has no history yet.
     *
     * @throws SyncException when the history cannot be listed
     */
    List<Entry> list() throws SyncException, IOException, InterruptedException {
        List<Entry> entries = new ArrayList<>(store.list());
        entries.sort(java.util.Comparator.comparing(Entry::run));
        return entries;
    }

    /** {@code .../.changeq-history/} as the store reaches it. */
    String location() {
        return store.destination() + HistorySettings.DIRECTORY + "/";
    }

    /**
     * {@code >f+++++++++ 1234 2026/12/07-12:00:00 .changeq-history/RUN/PATH}, the name escaped by rsync; a run directory
     * itself has an empty path. Empty for the destination's top and the history's directory.
     */
    static Optional<Entry> parse(byte[] line) {
        int sizeStart = RsyncRunner.ITEMIZE_WIDTH;
        int sizeEnd = indexOf(line, (byte) ' ', sizeStart);
        int timeEnd = sizeEnd < 0 ? -1 : indexOf(line, (byte) ' ', sizeEnd + 1);
        if (timeEnd < 0) {
            return Optional.empty();
        }
        byte[] name = FailedPaths.unescape(line, timeEnd + 1);
        byte[] prefix = (HistorySettings.DIRECTORY + "/").getBytes(StandardCharsets.US_ASCII);
        if (name.length <= prefix.length || !Arrays.equals(name, 0, prefix.length, prefix, 0, prefix.length)) {
            return Optional.empty();
        }
        int length = name[name.length - 1] == '/' ? name.length - 1 : name.length;
        int slash = indexOf(name, (byte) '/', prefix.length);
        int runEnd = slash < 0 || slash > length ? length : slash;
        String run = new String(name, prefix.length, runEnd - prefix.length, StandardCharsets.ISO_8859_1);
        String size = new String(line, sizeStart, sizeEnd - sizeStart, StandardCharsets.US_ASCII).replaceAll("[^0-9]", "");
        return Optional.of(new Entry(run, runEnd >= length ? new byte[0] : Arrays.copyOfRange(name, runEnd + 1, length),
                size.isEmpty() ? 0 : Long.parseLong(size),
                new String(line, sizeEnd + 1, timeEnd - sizeEnd - 1, StandardCharsets.US_ASCII), line[1] == 'd'));
    }

    private static int indexOf(byte[] bytes, byte b, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }

    /** The size of each run directory's files, by run name, oldest first. */
    static TreeMap<String, Long> sizes(List<Entry> entries) {
        TreeMap<String, Long> sizes = new TreeMap<>();
        for (Entry entry : entries) {
            sizes.merge(entry.run(), entry.directory() ? 0 : entry.size(), Long::sum);
        }
        return sizes;
    }

    /**
     * What the history holds after retention.
     *
     * @param due when retention next has something to do: the oldest run directory kept expires, or, with a max-size,
     *            {@link #SIZE_CHECK_INTERVAL} from now, whichever comes first
     */
    record Summary(int runs, long bytes, Instant due) {
    }

    /**
     * Removes the run directories older than {@code keep} and then, oldest first, those past {@code max-size}; never
     * the run directory {@code current}. Call only after the run passed the route's identity checks.
     *
     * @throws SyncException when rsync cannot list or remove them; the caller logs it, the run stays a success
     */
    Summary retain(Instant now, String current) throws SyncException, IOException, InterruptedException {
        TreeMap<String, Long> sizes = sizes(list());
        Instant oldestKept = now.minus(settings.keep());
        List<String> expired = new ArrayList<>();
        long total = sizes.values().stream().mapToLong(Long::longValue).sum();
        for (var run : sizes.entrySet()) {
            Optional<Instant> start = runStart(run.getKey());
            if (start.isPresent() && start.get().isBefore(oldestKept) && !run.getKey().equals(current)) {
                expired.add(run.getKey());
                total -= run.getValue();
            }
        }
        int byAge = expired.size();
        if (settings.maxBytes().isPresent()) {
            for (var run : sizes.entrySet()) {
                if (total <= settings.maxBytes().getAsLong()) {
                    break;
                }
                if (!expired.contains(run.getKey()) && runStart(run.getKey()).isPresent()
                        && !run.getKey().equals(current)) {
                    expired.add(run.getKey());
                    total -= run.getValue();
                }
            }
        }
        int runs = (int) sizes.keySet().stream().filter(run -> runStart(run).isPresent()).count() - expired.size();
        // Later runs only add newer directories: none can expire by age before the oldest kept one.
        Instant oldestKeptStart = sizes.keySet().stream().filter(run -> !expired.contains(run)).map(History::runStart)
                .flatMap(Optional::stream).min(Instant::compareTo).orElse(now);
        Instant due = Collections.min(List.of(oldestKeptStart, runStart(current).orElse(now))).plus(settings.keep());
        if (settings.maxBytes().isPresent() && now.plus(SIZE_CHECK_INTERVAL).isBefore(due)) {
            due = now.plus(SIZE_CHECK_INTERVAL);
        }
        if (expired.isEmpty()) {
            return new Summary(runs, total, due);
        }
        LOG.info("route '{}': history: removing {} run director{} older than {} and {} past max-size{} at {}: {};"
                + " the history keeps {} run(s), {} bytes", route.name(), byAge, byAge == 1 ? "y" : "ies",
                text(settings.keep()), expired.size() - byAge, settings.maxBytes().isPresent()
                ? " " + settings.maxBytes().getAsLong() + " bytes" : "", location(), String.join(", ", expired), runs, total);
        store.remove(expired);
        return new Summary(runs, total, due);
    }

    /**
     * The versions of {@code path} (relative to the root; empty for the whole root) and of everything below it, oldest
     * run first: each entry is the content the path had before its run.
     */
    List<Entry> versions(byte[] path) throws SyncException, IOException, InterruptedException {
        List<Entry> versions = new ArrayList<>();
        for (Entry entry : list()) {
            if (entry.path().length > 0 && below(entry.path(), path)) {
                versions.add(entry);
            }
        }
        return versions;
    }

    /** Whether {@code path} is {@code top} or lies below it; everything lies below the empty path. */
    private static boolean below(byte[] path, byte[] top) {
        return top.length == 0 || Arrays.equals(path, top) || path.length > top.length
                && Arrays.equals(path, 0, top.length, top, 0, top.length) && path[top.length] == '/';
    }

    /**
     * Copies {@code path} as it was at the destination at {@code at} into {@code into} (under its path relative to the
     * root): first the destination's current copy, then, newest first, the version each run at or after {@code at}
     * kept of it, so that of every file the oldest such version wins: the content it had until the first run after
     * {@code at} overwrote or deleted it. A file created at the destination after {@code at} is copied too (the
     * history keeps what runs replaced, not what they added).
     *
     * @return the run directories used, oldest first
     */
    List<String> restore(byte[] path, Instant at, Path into) throws SyncException, IOException, InterruptedException {
        List<String> runs = versions(path).stream().map(Entry::run)
                .filter(run -> runStart(run).map(start -> !start.isBefore(at)).orElse(false))
                .distinct().sorted(java.util.Comparator.reverseOrder()).toList();
        String relative = new String(path, StandardCharsets.UTF_8);
        if (!Arrays.equals(relative.getBytes(StandardCharsets.UTF_8), path)) {
            throw new SyncException(ExitCodes.USAGE, "route '" + route.name() + "': " + ByteStrings.escape(path)
                    + " is not UTF-8 and cannot be passed to rsync or rclone as an argument; restore the directory that"
                    + " holds it");
        }
        long found = store.copy(store.destination(), relative, into);
        for (String run : runs) {
            found += store.copy(location() + run + "/", relative, into);
        }
        if (found == 0) {
            throw new SyncException(ExitCodes.USAGE, "route '" + route.name() + "': " + ByteStrings.escape(path)
                    + " is neither at the destination " + store.destination() + " nor in a run directory of"
                    + " its history at or after " + at + "; nothing was restored. 'changeq-sync history' lists the"
                    + " versions kept");
        }
        List<String> oldestFirst = new ArrayList<>(runs);
        java.util.Collections.reverse(oldestFirst);
        return oldestFirst;
    }

    /**
     * The history at an rsync destination, reached with the route's own rsync arguments. Retention removes run
     * directories with an empty source, {@code --delete}, and filter rules that include only the expired run
     * directories; rsync deletes a symbolic link as a link, never what it points to.
     */
    static final class Rsync implements Store {

        private final RouteConfig route;
        private final RsyncTransfer commands;
        private final Path scratch;

        /**
         * @param scratch a directory of this process's own where an empty directory can be made: rsync's source when
         *                it lists or removes run directories
         */
        Rsync(RouteConfig route, RsyncTransfer commands, Path scratch) {
            this.route = route;
            this.commands = commands;
            this.scratch = scratch;
        }

        @Override
        public String destination() {
            return commands.destinationDirectory();
        }

        private String location() {
            return destination() + HistorySettings.DIRECTORY + "/";
        }

        /** The history's files and directories in rsync's order; empty when the destination has no history yet. */
        @Override
        public List<Entry> list() throws SyncException, IOException, InterruptedException {
            Path empty = Files.createTempDirectory(scratch, ".history-list-");
            try {
                List<String> args = commands.connection();
                // The destination's top, filtered down to the history: a history that does not exist yet lists nothing,
                // and one that is a symbolic link is listed as the link (rsync follows a source directory given with a
                // slash).
                args.addAll(List.of("-r", "--dry-run", LISTING_FORMAT, "--include=/" + HistorySettings.DIRECTORY
                        + "/***", "--exclude=*", "--", commands.destinationDirectory(), empty + "/"));
                RsyncTransfer.requireEncodable(args);
                List<Entry> entries = new ArrayList<>();
                RsyncRunner.Outcome outcome = RsyncRunner.run(args, line -> parse(line).ifPresent(entries::add));
                if (!outcome.succeeded()) {
                    int exitCode = RouteSync.exitCodeOf(outcome);
                    throw new SyncException(exitCode == ExitCodes.OK ? ExitCodes.SYNC_FAILED : exitCode, "route '"
                            + route.name() + "': cannot list the history " + location() + " (rsync exit "
                            + outcome.exitCode() + (outcome.errors().isEmpty() ? "" : ": "
                            + String.join(" | ", outcome.errors())) + ")");
                }
                return entries;
            } finally {
                Files.deleteIfExists(empty);
            }
        }

        @Override
        public void remove(List<String> runs) throws SyncException, IOException, InterruptedException {
            Path empty = Files.createTempDirectory(scratch, ".history-retention-");
            try {
                Files.createDirectory(empty.resolve(HistorySettings.DIRECTORY));
                List<String> args = commands.connection();
                // The attributes of the destination's top and of the history stay theirs, not the empty source's.
                args.addAll(List.of("-r", "--delete", "--no-perms", "--no-owner", "--no-group", "--omit-dir-times",
                        "--include=/" + HistorySettings.DIRECTORY + "/"));
                for (String run : runs) {
                    args.add("--include=/" + HistorySettings.DIRECTORY + "/" + run + "/***");
                }
                // Excluded, everything else is neither sent nor deleted (rsync-args cannot hold --delete-excluded).
                args.addAll(List.of("--exclude=*", "--", empty + "/", commands.destinationDirectory()));
                RsyncTransfer.requireEncodable(args);
                RsyncRunner.Outcome outcome = RsyncRunner.run(args);
                if (!outcome.succeeded()) {
                    throw new SyncException(ExitCodes.SYNC_FAILED, "route '" + route.name() + "': removing expired"
                            + " history at " + location() + " failed (rsync exit " + outcome.exitCode()
                            + (outcome.errors().isEmpty() ? "" : ": " + String.join(" | ", outcome.errors())) + ")");
                }
            } finally {
                Files.deleteIfExists(empty.resolve(HistorySettings.DIRECTORY));
                Files.deleteIfExists(empty);
            }
        }

        /**
         * Named in the argument after {@code /./} ({@code --relative}), not in a {@code --files-from} list: rsync 3.2.7
         * pulling a listed path from a daemon module's subdirectory under {@code use chroot = no} reports it vanished
         * (exit 24) and copies nothing.
         *
         * @return the paths rsync found to copy: 0 when {@code base + path} does not exist
         */
        @Override
        public long copy(String base, String path, Path into) throws SyncException, InterruptedException {
            List<String> args = commands.connection();
            // --ignore-times: a version of the same size and second as the copy it replaces in DIR is no copy of it.
            args.addAll(List.of("-r", "--relative", "--ignore-times", "--ignore-missing-args", "--stats", "--filter=- /"
                    + HistorySettings.DIRECTORY + "/", "--filter=- /" + DestinationMarker.NAME, "--",
                    base + "./" + (route.localDestination() ? path : globEscaped(path)), into + "/"));
            RsyncTransfer.requireEncodable(args);
            RsyncRunner.Outcome outcome = RsyncRunner.run(args);
            if (!outcome.succeeded()) {
                int exitCode = RouteSync.exitCodeOf(outcome);
                throw new SyncException(exitCode == ExitCodes.OK ? ExitCodes.SYNC_FAILED : exitCode, "route '"
                        + route.name() + "': copying " + base + "./" + path + " into " + into + " failed (rsync exit "
                        + outcome.exitCode() + (outcome.errors().isEmpty() ? "" : ": "
                        + String.join(" | ", outcome.errors())) + ")");
            }
            return outcome.sourcePaths();
        }

        /** A remote rsync expands wildcards in the paths it is given; a backslash makes one literal. */
        private static String globEscaped(String path) {
            return path.replaceAll("([\\\\*?\\[])", "\\\\$1");
        }
    }

    static String text(Duration duration) {
        return duration.toSeconds() % 86400 == 0 ? duration.toDays() + "d" : duration.toSeconds() + "s";
    }
}
