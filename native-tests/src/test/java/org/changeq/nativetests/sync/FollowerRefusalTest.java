package org.changeq.nativetests.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.manifest.WriterLock;
import org.changeq.pipeline.testing.ExpectLog;
import org.changeq.pipeline.testing.Poll;
import org.changeq.sync.RouteFollower;
import org.changeq.sync.SyncRequest;
import org.changeq.tracker.SystemdNotifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

/** A follower's run that is refused before it decides prints its summary line too, and its message is logged once. */
class FollowerRefusalTest {

    @TempDir
    Path tmp;

    @Test
    @ExpectLog(level = Level.ERROR, logger = "RouteSync", contains = "is not the directory the route synced before")
    @ExpectLog(level = Level.WARN, logger = "RouteFollower", contains = "the run exited 4: refused (see above)")
    void aRefusedRunOfAFollowerPrintsItsLine() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Trees.write(bench.root, "a", "a");
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", tmp.resolve("dest").toString()));
        assertEquals(ExitCodes.OK, bench.sync(config, "r").exitCode());
        Path away = tmp.resolve("away");
        Files.move(bench.root, away);
        Files.createDirectories(bench.root);

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (WriterLock tracker = bench.trackerRunning()) {
            RouteFollower follower = RouteFollower.start(config, SyncRequest.of("r"), Clock.systemDefaultZone(),
                    new PrintStream(out, true, UTF_8), SystemdNotifier.fromEnvironment(Map.of()));
            try {
                Poll.until(Duration.ofSeconds(30), () -> "the refused run's line; so far: " + out.toString(UTF_8),
                        () -> out.toString(UTF_8).contains(" exit=4"));
            } finally {
                follower.close();
            }
            assertEquals(ExitCodes.OK, follower.exitCode(), "a refused run does not end following");
        }
        List<String> lines = out.toString(UTF_8).lines().toList();
        assertTrue(lines.get(0).matches("route=r mode=none reason=none files=0 deleted=0 failed=0 bytes=0 seconds=\\d+\\.\\d{3}"
                + " rsync-exit=none exit=4 changed=0"), lines.toString());
    }
}
