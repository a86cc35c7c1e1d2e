package org.changeq.sync;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.PathBytes;
import org.changeq.pipeline.PermissionDenied;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.RootConfig;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.pipeline.manifest.IndexFile;
import org.changeq.pipeline.state.LockHolder;
import org.changeq.pipeline.state.RetryList;
import org.changeq.pipeline.state.RouteRuns;
import org.changeq.pipeline.state.RunChanges;
import org.changeq.pipeline.state.StateDirectory;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.state.VerifyAnswer;
import org.changeq.pipeline.state.VerifyState;
import org.changeq.pipeline.state.VerifyState.Kind;
import org.changeq.pipeline.state.VerifyState.Mismatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code changeq-sync verify}: compares a sample of a route's files with its destination by content, through rsync
 * itself (a dry run with {@code --checksum}), so that a local destination and a daemon are verified alike.
 *
 * <p>The sample: every file of the slices due ({@link VerifySlices}: each file once per {@code verify-cycle}), the
 * files the route's runs sent since the last verify (the most at risk), and the paths the last verify found different.
 * A second dry run, one level deep with {@code --delete}, over the directories of the slices finds what the destination
 * holds that the source does not (extra: reported, never deleted here). A path whose source changed since the route's
 * last successful run began is pending or changing, not a mismatch. What differs goes into the route's
 * {@link RetryList} as compared by content: its next run sends it with {@code --checksum}.
 *
 * <p>Takes the route's lock, waiting at most the request's wait, so that it never compares while a run writes. Reads
 * at most {@code verify-max-rate} bytes per second from the root: the sample goes to rsync in chunks, and the run
 * sleeps after each until the bytes so far fit the rate. Blocks the calling thread.
 */
public final class Verify {

    private static final Logger LOG = LoggerFactory.getLogger(Verify.class);
    /** How long a chunk reads at the rate limit: long enough that rsync's start (0.1-0.25 s) is a small part of it. */
    static final Duration CHUNK = Duration.ofSeconds(5);
    private static final Duration LOCK_POLL = Duration.ofMillis(200);
    private static final byte[] ENTRY_PREFIX = {'.', '/'};
    private static final String NEW_ITEM = "+++++++++";

    /**
     * One verify of one route.
     *
     * @param lockWait         how long to wait for the route's lock; zero gives up at once
     * @param maxRate          bytes per second, instead of the route's {@code verify-max-rate}
     * @param metricsDirectory where the {@code .prom} file goes; default {@code <state>/metrics}
     */
    public record Request(String route, Duration lockWait, OptionalLong maxRate, Optional<Path> metricsDirectory) {
    }

    /**
     * What a verify found.
     *
     * @param files      the files compared
     * @param bytes      their size at the source: what rsync read there
     * @param mismatches what differs, changes made since the route's last run left out
     */
    public record Report(String route, int exitCode, long files, long bytes, VerifySlices.Due slices,
                         List<Mismatch> mismatches, double seconds) {

        /** {@code route=R verify files=N bytes=N slices=A-B/N content=N missing=N type=N extra=N seconds=S exit=N}. */
        public String summary() {
            StringBuilder line = new StringBuilder("route=" + route + " verify files=" + files + " bytes=" + bytes
                    + " slices=" + slices.from() + "-" + slices.to() + "/" + slices.slices());
            for (Kind kind : Kind.values()) {
                line.append(' ').append(kind.token).append('=')
                        .append(mismatches.stream().filter(mismatch -> mismatch.kind() == kind).count());
            }
            return line.append(String.format(Locale.ROOT, " seconds=%.3f exit=%d", seconds, exitCode))
                    .toString();
        }
    }

    /** One path of the sample and its size at the source. */
    private record Sampled(byte[] path, long size) {
    }

    private final Request request;
    private final RouteConfig route;
    private final RootConfig root;
    private final StateLayout layout;
    private final Clock clock;
    private final PrintStream out;
    private final String command;
    /** rsync's error lines of dry runs that compared all but some paths (exit 23). */
    private int unreadable;

    private Verify(ChangeqConfig config, Request request, Clock clock, PrintStream out) {
        this.request = request;
        this.route = config.route(request.route());
        this.root = config.root(route.root());
        this.layout = new StateLayout(config.state());
        this.clock = clock;
        this.out = out;
        this.command = "changeq-sync ... --route " + route.name();
    }

