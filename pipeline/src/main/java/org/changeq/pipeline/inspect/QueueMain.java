package org.changeq.pipeline.inspect;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.changeq.pipeline.ChangeqThreads;
import org.changeq.pipeline.ExitCodeException;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.PermissionDenied;
import org.changeq.pipeline.cli.CommandLines;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.ConfigException;
import org.changeq.pipeline.config.ConfigLoader;
import org.changeq.pipeline.config.PathFilter;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.pipeline.manifest.ChronicleSettings;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.manifest.QueueDiskFull;
import org.changeq.pipeline.manifest.QueueIdentity;
import org.changeq.pipeline.manifest.QueueNotFoundException;
import org.changeq.pipeline.manifest.QueueRecord;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.state.StateLayout;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code changeq-queue}: what the tracker recorded and what each route still owes. Read-only. */
@Command(name = "changeq-queue", mixinStandardHelpOptions = true,
        description = {"Shows what changeq's manifest queue holds and what each sync route still has to send.",
                "Read-only: it never modifies the queue or a cursor and takes no lock, so it is safe to run while the "
                        + "tracker and syncs are running."},
        subcommands = {QueueMain.Stat.class, QueueMain.Tail.class, QueueMain.Dump.class, QueueMain.Paths.class,
                QueueMain.Top.class},
        footerHeading = "%nExamples:%n",
        footer = {"  changeq-queue stat --config /etc/changeq/changeq.yaml",
                "  changeq-queue tail -f --queue /var/lib/changeq/queue",
                "  changeq-queue dump --config /etc/changeq/changeq.yaml --route offsite-nfs \\",
                "      --pending",
                "  changeq-queue paths --config /etc/changeq/changeq.yaml --route mirror \\",
                "      --absolute -0 | xargs -0 ls -ld --",
                "  changeq-queue top --queue /var/lib/changeq/queue --depth 2 \\",
                "      --from 2026-11-26T00:00"})
public final class QueueMain implements Callable<Integer> {

