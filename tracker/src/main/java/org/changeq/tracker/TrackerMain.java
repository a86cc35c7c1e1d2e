package org.changeq.tracker;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.changeq.pipeline.ChangeqThreads;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.ConfigException;
import org.changeq.pipeline.config.ConfigLoader;
import org.changeq.pipeline.ExitCodeException;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.cli.CommandLines;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code changeq-tracker}: options become a config, {@link Tracker} does the work. */
@Command(name = "changeq-tracker", mixinStandardHelpOptions = true, sortOptions = false,
        usageHelpAutoWidth = true,
        description = {
            "Watches the configured roots (in quick mode one tree) with inotify and appends every change below it, deduplicated, to the "
                    + "changeq manifest queue, which changeq-sync turns into rsync runs.",
            "",
            "It is the queue's only writer and runs until SIGTERM (systemctl stop), then appends what it has "
                    + "observed and a STOP record and exits 0. Excluded paths never enter the queue; excluded "
                    + "directories are not even watched. Events the kernel drops, and directories that cannot be "
                    + "watched (fs.inotify.max_user_watches, permission denied), are recorded as OVERFLOW: the next "
                    + "sync of the root is full; such directories are tried again every 60 s, each try followed by "
                    + "another OVERFLOW until they are watched.",
            "",
            "A root that is unmounted, deleted or unreadable is recorded as OVERFLOW and named in the log, in "
                    + "systemctl status and in changeq-queue stat; it is checked every 2 s and watched again on its "
                    + "own once it is back.",
            "",
            "On SIGHUP (systemctl reload changeq-tracker) it reads the config file again: new roots are watched, "
                    + "removed ones released, roots whose path or excludes changed are watched anew; each new or "
                    + "changed root is recorded as OVERFLOW, so its next sync is full. A config that is invalid, names "
                    + "another queue or state directory, or a root that cannot be watched is refused in the log and the "
                    + "old one stays in force. changeq-sync runs a route full and exits 14 while the tracker does not "
                    + "watch its root as configured.",
            "",
            "On start it catches up on what changed while no tracker ran: every path whose status-change time is "
                    + "at or after the queue's last record, or the older watermark until which the previous run had "
                    + "recorded everything, minus 2 s, is recorded, a changed directory as a whole, then a RESCAN, so "
                    + "the next sync stays incremental. If it cannot tell what it missed (queue gone, clock went "
                    + "backwards, watermark unreadable) it records OVERFLOW instead.",
            ""
        },
        footer = {
            "",
            "Examples:",
            "  Run as the service does, from the config file:",
            "    changeq-tracker --config /etc/changeq/changeq.yaml",
            "",
            "  Quick mode, to try it out: watch /srv/nfs into a scratch queue, state in",
            "  /tmp/changeq-try/queue.state (the service's queue refuses it: a queue has",
            "  one writer and one state directory):",
            "    changeq-tracker --root /srv/nfs --queue /tmp/changeq-try/queue",
            "",
            "  Leave out caches and a replicated tree (rsync patterns: a trailing /",
            "  matches directories only, a leading / anchors at the root, * stays within",
            "  a name, ** crosses /):",
            "    changeq-tracker --root /srv/nfs --queue /tmp/changeq-try/queue \\",
            "        --exclude 'immich/' --exclude '/anca-elements/' --exclude '*.tmp'",
            "",
            "  See what it recorded:  changeq-queue tail --queue /tmp/changeq-try/queue",
            "",
            "Directories to watch are limited by fs.inotify.max_user_watches (sysctl); the log says when to raise it."
        })
public final class TrackerMain implements Callable<Integer> {

    /** Either a config file, or quick mode for one tree. */
    static final class Source {
        @Option(names = "--config", paramLabel = "FILE",
                description = "The changeq config file (YAML): queue, state, roots and their excludes.")
        Path config;

        @ArgGroup(exclusive = false)
        QuickMode quick;
    }

    static final class QuickMode {
        @Option(names = "--root", required = true, paramLabel = "DIR",
                description = "Quick mode: the directory tree to watch, recursively (root name 'default'). "
                        + "Symlinks below it are not followed.")
        Path root;

