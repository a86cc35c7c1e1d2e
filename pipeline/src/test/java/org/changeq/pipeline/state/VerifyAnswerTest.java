package org.changeq.pipeline.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifyAnswerTest {

    @TempDir
    Path dir;

    @Test
    void roundTripsTheOutputByteForByteAndTheError() throws IOException {
        byte[] output = {'c', 'o', 'n', 't', 'e', 'n', 't', ' ', 'a', '\\', 'n', (byte) 0xff, '\n', 0, '\n'};
        VerifyAnswer answer = new VerifyAnswer(1_700_000_000_123L, 16, "route 'r': näh\nsecond line", output);
        Path file = new StateLayout(dir).verifyAnswer("offsite");
        answer.write(file);

        VerifyAnswer read = VerifyAnswer.read(file).orElseThrow();
        assertEquals(answer.startedMillis(), read.startedMillis());
        assertEquals(16, read.exitCode());
        assertEquals(answer.error(), read.error());
        assertArrayEquals(output, read.output());
    }

    @Test
    void noFileIsNoAnswer() throws IOException {
        assertEquals(Optional.empty(), VerifyAnswer.read(new StateLayout(dir).verifyAnswer("offsite")));
    }

    @Test
    void aCutOffOrOtherFileIsRefusedNamingIt() throws IOException {
        byte[] whole = new VerifyAnswer(5, 0, "", "route=r verify files=1\n".getBytes(StandardCharsets.US_ASCII))
                .encode();
        Path file = dir.resolve("cut");
        Files.write(file, Arrays.copyOf(whole, whole.length - 3));
        IllegalStateException cut = assertThrows(IllegalStateException.class, () -> VerifyAnswer.read(file));
        assertTrue(cut.getMessage().startsWith(file + " is malformed: 'output' is cut off"), cut.getMessage());

        Files.writeString(file, "changeq-verify-answer 2\n");
        IllegalStateException newer = assertThrows(IllegalStateException.class, () -> VerifyAnswer.read(file));
        assertTrue(newer.getMessage().contains("version 2"), newer.getMessage());

        Files.writeString(file, "changeq-verify 1\n");
        assertThrows(IllegalStateException.class, () -> VerifyAnswer.read(file));
    }
}
