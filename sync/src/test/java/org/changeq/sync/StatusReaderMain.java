package org.changeq.sync;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import org.changeq.pipeline.state.RunProgressFile;

/**
 * Run in a child JVM by {@link RouteLockTest}: a status reader in another process, as {@code changeq-queue stat}
 * is, asking over and over whether the run that wrote a progress file (the parent) still runs. Prints {@code
 * probing} after its first question and the number it asked once its input ends.
 */
public final class StatusReaderMain {
    private StatusReaderMain() {
    }

    public static void main(String[] args) throws Exception {
        Path lockFile = Path.of(args[0]);
        RunProgressFile.Snapshot running = new RunProgressFile.Snapshot(ProcessHandle.current().parent().orElseThrow()
                .pid(), 1, 2, "full sync", true, 0, 0, 0, -1, -1, false, new byte[0]);
        AtomicBoolean stop = new AtomicBoolean();
        Thread input = new Thread(() -> {
            try {
                System.in.readAllBytes();
            } catch (java.io.IOException e) {
                // As the end of the input: stop.
            }
            stop.set(true);
        });
        input.setDaemon(true);
        input.start();
        long probes = 0;
        while (!stop.get()) {
            RunProgressFile.isLive(running, lockFile);
            if (probes++ == 0) {
                System.out.println("probing");
                System.out.flush();
            }
        }
        System.out.println(probes);
    }
}
