package org.changeq.nativetests.sync;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.changeq.pipeline.testing.Poll;

/**
 * An {@code rsync --daemon} on 127.0.0.1 serving one writable module, started in the foreground
 * ({@code --no-detach}) so the test owns its pid and stops it by that pid. Restartable on the same
 * port, to take a destination down and bring it back.
 */
public final class RsyncDaemon implements AutoCloseable {

    public static final String MODULE = "backup";

    private final Path config;
    private final Path workDirectory;
    private Path moduleDirectory;
    private final int port;
    private Process process;

    private RsyncDaemon(Path workDirectory, Path moduleDirectory, int port) throws IOException {
        Files.createDirectories(workDirectory);
        this.workDirectory = workDirectory;
        this.port = port;
        this.config = workDirectory.resolve("rsyncd.conf");
        writeConfig(moduleDirectory);
    }

    private void writeConfig(Path moduleDirectory) throws IOException {
        this.moduleDirectory = moduleDirectory;
        Files.createDirectories(moduleDirectory);
        // As root the daemon would switch to 'nobody'; it runs as whoever runs the tests.
        int uid = (Integer) Files.getAttribute(moduleDirectory, "unix:uid");
        int gid = (Integer) Files.getAttribute(moduleDirectory, "unix:gid");
        Files.writeString(config, String.join("\n",
                "address = 127.0.0.1",
                "uid = " + uid,
                "gid = " + gid,
                "port = " + port,
                "use chroot = no",
                "pid file = " + workDirectory.resolve("rsyncd.pid"),
                "log file = " + workDirectory.resolve("rsyncd.log"),
                "[" + MODULE + "]",
                "  path = " + moduleDirectory,
                "  read only = no",
                ""));
    }

    public static RsyncDaemon start(Path workDirectory, Path moduleDirectory) throws IOException, InterruptedException {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        RsyncDaemon daemon = new RsyncDaemon(workDirectory, moduleDirectory, port);
        daemon.start();
        return daemon;
    }

    /** {@code rsync://127.0.0.1:PORT/backup/} plus a sub path. */
    public String url(String subPath) {
        return "rsync://127.0.0.1:" + port + "/" + MODULE + "/" + subPath;
    }

    public Path moduleDirectory() {
        return moduleDirectory;
    }

    public void start() throws IOException, InterruptedException {
        Files.deleteIfExists(config.resolveSibling("rsyncd.pid"));
        process = new ProcessBuilder(List.of("rsync", "--daemon", "--no-detach", "--config", config.toString()))
                .redirectErrorStream(true)
                .redirectOutput(config.resolveSibling("rsyncd.out").toFile())
                .start();
        Poll.until(Duration.ofSeconds(10), "rsync daemon listening on port " + port, () -> {
            if (!process.isAlive()) {
                throw new IllegalStateException("rsync --daemon exited with " + process.exitValue() + ": "
                        + Files.readString(config.resolveSibling("rsyncd.out")));
            }
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
                return true;
            } catch (IOException notYet) {
                return false;
            }
        });
    }

    /**
     * Serves the module from {@code directory} from now on, on the same port: a NAS volume that is not mounted, or a
     * module whose path was changed. Stops and starts the daemon.
     */
    public void restartWithModuleAt(Path directory) throws IOException, InterruptedException {
        stop();
        writeConfig(directory);
        start();
    }

    public void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
