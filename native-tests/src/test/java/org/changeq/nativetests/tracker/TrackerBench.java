package org.changeq.nativetests.tracker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.changeq.pipeline.manifest.ManifestReader;
import org.changeq.pipeline.manifest.RecordType;

/**
 * Measures changeq-tracker against {@code inotifywait -m -r} on the same tree, one after the other: time and
 * resident memory to watch the tree, and how fast file creations reach the output (the queue, or inotifywait's
 * event lines). Not a test; run by hand (see the report printed at the end):
 * {@code java <jvm flags> -cp <test classpath> org.changeq.nativetests.tracker.TrackerBench DIR DIRECTORIES FILES}.
 */
public final class TrackerBench {

    private static final int EVENT_DIRECTORIES = 1000;

    private TrackerBench() {
    }

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]);
        int directories = Integer.parseInt(args[1]);
        int files = Integer.parseInt(args[2]);
        Path root = work.resolve("root");
        buildTree(root, directories);
        System.out.printf("tree: %d directories (+%d for events) under %s%n", directories, EVENT_DIRECTORIES, root);

        benchTracker(work, root, files);
        benchInotifywait(work, root, files);
    }

    private static void buildTree(Path root, int directories) throws IOException {
        int perParent = 1000;
        for (int i = 0; i < directories; i++) {
            Files.createDirectories(root.resolve("tree/" + (i / perParent) + "/" + i));
        }
        for (int i = 0; i < EVENT_DIRECTORIES; i++) {
            Files.createDirectories(root.resolve("events/" + i));
        }
    }

    private static void benchTracker(Path work, Path root, int files) throws Exception {
        Path queue = work.resolve("queue");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String argument : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (argument.startsWith("--add-") || argument.startsWith("-D")) {
                command.add(argument);
            }
        }
        command.addAll(List.of("-Dlogback.configurationFile=logback.xml", "-cp", System.getProperty("java.class.path"),
                "org.changeq.tracker.TrackerMain", "--root", root.toString(), "--queue", queue.toString()));
        Path stderr = work.resolve("tracker.stderr");
        long started = System.nanoTime();
        Process tracker = new ProcessBuilder(command).redirectError(stderr.toFile())
                .redirectOutput(work.resolve("tracker.stdout").toFile()).start();
        await(() -> contains(stderr, "Tracker: watching"));
        long watchMillis = (System.nanoTime() - started) / 1_000_000;
        System.out.printf("changeq-tracker: watching after %d ms (JVM start included), RSS %d MB%n", watchMillis,
                rssKb(tracker.pid()) / 1024);
        Files.readAllLines(stderr).stream().filter(line -> line.contains("walked and under watch")).forEach(System.out::println);

        long createStart = System.nanoTime();
        createFiles(root, files, "t");
        long createNanos = System.nanoTime() - createStart;
        Set<String> seen = new HashSet<>();
        long[] last = {ManifestReader.NO_INDEX};
        try (ManifestReader reader = ManifestReader.open(queue)) {
            await(() -> {
                last[0] = reader.read(last[0], Long.MAX_VALUE, (index, record) -> {
                    if (record.type() == RecordType.CHANGE) {
                        seen.add(TrackedTree.text(record.path()));
                    }
                    return true;
                });
                return seen.size() >= files;
            });
        }
        long totalNanos = System.nanoTime() - createStart;
        System.out.printf("changeq-tracker: %d files created in %d ms (%.0f/s); all in the queue after %d ms: "
                        + "%.0f events/s into the queue; RSS %d MB%n", files, createNanos / 1_000_000,
                files / (createNanos / 1e9), totalNanos / 1_000_000, files / (totalNanos / 1e9),
                rssKb(tracker.pid()) / 1024);
        tracker.destroy();
        tracker.waitFor(60, TimeUnit.SECONDS);
        System.out.println("changeq-tracker: exit " + tracker.exitValue());
    }

    private static void benchInotifywait(Path work, Path root, int files) throws Exception {
        Path stderr = work.resolve("inotifywait.stderr");
        Path events = work.resolve("inotifywait.out");
        long started = System.nanoTime();
        // stdbuf: inotifywait's stdout is block-buffered into a file, which would hide events until 4 KB piled up.
        Process inotifywait = new ProcessBuilder("stdbuf", "-oL", "inotifywait", "-m", "-r", "-q", "-q", "-e",
                "create,close_write,modify,attrib,move,delete,delete_self,move_self", "--format", "%e %w%f",
                root.toString()).redirectError(stderr.toFile()).redirectOutput(events.toFile()).start();
        try {
            // -q -q suppresses "Watches established."; watching is done once a probe event shows up.
            Path probe = root.resolve("events/0/probe");
            await(() -> {
                touch(probe);
                return contains(events, "probe");
            });
            long watchMillis = (System.nanoTime() - started) / 1_000_000;
            System.out.printf("inotifywait -m -r: watching after %d ms, RSS %d MB%n", watchMillis,
                    rssKb(inotifywait.pid()) / 1024);

            long createStart = System.nanoTime();
            createFiles(root, files, "i");
            long createNanos = System.nanoTime() - createStart;
            await(() -> countLines(events, "CLOSE_WRITE") >= files);
            long totalNanos = System.nanoTime() - createStart;
            System.out.printf("inotifywait -m -r: %d files created in %d ms; all printed after %d ms: %.0f events/s; "
                            + "RSS %d MB%n", files, createNanos / 1_000_000, totalNanos / 1_000_000,
                    files / (totalNanos / 1e9), rssKb(inotifywait.pid()) / 1024);
        } finally {
            inotifywait.destroy();
            inotifywait.waitFor(60, TimeUnit.SECONDS);
        }
    }

    private static void createFiles(Path root, int files, String prefix) throws IOException {
        byte[] content = {1};
        for (int i = 0; i < files; i++) {
            Files.write(root.resolve("events/" + (i % EVENT_DIRECTORIES) + "/" + prefix + i), content);
        }
    }

    private static long countLines(Path file, String containing) {
        try (var lines = Files.lines(file)) {
            return lines.filter(line -> line.contains(containing)).count();
        } catch (IOException | UncheckedIOException e) {
            return 0;
        }
    }

    private static boolean contains(Path file, String text) {
        try {
            return Files.exists(file) && Files.readString(file).contains(text);
        } catch (IOException | UncheckedIOException e) {
            return false;
        }
    }

    private static void touch(Path file) {
        try {
            Files.write(file, new byte[] {1});
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long rssKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    private static void await(BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out");
            }
            LockSupport.parkNanos(5_000_000);
        }
    }
}
