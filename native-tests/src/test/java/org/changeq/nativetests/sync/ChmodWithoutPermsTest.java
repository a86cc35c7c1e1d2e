package org.changeq.nativetests.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What docs/configuration.md says of {@code --chmod} in a NAS route's rsync-args, against a real rsync daemon:
 * without {@code -p} it reaches new files only, masked by the daemon's umask, and leaves existing files' modes alone;
 * with {@code -p} every file gets exactly the mode it names.
 */
class ChmodWithoutPermsTest {
    private static final String CHMOD = "--chmod=D0775,F0664";

    @TempDir
    Path tmp;

    private RsyncDaemon daemon;
    private Path source;
    private int umask;

    @BeforeEach
    void setUp() throws Exception {
        daemon = RsyncDaemon.start(tmp.resolve("daemon"), tmp.resolve("nas"));
        source = Files.createDirectories(tmp.resolve("src/d"));
        Files.writeString(source.resolve("g"), "g\n");
        Files.setPosixFilePermissions(source.resolve("g"), PosixFilePermissions.fromString("rw-------"));
        Files.setPosixFilePermissions(source, PosixFilePermissions.fromString("rwx------"));
        source = source.getParent();
        // The daemon inherits this process's umask.
        umask = Integer.parseInt(Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(line -> line.startsWith("Umask:")).findFirst().orElseThrow().split("\\s+")[1], 8);
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        daemon.close();
    }

    @Test
    void withoutPermsNewFilesGetTheModeMaskedByTheDaemonsUmask() throws Exception {
        rsync("-rlt", CHMOD);

        assertEquals(0775 & ~umask, mode("d"));
        assertEquals(0664 & ~umask, mode("d/g"));
    }

    @Test
    void withoutPermsAnExistingFileKeepsItsMode() throws Exception {
        rsync("-rlt", CHMOD);
        Files.setPosixFilePermissions(daemon.moduleDirectory().resolve("d/g"), PosixFilePermissions.fromString("rw-------"));
        Files.writeString(source.resolve("d/g"), "g rewritten, another size\n");

        rsync("-rlt", CHMOD);

        assertEquals("g rewritten, another size\n", Files.readString(daemon.moduleDirectory().resolve("d/g")));
        assertEquals(0600, mode("d/g"));
    }

    @Test
    void withPermsEveryFileGetsTheModeItNames() throws Exception {
        rsync("-rlt", CHMOD);
        Files.setPosixFilePermissions(daemon.moduleDirectory().resolve("d/g"), PosixFilePermissions.fromString("rw-------"));

        rsync("-rltp", CHMOD);

        assertEquals(0775, mode("d"));
        assertEquals(0664, mode("d/g"));
    }

    private void rsync(String... options) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("rsync"));
        command.addAll(List.of(options));
        command.addAll(List.of(source + "/", daemon.url("")));
        Process rsync = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("rsync.out").toFile()).start();
        if (!rsync.waitFor(60, TimeUnit.SECONDS)) {
            rsync.destroyForcibly().waitFor();
        }
        assertEquals(0, rsync.exitValue(), command + ": " + Files.readString(tmp.resolve("rsync.out")));
    }

    private int mode(String path) throws IOException {
        return (Integer) Files.getAttribute(daemon.moduleDirectory().resolve(path), "unix:mode") & 07777;
    }
}
