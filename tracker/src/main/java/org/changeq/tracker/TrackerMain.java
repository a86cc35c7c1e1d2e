package org.changeq.tracker;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.RootConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code changeq-tracker}: options become a config, {@link Tracker} does the work. */
@Command(name = "changeq-tracker", mixinStandardHelpOptions = true, sortOptions = false,
        usageHelpAutoWidth = true,
        description = {
            "Watches a directory tree with inotify and appends every change below it, deduplicated, to the "
                    + "changeq manifest queue, which changeq-sync turns into rsync runs.",
            "",
            "It is the queue's only writer and runs until SIGTERM (systemctl stop), then appends what it has "
                    + "observed and a STOP record and exits 0. Excluded paths never enter the queue; excluded "
                    + "directories are not even watched. Events the kernel drops, and directories that cannot be "
                    + "watched (fs.inotify.max_user_watches), are recorded as OVERFLOW: the next sync of the root "
                    + "is full.",
            ""
        },
        footer = {
            "",
            "Examples:",
            "  Watch /srv/nfs, keep the queue in /var/lib/changeq/queue (state in /var/lib/changeq/queue.state):",
            "    changeq-tracker --root /srv/nfs --queue /var/lib/changeq/queue",
            "",
            "  Leave out caches and a replicated tree (rsync patterns: a trailing / matches directories only,",
            "  a leading / anchors at the root, * stays within a name, ** crosses /):",
            "    changeq-tracker --root /srv/nfs --queue /var/lib/changeq/queue \\",
            "        --exclude 'immich/' --exclude '/anca-elements/' --exclude '*.tmp'",
            "",
            "  See what it recorded:  changeq-queue tail /var/lib/changeq/queue",
            "",
            "Exit codes: 0 stopped cleanly, 2 bad options, 4 root missing or unreadable, 5 queue or state",
            "directory unusable, 6 appending to the queue failed, 7 another tracker holds the queue, 1 other errors.",
            "Directories to watch are limited by fs.inotify.max_user_watches (sysctl); the log says when to raise it."
        })
public final class TrackerMain implements Callable<Integer> {

    /** The root's name in quick mode. */
    static final String QUICK_MODE_ROOT = "default";
    /** Files of the legacy shell pipeline that live inside roots and must never be synced as data. */
    private static final List<String> BUILT_IN_EXCLUDES =
            List.of("/.changed-files", "/.changed-files.lock", "/.force-full-sync");

    @Option(names = "--root", required = true, paramLabel = "DIR",
            description = "The directory tree to watch, recursively. Symlinks below it are not followed.")
    private Path root;

    @Option(names = "--queue", required = true, paramLabel = "DIR",
            description = "The manifest queue directory; created if missing.")
    private Path queue;

    @Option(names = "--state", paramLabel = "DIR",
            description = "Lock, claims and cursors (default: <queue>.state beside the queue).")
    private Path state;

    @Option(names = "--exclude", paramLabel = "PATTERN",
            description = "Never watch or record paths matching this rsync-style pattern, relative to the root. "
                    + "Repeatable.")
    private List<String> excludes = new ArrayList<>();

    @Spec
    private CommandSpec spec;

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        System.exit(run(args, out, err));
    }

    /** Parses the options and runs the tracker until it stops; returns the exit code. */
    static int run(String[] args, PrintWriter out, PrintWriter err) {
        return new CommandLine(new TrackerMain()).setOut(out).setErr(err).execute(args);
    }

    @Override
    public Integer call() throws InterruptedException {
        Tracker tracker;
        try {
            tracker = Tracker.start(quickModeConfig());
        } catch (TrackerStartException e) {
            spec.commandLine().getErr().println("changeq-tracker: " + e.getMessage());
            return e.exitCode();
        }
        // SIGTERM runs the hook: a clean stop is a successful run, so the process exits with the tracker's
        // code instead of the JVM's 143.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            tracker.close();
            Runtime.getRuntime().halt(tracker.exitCode());
        }, "changeq-shutdown"));
        int exitCode = tracker.awaitTermination();
        tracker.close();
        return exitCode;
    }

    private ChangeqConfig quickModeConfig() {
        Path rootPath = root.toAbsolutePath().normalize();
        Path queuePath = queue.toAbsolutePath().normalize();
        Path statePath = state != null ? state.toAbsolutePath().normalize()
                : queuePath.resolveSibling(queuePath.getFileName() + ".state");
        List<String> effective = new ArrayList<>(excludes);
        effective.addAll(BUILT_IN_EXCLUDES);
        for (Path own : List.of(queuePath, statePath)) {
            // The tracker's own writes must not feed back into the queue.
            if (own.startsWith(rootPath) && !own.equals(rootPath)) {
                effective.add("/" + rootPath.relativize(own) + "/");
            }
        }
        RootConfig rootConfig = new RootConfig(QUICK_MODE_ROOT, rootPath, excludes, new QuickModeExcludes(effective));
        return new ChangeqConfig(queuePath, statePath, Map.of(QUICK_MODE_ROOT, rootConfig), Map.of(), Map.of());
    }
}
