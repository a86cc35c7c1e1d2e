package org.changeq.sync;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.ChangeqThreads;
import org.changeq.pipeline.ExitCodeException;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.PermissionDenied;
import org.changeq.pipeline.cli.CommandLines;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.ConfigLoader;
import org.changeq.pipeline.manifest.ChronicleSettings;
import org.changeq.pipeline.manifest.IndexFile;
import org.changeq.pipeline.state.RunChanges;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.tracker.SystemdNotifier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code changeq-sync}: options become a {@link SyncRequest}, one call to {@link RouteSync#run}
 * does the work, one summary line goes to stdout. {@code changeq-sync check} calls {@link CoverageCheck};
 * {@code changeq-sync follow} starts a {@link RouteFollower}.
 */
@Command(name = "changeq-sync", mixinStandardHelpOptions = true,
        sortOptions = false, usageHelpAutoWidth = true,
        description = {
            "Sends one route's changes to its destination with rsync. Run it from a systemd timer, one unit per route, or "
                + "let 'changeq-sync follow' run it within seconds of each change (see changeq-sync follow --help).",
            "",
            "A run takes the route's lock, captures the end of the change queue, reads the records after the route's "
                + "committed cursor, and sends the changed paths with rsync --from0 --files-from. Only when rsync "
                + "succeeds (exit 0, or 24: files vanished) does the cursor move to the captured end; after any failure "
                + "the next run sends the same changes again. One exception: after a partial transfer (23) a dry run "
                + "finds the paths that failed, they go to the route's retry list, and the cursor moves on; every later "
                + "run sends them with its changes until they arrive or are gone from the source.",
            "",
            "A run is FULL (rsync of the whole root with the route's filters, --delete if delete-on-full) when: the route "
                + "has no cursor yet (first-run); --full or <state>/flags/ROUTE.force-full exists (forced); the root "
                + "holds .force-full-sync (flag-file); the root's identity is not recorded yet (identity); the tracker was down without a catch-up scan, or records were "
                + "deleted (gap); events were dropped (overflow); more records are pending than backlog-threshold "
                + "(backlog); today is in full-window and no full sync ran in it yet (window). Otherwise it is "
                + "incremental (changes, or nothing-to-do: then no rsync pass runs).",
            "",
            "A run never destroys a copy: a root that is missing, or is not the directory the route synced before (its "
                + "disk is not mounted, or was replaced), is refused (exit 4), and so is a destination that is not "
                + "what it was (exit 13: a local one on another file system, a remote one without the route's marker);"
                + " a run that would delete more at the destination than the route's max-delete "
                + "deletes nothing (exit 12). The message names the fix and the option that overrides it once.",
            "",
            "stdout gets exactly one line per run, also for a refused, failed or interrupted one:",
            "  route=NAME mode=incremental|full|none reason=WHY files=N deleted=N",
            "    failed=N bytes=N seconds=S rsync-exit=N|none exit=N",
            "    [interrupted=SIGTERM|SIGINT] [tracker=stopped]",
            "files counts the files that arrived, failed the paths that went to the retry list; mode and reason are "
                + "none for a run that ended before it decided (README: the summary line).",
            "The log (stderr) says why and streams rsync's output. Metrics go to "
                + "<state>/metrics/changeq_sync_ROUTE.prom (node_exporter textfile format).",
            ""},
        footerHeading = "%nExamples:%n",
        footer = {
            "  changeq-sync --config /etc/changeq/changeq.yaml --route offsite-nfs",
            "      the timer's job: sync what changed since the last successful run",
            "  changeq-sync --config /etc/changeq/changeq.yaml --route offsite-nfs --dry-run",
            "      show the decision, the rsync commands and each path rsync would",
            "      send or delete; a run the guards would refuse exits as that run",
            "      would (12: 'would be refused: N deletions > max-delete M');",
            "      nothing is committed",
            "  changeq-sync --config /etc/changeq/changeq.yaml --route offsite-nfs -v",
            "      the timer's job, printing each path sent or deleted (rsync's",
            "      itemized line) before the summary",
            "  changeq-sync --config /etc/changeq/changeq.yaml --route mirror --full",
            "      a full sync now (or: touch /var/lib/changeq/state/flags/mirror.force-full",
            "      before the next timer run; each touch asks for one full sync, the file",
            "      is never removed by changeq)",
            "  changeq-sync --config /etc/changeq/changeq.yaml --route mirror \\",
            "      --metrics-dir /var/lib/node_exporter/textfile",
            "      metrics where node_exporter reads them; under systemd add",
            "      ReadWritePaths= for it in a drop-in",
            "  changeq-sync --config /etc/changeq/changeq.yaml --route offsite-backup \\",
            "      --allow-deletes 120000",
            "      after a deliberate mass deletion: let this one run delete up to 120000",
            "      paths at the destination",
            "  changeq-sync --config /etc/changeq/changeq.yaml --route offsite-backup \\",
            "      --accept-root-change",
            "      the root's disk was replaced on purpose: sync it fully and remember it",
            "  changeq-sync check --config /etc/changeq/changeq.yaml",
            "      prove that routes sharing a list cover every path exactly once; preview",
            "      what full syncs would delete"})
public final class SyncMain implements Callable<Integer> {

    static {
        ChronicleSettings.apply();
    }

    /** How long a stopping JVM waits for the run to print its summary line. */
    private static final Duration REPORT_GRACE = Duration.ofSeconds(30);

    /** Reads and validates a config file; config errors become {@code ExitCodes.CONFIG}. */
    @FunctionalInterface
    interface ConfigSource {
        ChangeqConfig load(Path file) throws Exception;
    }

    @Option(names = "--config", paramLabel = "FILE", description = "the changeq config file (YAML)")
    Path config;

    @Option(names = "--route", paramLabel = "NAME", description = "the route to sync (a key under routes:)")
    String route;

    @Option(names = "--full", description = "make this run a full sync")
    boolean full;

    @Option(names = {"-n", "--dry-run"}, description = "the run minus its writes: the same decision and guards (and"
            + " exit codes), each path rsync would send or delete, the rsync commands; writes nothing in the state"
            + " directory (no lock, cursor, claim, list, ledger or metric), so it runs beside a follower")
    boolean dryRun;

    @Option(names = "--accept-root-change", description = "sync a root that is not the directory this route synced before"
            + " (a disk replaced on purpose): the run is full and remembers the root as it is now")
    boolean acceptRootChange;

    @Option(names = "--accept-dest-change", description = "write to a destination that is not the directory this"
            + " route wrote before (a new backup disk, another NAS volume or module): the run is full and remembers the"
            + " destination as it is now")
    boolean acceptDestinationChange;

    @Option(names = "--allow-deletes", paramLabel = "N", description = "let this run delete up to N paths at the"
            + " destination, whatever the route's max-delete says (after a deliberate mass deletion)")
    Long allowDeletes;

    @Option(names = "--allow-changes", paramLabel = "N", description = "let this run overwrite, delete or rename away"
            + " up to N files at the destination, whatever the route's max-change says (after a deliberate mass change)")
    Long allowChanges;

    @Option(names = "--wait", paramLabel = "AGE", defaultValue = "0", converter = AgeConverter.class,
            description = "wait this long for whatever holds the route's lock (a verify, a run started by hand) to let go"
                    + " (default 0: exit 7 at once); the timer's unit waits 1h")
    Duration lockWait;

    @Mixin
    RunOptions runOptions;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private final ConfigSource configs;
    private final Clock clock;
    private final PrintStream out;
    private final PrintStream err;

    private SyncMain(ConfigSource configs, Clock clock, PrintStream out, PrintStream err) {
        this.configs = configs;
        this.clock = clock;
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        System.exit(run(args, ConfigLoader::load, Clock.systemDefaultZone(), System.out, System.err));
    }

    /** Runs the command line with the given config source, clock and streams; returns the exit code. */
    static int run(String[] args, ConfigSource configs, Clock clock, PrintStream out, PrintStream err) {
        return commandLine(configs, clock, out, err).execute(args);
    }

    /** The command line of {@code changeq-sync} as the launcher runs it, writing to {@code out} and {@code err}. */
    public static CommandLine commandLine(PrintStream out, PrintStream err) {
        return commandLine(ConfigLoader::load, Clock.systemDefaultZone(), out, err);
    }

    private static CommandLine commandLine(ConfigSource configs, Clock clock, PrintStream out, PrintStream err) {
        CommandLine commandLine = new CommandLine(new SyncMain(configs, clock, out, err));
        commandLine.addSubcommand("check", new CheckCommand(configs, out));
        commandLine.addSubcommand("follow", new FollowCommand(configs, clock, out, err));
        commandLine.addSubcommand("history", new HistoryCommands.HistoryCommand(configs, out));
        commandLine.addSubcommand("restore", new HistoryCommands.RestoreCommand(configs, out));
        commandLine.addSubcommand("allow", new AllowCommand(configs, out));
        commandLine.addSubcommand("changes", new ChangesCommand(configs, out));
        commandLine.addSubcommand("verify", new VerifyCommand(configs, clock, out));
        CommandLines.configure(commandLine, ExitCodes.OK, ExitCodes.SOFTWARE, ExitCodes.USAGE, ExitCodes.CONFIG,
                ExitCodes.ROOT_UNAVAILABLE, ExitCodes.QUEUE_UNAVAILABLE, ExitCodes.ALREADY_RUNNING,
                ExitCodes.SYNC_PARTIAL, ExitCodes.DESTINATION_UNREACHABLE, ExitCodes.SYNC_FAILED,
                ExitCodes.DELETIONS_REFUSED, ExitCodes.DESTINATION_CHANGED, ExitCodes.TRACKER_NOT_RUNNING,
                ExitCodes.MASS_CHANGE_REFUSED, ExitCodes.INTERRUPTED, ExitCodes.TERMINATED);
        CommandLines.exitCodes(commandLine.getSubcommands().get("check"), ExitCodes.OK, ExitCodes.SOFTWARE,
                ExitCodes.USAGE, ExitCodes.CONFIG, ExitCodes.QUEUE_UNAVAILABLE, ExitCodes.CHECK_FAILED);
        // Runs that fail do not end a follower: it exits only when stopped, or when a restart may help.
        CommandLines.exitCodes(commandLine.getSubcommands().get("follow"), ExitCodes.OK, ExitCodes.SOFTWARE,
                ExitCodes.USAGE, ExitCodes.CONFIG, ExitCodes.QUEUE_UNAVAILABLE, ExitCodes.ALREADY_RUNNING);
        for (String subcommand : List.of("history", "restore")) {
            CommandLines.exitCodes(commandLine.getSubcommands().get(subcommand), ExitCodes.OK, ExitCodes.SOFTWARE,
                    ExitCodes.USAGE, ExitCodes.CONFIG, ExitCodes.DESTINATION_UNREACHABLE, ExitCodes.SYNC_FAILED);
        }
        CommandLines.exitCodes(commandLine.getSubcommands().get("verify"), ExitCodes.OK, ExitCodes.SOFTWARE,
                ExitCodes.USAGE, ExitCodes.CONFIG, ExitCodes.ROOT_UNAVAILABLE, ExitCodes.QUEUE_UNAVAILABLE,
                ExitCodes.DESTINATION_UNREACHABLE, ExitCodes.SYNC_FAILED, ExitCodes.DESTINATION_CHANGED,
                ExitCodes.VERIFY_MISMATCH, ExitCodes.VERIFY_BUSY);
        for (String subcommand : List.of("allow", "changes")) {
            CommandLines.exitCodes(commandLine.getSubcommands().get(subcommand), ExitCodes.OK, ExitCodes.SOFTWARE,
                    ExitCodes.USAGE, ExitCodes.CONFIG, ExitCodes.QUEUE_UNAVAILABLE);
        }
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        commandLine.setExecutionExceptionHandler((failure, cmd, parsed) -> {
            ExitCodeException known = failure instanceof ExitCodeException e ? e
                    : PermissionDenied.in(failure).orElse(null);
            if (known != null) {
                if (!(known instanceof SyncException refused && refused.logged())) {
                    err.println("changeq-sync: " + known.getMessage());
                }
                return known.exitCode();
            }
            err.println("changeq-sync: internal error: " + failure);
            failure.printStackTrace(err);
            return ExitCodes.SOFTWARE;
        });
        return commandLine;
    }

    @Override
    public Integer call() throws SyncException, InterruptedException {
        if (config == null || route == null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--config FILE and --route NAME are required (or use 'changeq-sync check')");
        }
        if (allowDeletes != null && allowDeletes < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--allow-deletes must be 0 or more, got " + allowDeletes);
        }
        if (allowChanges != null && allowChanges < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--allow-changes must be 0 or more, got " + allowChanges);
        }
        ChangeqConfig loaded = load(configs, config);
        requireRoute(loaded, route, config, spec.commandLine());
        SyncRequest request = new SyncRequest(route, full, dryRun, Optional.ofNullable(runOptions.metricsDirectory),
                runOptions.retainMinAge, acceptRootChange, acceptDestinationChange,
                allowDeletes == null ? OptionalLong.empty() : OptionalLong.of(allowDeletes), runOptions.verbose,
                allowChanges == null ? OptionalLong.empty() : OptionalLong.of(allowChanges), lockWait);
        StopSignals.install();
        // Under SIGTERM or Ctrl-C the JVM exits once its shutdown hooks are done: this one lets the run print its line.
        CountDownLatch reported = new CountDownLatch(1);
        Thread awaitReport = ChangeqThreads.newThread(SyncMain.class, "changeq-sync-report",
                () -> awaitReport(reported));
        Runtime.getRuntime().addShutdownHook(awaitReport);
        Instant started = clock.instant();
        try {
            SyncReport report = RouteSync.run(loaded, request, clock, out);
            out.println(report.summaryLine());
            return report.exitCode();
        } catch (SyncException e) {
            out.println(e.report().orElseGet(() -> SyncReport.undecided(route, secondsSince(started), e.exitCode()))
                    .summaryLine());
            throw e;
        } catch (RuntimeException | Error e) {
            out.println(SyncReport.undecided(route, secondsSince(started), ExitCodes.SOFTWARE).summaryLine());
            throw e;
        } finally {
            out.flush();
            reported.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(awaitReport);
            } catch (IllegalStateException shuttingDown) {
                // The hook runs, and returns now.
            }
        }
    }

    /** Bounded: stopping rsync takes at most 20 s, the rest of a stopped run moments. */
    private static void awaitReport(CountDownLatch reported) {
        try {
            reported.await(REPORT_GRACE.toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private double secondsSince(Instant started) {
        return Duration.between(started, clock.instant()).toMillis() / 1000.0;
    }

    /**
     * Where a run's metrics go, how long queue files are kept and what a run prints: the same for every run, by hand,
     * timer or follower.
     */
    static final class RunOptions {
        @Option(names = {"-v", "--verbose"}, description = "print each path rsync sends or deletes, as rsync's"
                + " --itemize-changes shows it (names escaped as changeq-queue prints them), before the summary line")
        boolean verbose;

        @Option(names = "--metrics-dir", paramLabel = "DIR",
                description = "directory for changeq_sync_ROUTE.prom (default <state>/metrics), e.g. node_exporter's textfile"
                    + " directory; under systemd a directory outside /var/lib/changeq needs ReadWritePaths= in a drop-in")
        Path metricsDirectory;

        @Option(names = "--retain-min-age", paramLabel = "AGE", converter = AgeConverter.class, defaultValue = "1d",
                description = "queue files are deleted only once every route's cursor is past them and they are older than "
                    + "this (default ${DEFAULT-VALUE}; units s, m, h, d)")
        Duration retainMinAge;
    }

    static void requireRoute(ChangeqConfig config, String route, Path file, CommandLine commandLine) {
        if (!config.routes().containsKey(route)) {
            throw new CommandLine.ParameterException(commandLine, "no route named '" + route + "' in " + file
                    + "; configured routes: " + config.routes().keySet());
        }
    }

    /**
     * A command's failure to read or write a file of the route's state: a permission problem names the path and the
     * user to run as, with its exit code; any other is {@code SOFTWARE}.
     */
    private static SyncException stateFailure(String route, String attempt, IOException e) {
        Optional<PermissionDenied> denied = PermissionDenied.in(e);
        return new SyncException(denied.map(PermissionDenied::exitCode).orElse(ExitCodes.SOFTWARE), "route '" + route
                + "': " + attempt + ": " + denied.map(PermissionDenied::getMessage).orElse(e.toString()), e);
    }

    static ChangeqConfig load(ConfigSource configs, Path file) throws SyncException {
        try {
            return configs.load(file);
        } catch (Exception e) {
            throw new SyncException(ExitCodes.CONFIG, e.getMessage(), e);
        }
    }

    @Command(name = "check", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
            header = "Proves that the routes cover every path exactly once, and previews what full syncs would delete.",
            description = {
                "Validates the config and proves route coverage by walking each root: for routes that share a list "
                    + "(one excludes it, another includes it) every path the root does not exclude must be sent by "
                    + "exactly one of them. Gaps and overlaps are listed with examples; either fails the check.",
                "For every route, dry-runs a full sync as 'changeq-sync --full --dry-run' does: a destination it cannot "
                    + "reach (or a local one whose parent directory is missing) fails the check; with delete-on-full it "
                    + "warns loudly when the full sync would delete anything at the destination, and deletions the "
                    + "route's max-delete (counted over max-delete-window) would refuse fail the check. It counts what "
                    + "the full sync would overwrite, delete and rename away against the route's max-change, as a run "
                    + "does, and fails when max-change would refuse it.",
                "Warns about a root no route reads: the tracker records its changes, but nothing sends them.",
                "Names each route whose root, excludes, includes (or the lists they name), dest or rsync-args changed "
                    + "since its cursor was committed: its next run is full (reason route-changed). That alone does not "
                    + "fail the check.",
                ""},
            footerHeading = "%nExample:%n",
            footer = "  changeq-sync check --config /etc/changeq/changeq.yaml --examples 50")
    static final class CheckCommand implements Callable<Integer> {

        @Option(names = "--config", paramLabel = "FILE", required = true, description = "the changeq config file (YAML)")
        Path config;

        @Option(names = "--examples", paramLabel = "N", defaultValue = "20",
                description = "example paths shown per finding (default ${DEFAULT-VALUE})")
        int examples;

        private final ConfigSource configs;
        private final PrintStream out;

        CheckCommand(ConfigSource configs, PrintStream out) {
            this.configs = configs;
            this.out = out;
        }

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            if (examples < 0) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--examples must be 0 or more, got " + examples);
            }
            return CoverageCheck.run(load(configs, config), examples, out);
        }
    }

    @Command(name = "follow", mixinStandardHelpOptions = true, usageHelpAutoWidth = true, sortOptions = false,
            header = "Follows the queue for one route and sends its changes within seconds, instead of its timer.",
            description = {
                "Follows the change queue for one route and syncs its changes within seconds, as a service "
                    + "(changeq-sync-follow@ROUTE.service) instead of the route's timer.",
                "",
                "Every run is the timer's run: the same lock, claim, full-sync policy, rsync, retry list, commit after "
                    + "success, metrics, and one summary line on stdout. The follower only decides when: once the "
                    + "route's changes have been quiet for follow.quiet (default 2s), once the oldest has waited "
                    + "follow.max-delay (30s), or at once when follow.max-batch (10000) wait. It holds the route's lock "
                    + "while it runs, so a timer run of the route exits 7: disable the timer when enabling the follower.",
                "",
                "A failed run (destination down, a refusal) keeps the cursor; the next waits 1 s, then twice as long "
                    + "each time up to follow.retry-max (5m), and sends everything waiting in one run. The log says so "
                    + "once per change; changeq_sync_follow_retry_wait_seconds shows the wait. Under systemd it reports "
                    + "READY=1 once it follows, and pings the watchdog. SIGTERM stops a running rsync and exits 0 with "
                    + "the cursor where it was; the next start sends those changes again.",
                ""},
            footerHeading = "%nExample:%n",
            footer = {"  systemctl disable --now changeq-sync@offsite-nfs.timer",
                "  systemctl enable --now changeq-sync-follow@offsite-nfs.service"})
    static final class FollowCommand implements Callable<Integer> {

        @Option(names = "--config", paramLabel = "FILE", required = true, description = "the changeq config file (YAML)")
        Path config;

        @Option(names = "--route", paramLabel = "NAME", required = true, description = "the route to follow")
        String route;

        @Mixin
        RunOptions runOptions;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        private final ConfigSource configs;
        private final Clock clock;
        private final PrintStream out;
        private final PrintStream err;

        FollowCommand(ConfigSource configs, Clock clock, PrintStream out, PrintStream err) {
            this.configs = configs;
            this.clock = clock;
            this.out = out;
            this.err = err;
        }

        @Override
        public Integer call() throws SyncException, InterruptedException {
            ChangeqConfig loaded = load(configs, config);
            requireRoute(loaded, route, config, spec.commandLine());
            SyncRequest request = new SyncRequest(route, false, false, Optional.ofNullable(runOptions.metricsDirectory),
                    runOptions.retainMinAge, false, false, OptionalLong.empty(), runOptions.verbose, OptionalLong.empty(),
                    Duration.ZERO);
            StopSignals.install();
            RouteFollower follower = RouteFollower.start(loaded, request, clock, out, SystemdNotifier.fromEnvironment());
            // SIGTERM is how systemd stops a service: a clean stop, so the process exits with the follower's code
            // rather than the JVM's 143.
            Runtime.getRuntime().addShutdownHook(ChangeqThreads.newThread(SyncMain.class, "changeq-follow-shutdown", () -> {
                follower.close();
                out.flush();
                Runtime.getRuntime().halt(follower.exitCode());
            }));
            int exitCode = follower.awaitTermination();
            follower.close();
            return exitCode;
        }
    }

    @Command(name = "allow", mixinStandardHelpOptions = true, usageHelpAutoWidth = true, sortOptions = false,
            header = "Lets the route's next run through max-change, for a follower that is running.",
            description = {
                "Writes a consent for the route's next run into the state directory: that run may overwrite, delete or "
                    + "rename away up to N files at the destination, whatever the route's max-change says, and its "
                    + "changes are not counted against max-change. A follower held by max-change looks for the consent "
                    + "at its quiet interval and runs at once, without a restart; a timer run uses it the same way. "
                    + "The consent is used up by the first run that commits; a later consent replaces an unused one.",
                "",
                "For a run by hand, --allow-changes N on that run does the same.",
                ""},
            footerHeading = "%nExample:%n",
            footer = {"  changeq-sync allow --config /etc/changeq/changeq.yaml \\",
                "      --route offsite-nfs --changes 4200"})
    static final class AllowCommand implements Callable<Integer> {

        @Option(names = "--config", paramLabel = "FILE", required = true, description = "the changeq config file (YAML)")
        Path config;

        @Option(names = "--route", paramLabel = "NAME", required = true, description = "the route whose next run may change")
        String route;

        @Option(names = "--changes", paramLabel = "N", required = true, description = "how many files at the destination"
                + " the next run may overwrite, delete or rename away")
        long changes;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        private final ConfigSource configs;
        private final PrintStream out;

        AllowCommand(ConfigSource configs, PrintStream out) {
            this.configs = configs;
            this.out = out;
        }

        @Override
        public Integer call() throws SyncException {
            if (changes < 0) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--changes must be 0 or more, got " + changes);
            }
            ChangeqConfig loaded = load(configs, config);
            requireRoute(loaded, route, config, spec.commandLine());
            IndexFile consent = new StateLayout(loaded.state()).changeConsent(route);
            try {
                consent.write(changes);
            } catch (IOException e) {
                throw stateFailure(route, "cannot write the consent " + consent.path(), e);
            }
            out.println("route '" + route + "': its next run may change up to " + changes + " files at the destination ("
                    + consent.path() + "); a follower held by max-change runs within its quiet interval ("
                    + loaded.route(route).follow().quiet().toMillis() + " ms)");
            return ExitCodes.OK;
        }
    }

    @Command(name = "changes", mixinStandardHelpOptions = true, usageHelpAutoWidth = true, sortOptions = false,
            header = "Lists what one of the route's last runs changed at its destination.",
            description = {
                "Prints one line per path the run sent new, overwrote or deleted at the destination (KIND PATH, names "
                    + "escaped as changeq-queue prints them: \\n, \\ooo), after a line with the run's start and "
                    + "counts. The record of each of the route's last " + RunChanges.KEPT_RUNS + " committed runs is kept "
                    + "in <state>/runs/ROUTE.changes/, written before the run's cursor commits; a run lists its first "
                    + RunChanges.LISTED_PATHS + " paths and counts the rest.",
                ""},
            footerHeading = "%nExample:%n",
            footer = {"  changeq-sync changes --config /etc/changeq/changeq.yaml --route nfs",
                "  changeq-sync changes --config /etc/changeq/changeq.yaml --route nfs --run 2"})
    static final class ChangesCommand implements Callable<Integer> {

        @Option(names = "--config", paramLabel = "FILE", required = true, description = "the changeq config file (YAML)")
        Path config;

        @Option(names = "--route", paramLabel = "NAME", required = true, description = "the route whose run to list")
        String route;

        @Option(names = "--run", paramLabel = "N", description = "the N-th last run that committed (default 1: the last)")
        int run = 1;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        private final ConfigSource configs;
        private final PrintStream out;

        ChangesCommand(ConfigSource configs, PrintStream out) {
            this.configs = configs;
            this.out = out;
        }

        @Override
        public Integer call() throws SyncException {
            if (run < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--run must be 1 or more, got " + run);
            }
            ChangeqConfig loaded = load(configs, config);
            requireRoute(loaded, route, config, spec.commandLine());
            Path directory = new StateLayout(loaded.state()).runChanges(route);
            Optional<RunChanges> record;
            try {
                record = RunChanges.read(directory, run);
            } catch (IOException e) {
                throw stateFailure(route, "cannot read " + directory, e);
            } catch (IllegalStateException e) {
                throw new SyncException(ExitCodes.SOFTWARE, "route '" + route + "': " + e.getMessage(), e);
            }
            if (record.isEmpty()) {
                out.println("route '" + route + "': no record of its run " + run + " back in " + directory + " (the last "
                        + RunChanges.KEPT_RUNS + " runs that committed are kept)");
                return ExitCodes.OK;
            }
            RunChanges changes = record.get();
            out.println("route '" + route + "': run started " + Instant.ofEpochMilli(changes.startedMillis()) + ": "
                    + changes.describe());
            for (RunChanges.Entry entry : changes.entries()) {
                out.println(entry.kind().token + " " + ByteStrings.escape(entry.path()));
            }
            long unlisted = changes.counts().values().stream().mapToLong(Long::longValue).sum() - changes.entries().size();
            if (unlisted > 0) {
                out.println("... and " + unlisted + " more, counted but not listed");
            }
            return ExitCodes.OK;
        }
    }

    /** {@code 0}, {@code 90s}, {@code 30m}, {@code 12h}, {@code 1d}, or ISO-8601 ({@code PT12H}). */
    static final class AgeConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            String text = value.trim().toLowerCase(Locale.ROOT);
            if (text.startsWith("p")) {
                return Duration.parse(text.toUpperCase(Locale.ROOT));
            }
            if (text.equals("0")) {
                return Duration.ZERO;
            }
            if (text.length() < 2) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not an age; write e.g. 12h or 1d");
            }
            long amount;
            try {
                amount = Long.parseLong(text.substring(0, text.length() - 1));
            } catch (NumberFormatException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not an age; write e.g. 12h or 1d");
            }
            return switch (text.charAt(text.length() - 1)) {
                case 's' -> Duration.ofSeconds(amount);
                case 'm' -> Duration.ofMinutes(amount);
                case 'h' -> Duration.ofHours(amount);
                case 'd' -> Duration.ofDays(amount);
                default -> throw new CommandLine.TypeConversionException("'" + value + "' has an unknown unit; use s, m, h or d");
            };
        }
    }
}
