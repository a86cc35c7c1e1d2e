package org.changeq.pipeline.manifest;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QueueIdentityTest {

    @TempDir
    Path dir;

    private final QueueIdentity identity = new QueueIdentity(UUID.fromString("0b5e2c6f-8f4e-4c49-a3a9-1f1d3d2c9e77"),
            Path.of("/var/lib/changeq/state"));

    @Test
    void theCodecIsVersionedTextAndRoundTrips() throws IOException {
        String text = QueueIdentity.encode(identity);

        assertEquals("changeq-queue-id 1\nid 0b5e2c6f-8f4e-4c49-a3a9-1f1d3d2c9e77\nstate /var/lib/changeq/state\n",
                text);
        assertEquals(identity, QueueIdentity.decode(text, dir));
    }

    @Test
    void writtenIdentityReadsBackAndAQueueWithoutOneHasNone() throws IOException {
        Path queue = Files.createDirectories(dir.resolve("queue"));
        assertEquals(Optional.empty(), QueueIdentity.read(queue));

        identity.write(queue);

        assertEquals(Optional.of(identity), QueueIdentity.read(queue));
    }

    @Test
    void aStateDirectoryIsRecordedAbsoluteAndNormalised() {
        Path relative = Path.of("some/../state");

        assertEquals(Path.of("state").toAbsolutePath(),
                new QueueIdentity(UUID.randomUUID(), relative).stateDirectory());
    }

    @Test
    void foreignMalformedAndNewerFilesAreRefusedNamingTheFile() {
        Path source = dir.resolve(QueueIdentity.FILE_NAME);
        for (String text : new String[] {"", "changeq-cursor 1 5\n", "changeq-queue-id 1\nid nonsense\nstate /s\n",
                "changeq-queue-id 1\nstate /s\n", "changeq-queue-id 2\nid x\nstate /s\n"}) {
            IOException refused = assertThrows(IOException.class, () -> QueueIdentity.decode(text, source), text);
            assertTrue(refused.getMessage().contains(source.toString()), refused.getMessage());
        }
    }

    @Test
    void readersAcceptTheirOwnStateDirectoryAndQueuesWithoutAnIdentity() throws IOException {
        Path queue = Files.createDirectories(dir.resolve("queue"));
        Path state = Files.createDirectories(dir.resolve("state"));
        assertDoesNotThrow(() -> QueueIdentity.requireStateDirectory(queue, state));

        new QueueIdentity(UUID.randomUUID(), state).write(queue);
        Files.createSymbolicLink(dir.resolve("state-link"), state);

        assertDoesNotThrow(() -> QueueIdentity.requireStateDirectory(queue, state));
        assertDoesNotThrow(() -> QueueIdentity.requireStateDirectory(queue, dir.resolve("state-link")));
    }

    @Test
    void readersRefuseAQueueOfAnotherStateDirectoryNamingBothAndTheFix() throws IOException {
        Path queue = Files.createDirectories(dir.resolve("queue"));
        new QueueIdentity(UUID.randomUUID(), dir.resolve("service-state")).write(queue);

        QueueNotFoundException refused = assertThrows(QueueNotFoundException.class,
                () -> QueueIdentity.requireStateDirectory(queue, dir.resolve("other-state")));

        assertTrue(refused.getMessage().contains(dir.resolve("service-state").toString()), refused.getMessage());
        assertTrue(refused.getMessage().contains(dir.resolve("other-state").toString()), refused.getMessage());
        assertTrue(refused.getMessage().contains("set 'state:'"), refused.getMessage());
    }
}
