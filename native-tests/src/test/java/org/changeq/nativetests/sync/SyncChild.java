package org.changeq.nativetests.sync;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.changeq.pipeline.ChronicleSettings;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.sync.RouteSync;
import org.changeq.sync.SyncException;
import org.changeq.sync.SyncReport;
import org.changeq.sync.SyncRequest;

/** A sync run in its own JVM, for tests that kill it: {@code SyncChild BENCH-DIR DEST ROUTE RSYNC-ARG...}. */
public final class SyncChild {

    private SyncChild() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        ChronicleSettings.apply();
        SyncBench bench = SyncBench.existing(Path.of(args[0]));
        RouteConfig route = SyncBench.route(args[2], args[1], List.of(), List.of(), Optional.empty(), Optional.empty(),
                List.of(args).subList(3, args.length), RouteConfig.DEFAULT_BACKLOG_THRESHOLD, true, false);
        try {
            SyncReport report = RouteSync.run(bench.config(route), SyncRequest.of(args[2]), Clock.systemDefaultZone(),
                    System.out);
            System.out.println(report.summaryLine());
            System.exit(report.exitCode());
        } catch (SyncException e) {
            System.err.println(e.getMessage());
            System.exit(e.exitCode());
        }
    }
}
