package org.changeq.nativetests.tracker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.manifest.QueueRecord;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.manifest.TestQueues;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code changeq-tracker} as a process: its exit codes, its clean stop on SIGTERM, and its silence on the network. */
class TrackerProcessTest {

    private static final String MAIN_CLASS = "org.changeq.tracker.TrackerMain";

    @TempDir
    Path temp;

    /** The JVM flags this test JVM got from the build (module openings, Chronicle settings), for the child. */
    private static List<String> jvmFlags() {
        List<String> flags = new ArrayList<>();
        for (String argument : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (argument.startsWith("--add-") || argument.startsWith("--enable-native-access")
                    || argument.startsWith("-D") || argument.equals("-ea")) {
                flags.add(argument);
            }
        }
        return flags;
    }

    private ProcessBuilder tracker(List<String> prefix, String... arguments) {
        List<String> command = new ArrayList<>(prefix);
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmFlags());
        // The production logging config (INFO to stderr), not the tests' quieter one.
        command.add("-Dlogback.configurationFile=logback.xml");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(MAIN_CLASS);
        command.addAll(List.of(arguments));
        return new ProcessBuilder(command).directory(temp.toFile())
                .redirectOutput(temp.resolve("stdout").toFile())
                .redirectError(temp.resolve("stderr").toFile());
    }

    private String read(String file) throws IOException {
        return Files.readString(temp.resolve(file));
    }

    @Test
    void sigtermStopsCleanlyWithStopLastAndExitZeroAndNoNetworkIsTouched() throws Exception {
        Path root = Files.createDirectories(temp.resolve("root"));
        Path queue = temp.resolve("queue");
        boolean traced = new File("/usr/bin/strace").canExecute();
        if (!traced) {
            System.out.println("strace is not installed: the network check of this test is skipped");
        }
        List<String> strace = traced
                ? List.of("/usr/bin/strace", "-f", "-qq", "-e", "trace=network", "-o", temp.resolve("strace").toString())
                : List.of();
        Process process = tracker(strace, "--root", root.toString(), "--queue", queue.toString()).start();
        try {
            TrackedTree.awaitCondition(() -> "the tracker to log that it is watching; stderr: " + readQuietly("stderr"),
                    () -> readQuietly("stderr").contains("watching 1 directories") || !process.isAlive());
            assertTrue(process.isAlive(), "the tracker exited: " + readQuietly("stderr"));
            Files.writeString(root.resolve("observed"), "x");
            TrackedTree.awaitCondition(() -> "a record of the change in " + queue,
                    () -> TestQueues.records(queue).stream().anyMatch(record -> record.type() == RecordType.CHANGE
                            && TrackedTree.text(record.path()).equals("observed")));

            ProcessHandle java = traced ? awaitChild(process) : process.toHandle();
            java.destroy(); // SIGTERM
            assertTrue(process.waitFor(TrackedTree.TIMEOUT.toSeconds(), TimeUnit.SECONDS), "no exit after SIGTERM");

            assertEquals(ExitCodes.OK, process.exitValue(), read("stderr"));
            List<QueueRecord> records = TestQueues.records(queue);
            assertEquals(RecordType.STOP, records.get(records.size() - 1).type(), records.toString());
            assertEquals("", read("stdout"), "nothing may be printed on stdout");
            if (traced) {
                for (String line : Files.readAllLines(temp.resolve("strace"))) {
                    // Loading the JDK's libnet (which every FileChannel user does) probes IPv4, IPv6 and SO_REUSEPORT
                    // support with sockets it closes at once; talking to anyone needs connect, bind or send.
                    // AF_UNIX is local (glibc asks nscd for the user's name).
                    boolean talks = line.contains("connect(") || line.contains("bind(") || line.contains("send");
                    assertFalse(talks && line.contains("AF_INET"), "the tracker used the network: " + line);
                }
            }
        } finally {
            process.destroyForcibly();
            process.waitFor();
        }
    }

    @Test
    void aMissingRootIsAClearErrorAndANonZeroExit() throws Exception {
        Path missing = temp.resolve("missing");

        Process process = tracker(List.of(), "--root", missing.toString(), "--queue", temp.resolve("q").toString())
                .start();

        assertTrue(process.waitFor(TrackedTree.TIMEOUT.toSeconds(), TimeUnit.SECONDS));
        assertEquals(ExitCodes.ROOT_UNAVAILABLE, process.exitValue());
        assertTrue(read("stderr").contains("root 'default': " + missing + " does not exist"), read("stderr"));
    }

    private static ProcessHandle awaitChild(Process tracer) {
        TrackedTree.awaitCondition(() -> "the traced JVM to start", () -> tracer.children().findAny().isPresent());
        return tracer.children().findAny().orElseThrow();
    }

    private String readQuietly(String file) {
        try {
            return read(file);
        } catch (IOException e) {
            return "";
        }
    }
}
