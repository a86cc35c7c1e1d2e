package org.changeq.pipeline.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import org.changeq.pipeline.ExitCodes;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WriterLockTest {

    @TempDir
    Path dir;

    private Path queue() {
        return dir.resolve("queue");
    }

    @Test
    void aSecondWriterIsRefusedWhateverStateDirectoryItNames() {
        try (WriterLock held = WriterLock.acquire(queue(), dir.resolve("state"))) {
            for (String state : new String[] {"state", "other-state"}) {
                QueueRefusedException refused = assertThrows(QueueRefusedException.class,
                        () -> WriterLock.acquire(queue(), dir.resolve(state)));

                assertEquals(ExitCodes.ALREADY_RUNNING, refused.exitCode());
                assertTrue(refused.getMessage().contains("writing to the queue " + queue()), refused.getMessage());
                assertTrue(refused.getMessage().contains("pid " + ProcessHandle.current().pid()), refused.getMessage());
            }
        }
        WriterLock.acquire(queue(), dir.resolve("state")).close();
    }

    @Test
    void theFirstWriterBindsTheQueueToItsStateDirectoryAndAnotherIsRefusedLater() throws Exception {
        Path state = dir.resolve("state");
        try (WriterLock first = WriterLock.acquire(queue(), state)) {
            assertEquals(state.toAbsolutePath(), first.identity().stateDirectory());
        }
        QueueIdentity bound = QueueIdentity.read(queue()).orElseThrow();

        QueueRefusedException refused = assertThrows(QueueRefusedException.class,
                () -> WriterLock.acquire(queue(), dir.resolve("queue.state")));

        assertEquals(ExitCodes.QUEUE_UNAVAILABLE, refused.exitCode());
        assertTrue(refused.getMessage().contains(state.toString()), refused.getMessage());
        assertTrue(refused.getMessage().contains(dir.resolve("queue.state").toString()), refused.getMessage());
        try (WriterLock again = WriterLock.acquire(queue(), state)) {
            assertEquals(bound, again.identity(), "the identity is made once, with the queue");
        }
    }

    @Test
    void aQueueOfTheEarlierVersionGetsAnIdentityFromItsNextWriter() throws Exception {
        try (ManifestWriter writer = ManifestWriter.start(WriterLock.acquire(queue(), dir.resolve("state")), 64,
                ManifestWriter.WRITER_THREADS, failure -> { })) {
            writer.publishMarker(RecordType.OVERFLOW, "r");
        }
        Files.delete(queue().resolve(QueueIdentity.FILE_NAME));

        WriterLock.acquire(queue(), dir.resolve("state")).close();

        assertEquals(dir.resolve("state").toAbsolutePath(), QueueIdentity.read(queue()).orElseThrow().stateDirectory());
        assertEquals(3, TestQueues.records(queue()).size(), "the queue kept its records");
    }

    @Test
    void anotherProcessSeesTheLockHeldOnlyWhileItIsAndCannotTakeIt() throws Exception {
        assertFalse(WriterLock.isHeld(queue()));
        assertEquals("false", probe(0, "is-held", queue().toString()));
        try (WriterLock held = WriterLock.acquire(queue(), dir.resolve("state"))) {
            assertTrue(WriterLock.isHeld(queue()));
            assertEquals("true", probe(0, "is-held", queue().toString()));
            String refusal = probe(ExitCodes.ALREADY_RUNNING, "acquire", queue().toString(),
                    dir.resolve("elsewhere").toString());
            assertTrue(refusal.contains("pid " + ProcessHandle.current().pid()), refusal);
            assertTrue(WriterLock.isHeld(queue()), "asking from this process must not release the lock");
        }
        assertFalse(WriterLock.isHeld(queue()));
        assertEquals("false", probe(0, "is-held", queue().toString()));
    }

    /** Runs {@link WriterLockProbeMain} in a child JVM and returns what it printed. */
    private static String probe(int expectedExit, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-cp", System.getProperty("java.class.path"), WriterLockProbeMain.class.getName()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the probe JVM did not finish");
        assertEquals(expectedExit, process.exitValue(), out);
        return out;
    }
}