    static {
        ChronicleSettings.apply();
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Where the subcommands print; they reach it as their parent command. */
    private final PrintStream out;
    /** What "now" is for ages and relative times. */
    private final Clock clock;

    private QueueMain(PrintStream out, Clock clock) {
        this.out = out;
        this.clock = clock;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command with the given streams, for embedding and tests; returns the exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return commandLine(out, err, Clock.systemDefaultZone()).execute(args);
    }

    /** The command line of {@code changeq-queue}, writing to {@code out} and {@code err}, telling time by {@code clock}. */
    public static CommandLine commandLine(PrintStream out, PrintStream err, Clock clock) {
        CommandLine commandLine = CommandLines.configure(new CommandLine(new QueueMain(out, clock)), ExitCodes.OK,
                ExitCodes.SOFTWARE, ExitCodes.USAGE, ExitCodes.CONFIG, ExitCodes.QUEUE_UNAVAILABLE,
                ExitCodes.QUEUE_WRITE_FAILED, ExitCodes.INTERRUPTED, ExitCodes.TERMINATED);
        commandLine.setOut(new java.io.PrintWriter(out, true));
        commandLine.setErr(new java.io.PrintWriter(err, true));
        commandLine.setExecutionExceptionHandler((failure, cmd, parsed) -> {
            int code;
            Optional<PermissionDenied> denied = PermissionDenied.in(failure);
            if (failure instanceof QueueNotFoundException) {
                code = ExitCodes.QUEUE_UNAVAILABLE;
            } else if (failure instanceof QueueDiskFullException) {
                code = ExitCodes.QUEUE_WRITE_FAILED;
            } else if (failure instanceof ExitCodeException e) {
                code = e.exitCode();
            } else if (failure instanceof ConfigException) {
                code = ExitCodes.CONFIG;
            } else if (denied.isPresent()) {
                failure = denied.get();
                code = denied.get().exitCode();
            } else {
                failure.printStackTrace(err);
                code = ExitCodes.SOFTWARE;
            }
            err.println("changeq-queue: " + failure.getMessage());
            return code;
        });
        return commandLine;
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return ExitCodes.USAGE;
    }

    /** Where the queue is: a config file, or the directories directly. */
    static final class Source {
        @ArgGroup(exclusive = true, multiplicity = "1")
        Location location;

        static final class Location {
            @Option(names = "--config", paramLabel = "FILE", description = "changeq config file (gives queue, state and routes)")
            Path config;

            @Option(names = "--queue", paramLabel = "DIR", description = "queue directory, without the routes; the "
                    + "state directory is the one the queue names")
            Path queue;
        }

        @Option(names = "--json", description = "one JSON object per line, as the schemas in docs/json/ describe (names that "
                + "are not valid UTF-8 as base64 with a flag; each time as ISO-8601 with its offset and in ms since the epoch)")
        boolean json;

        @Option(names = "--utc", description = "times in UTC instead of local time")
        boolean utc;

        @Option(names = "--epoch", description = "times as seconds since the epoch (JSON carries both forms anyway)")
        boolean epoch;

        ChangeqConfig config() throws ConfigException {
            return location.config == null ? null : ConfigLoader.load(location.config);
        }

        RecordFormat format() {
            return new RecordFormat(json, epoch ? RecordFormat.TimeStyle.EPOCH
                    : utc ? RecordFormat.TimeStyle.UTC : RecordFormat.TimeStyle.LOCAL);
        }

        Path queue(ChangeqConfig config) {
            return config != null ? config.queue() : location.queue;
        }

        void withInspector(QueueMain main, ChangeqConfig config, InspectorAction action) throws IOException {
            Path queue = queue(config);
            Path state;
            if (config != null) {
                state = config.state();
                QueueIdentity.requireStateDirectory(queue, state);
            } else {
                state = QueueIdentity.boundStateDirectory(queue).orElse(null);
            }
            try (ManifestReader reader = ManifestReader.open(queue)) {
                QueueInspector inspector = new QueueInspector(reader, queue,
                        state == null ? null : new StateLayout(state), config, format(), main.out);
                action.apply(inspector);
            } catch (InternalError e) {
                // An Error, which picocli would let through as a stack trace: a mapped page the disk cannot back.
                throw new QueueDiskFullException(QueueDiskFull.explain(queue, e).orElseThrow(() -> e), e);
            }
        }
    }

    /** The queue's disk is full: {@link ExitCodes#QUEUE_WRITE_FAILED}, as for the tracker that could not append. */
    static final class QueueDiskFullException extends RuntimeException {
        QueueDiskFullException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    @FunctionalInterface
    interface InspectorAction {
        void apply(QueueInspector inspector) throws IOException;
    }

    /** Parses --from/--to: a queue index (a number) or a time. */
    static final class Bound {
        long index = -1;
        long millis = -1;

        static Bound parse(String text) {
            Bound bound = new Bound();
            if (text.matches("\\d+")) {
                try {
                    bound.index = Long.parseLong(text);
                } catch (NumberFormatException e) {
                    throw new CommandLine.TypeConversionException("'" + text + "' is larger than any queue index ("
                            + Long.MAX_VALUE + "); use an index from 'dump' or a time");
                }
                return bound;
            }
            try {
                if (text.length() == 10) {
                    bound.millis = LocalDate.parse(text).atStartOfDay(ZoneId.systemDefault()).toInstant().toEpochMilli();
                } else if (text.endsWith("Z") || text.matches(".*[+-]\\d\\d:\\d\\d$")) {
                    bound.millis = OffsetDateTime.parse(text.endsWith("Z") ? text.replace("Z", "+00:00") : text)
                            .toInstant().toEpochMilli();
                } else {
                    bound.millis = LocalDateTime.parse(text).atZone(ZoneId.systemDefault()).toInstant().toEpochMilli();
                }
            } catch (DateTimeParseException e) {
                throw new CommandLine.TypeConversionException("'" + text + "' is neither a queue index nor a time; "
                        + "use e.g. 2026-11-26, 2026-11-26T14:30, 2026-11-26T14:30:00Z or an index from 'dump'");
            }
            return bound;
        }
    }

    static final class Range {
        @Option(names = "--from", paramLabel = "INDEX|TIME", converter = BoundConverter.class,
                description = "first record: a queue index or a time (2026-11-26, 2026-11-26T14:30, ...Z)")
        Bound from;

        @Option(names = "--to", paramLabel = "INDEX|TIME", converter = BoundConverter.class,
                description = "last record: a queue index or a time")
        Bound to;

        QueueInspector.Selection selection(Predicate<QueueRecord> filter) {
            return new QueueInspector.Selection(
                    from != null && from.index >= 0 ? from.index : Long.MIN_VALUE,
                    to != null && to.index >= 0 ? to.index : Long.MAX_VALUE,
                    from != null && from.millis >= 0 ? from.millis : Long.MIN_VALUE,
                    to != null && to.millis >= 0 ? to.millis : Long.MAX_VALUE,
                    filter);
        }
    }

    static final class BoundConverter implements CommandLine.ITypeConverter<Bound> {
        @Override
        public Bound convert(String value) {
            return Bound.parse(value);
        }
    }

    static RouteConfig requireRoute(ChangeqConfig config, String route, CommandLine commandLine) {
        if (config == null) {
            throw new CommandLine.ParameterException(commandLine,
                    "--route needs --config FILE: routes are defined in the config");
        }
        try {
            return config.route(route);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(commandLine, e.getMessage());
        }
    }

    /** The filter of {@code --path}, or null without one. */
    static PathFilter pathFilter(String pattern, CommandLine commandLine) {
        if (pattern == null) {
            return null;
        }
        try {
            return PathFilter.of(java.util.List.of(pattern));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(commandLine, "--path: " + e.getMessage());
        }
    }

    static void requireNotNegative(String option, int value, CommandLine commandLine) {
        if (value < 0) {
            throw new CommandLine.ParameterException(commandLine, option + " must be 0 or more, got " + value);
        }
    }

    @Command(name = "stat", mixinStandardHelpOptions = true,
            header = "The queue's records, size and tracker status, and each route's backlog and next run.",
            description = "Records by type and root, first/last record time, queue files on disk, whether the tracker "
                    + "runs (it holds the queue's writer lock) and its pid, and for each route (with --config): its "
                    + "last run and last success, committed cursor, backlog, the paths its next run sends (as paths "
                    + "lists them), age of the oldest pending change, the paths waiting in its retry list, and whether "
                    + "its next run will be full and why.")
    static final class Stat implements Callable<Integer> {
        @ParentCommand
        QueueMain main;

        @Mixin
        Source source;

        @Override
        public Integer call() throws IOException, ConfigException {
            ChangeqConfig config = source.config();
            source.withInspector(main, config, inspector -> inspector.stat(main.clock.millis()));
            // After the report, which still tells what is in the queue: the tracker cannot add to it.
            Optional<String> full = QueueDiskFull.ifFull(source.queue(config));
            if (full.isPresent()) {
                throw new QueueDiskFullException(full.get(), null);
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "tail", mixinStandardHelpOptions = true,
            header = "The newest records, and with -f those appended later.",
            description = "With -f it follows the queue until interrupted; Ctrl-C or SIGTERM ends it with exit 0.")
    static final class Tail implements Callable<Integer> {
        @ParentCommand
        QueueMain main;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Source source;

        @Option(names = {"-n", "--lines"}, paramLabel = "N", defaultValue = "10", description = "records to show first (default ${DEFAULT-VALUE})")
        int count;

        @Option(names = {"-f", "--follow"}, description = "keep printing records as they are appended")
        boolean follow;

        @Override
        public Integer call() throws IOException, ConfigException {
            requireNotNegative("--lines", count, spec.commandLine());
            CountDownLatch interrupted = new CountDownLatch(1);
            CountDownLatch finished = new CountDownLatch(1);
            // Ctrl-C and SIGTERM are how a follow ends: a clean end, so the process exits 0 rather than the JVM's
            // 130 or 143, once the loop has stopped and what it printed is out.
            Thread hook = ChangeqThreads.newThread(QueueMain.class, "changeq-queue-interrupt", () -> {
                interrupted.countDown();
                try {
                    if (finished.await(5, TimeUnit.SECONDS)) {
                        main.out.flush();
                        Runtime.getRuntime().halt(ExitCodes.OK);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            if (follow) {
                Runtime.getRuntime().addShutdownHook(hook);
            }
            try {
                source.withInspector(main, source.config(), inspector -> {
                    // The queue offers no cross-process wake-up for readers; a short idle wait keeps
                    // a follower cheap while it shows a new record within a fraction of a second.
                    inspector.tail(count, follow, () -> interrupted.getCount() == 0, () -> {
                        try {
                            interrupted.await(100, TimeUnit.MILLISECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    });
                });
            } finally {
                if (follow) {
                    try {
                        // A failure's exit code must not become the hook's 0.
                        Runtime.getRuntime().removeShutdownHook(hook);
                    } catch (IllegalStateException signalled) {
                        // the hook runs: it ends the process with 0 once this thread is done
                    }
                }
                finished.countDown();
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "dump", mixinStandardHelpOptions = true,
            header = "Records in queue order, filtered, or those a route's next run reads.",
            description = "Records in queue order, filtered. With --route NAME --pending: exactly the records the "
                    + "route's next incremental run would consider (after its cursor, its root, its filters).")
    static final class Dump implements Callable<Integer> {
        @ParentCommand
        QueueMain main;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Source source;

        @Mixin
        Range range;

        @Option(names = "--type", paramLabel = "TYPE", description = "only this record type: ${COMPLETION-CANDIDATES}")
        RecordType type;

        @Option(names = "--root", paramLabel = "ROOT", description = "only records of this root")
        String root;

        @Option(names = "--path", paramLabel = "GLOB", description = "only paths matching this rsync-style pattern (e.g. '/photos/**', '*.jpg')")
        String pathPattern;

        @Option(names = "--route", paramLabel = "NAME", description = "with --pending: the route to show")
        String route;

        @Option(names = "--pending", description = "show what --route's next incremental run would read")
        boolean pending;

        @Override
        public Integer call() throws IOException, ConfigException {
            ChangeqConfig config = source.config();
            if (pending || route != null) {
                if (!(pending && route != null)) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "--pending and --route go together");
                }
                RouteConfig routeConfig = requireRoute(config, route, spec.commandLine());
                source.withInspector(main, config, inspector -> inspector.pendingRecords(routeConfig));
                return ExitCodes.OK;
            }
            if (root != null && config != null) {
                try {
                    config.root(root);
                } catch (IllegalArgumentException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "--root: " + e.getMessage());
                }
            }
            PathFilter paths = pathFilter(pathPattern, spec.commandLine());
            Predicate<QueueRecord> filter = record -> (type == null || record.type() == type)
                    && (root == null || record.root().equals(root))
                    && (paths == null || record.type().carriesPath() && paths.matchesSelfOrAncestor(record.path(), record.directory()));
            source.withInspector(main, config, inspector -> inspector.dump(range.selection(filter)));
            return ExitCodes.OK;
        }
    }

    @Command(name = "paths", mixinStandardHelpOptions = true,
            header = "The paths a route's next run sends, or only those earlier runs failed to send.",
            description = "The deduplicated pending paths of a route: one per line with unprintable bytes escaped, "
                    + "or raw and NUL-terminated with -0 (byte-exact, for xargs -0 or comparing). They include the "
                    + "route's retry list, the paths earlier runs failed to send; --retry shows only those, with "
                    + "when each first failed and rsync's message for it.")
    static final class Paths implements Callable<Integer> {
        @ParentCommand
        QueueMain main;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Source source;

        @Option(names = "--route", paramLabel = "NAME", required = true, description = "the route")
        String route;

        @Option(names = "-0", description = "raw bytes, each path terminated by NUL")
        boolean nul;

        @Option(names = "--retry", description = "only the retry list: paths earlier runs failed to send, and why")
        boolean retry;

        @Option(names = "--absolute", description = "each path below the root's directory instead of relative to it")
        boolean absolute;

        @Override
        public Integer call() throws IOException, ConfigException {
            if (nul && source.json) {
                throw new CommandLine.ParameterException(spec.commandLine(), "-0 and --json exclude each other: -0 "
                        + "writes raw NUL-terminated paths for xargs -0, --json one object per line; choose one");
            }
            ChangeqConfig config = source.config();
            RouteConfig routeConfig = requireRoute(config, route, spec.commandLine());
            if (retry) {
                source.withInspector(main, config, inspector -> inspector.retryPaths(routeConfig, nul, absolute));
            } else {
                source.withInspector(main, config, inspector -> inspector.paths(routeConfig, nul, absolute));
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "top", mixinStandardHelpOptions = true,
            header = "The directories with the most change records in a range.",
            description = "Find what is churning: each record counts for its directory, cut after --depth names.")
    static final class Top implements Callable<Integer> {
        @ParentCommand
        QueueMain main;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Mixin
        Source source;

        @Mixin
        Range range;

        @Option(names = "--depth", paramLabel = "N", defaultValue = "1", description = "directory depth to group by (default ${DEFAULT-VALUE})")
        int depth;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "20", description = "rows to show (default ${DEFAULT-VALUE})")
        int limit;

        @Override
        public Integer call() throws IOException, ConfigException {
            if (depth < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--depth must be at least 1, got " + depth);
            }
            requireNotNegative("--limit", limit, spec.commandLine());
            source.withInspector(main, source.config(), inspector -> inspector.top(range.selection(record -> true), depth, limit));
            return ExitCodes.OK;
        }
    }


}
