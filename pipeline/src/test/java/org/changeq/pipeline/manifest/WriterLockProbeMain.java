package org.changeq.pipeline.manifest;

import java.nio.file.Path;

/** Run in a child JVM by {@link WriterLockTest}: locks belong to processes, so only another process can tell. */
public final class WriterLockProbeMain {
    private WriterLockProbeMain() {
    }

    /** {@code is-held QUEUE} prints true or false; {@code acquire QUEUE STATE} exits with the refusal's code. */
    public static void main(String[] args) throws Exception {
        Path queue = Path.of(args[1]);
        if (args[0].equals("is-held")) {
            System.out.println(WriterLock.isHeld(queue));
            return;
        }
        try (WriterLock lock = WriterLock.acquire(queue, Path.of(args[2]))) {
            System.out.println("acquired " + lock.identity().id());
        } catch (QueueRefusedException e) {
            System.out.println(e.getMessage());
            System.exit(e.exitCode());
        }
    }
}
