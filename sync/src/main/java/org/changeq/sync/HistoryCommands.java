package org.changeq.sync;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.RootConfig;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.pipeline.inspect.RecordFormat;
import org.changeq.pipeline.state.StateLayout;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code changeq-sync history} and {@code changeq-sync restore}: a route's {@link History} read back. Thin: options
 * become a path, a time and a directory, and one call of {@link History} does the work. Neither takes the route's lock
 * (a follower holds it for as long as it follows): they only read the destination, and write nowhere but into
 * {@code --to}. They hold the route's {@link HistoryLock} shared while they read, so that no retention removes a run
 * directory under them.
 */
final class HistoryCommands {

    private HistoryCommands() {
    }

    /**
     * The route with history, its root, a private directory for rsync's lists, removed afterwards, and the history's
     * lock, held shared until then.
     */
    private record Opened(RouteConfig route, RootConfig root, History history, Path scratch, HistoryLock reading)
            implements AutoCloseable {

        static Opened of(SyncMain.ConfigSource configs, Path file, String name, CommandLine commandLine)
                throws SyncException, IOException {
            ChangeqConfig config = SyncMain.load(configs, file);
            SyncMain.requireRoute(config, name, file, commandLine);
            RouteConfig route = config.route(name);
            if (route.history().isEmpty()) {
                throw new SyncException(ExitCodes.CONFIG, "route '" + name + "' keeps no history (" + file + " gives it"
                        + " no history:); add e.g. history: {keep: 30d} to the route, and its later runs keep the"
                        + " versions they overwrite or delete");
            }
            RootConfig root = config.root(route.root());
            HistoryLock reading = HistoryLock.reading(new StateLayout(config.state()).historyLock(name));
            try {
                Path scratch = Files.createTempDirectory("changeq-history-");
                return new Opened(route, root, Transfer.of(route, root, false).history(scratch),
                        scratch, reading);
            } catch (IOException | RuntimeException e) {
                reading.close();
                throw e;
            }
        }

        @Override
        public void close() throws IOException {
            try (HistoryLock held = reading; Stream<Path> left = Files.walk(scratch)) {
                for (Path path : left.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(path);
                }
            }
        }
    }

    /** PATH as the user gave it: relative to the root, or absolute below it; escapes as changeq-queue prints names. */
    static byte[] relativePath(String given, RootConfig root, CommandLine commandLine) {
        String text = given;
        String top = root.path().toString();
        if (text.startsWith("/")) {
            if (!text.equals(top) && !text.startsWith(top + "/")) {
                throw new CommandLine.ParameterException(commandLine, "PATH " + given + " is not below the route's root "
                        + top + "; give it relative to the root (e.g. photos/2026) or absolute below it");
            }
            text = text.substring(Math.min(text.length(), top.length() + 1));
        }
        while (text.startsWith("./")) {
            text = text.substring(2);
        }
        while (text.endsWith("/")) {
            text = text.substring(0, text.length() - 1);
        }
        return text.equals(".") ? new byte[0] : ByteStrings.unescape(text);
    }

    /** What history and restore share: the route and PATH, the route's history opened and PATH made relative. */
    abstract static class HistoryReader implements Callable<Integer> {

        @Option(names = "--config", paramLabel = "FILE", required = true, description = "the changeq config file (YAML)")
        Path config;

        @Option(names = "--route", paramLabel = "NAME", required = true, description = "the route (a key under routes:)")
        String route;

        @Parameters(paramLabel = "PATH", description = "relative to the route's root (or absolute below it); . for all")
        String path;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        private final SyncMain.ConfigSource configs;
        final PrintStream out;

        HistoryReader(SyncMain.ConfigSource configs, PrintStream out) {
            this.configs = configs;
            this.out = out;
        }

        @Override
        public Integer call() throws SyncException, IOException, InterruptedException {
            try (Opened opened = Opened.of(configs, config, route, spec.commandLine())) {
                return read(opened, relativePath(path, opened.root(), spec.commandLine()));
            }
        }

        /** Does the command's work on PATH, {@code relative} to the root, while the history is held open. */
        abstract int read(Opened opened, byte[] relative) throws SyncException, IOException, InterruptedException;
    }

    @Command(name = "history", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
            header = "Lists the earlier versions of a path that a route's history keeps at its destination.",
            description = {
                "For a route with history:, lists every version of PATH (and of every path below it) kept in the "
                    + "destination's .changeq-history/: one line per version, RUN SIZE MODIFIED PATH. RUN is the start of "
                    + "the run that overwrote or deleted it: the version is the content PATH had at the destination "
                    + "before that run; MODIFIED is its modification time. Names are escaped as changeq-queue prints "
                    + "them; PATH takes the same escapes (\\n, \\xff). Works for local, ssh and daemon destinations.",
                ""},
            footerHeading = "%nExample:%n",
            footer = {"  changeq-sync history --config /etc/changeq/changeq.yaml --route offsite-nfs \\",
                "      documents/tax.ods"})
    static final class HistoryCommand extends HistoryReader {

        @Option(names = "--json", description = "one JSON object per version (docs/json/history.schema.json), times in UTC")
        boolean json;

        HistoryCommand(SyncMain.ConfigSource configs, PrintStream out) {
            super(configs, out);
        }

