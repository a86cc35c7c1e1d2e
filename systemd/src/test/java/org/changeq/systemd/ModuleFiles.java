package org.changeq.systemd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Paths inside this module and a small process runner shared by its tests. */
final class ModuleFiles {
    private static final long PROCESS_DEADLINE_SECONDS = 120;

    private ModuleFiles() {
    }

    /** The systemd module's directory (Surefire and Failsafe set {@code basedir}). */
    static Path module() {
        String basedir = System.getProperty("basedir");
        if (basedir == null) {
            throw new IllegalStateException("system property basedir is not set; run the tests through Maven");
        }
        return Path.of(basedir);
    }

    static Path source(String relative) {
        return module().resolve("src/main").resolve(relative);
    }

    static Path target(String relative) {
        return module().resolve("target").resolve(relative);
    }

    /** The first directory of PATH holding an executable {@code name}, or null. */
    static Path onPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    record Result(int exitCode, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }

    /** Runs a command to completion within a deadline, capturing both streams. */
    static Result run(Path workingDirectory, List<String> command) throws IOException, InterruptedException {
        return run(workingDirectory, command, Map.of());
    }

    /** As {@link #run(Path, List)}, with {@code environment} added to this process's environment. */
    static Result run(Path workingDirectory, List<String> command, Map<String, String> environment)
            throws IOException, InterruptedException {
        return run(workingDirectory, command, environment, PROCESS_DEADLINE_SECONDS);
    }

    /** As {@link #run(Path, List, Map)}, within {@code deadlineSeconds}. */
    static Result run(Path workingDirectory, List<String> command, Map<String, String> environment, long deadlineSeconds)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile("changeq-test-", ".out");
        Path err = Files.createTempFile("changeq-test-", ".err");
        try {
            ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(command));
            builder.environment().putAll(environment);
            Process process = builder
                    .directory(workingDirectory.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .start();
            if (!process.waitFor(deadlineSeconds, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError(command + " did not finish within " + deadlineSeconds + " s");
            }
            return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
