package org.changeq.nativetests.faults;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.changeq.nativetests.faults.FaultBench.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.testing.Poll;
import org.changeq.sync.RouteFollower;
import org.changeq.sync.SyncException;
import org.changeq.sync.SyncRequest;
import org.changeq.tracker.SystemdNotifier;

/** A follower in this JVM, as {@code changeq-sync follow} starts one, with the summary lines it printed. */
final class Following implements AutoCloseable {
    private final ByteArrayOutputStream output = new ByteArrayOutputStream();
    private final RouteFollower follower;

    Following(FaultBench bench, SystemdNotifier systemd) throws SyncException {
        follower = RouteFollower.start(bench.config(), SyncRequest.of(FaultBench.ROUTE), Clock.systemDefaultZone(),
                new PrintStream(output, true, UTF_8), systemd);
    }

    Following(FaultBench bench) throws SyncException {
        this(bench, SystemdNotifier.fromEnvironment(Map.of()));
    }

    List<String> summaries() {
        return output.toString(UTF_8).lines().filter(line -> line.startsWith("route=")).toList();
    }

    List<String> awaitSummaries(int count) throws InterruptedException {
        Poll.until(TIMEOUT, () -> count + " summary lines; so far: " + summaries(), () -> summaries().size() >= count);
        return summaries();
    }

    @Override
    public void close() {
        follower.close();
        assertEquals(ExitCodes.OK, follower.exitCode());
        assertTrue(Thread.getAllStackTraces().keySet().stream()
                .noneMatch(thread -> thread.getName().startsWith("changeq-follow") || thread.getName().startsWith("changeq-rsync")),
                "every thread of the follower was joined");
    }
}