    /**
     * Verifies the route once under the lock the caller holds and keeps: a follower, between its runs.
     *
     * @see #runOrAsk
     */
    static Report runHolding(RouteLock lock, ChangeqConfig config, Request request, Clock clock, PrintStream out)
            throws SyncException, InterruptedException {
        Verify verify = new Verify(config, request, clock, out);
        assert lock.file().equals(verify.layout.routeLock(request.route())) : lock.file();
        try {
            return verify.runLocked();
        } catch (IOException e) {
            throw verify.stateUnusable(e);
        }
    }

    /** What {@link #runOrAsk} did: its exit code, and the report when it verified itself rather than its follower. */
    public record Outcome(int exitCode, Optional<Report> report) {
    }

    /**
     * {@code changeq-sync verify}: verifies the route once, or, while the route's lock is held, asks its follower to
     * (a request file it looks for between its runs) and prints the follower's verify as its own. Prints each
     * mismatch ({@code KIND PATH}, escaped) and the summary line to {@code out}.
     *
     * @return the exit code, {@code OK} or {@code VERIFY_MISMATCH} (or {@code SYNC_FAILED} when rsync could not read
     *         some paths), with the report of a verify made here
     * @throws SyncException {@code VERIFY_BUSY} when neither the lock came free nor the follower answered within the
     *                       wait (the request stays for the follower); what a run would be refused with when the root
     *                       or the destination is not what the route synced; rsync's failure
     */
    public static Outcome runOrAsk(ChangeqConfig config, Request request, Clock clock, PrintStream out)
            throws SyncException, InterruptedException {
        Verify verify = new Verify(config, request, clock, out);
        try {
            Turn turn = verify.awaitTurn();
            if (turn.answer().isPresent()) {
                VerifyAnswer answer = turn.answer().get();
                out.write(answer.output());
                out.flush();
                if (!answer.error().isEmpty()) {
                    throw new SyncException(answer.exitCode(), answer.error());
                }
                return new Outcome(answer.exitCode(), Optional.empty());
            }
            try (RouteLock lock = turn.lock().orElseThrow()) {
                Report report = verify.runLocked();
                out.println(report.summary());
                return new Outcome(report.exitCode(), Optional.of(report));
            }
        } catch (IOException e) {
            throw verify.stateUnusable(e);
        }
    }

    /**
     * The route's lock; or the answer of its follower to the request this verify left once it found the lock held.
     */
    private record Turn(Optional<RouteLock> lock, Optional<VerifyAnswer> answer) {
    }

