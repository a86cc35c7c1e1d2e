package org.changeq.tracker;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.changeq.pipeline.config.PathFilter;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.state.TrackerRootsFile.RootStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Renames whose MOVED_FROM and MOVED_TO the real kernel queues with other events between them: another process
 * writing elsewhere in the tree while a directory is renamed back and forth.
 */
class InterleavedRenameTest {

    private static final int RENAMES = 2_000;

    @TempDir
    Path root;
    private Libc libc;

    @BeforeEach
    void open() {
        libc = Libc.open();
    }

    @AfterEach
    void close() {
        libc.close();
    }

    @Test
    void aDirectoryRenamedWhileOtherEventsComeBetweenTheHalvesKeepsItsWatches() throws Exception {
        Files.createDirectories(root.resolve("a/deep"));
        Files.createDirectory(root.resolve("busy"));
        TreeWatcher watcher = new TreeWatcher(libc, new RecordSink() {
            @Override
            public void publish(RecordType type, String rootName, boolean directory, byte[] path) {
            }

            @Override
            public void publishContentWrite(String rootName, byte[] path) {
            }

            @Override
            public void publishMarker(RecordType type, String rootName) {
            }
        }, List.of(new WatchTree.Root("r", bytes(root), PathFilter.of(List.of()))), Libc.WatchLimit.UNKNOWN, () -> false,
                System::nanoTime, new TreeWatcher.Listener() {
                    @Override
                    public void walking(WatchTree.Root walked, int watchedDirectories) {
                    }

                    @Override
                    public void rootsChanged(List<RootStatus> roots) {
                    }
                });
        watcher.watchRoots(TreeWatcher.NO_CATCH_UP);
        int deepWatch = libc.addWatch(bytes(root.resolve("a/deep")));

        AtomicBoolean renaming = new AtomicBoolean(true);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread renamer = new Thread(() -> {
            try {
                for (int i = 0; i < RENAMES; i++) {
                    Files.move(root.resolve(i % 2 == 0 ? "a" : "b"), root.resolve(i % 2 == 0 ? "b" : "a"),
                            StandardCopyOption.ATOMIC_MOVE);
                }
            } catch (IOException | RuntimeException e) {
                failure.set(e);
            } finally {
                renaming.set(false);
            }
        }, "test-renamer");
        Thread writer = new Thread(() -> {
            ByteBuffer one = ByteBuffer.allocate(1);
            try (FileChannel file = FileChannel.open(root.resolve("busy/f"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE)) {
                for (long at = 0; renaming.get(); at++) {
                    file.write(one.clear(), at);
                }
            } catch (IOException | RuntimeException e) {
                failure.set(e);
            }
        }, "test-writer");
        InterleavingCounter counter = new InterleavingCounter(watcher);
        writer.start();
        renamer.start();
        // Read as the tracker's reader does, until the renames are done and every event is read.
        while (renaming.get() || libc.awaitEvents(0, 0, counter, drainedAt -> { }) == Libc.Wake.EVENTS) {
            if (libc.awaitEvents(watcher.hasPendingMove() ? 10 : 100, 0, counter, drainedAt -> { }) != Libc.Wake.EVENTS) {
                watcher.resolvePendingMove();
            }
        }
        watcher.resolvePendingMove();
        renamer.join();
        writer.join();

        assertNull(failure.get());
        Assumptions.assumeTrue(watcher.kernelOverflows() == 0, "the kernel queue overflowed; nothing to tell");
        Assumptions.assumeTrue(counter.interleaved > 0,
                "no other event came between the halves of a rename in " + RENAMES + " renames on this machine");
        assertEquals(deepWatch, libc.addWatch(bytes(root.resolve("a/deep"))),
                "the renamed directory's watches were never removed and added again (" + counter.interleaved
                        + " renames had other events between their halves)");
    }

    /** Passes events on, counting the renames that had other events between their MOVED_FROM and MOVED_TO. */
    private static final class InterleavingCounter implements InotifyEventSink {
        private final InotifyEventSink next;
        private final Set<Integer> open = new HashSet<>();
        int interleaved;

        InterleavingCounter(InotifyEventSink next) {
            this.next = next;
        }

        @Override
        public void onEvent(int watch, EventKind kind, boolean directory, int cookie, byte[] name) {
            boolean secondHalf = kind == EventKind.MOVED_TO && open.remove(cookie);
            if (!secondHalf && !open.isEmpty()) {
                interleaved += open.size();
                open.clear();
            }
            if (kind == EventKind.MOVED_FROM) {
                open.add(cookie);
            }
            next.onEvent(watch, kind, directory, cookie, name);
        }

        @Override
        public void onReadEnd() {
            next.onReadEnd();
        }
    }

    private static byte[] bytes(Path path) {
        return path.toString().getBytes(ISO_8859_1);
    }
}
