package org.changeq.tracker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.changeq.pipeline.ExitCodes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command's edges that fail before any watch is added. */
class TrackerMainTest {

    @TempDir
    Path temp;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return TrackerMain.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    }

    @Test
    void helpTeachesWithExamples() {
        assertEquals(ExitCodes.OK, run("--help"));
        assertTrue(out.toString().contains("Examples:"), out.toString());
        assertTrue(out.toString().contains("--exclude"), out.toString());
    }

    @Test
    void aMissingRootIsAClearErrorWithItsOwnExitCode() {
        Path missing = temp.resolve("no-such-root");

        int exitCode = run("--root", missing.toString(), "--queue", temp.resolve("queue").toString());

        assertEquals(ExitCodes.ROOT_UNAVAILABLE, exitCode);
        assertTrue(err.toString().contains(missing + " does not exist"), err.toString());
    }

    @Test
    void aRootThatIsAFileIsRefused() throws IOException {
        Path file = Files.writeString(temp.resolve("file"), "x");

        int exitCode = run("--root", file.toString(), "--queue", temp.resolve("queue").toString());

        assertEquals(ExitCodes.ROOT_UNAVAILABLE, exitCode);
        assertTrue(err.toString().contains("is not a directory"), err.toString());
    }

    @Test
    void missingOptionsAreAUsageError() {
        assertEquals(ExitCodes.USAGE, run("--root", temp.toString()));
        assertTrue(err.toString().contains("--queue"), err.toString());
    }
}