    private Turn awaitTurn() throws SyncException, InterruptedException, IOException {
        long deadline = System.nanoTime() + request.lockWait().toNanos();
        IndexFile requestFile = layout.verifyRequest(route.name());
        OptionalLong askedMillis = OptionalLong.empty();
        while (true) {
            Optional<RouteLock> lock = tryLock();
            if (lock.isPresent()) {
                if (askedMillis.isPresent()) {
                    withdraw(requestFile, askedMillis.getAsLong());
                }
                return new Turn(lock, Optional.empty());
            }
            if (askedMillis.isEmpty()) {
                askedMillis = OptionalLong.of(clock.millis());
                requestFile.write(askedMillis.getAsLong());
                LOG.info("route '{}': its lock is held; asked its follower to verify it between its runs ({}), waiting"
                        + " up to {} s", route.name(), requestFile.path(), request.lockWait().toSeconds());
            }
            if (askedMillis.isPresent()) {
                Optional<VerifyAnswer> answer = answerSince(askedMillis.getAsLong());
                if (answer.isPresent()) {
                    return new Turn(Optional.empty(), answer);
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                OptionalLong holder = LockHolder.of(layout.routeLock(route.name())).pid();
                throw new SyncException(ExitCodes.VERIFY_BUSY, "route '" + route.name() + "': not verified: its"
                        + " sync holds the lock " + layout.routeLock(route.name())
                        + (holder.isPresent() && holder.getAsLong() > 0 ? " (process " + holder.getAsLong() + ")" : "")
                        + (request.lockWait().isZero() ? "" : " after waiting " + request.lockWait().toSeconds() + " s")
                        + "; verify never compares while a run writes. " + (askedMillis.isPresent() ? "The request "
                        + requestFile.path() + " stays: a follower of the route verifies between its runs (changeq-queue"
                        + " stat shows the result); or run it again later, or give a longer --wait"
                        : "Run it again later, or give --wait"));
            }
            // The kernel's lock has no timed wait: poll it.
            Thread.sleep(Math.min(LOCK_POLL.toMillis(), Math.max(1, left / 1_000_000)));
        }
    }

    private Optional<RouteLock> tryLock() throws IOException {
        return Optional.ofNullable(RouteLock.tryAcquire(layout.routeLock(route.name())));
    }

    /**
     * Removes a verify request made at {@code askedMillis}, answered now: one asked later (by another verify) stays
     * for its asker.
     */
    static void withdraw(IndexFile requestFile, long askedMillis) throws IOException {
        OptionalLong current;
        try {
            current = requestFile.read();
        } catch (IllegalStateException malformed) {
            current = OptionalLong.of(askedMillis);
        }
        if (current.isPresent() && current.getAsLong() <= askedMillis) {
            StateDirectory.deleteIfExists(requestFile.path());
        }
    }

    /** The follower's answer to a request made at {@code askedMillis}: a verify it started since. */
    private Optional<VerifyAnswer> answerSince(long askedMillis) throws IOException {
        try {
            return VerifyAnswer.read(layout.verifyAnswer(route.name()))
                    .filter(answer -> answer.startedMillis() >= askedMillis);
        } catch (IllegalStateException malformed) {
            throw new IOException(malformed.getMessage(), malformed);
        }
    }

    private SyncException stateUnusable(IOException e) {
        Optional<PermissionDenied> denied = PermissionDenied.in(e);
        return new SyncException(denied.map(PermissionDenied::exitCode).orElse(ExitCodes.SOFTWARE), "route '"
                + route.name() + "': verify cannot read or write its state: " + denied.map(
                PermissionDenied::getMessage).orElse(e.toString()), e);
    }

    private Report runLocked() throws SyncException, InterruptedException, IOException {
        long startedMillis = clock.millis();
        long startedNanos = System.nanoTime();
        SyncRequest asRun = SyncRequest.of(route.name());
        new CopyGuard(route, root, layout, asRun, command).checkIdentities();
        DestinationMarker.Verdict destination = new DestinationMarker(route, layout, asRun,
                Transfer.of(route, root, false), command, layout.directory()).check();
        if (destination.unreachable().isPresent()) {
            throw new SyncException(ExitCodes.DESTINATION_UNREACHABLE, "route '" + route.name() + "': not verified:"
                    + " the destination " + route.dest() + " cannot be reached (rsync exit "
                    + destination.unreachable().get().exitCode() + ")");
        }
        if (layout.cursor(route.name()).read().isEmpty()) {
            out.println("route '" + route.name() + "' has not synced yet: there is no copy to verify");
            return new Report(route.name(), ExitCodes.OK, 0, 0, new VerifySlices.Due(startedMillis, 0, 0, 0), List.of(),
                    (System.nanoTime() - startedNanos) / 1e9);
        }
        Path stateFile = layout.verifyState(route.name());
        VerifyState before;
        try {
            before = VerifyState.read(stateFile);
        } catch (IllegalStateException e) {
            throw new SyncException(ExitCodes.SOFTWARE, "route '" + route.name() + "': " + e.getMessage(), e);
        }
        VerifySlices.Due due = VerifySlices.due(before, route.verify().slices(), startedMillis);

        Map<ByteBuffer, Sampled> files = new LinkedHashMap<>();
        List<byte[]> directories = new ArrayList<>();
        if (due.contains(VerifySlices.sliceOf(new byte[0], due.slices()))) {
            directories.add(new byte[0]);
        }
        int findExit = TreeWalk.walk(root.path(), (path, type, size) -> {
            boolean directory = type == 'd';
            if (root.excludes().matchesSelfOrAncestor(path, directory) || !route.sends(path, directory)
                    || !due.contains(VerifySlices.sliceOf(path, due.slices()))) {
                return;
            }
            if (directory) {
                directories.add(path);
            } else {
                files.put(ByteBuffer.wrap(path), new Sampled(path, type == 'f' ? size : 0));
            }
        });
        if (findExit != 0) {
            LOG.warn("route '{}': some directories of {} could not be read; their files are not verified",
                    route.name(), root.path());
        }
        int sliced = files.size();
        for (byte[] path : recentlySent(before)) {
            sample(files, path);
        }
        for (Mismatch open : before.mismatches()) {
            if (open.kind().repaired()) {
                sample(files, open.path());
            }
        }
        LOG.info("route '{}': verifying slices {} to {} of {} ({} files, {} directories) and {} recently sent or"
                + " found different", route.name(), due.from(), due.to(), due.slices(), sliced, directories.size(),
                files.size() - sliced);

        OptionalLong rate = request.maxRate().isPresent() ? request.maxRate() : route.verify().maxRate();
        Map<ByteBuffer, Mismatch> found = new LinkedHashMap<>();
        Transfer commands = Transfer.of(route, root, true).asFailureCheck();
        Path list = RouteFiles.listDirectory(layout).resolve(route.name() + ".verify");
        long bytes = 0;
        List<Sampled> chunk = new ArrayList<>();
        long chunkBytes = 0;
        long chunkLimit = rate.isPresent() ? Math.max(1, rate.getAsLong() * CHUNK.toSeconds()) : Long.MAX_VALUE;
        // A directory replaced by a link since it was walked or sent: rsync would read through the link.
        AncestorCheck ancestors = new AncestorCheck(root.path(), route.name());
        List<Sampled> sample = files.values().stream()
                .filter(sampled -> ancestors.admits(sampled.path(), sampled.path().length, false)).toList();
        for (int i = 0; i < sample.size(); i++) {
            chunk.add(sample.get(i));
            chunkBytes += sample.get(i).size();
            if (chunkBytes >= chunkLimit || i == sample.size() - 1) {
                writeList(list, chunk.stream().map(Sampled::path).toList(), false);
                compare(commands.contentPass(list), found, true);
                bytes += chunkBytes;
                chunk.clear();
                chunkBytes = 0;
                if (rate.isPresent()) {
                    pace(startedNanos, bytes, rate.getAsLong());
                }
            }
        }
        if (!directories.isEmpty()) {
            writeList(list, directories, true);
            compare(commands.extraPass(list), found, false);
        }
        StateDirectory.deleteIfExists(list);

        long pendingSince = RouteRuns.read(layout.routeRuns(route.name())).lastSuccess()
                .map(RouteRuns.Run::startedMillis).orElse(startedMillis);
        List<Mismatch> mismatches = new ArrayList<>();
        for (Mismatch mismatch : found.values()) {
            if (settled(mismatch, pendingSince)) {
                mismatches.add(mismatch);
            }
        }
        repair(mismatches, startedMillis);

        long finishedMillis = clock.millis();
        boolean fresh = due.from() == 0 && due.to() > 0 && due.cycleStartMillis() == startedMillis;
        VerifyState after = new VerifyState(due.cycleStartMillis(), due.slices(), due.to(),
                (fresh ? 0 : before.cycleFiles()) + sample.size(), (fresh ? 0 : before.cycleBytes()) + bytes,
                startedMillis, finishedMillis, due.completesCycle() ? finishedMillis : before.lastCompleteCycleMillis(),
                mismatches);
        after.write(stateFile);
        for (Mismatch mismatch : mismatches) {
            out.println(mismatch.kind().token + " " + ByteStrings.escape(mismatch.path()));
        }
        boolean repairable = mismatches.stream().anyMatch(mismatch -> mismatch.kind().repaired());
        int exitCode = repairable ? ExitCodes.VERIFY_MISMATCH : unreadable > 0 ? ExitCodes.SYNC_FAILED : ExitCodes.OK;
        if (unreadable > 0) {
            LOG.error("route '{}': rsync could not compare some paths ({} error line(s) above); they are not verified,"
                    + " the rest of the slice is", route.name(), unreadable);
        }
        double seconds = (System.nanoTime() - startedNanos) / 1e9;
        Report report = new Report(route.name(), exitCode, sample.size(), bytes, due, mismatches, seconds);
        new VerifyMetrics(after, sample.size(), bytes).write(VerifyMetrics.file(
                request.metricsDirectory().orElse(layout.metricsDirectory()), route.name()), route.name());
        if (!mismatches.isEmpty()) {
            LOG.warn("route '{}': verify found {} path(s) at {} that differ from the source{}", route.name(),
                    mismatches.size(), route.dest(), repairable ? "; the route's next run sends them compared by"
                            + " content (they wait in its retry list)" : "; extra paths are only reported");
        }
        return report;
    }

    /** The files the route's runs sent new or overwrote since the last verify began: all kept, before the first. */
    private List<byte[]> recentlySent(VerifyState before) throws IOException {
        List<byte[]> paths = new ArrayList<>();
        Path directory = layout.runChanges(route.name());
        for (int back = 1; back <= RunChanges.KEPT_RUNS; back++) {
            Optional<RunChanges> run;
            try {
                run = RunChanges.read(directory, back);
            } catch (IllegalStateException malformed) {
                LOG.info("route '{}': {}; its files are verified in their slices only", route.name(),
                        malformed.getMessage());
                continue;
            }
            if (run.isEmpty() || run.get().startedMillis() < before.lastRunStartedMillis()) {
                break;
            }
            for (RunChanges.Entry entry : run.get().entries()) {
                if (entry.kind() != RunChanges.Kind.DELETED) {
                    paths.add(entry.path());
                }
            }
        }
        return paths;
    }

    /** Adds a path outside the slices to the sample, if the route sends it and it is not a directory at the source. */
    private void sample(Map<ByteBuffer, Sampled> files, byte[] path) throws IOException {
        if (files.containsKey(ByteBuffer.wrap(path)) || root.excludes().matchesSelfOrAncestor(path, false)
                || !route.sends(path, false)) {
            return;
        }
        Path source = PathBytes.resolve(root.path(), path);
        try {
            BasicFileAttributes attributes = Files.readAttributes(source, BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS);
            if (!attributes.isDirectory()) {
                files.put(ByteBuffer.wrap(path), new Sampled(path, attributes.isRegularFile() ? attributes.size() : 0));
            }
        } catch (NoSuchFileException gone) {
            // Deleted since: nothing to compare.
        }
    }

    /**
     * A {@code --files-from} list, {@code ./} before each entry (rsync skips one starting with {@code #} or {@code ;}).
     *
     * @param contents list each directory as {@code DIR/.}: its entries, one level deep, not the directory alone
     */
    private static void writeList(Path list, List<byte[]> paths, boolean contents) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (byte[] path : paths) {
            bytes.writeBytes(ENTRY_PREFIX);
            bytes.writeBytes(path);
            if (contents) {
                bytes.writeBytes(path.length == 0 ? new byte[] {'.'} : new byte[] {'/', '.'});
            }
            bytes.write(0);
        }
        StateDirectory.replace(list, bytes.toByteArray(), false);
    }

