package org.changeq.pipeline.inspect;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The space files take on disk, as {@code du} counts it: allocated blocks, not the apparent size, which for sparse
 * files such as Chronicle's cycle files is far larger. Java's file attribute views do not expose {@code st_blocks},
 * and only the tracker's binding calls libc, so this asks {@code du -k}, which every Linux system has.
 * Any thread; blocks while {@code du} runs.
 */
final class DiskUsage {

    private DiskUsage() {
    }

    /**
     * The bytes allocated for {@code files} together.
     *
     * @throws IOException {@code du} could not run or failed; the message says which and why
     */
    static long allocatedBytes(List<Path> files) throws IOException {
        if (files.isEmpty()) {
            return 0;
        }
        List<String> command = new ArrayList<>(List.of("du", "-k", "-c", "--"));
        files.forEach(file -> command.add(file.toString()));
        Process du = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String output = new String(du.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int exit;
        try {
            exit = du.waitFor();
        } catch (InterruptedException e) {
            du.destroy();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while du ran", e);
        }
        List<String> lines = output.lines().toList();
        String total = lines.isEmpty() ? "" : lines.get(lines.size() - 1);
        if (exit != 0 || !total.matches("\\d+\\ttotal")) {
            throw new IOException("du exited " + exit + ": " + output.strip());
        }
        return Long.parseLong(total.substring(0, total.indexOf('\t'))) * 1024;
    }
}