        @Option(names = "--queue", required = true, paramLabel = "DIR",
                description = "Quick mode: the manifest queue directory; created if missing.")
        Path queue;

        @Option(names = "--state", paramLabel = "DIR",
                description = "Quick mode: lock, claims and cursors (default: <queue>.state beside the queue). "
                        + "A queue belongs to the state directory its first tracker named.")
        Path state;

        @Option(names = "--exclude", paramLabel = "PATTERN",
                description = "Quick mode: never watch or record paths matching this rsync-style pattern, "
                        + "relative to the root. Repeatable.")
        List<String> excludes = new ArrayList<>();
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    private Source source;

    @Spec
    private CommandSpec spec;

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        System.exit(run(args, out, err));
    }

    /** Parses the options and runs the tracker until it stops; returns the exit code. */
    static int run(String[] args, PrintWriter out, PrintWriter err) {
        return commandLine(out, err).execute(args);
    }

    /** The command line of {@code changeq-tracker}, writing help and errors to {@code out} and {@code err}. */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine commandLine = CommandLines.configure(new CommandLine(new TrackerMain()), ExitCodes.OK,
                ExitCodes.SOFTWARE, ExitCodes.USAGE, ExitCodes.CONFIG, ExitCodes.ROOT_UNAVAILABLE,
                ExitCodes.QUEUE_UNAVAILABLE, ExitCodes.QUEUE_WRITE_FAILED, ExitCodes.ALREADY_RUNNING)
                .setOut(out).setErr(err);
        // picocli would ask for the rest of quick mode ("Missing required argument(s): --queue=DIR").
        CommandLine.IParameterExceptionHandler usage = commandLine.getParameterExceptionHandler();
        commandLine.setParameterExceptionHandler((failure, args) -> {
            List<String> quick = List.of(args).stream().map(arg -> arg.split("=", 2)[0])
                    .filter(QUICK_MODE_OPTIONS::contains).distinct().toList();
            boolean config = List.of(args).stream().anyMatch(arg -> arg.split("=", 2)[0].equals("--config"));
            return usage.handleParseException(!config || quick.isEmpty() ? failure
                    : new CommandLine.ParameterException(failure.getCommandLine(), String.join(", ", quick)
                            + (quick.size() == 1 ? " is" : " are") + " for quick mode, without --config: the config "
                            + "file names the queue, the state directory and the roots; give one or the other"), args);
        });
        return commandLine;
    }

    private static final List<String> QUICK_MODE_OPTIONS = List.of("--root", "--queue", "--state", "--exclude");

    @Override
    public Integer call() throws InterruptedException {
        // Before anything else: the JVM's default for SIGHUP is to exit, which would make systemctl reload a restart.
        ReloadSignal reloads = ReloadSignal.install();
        Tracker tracker;
        try {
            tracker = Tracker.start(config(), this::config);
        } catch (ConfigException e) {
            spec.commandLine().getErr().println("changeq-tracker: " + e.getMessage());
            return ExitCodes.CONFIG;
        } catch (ExitCodeException e) {
            // TrackerStartException, or a state file the tracker refuses to open
            spec.commandLine().getErr().println("changeq-tracker: " + e.getMessage());
            return e.exitCode();
        }
        // SIGTERM runs the hook: a clean stop is a successful run, so the process exits with the tracker's
        // code instead of the JVM's 143.
        Runtime.getRuntime().addShutdownHook(ChangeqThreads.newThread(TrackerMain.class, "changeq-shutdown", () -> {
            tracker.close();
            Runtime.getRuntime().halt(tracker.exitCode());
        }));
        reloads.deliverTo(tracker);
        int exitCode = tracker.awaitTermination();
        tracker.close();
        return exitCode;
    }

    private ChangeqConfig config() throws ConfigException {
        if (source.config != null) {
            return ConfigLoader.load(source.config);
        }
        QuickMode quick = source.quick;
        Path queue = quick.queue.toAbsolutePath().normalize();
        Path state = quick.state != null ? quick.state : queue.resolveSibling(queue.getFileName() + ".state");
        return ConfigLoader.quick(quick.root, queue, state, quick.excludes);
    }
}
