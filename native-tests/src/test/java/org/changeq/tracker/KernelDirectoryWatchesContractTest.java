package org.changeq.tracker;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** The real kernel, through {@link Libc}, keeps the contract the watcher's fake is held to. */
class KernelDirectoryWatchesContractTest extends DirectoryWatchesContract {

    @TempDir
    Path scratch;
    private Path root;
    /** Outside the root: touched to see the kernel's clock move, without events for the watches. */
    private Path clockProbe;
    private Libc libc;

    @BeforeEach
    void open() throws IOException {
        root = Files.createDirectory(scratch.resolve("root"));
        clockProbe = Files.createFile(scratch.resolve("clock-probe"));
        libc = Libc.open();
    }

    @AfterEach
    void close() {
        libc.close();
    }

    @Override
    DirectoryWatches watches() {
        return libc;
    }

    @Override
    String root() {
        return root.toString();
    }

    @Override
    void mkdir(String path) {
        io(() -> Files.createDirectory(root.resolve(path)));
    }

    @Override
    void createFile(String path) {
        io(() -> Files.createFile(root.resolve(path)));
    }

    @Override
    void rename(String from, String to) {
        io(() -> Files.move(root.resolve(from), root.resolve(to), StandardCopyOption.ATOMIC_MOVE));
    }

    @Override
    void remove(String path) {
        io(() -> Files.delete(root.resolve(path)));
    }

    @Override
    List<Event> takeEvents() {
        Collector collector = new Collector();
        // The kernel queues a change's events before the call that made it returns: nothing is on its way.
        Libc.Wake wake;
        do {
            wake = libc.awaitEvents(0, 0, collector, drainedAt -> { });
        } while (wake == Libc.Wake.EVENTS);
        return collector.events;
    }

    @Override
    void awaitChangeTimeAfter(long changeTimeMillis) {
        // File times come from the kernel's coarse clock, a scheduler tick at a time.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        byte[] probe = clockProbe.toString().getBytes(ISO_8859_1);
        while (System.nanoTime() - deadline < 0) {
            io(() -> Files.setLastModifiedTime(clockProbe, FileTime.fromMillis(System.currentTimeMillis())));
            if (libc.changeTimeMillis(probe) > changeTimeMillis) {
                return;
            }
        }
        fail("the kernel's clock did not pass " + changeTimeMillis + " within 5 s");
    }

    private interface FileOperation {
        void run() throws IOException;
    }

    private static void io(FileOperation operation) {
        try {
            operation.run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
