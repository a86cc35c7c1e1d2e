package org.changeq.nativetests.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.changeq.pipeline.testing.Poll;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * An S3 server on 127.0.0.1: S3Proxy over a directory (its filesystem backend, one sub directory per bucket), with
 * fixed credentials, and an rclone config naming it as the remote {@value #REMOTE}. S3Proxy runs in its own JVM, so
 * its threads and logging stay out of the tests' stray-thread and log checks, and the test owns it by its pid.
 * Restartable on the same port, to take the destination down and bring it back.
 */
public final class S3Server implements AutoCloseable {

    /** The rclone remote name in {@link #rcloneConfig()}. */
    public static final String REMOTE = "s3test";
    public static final String ACCESS_KEY = "changeq-test";
    public static final String SECRET_KEY = "changeq-test-secret";
    /** Where native-tests' build puts the S3Proxy jar (see its pom). */
    private static final String JAR_PROPERTY = "changeq.test.s3proxy.jar";

    private final Path workDirectory;
    private final Path dataDirectory;
    private final Path rcloneConfig;
    private final int port;
    private Process process;

    private S3Server(Path workDirectory, int port) throws IOException {
        this.workDirectory = Files.createDirectories(workDirectory);
        this.dataDirectory = Files.createDirectories(workDirectory.resolve("data"));
        this.port = port;
        Files.writeString(workDirectory.resolve("s3proxy.conf"), String.join("\n",
                "s3proxy.endpoint=" + endpoint(),
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + ACCESS_KEY,
                "s3proxy.credential=" + SECRET_KEY,
                "jclouds.provider=filesystem",
                "jclouds.filesystem.basedir=" + dataDirectory,
                ""));
        this.rcloneConfig = workDirectory.resolve("rclone.conf");
        Files.createFile(rcloneConfig, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(rcloneConfig, String.join("\n",
                "[" + REMOTE + "]",
                "type = s3",
                "provider = Other",
                "access_key_id = " + ACCESS_KEY,
                "secret_access_key = " + SECRET_KEY,
                "endpoint = " + endpoint(),
                "force_path_style = true",
                ""));
    }

    /** Starts a server on a free loopback port, keeping its config, log and objects under {@code workDirectory}. */
    public static S3Server start(Path workDirectory) throws IOException, InterruptedException {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        S3Server server = new S3Server(workDirectory, port);
        server.start();
        return server;
    }

    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    /** The directory holding the buckets: bucket {@code b}'s object {@code k} is the file {@code b/k} below it. */
    public Path dataDirectory() {
        return dataDirectory;
    }

    /** An rclone config file (mode 600) naming this server as the remote {@value #REMOTE}. */
    public Path rcloneConfig() {
        return rcloneConfig;
    }

    /** {@code s3test:bucket/path}: an rclone remote path on this server. */
    public String remotePath(String bucketAndPath) {
        return REMOTE + ":" + bucketAndPath;
    }

    /**
     * {@code rclone ARGS} with this server's config. Without {@code AWS_CA_BUNDLE}: rclone 1.60 refuses every s3
     * remote while it is set ("LoadCustomCABundleError ... unsupported transport"), and many machines set it.
     */
    public ProcessBuilder rclone(List<String> args) {
        List<String> command = new ArrayList<>(List.of("rclone", "--config", rcloneConfig.toString()));
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().remove("AWS_CA_BUNDLE");
        return builder;
    }

    /** What an rclone command exited with and printed (stdout and stderr together). */
    public record Run(int exitCode, byte[] output) {
        public String text() {
            return new String(output, StandardCharsets.UTF_8);
        }
    }

    /**
     * Runs {@code rclone ARGS} with this server's config and waits for it. One try, no retries inside rclone: an
     * outage shows at once instead of after rclone's back-off.
     */
    public Run run(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("--retries", "1", "--low-level-retries", "1"));
        command.addAll(List.of(args));
        Path output = Files.createTempFile(workDirectory, "rclone", ".out");
        Process process = rclone(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        int exitCode = process.waitFor();
        byte[] printed = Files.readAllBytes(output);
        Files.delete(output);
        return new Run(exitCode, printed);
    }

    public void start() throws IOException, InterruptedException {
        String jar = System.getProperty(JAR_PROPERTY);
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw new IllegalStateException("system property " + JAR_PROPERTY + " names no S3Proxy jar (" + jar
                    + "): run the tests through Maven, which copies it into native-tests/target/s3proxy");
        }
        Path log = workDirectory.resolve("s3proxy.out");
        process = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar, "--properties", workDirectory.resolve("s3proxy.conf").toString()))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        Poll.until(Duration.ofSeconds(60), "S3Proxy listening on port " + port, () -> {
            if (!process.isAlive()) {
                throw new IllegalStateException("S3Proxy exited with " + process.exitValue() + ": " + Files.readString(log));
            }
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
                return true;
            } catch (IOException notYet) {
                return false;
            }
        });
    }

    public boolean running() {
        return process != null && process.isAlive();
    }

    public void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    /**
     * One server for a test class ({@code @RegisterExtension static final S3Server.ForClass S3 = new
     * S3Server.ForClass("bucket")}), started with its buckets made before the first test and stopped after the last:
     * S3Proxy takes seconds to start.
     */
    public static final class ForClass implements BeforeAllCallback, AfterAllCallback {
        private final List<String> buckets;
        private Path directory;
        private S3Server server;

        public ForClass(String... buckets) {
            this.buckets = List.of(buckets);
        }

        public S3Server server() {
            return server;
        }

        @Override
        public void beforeAll(ExtensionContext context) throws Exception {
            directory = Files.createTempDirectory("changeq-s3-");
            server = start(directory);
            for (String bucket : buckets) {
                assertEquals(0, server.run("mkdir", server.remotePath(bucket)).exitCode(), "bucket " + bucket + " made");
            }
        }

        @Override
        public void afterAll(ExtensionContext context) throws Exception {
            server.close();
            Trees.run(List.of("rm", "-rf", "--", directory.toString()), 0);
        }
    }
}
