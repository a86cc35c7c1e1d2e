package org.changeq.nativetests.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Random;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.testing.Poll;
import org.changeq.sync.SyncReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A file deleted between rsync's listing and its transfer (rsync exit 24, "file has vanished"): the run succeeds and
 * commits without a warning; the deletion is a record of its own. Real rsync, slowed down so that the test deletes the
 * file while rsync writes the one before it.
 */
class VanishedFileTest {

    @TempDir
    Path tmp;

    @Test
    void aFileThatVanishedWhileRsyncRanIsNoFailureAndNoWarning() throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        Path dest = tmp.resolve("dest");
        ChangeqConfig config = bench.config(SyncBench.Route.of("r", dest.toString()).rsyncArgs("-rlt", "--bwlimit=1000"));
        Trees.write(bench.root, "small", "s");
        assertEquals(ExitCodes.OK, bench.sync(config, "r").exitCode());

        byte[] big = new byte[3 << 20];
        new Random(7).nextBytes(big);
        Files.write(bench.root.resolve("big"), big);
        Trees.write(bench.root, "vanishing", "gone before rsync reads it");
        bench.changed("big", "vanishing");
        SyncReport[] report = new SyncReport[1];
        Thread run = new Thread(() -> {
            try {
                report[0] = bench.sync(config, "r");
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        run.start();
        // rsync listed both and sends in name order: "vanishing" is still to come while big is written.
        Poll.until(Duration.ofSeconds(20), "rsync writing big",
                () -> Trees.list(dest).stream().anyMatch(entry -> entry.startsWith("f .big.")));
        Files.delete(bench.root.resolve("vanishing"));
        run.join();

        assertEquals(OptionalInt.of(24), report[0].rsyncExit(), report[0].summaryLine());
        assertEquals(ExitCodes.OK, report[0].exitCode(), report[0].summaryLine());
        assertTrue(report[0].summaryLine().contains(" files=1 deleted=0 failed=0 "), report[0].summaryLine());
        assertEquals(OptionalLong.of(bench.queueEnd()), bench.cursor("r"));
        assertFalse(Files.exists(dest.resolve("vanishing")));
        Trees.assertSameTree(bench.root, dest);
    }
}
