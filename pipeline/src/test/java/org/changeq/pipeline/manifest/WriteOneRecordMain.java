package org.changeq.pipeline.manifest;

import java.nio.file.Path;
import org.changeq.pipeline.ExitCodes;

/** Run in a child JVM, outside JUnit, by {@link NoPhoningHomeTest}: Chronicle mutes analytics under JUnit. */
public final class WriteOneRecordMain {
    /** A property {@link NoPhoningHomeTest} plants in stray system.properties files; this prints its value. */
    static final String PLANTED = "changeq.test.planted";

    private WriteOneRecordMain() {
    }

    public static void main(String[] args) {
        Path queue = Path.of(args[0]);
        Path state = Path.of(args[1]);
        try (ManifestWriter writer = ManifestWriter.start(WriterLock.acquire(queue, state), 64,
                ManifestWriter.WRITER_THREADS, failure -> System.exit(ExitCodes.QUEUE_WRITE_FAILED))) {
            writer.publish(RecordType.CHANGE, "root", false, new byte[] {'f'});
        }
        try (ManifestReader reader = ManifestReader.open(queue)) {
            System.out.println("records-read " + reader.read(ManifestReader.NO_INDEX, Long.MAX_VALUE, (i, r) -> true)
                    + " planted=" + System.getProperty(PLANTED, "none"));
        }
    }
}
