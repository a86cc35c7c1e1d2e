package org.changeq.nativetests.sync;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Starts a main class in a fresh JVM with this JVM's module flags, properties and class path. */
public final class ChildJvm {

    private ChildJvm() {
    }

    public static ProcessBuilder command(Class<?> mainClass, List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("--add-") || arg.startsWith("-D") || arg.equals("-ea")) {
                command.add(arg);
            }
        }
        // The programs' own logging, as installed: not the tests' (several logback-test.xml on a reactor's class path
        // make logback print its status to stdout, where the summary lines go).
        command.add("-Dlogback.configurationFile=logback.xml");
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass.getName()));
        command.addAll(args);
        return new ProcessBuilder(command);
    }

    public static Process start(Class<?> mainClass, List<String> args, Path stdout, Path stderr) throws IOException {
        return command(mainClass, args).redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
    }
}