    /**
     * Runs one dry run and records what it shows as different.
     *
     * @param byContent the pass compares by content: a file it would send differs in content (or size)
     */
    private void compare(Transfer.Pass dryRun, Map<ByteBuffer, Mismatch> found, boolean byContent)
            throws SyncException, InterruptedException {
        RsyncRunner.Outcome outcome = dryRun.run(raw -> classify(raw, byContent).ifPresent(mismatch ->
                found.putIfAbsent(ByteBuffer.wrap(mismatch.path()), mismatch)));
        if (outcome.partial()) {
            // A path rsync cannot read must not hold the cycle back: the rest was compared, its error is logged.
            unreadable += Math.max(1, outcome.errors().size());
            return;
        }
        if (!outcome.succeeded()) {
            Optional<String> stoppedBy = RouteSync.stopSignal(outcome);
            if (stoppedBy.isPresent()) {
                throw stopped(stoppedBy.get());
            }
            int exitCode = RouteSync.exitCodeOf(outcome);
            throw new SyncException(exitCode, "route '"
                    + route.name() + "': verify's dry run failed (rsync exit " + outcome.exitCode() + (outcome.errors()
                    .isEmpty() ? "" : ": " + String.join(" | ", outcome.errors())) + "); the cycle stays where it was");
        }
    }

