package org.changeq.sync;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.ChangeqThreads;
import org.changeq.pipeline.ExitCodes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one rsync process from an argument vector (no shell) and reads what it reports.
 *
 * <p><b>Threading.</b> {@link #run} blocks the calling thread until rsync exits. It starts two
 * threads, {@code changeq-rsync-stdout} and {@code changeq-rsync-stderr}, which stream rsync's
 * output to the log line by line (escaped: names are bytes) and are joined before {@code run}
 * returns. While rsync runs, a shutdown hook ({@code changeq-sync-shutdown}) terminates it if the
 * JVM is asked to exit (SIGTERM from systemd): the run then ends without committing anything.
 * rsync is started under {@code setpriv --pdeathsig TERM} where available, so it also dies when
 * this process is killed outright.
 */
final class RsyncRunner {

    private static final Logger LOG = LoggerFactory.getLogger(RsyncRunner.class);
    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");
    static final int SAMPLE_LIMIT = 1000;
    static final int PARTIAL_TRANSFER = 23;
    static final int ERROR_LIMIT = 50;
    /** rsync's {@code %i} and the space after it, before the name. */
    static final int ITEMIZE_WIDTH = 12;
    private static final Pattern FILES_TRANSFERRED = Pattern.compile("^Number of regular files transferred: ([\\d,]+)");
    private static final Pattern BYTES_TRANSFERRED = Pattern.compile("^Total transferred file size: ([\\d,]+) bytes");
    private static final Pattern DELETED = Pattern.compile("^Number of deleted files: ([\\d,]+)");
    private static final Pattern SOURCE_PATHS = Pattern.compile("^Number of files: ([\\d,]+)");
    private static final Pattern CREATED = Pattern.compile("^Number of created files: ([\\d,]+)");

    /**
     * What rsync reported.
     *
     * @param sourcePaths the paths rsync considered on the sending side ({@code Number of files}, the root included)
     * @param created    the paths that did not exist at the destination
     * @param itemized   the first {@value #SAMPLE_LIMIT} {@code --itemize-changes} lines (escaped)
     * @param deletions  the first {@value #SAMPLE_LIMIT} paths rsync deleted or would delete (escaped)
     * @param errors     the first lines rsync wrote to stderr (escaped): the failed paths of an exit 23
     */
    record Outcome(int exitCode, long files, long bytes, long deleted, long sourcePaths, long created,
                   List<String> itemized, List<String> deletions, List<String> errors) {

        static final Outcome NOT_RUN = new Outcome(0, 0, 0, 0, 0, 0, List.of(), List.of(), List.of());

        boolean succeeded() {
            return exitCode == 0 || exitCode == 24;
        }

        /** rsync's partial transfer (some files or attributes were not transferred): the rest was. */
        boolean partial() {
            return exitCode == PARTIAL_TRANSFER;
        }

        /** Both passes: the first failure decides, but a hard failure outweighs an earlier partial transfer. */
        Outcome plus(Outcome next) {
            boolean nextDecides = succeeded() || partial() && !next.succeeded() && !next.partial();
            return new Outcome(nextDecides ? next.exitCode : exitCode, files + next.files, bytes + next.bytes,
                    deleted + next.deleted, sourcePaths + next.sourcePaths, created + next.created,
                    concat(itemized, next.itemized), concat(deletions, next.deletions),
                    concat(errors, next.errors));
        }

        /** Only how it ended: a dry run's counts are not what a run sent. */
        Outcome failureOnly() {
            return new Outcome(exitCode, 0, 0, 0, 0, 0, List.of(), List.of(), errors);
        }

        /** Its deletions without its transfers. */
        Outcome deletionsOnly() {
            return new Outcome(exitCode, 0, 0, deleted, sourcePaths, 0, itemized, deletions, errors);
        }

        /** What rsync deleted, or would delete in a dry run: the stats line, or the itemized lines if more. */
        long deletionCount() {
            return Math.max(deleted, deletions.size());
        }

        /** How many paths the destination held before this run, from the counts of a full pass with --delete. */
        long destinationPathsBefore() {
            return Math.max(0, sourcePaths - created) + deletionCount();
        }

        private static List<String> concat(List<String> a, List<String> b) {
            List<String> all = new ArrayList<>(a);
            all.addAll(b.subList(0, Math.min(b.size(), Math.max(0, SAMPLE_LIMIT - a.size()))));
            return List.copyOf(all);
        }
    }

    private RsyncRunner() {
    }

    /** @throws SyncException when rsync cannot be started at all (not installed, not on PATH) */
    static Outcome run(List<String> command) throws SyncException, InterruptedException {
        return run(command, line -> { });
    }

    /**
     * Runs rsync and hands every {@code --itemize-changes} line, raw and unbounded, to {@code itemized} on the
     * {@code changeq-rsync-stdout} thread, which is joined before this returns.
     *
     * @throws SyncException when rsync cannot be started at all (not installed, not on PATH)
     */
    static Outcome run(List<String> command, Consumer<byte[]> itemized) throws SyncException, InterruptedException {
        return run(command, itemized, RsyncProgress.NONE);
    }

    /**
     * As {@link #run(List, Consumer)}, and hands what rsync reports while it runs to {@code progress}: its
     * {@code --info=progress2} lines, which are not logged, and its itemized lines.
     */
    static Outcome run(List<String> command, Consumer<byte[]> itemized, RsyncProgress progress)
            throws SyncException, InterruptedException {
        return run(command, Set.of(), itemized, progress);
    }

    /** As {@link #run(List, Consumer, RsyncProgress)}, with the environment variables {@code unset} removed. */
    static Outcome run(List<String> command, Set<String> unset, Consumer<byte[]> itemized, RsyncProgress progress)
            throws SyncException, InterruptedException {
        return run(command, unset, Optional.empty(), itemized, progress);
    }

    /**
     * As {@link #run(List, Set, Consumer, RsyncProgress)}, with the program's standard output written to {@code
     * output} instead of read (a listing that is the command's result, such as {@code rclone lsjson}).
     */
    static Outcome run(List<String> command, Set<String> unset, Path output) throws SyncException, InterruptedException {
        return run(command, unset, Optional.of(output), line -> { }, RsyncProgress.NONE);
    }

    private static Outcome run(List<String> command, Set<String> unset, Optional<Path> output, Consumer<byte[]> itemized,
                               RsyncProgress progress) throws SyncException, InterruptedException {
        List<String> argv = new ArrayList<>();
        if (Files.isExecutable(SETPRIV)) {
            argv.addAll(List.of(SETPRIV.toString(), "--pdeathsig", "TERM", "--"));
        }
        argv.addAll(command);
        LOG.info("running {}", ShellWords.join(command));
        Process process;
        try {
            ProcessBuilder builder = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            builder.environment().keySet().removeAll(unset);
            output.ifPresent(file -> builder.redirectOutput(file.toFile()));
            process = builder.start();
        } catch (IOException e) {
            throw new SyncException(ExitCodes.SYNC_FAILED, "cannot start " + command.get(0) + ": " + e.getMessage()
                    + "; install " + command.get(0) + " (apt-get install " + command.get(0) + ") or put it on the PATH of the"
                    + " user changeq-sync runs as", e);
        }
        Thread terminator = ChangeqThreads.newThread(RsyncRunner.class, "changeq-sync-shutdown",
                () -> terminate(process));
        boolean hookInstalled = installHook(terminator);
        if (!hookInstalled) {
            // The JVM began exiting between the caller's last check and this start: no hook will stop this rsync.
            terminate(process);
        }
        OutputReader stdout = new OutputReader(itemized, progress);
        List<String> errors = new ArrayList<>();
        Thread outThread = ChangeqThreads.newThread(RsyncRunner.class, "changeq-rsync-stdout",
                () -> pump(process.getInputStream(), stdout::accept));
        Thread errThread = ChangeqThreads.newThread(RsyncRunner.class, "changeq-rsync-stderr",
                () -> pump(process.getErrorStream(), line -> {
                    String text = ByteStrings.escape(line);
                    if (RsyncErrorLines.changingFile(text)) {
                        // The file is pending again: a newer record sends it, a DELETE deletes it.
                        LOG.info("{}", named(command.get(0), text));
                    } else {
                        LOG.warn("{}", named(command.get(0), text));
                    }
                    synchronized (errors) {
                        if (errors.size() < ERROR_LIMIT) {
                            errors.add(text);
                        }
                    }
                }));
        outThread.start();
        errThread.start();
        try {
            int exit = process.waitFor();
            outThread.join();
            errThread.join();
            LOG.info("{} exited with {}{}", command.get(0), exit, stdout.summary(command.contains(RsyncTransfer.DRY_RUN)));
            synchronized (errors) {
                return new Outcome(exit, stdout.files, stdout.bytes, stdout.deleted, stdout.sourcePaths, stdout.created,
                        List.copyOf(stdout.itemized),
                        List.copyOf(stdout.deletions), List.copyOf(errors));
            }
        } catch (InterruptedException e) {
            terminate(process);
            throw e;
        } finally {
            if (hookInstalled) {
                removeHook(terminator);
            }
        }
    }

    private static boolean installHook(Thread hook) {
        try {
            Runtime.getRuntime().addShutdownHook(hook);
            return true;
        } catch (IllegalStateException shuttingDown) {
            return false;
        }
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // The hook is running or ran; it owns the process now.
        }
    }

    /** rsync names itself in most of its messages; a line that does not (ssh's) is named here. */
    /** An error line of {@code program}, prefixed with its name unless it names itself. */
    private static String named(String program, String text) {
        return text.startsWith(program) ? text : program + ": " + text;
    }

    private static void terminate(Process process) {
        if (!process.isAlive()) {
            return;
        }
        LOG.info("stopping rsync (pid {}): changeq-sync is exiting; the cursor stays where it was", process.pid());
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Splits a stream into lines of raw bytes, leaving out empty ones. A carriage return ends a line too: rsync rewrites
     * its progress line with it, and a message that interrupts that line starts with a newline on its own stream, so
     * stderr gets an empty line before an error.
     */
    private static void pump(InputStream stream, Consumer<byte[]> lines) {
        try (InputStream in = new BufferedInputStream(stream)) {
            ByteArrayOutputStream line = new ByteArrayOutputStream(256);
            int b;
            while ((b = in.read()) != -1) {
                if (b != '\n' && b != '\r') {
                    line.write(b);
                } else if (line.size() > 0) {
                    lines.accept(line.toByteArray());
                    line.reset();
                }
            }
            if (line.size() > 0) {
                lines.accept(line.toByteArray());
            }
        } catch (IOException e) {
            if (StopSignals.received().isPresent()) {
                // Stopping rsync closes its pipes under the reader.
                LOG.debug("reading rsync output ended as rsync was stopped: {}", e.toString());
            } else {
                LOG.warn("reading rsync output failed: {}", e.toString());
            }
        }
    }

    /**
     * An {@code --itemize-changes} line as changeq shows names: rsync's {@code %i}, then the name with rsync's own
     * escapes ({@code \#ooo}) read back and escaped as {@link ByteStrings} does, as {@code changeq-queue} prints it.
     */
    static String itemizedForDisplay(byte[] raw) {
        return new String(raw, 0, ITEMIZE_WIDTH, StandardCharsets.US_ASCII)
                + ByteStrings.escape(FailedPaths.unescape(raw, ITEMIZE_WIDTH));
    }

    /** Parses stdout: {@code --itemize-changes} lines and the {@code --stats} block. Confined to the stdout thread until joined. */
    private static final class OutputReader {
        final Consumer<byte[]> itemizedSink;
        final RsyncProgress progress;
        final List<String> itemized = new ArrayList<>();
        final List<String> deletions = new ArrayList<>();
        long files;
        long bytes;
        long deleted;
        long sourcePaths;
        long created;
        boolean statsSeen;

        OutputReader(Consumer<byte[]> itemizedSink, RsyncProgress progress) {
            this.itemizedSink = itemizedSink;
            this.progress = progress;
        }

        void accept(byte[] raw) {
            String escaped = ByteStrings.escape(raw);
            Optional<RsyncProgress.Figures> figures = RsyncProgress.Figures.parse(escaped);
            if (figures.isPresent()) {
                progress.reported(figures.get());
                return;
            }
            if (isItemized(raw)) {
                String line = itemizedForDisplay(raw);
                LOG.debug("rsync: {}", line);
                itemizedSink.accept(raw);
                progress.itemized(raw);
                if (itemized.size() < SAMPLE_LIMIT) {
                    itemized.add(line);
                }
                if (line.startsWith("*deleting") && deletions.size() < SAMPLE_LIMIT) {
                    deletions.add(line.substring(ITEMIZE_WIDTH));
                }
                return;
            }
            String line = escaped;
            // --stats: the counts below, and the one line per pass run() logs at INFO.
            LOG.debug("rsync: {}", line);
            statsSeen |= FILES_TRANSFERRED.matcher(line).find();
            files = parse(FILES_TRANSFERRED, line, files);
            bytes = parse(BYTES_TRANSFERRED, line, bytes);
            deleted = parse(DELETED, line, deleted);
            sourcePaths = parse(SOURCE_PATHS, line, sourcePaths);
            created = parse(CREATED, line, created);
        }

        /** What the pass did, for its one INFO line; nothing when rsync printed no {@code --stats}. */
        String summary(boolean dryRun) {
            if (!statsSeen) {
                return "";
            }
            return String.format(Locale.ROOT, ": %s %d files (%d bytes), %s %d", dryRun ? "would send" : "sent", files,
                    bytes, dryRun ? "would delete" : "deleted", deleted);
        }

        /** rsync's {@code %i %n}: eleven change letters, a space, the name. */
        static boolean isItemized(byte[] line) {
            return line.length > ITEMIZE_WIDTH && line[ITEMIZE_WIDTH - 1] == ' ' && "<>ch.*".indexOf(line[0]) >= 0;
        }

        private static long parse(Pattern pattern, String line, long current) {
            Matcher matcher = pattern.matcher(line);
            return matcher.find() ? Long.parseLong(matcher.group(1).replace(",", "")) : current;
        }
    }
}
