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
import java.util.List;
import org.changeq.pipeline.state.VerifyState.Kind;
import org.changeq.pipeline.state.VerifyState.Mismatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifyStateTest {

    @TempDir
    Path dir;

    /** Newline, space, backslash, invalid UTF-8 and a leading '#': bytes that a line format or rsync would mangle. */
    private static final byte[] AWKWARD = {'#', 'a', ' ', 'b', '\n', 'c', '\\', (byte) 0xff, '/', 'd'};

    @Test
    void roundTripsTheCycleTheLastRunAndRawMismatchPaths() throws IOException {
        VerifyState state = new VerifyState(1_700_000_000_123L, 30, 7, 41_000, 9_000_000_000L, 1_700_600_000_000L,
                1_700_600_042_000L, 1_690_000_000_000L, List.of(new Mismatch(Kind.CONTENT, AWKWARD),
                new Mismatch(Kind.MISSING, ascii("photos/gone.jpg")), new Mismatch(Kind.TYPE, ascii("was-a-dir")),
                new Mismatch(Kind.EXTRA, ascii("stray"))));
        Path file = new StateLayout(dir).verifyState("offsite");
        state.write(file);

        VerifyState read = VerifyState.read(file);
        assertEquals(state, read);
        assertArrayEquals(AWKWARD, read.mismatches().get(0).path());
        assertEquals(7.0 / 30, read.coverage());
        assertEquals(1L, read.counts().get(Kind.EXTRA));
        try (var files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList(), "no temporary file is left behind");
        }
    }

    @Test
    void aRouteNeverVerifiedHasNoState() throws IOException {
        assertEquals(VerifyState.NONE, VerifyState.read(new StateLayout(dir).verifyState("new")));
        assertEquals(0.0, VerifyState.NONE.coverage());
    }

    @Test
    void aDamagedFileIsRefusedWithItsPathAndTheFix() {
        byte[] encoded = new VerifyState(1, 30, 2, 3, 4, 5, 6, 0, List.of(new Mismatch(Kind.CONTENT, ascii("x"))))
                .encode();
        Path file = dir.resolve("verify/r");
        for (byte[] damaged : List.of(Arrays.copyOf(encoded, encoded.length - 1), ascii("changeq-verify 2\n"),
                ascii("something else\n"), new String(encoded, StandardCharsets.ISO_8859_1)
                        .replace("slices-done 2", "slices-done 31").getBytes(StandardCharsets.ISO_8859_1))) {
            IllegalStateException refused = assertThrows(IllegalStateException.class,
                    () -> VerifyState.decode(damaged, file));
            assertTrue(refused.getMessage().startsWith(file.toString()), refused.getMessage());
        }
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