    /**
     * What an itemized line ({@code %i %n}) says differs: a file or link rsync would send anew is missing (or, at a
     * local destination, of another type); one whose checksum or size differs has other content; a path it would
     * delete is extra. Times, modes and owners are the next run's business, not a difference of content.
     */
    private Optional<Mismatch> classify(byte[] raw, boolean byContent) {
        String item = new String(raw, 0, RsyncRunner.ITEMIZE_WIDTH - 1, StandardCharsets.US_ASCII);
        byte[] name = FailedPaths.unescape(raw, RsyncRunner.ITEMIZE_WIDTH);
        int length = name.length > 0 && name[name.length - 1] == '/' ? name.length - 1 : name.length;
        byte[] path = Arrays.copyOf(name, length);
        if (path.length == 1 && path[0] == '.') {
            return Optional.empty();
        }
        if (item.startsWith("*deleting")) {
            return Optional.of(new Mismatch(Kind.EXTRA, path));
        }
        // '<' sent to a remote receiver, '>' received locally, 'c' created there (a directory, a link).
        boolean sent = item.charAt(0) == '<' || item.charAt(0) == '>' || item.charAt(0) == 'c';
        if (!sent) {
            return Optional.empty();
        }
        if (item.substring(2).equals(NEW_ITEM)) {
            return Optional.of(new Mismatch(occupiedAtDestination(path) ? Kind.TYPE : Kind.MISSING, path));
        }
        if (byContent && (item.charAt(2) == 'c' || item.charAt(3) == 's')) {
            return Optional.of(new Mismatch(Kind.CONTENT, path));
        }
        return Optional.empty();
    }