        @Override
        int read(Opened opened, byte[] relative) throws SyncException, IOException, InterruptedException {
            List<History.Entry> versions = opened.history().versions(relative);
            if (json) {
                RecordFormat format = new RecordFormat(true, RecordFormat.TimeStyle.UTC);
                for (History.Entry version : versions) {
                    RecordFormat.JsonLine line = format.line().field("route", route);
                    Optional<Instant> run = History.runStart(version.run());
                    if (run.isPresent()) {
                        line.time("run", run.get().toEpochMilli());
                    } else {
                        line.nullField("run").nullField("run_epoch_ms");
                    }
                    line.field("run_directory", version.run()).path("path", version.path())
                            .field("directory", version.directory());
                    if (version.directory()) {
                        line.nullField("size");
                    } else {
                        line.field("size", version.size());
                    }
                    out.println(line.field("modified", version.modified()));
                }
                return ExitCodes.OK;
            }
            if (versions.isEmpty()) {
                out.println("no earlier version of " + (relative.length == 0 ? "." : ByteStrings.escape(relative))
                        + " in " + opened.history().location());
            }
            for (History.Entry version : versions) {
                out.println(History.runStart(version.run()).map(Instant::toString).orElse(version.run()) + " "
                        + (version.directory() ? "-" : version.size()) + " " + version.modified() + " "
                        + ByteStrings.escape(version.path()) + (version.directory() ? "/" : ""));
            }
            return ExitCodes.OK;
        }
    }

    @Command(name = "restore", mixinStandardHelpOptions = true, usageHelpAutoWidth = true,
            header = "Copies a path as it was at a given time from a route's destination and history into a directory.",
            description = {
                "Copies PATH (a file, or a directory with everything below it) as the destination held it at --at into "
                    + "--to DIR, under its path relative to the root: the destination's current copy, and over it, of "
                    + "each file, the version kept by the first run at or after --at that overwrote or deleted it. "
                    + "Files created after --at come along (the history keeps what runs replaced, not what they "
                    + "added). Without --at: as before the newest run that changed PATH or anything below it.",
                "Refuses a DIR inside the route's root (the live source) unless --over-source. Names are bytes: PATH "
                    + "takes changeq-queue's escapes (\\n, \\xff).",
                ""},
            footerHeading = "%nExample:%n",
            footer = {"  changeq-sync restore --config /etc/changeq/changeq.yaml --route offsite-nfs \\",
                "      --at 2026-12-07T09:00:00Z --to /root/restored documents"})
    static final class RestoreCommand extends HistoryReader {

        @Option(names = "--at", paramLabel = "TIME", description = "an instant such as 2026-12-07T09:00:00Z")
        String at;

        @Option(names = "--to", paramLabel = "DIR", required = true, description = "where the copy goes (created)")
        Path to;

        @Option(names = "--over-source", description = "allow a DIR inside the route's root: writes into the live data")
        boolean overSource;

        RestoreCommand(SyncMain.ConfigSource configs, PrintStream out) {
            super(configs, out);
        }

        @Override
        int read(Opened opened, byte[] relative) throws SyncException, IOException, InterruptedException {
            Path target = to.toAbsolutePath().normalize();
            if (!overSource && insideRoot(target, opened.root().path())) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--to " + target + " lies inside the"
                        + " route's root " + opened.root().path() + ", the live data the route backs up; choose a"
                        + " directory outside it, or add --over-source to write over the source on purpose");
            }
            Instant time;
            if (at != null) {
                time = instant(at, spec.commandLine());
            } else {
                List<History.Entry> versions = opened.history().versions(relative);
                if (versions.isEmpty()) {
                    throw new SyncException(ExitCodes.USAGE, "no earlier version of " + ByteStrings.escape(relative)
                            + " in " + opened.history().location() + "; 'changeq-sync history' lists what it keeps,"
                            + " give --at to copy the destination's current state");
                }
                time = History.runStart(versions.get(versions.size() - 1).run()).orElseThrow();
            }
            Files.createDirectories(target);
            List<String> runs = opened.history().restore(relative, time, target);
            out.println("restored " + (relative.length == 0 ? "." : ByteStrings.escape(relative)) + " as of " + time
                    + " into " + target + " from the destination" + (runs.isEmpty() ? "" : " and the run"
                    + " directories " + String.join(", ", runs)));
            return ExitCodes.OK;
        }

        private static Instant instant(String text, CommandLine commandLine) {
            try {
                return Instant.parse(text);
            } catch (DateTimeParseException e) {
                return History.runStart(text).orElseThrow(() -> new CommandLine.ParameterException(commandLine,
                        "--at " + text + " is not a time; write it as 2026-12-07T09:00:00Z (UTC) or as a run name"
                                + " that 'changeq-sync history' prints"));
            }
        }

        /** Whether {@code target}, or what its existing part resolves to, lies in the root. */
        private static boolean insideRoot(Path target, Path root) throws IOException {
            Path existing = target;
            while (existing != null && !Files.exists(existing)) {
                existing = existing.getParent();
            }
            Path resolved = existing == null ? target : existing.toRealPath().resolve(existing.relativize(target));
            Path realRoot = Files.exists(root) ? root.toRealPath() : root;
            return target.startsWith(root) || resolved.startsWith(realRoot);
        }
    }
}