    /** Whether a local destination holds something at {@code path}; a remote one cannot be asked cheaply. */
    private boolean occupiedAtDestination(byte[] path) {
        return route.localDestination()
                && Files.exists(PathBytes.resolve(Path.of(route.dest()), path), LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * Whether a difference is one: not when the source changed since the route's last successful run began (the
     * change is pending, or was made while verify read), nor when the source path is gone (a deletion is pending) or,
     * for an extra path, appeared.
     */
    private boolean settled(Mismatch mismatch, long pendingSinceMillis) throws IOException {
        Path source = PathBytes.resolve(root.path(), mismatch.path());
        FileTime changed;
        try {
            changed = (FileTime) Files.getAttribute(source, "unix:ctime", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException gone) {
            return mismatch.kind() == Kind.EXTRA;
        }
        if (mismatch.kind() == Kind.EXTRA) {
            return false;
        }
        if (changed.toMillis() >= pendingSinceMillis) {
            LOG.info("route '{}': {} changed at the source since the route's last run began; not a mismatch: the next"
                    + " run sends it", route.name(), ByteStrings.escape(mismatch.path()));
            return false;
        }
        return true;
    }

    /**
     * Puts what differs into the route's retry list, compared by content: its next run sends each file with
     * {@code --checksum} (a same-size, same-time corruption would pass rsync's quick check) and each directory whole.
     */
    private void repair(List<Mismatch> mismatches, long nowMillis) throws IOException {
        Path file = layout.retryList(route.name());
        RetryList retry;
        try {
            retry = RetryList.read(file);
        } catch (IllegalStateException malformed) {
            throw new IOException(malformed.getMessage(), malformed);
        }
        Map<ByteBuffer, RetryList.Entry> entries = new LinkedHashMap<>();
        retry.entries().forEach(entry -> entries.put(ByteBuffer.wrap(entry.path()), entry));
        int added = 0;
        for (Mismatch mismatch : mismatches) {
            if (!mismatch.kind().repaired() || entries.containsKey(ByteBuffer.wrap(mismatch.path()))) {
                continue;
            }
            boolean directory = Files.isDirectory(PathBytes.resolve(root.path(), mismatch.path()),
                    LinkOption.NOFOLLOW_LINKS);
            entries.put(ByteBuffer.wrap(mismatch.path()), new RetryList.Entry(mismatch.path(),
                    directory ? RetryList.Kind.SUBTREE : RetryList.Kind.CONTENT, nowMillis,
                    "verify: " + mismatch.kind().token + " differs at the destination"));
            added++;
        }
        if (added == 0) {
            return;
        }
        List<RetryList.Entry> all = new ArrayList<>(entries.values());
        boolean overflowed = retry.overflowed() || all.size() > RetryList.LIMIT;
        new RetryList(all.subList(0, Math.min(all.size(), RetryList.LIMIT)), overflowed).write(file);
        LOG.info("route '{}': {} path(s) that differ wait in its retry list {}{}", route.name(), added, file,
                overflowed ? " (more than it holds: the next run is full)" : "");
    }

    /**
     * Sleeps until {@code bytes} read since {@code startedNanos} fit {@code rate} bytes per second, or until a stop
     * signal: a verify stops at once, writing nothing.
     */
    private void pace(long startedNanos, long bytes, long rate) throws InterruptedException, SyncException {
        long dueNanos = startedNanos + (long) (bytes * 1e9 / rate);
        long left = dueNanos - System.nanoTime();
        if (left > 0) {
            Optional<String> signal = StopSignals.await(Duration.ofNanos(left));
            if (signal.isPresent()) {
                throw stopped(signal.get());
            }
        }
    }

    private SyncException stopped(String signal) {
        return new SyncException(StopSignals.exitCode(signal), "route '" + route.name() + "': verify was stopped ("
                + signal + ") and wrote nothing; the cycle stays where it was");
    }
}
