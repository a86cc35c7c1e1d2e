package org.changeq.sync;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import org.changeq.pipeline.state.StateDirectory;

/**
 * Keeps a route's retention from removing a run directory that {@code changeq-sync history} or {@code restore} is
 * reading: {@code <state>/locks/history/ROUTE.lock}, held shared by the readers for as long as they read, and
 * exclusively by retention while it lists and removes. A reader waits for a retention to finish (seconds); retention
 * never waits for a reader (a restore can take hours, and the route's runs must go on): it leaves the history as it is
 * and a later run retains. The route's own lock cannot serve: a follower holds it for as long as it follows.
 *
 * <p>The kernel releases the lock when the process dies. Not thread-safe; held by its caller until {@link #close}.
 */
final class HistoryLock implements AutoCloseable {

    private final HeldLock held;

    private HistoryLock(HeldLock held) {
        this.held = held;
    }

    /**
     * For a reader of the history: waits while a retention of the route runs. A shared lock needs only reading, so an
     * admin in the service's group who may read the state may read the history too, once the route's first retention
     * made the file.
     */
    static HistoryLock reading(Path file) throws IOException {
        FileChannel channel;
        try {
            channel = StateDirectory.openForReading(file);
        } catch (NoSuchFileException e) {
            channel = StateDirectory.openLock(file);
        }
        return new HistoryLock(HeldLock.shared(channel));
    }

    /** For retention: empty, without waiting, while a reader holds it (in another process or in this one). */
    static Optional<HistoryLock> retaining(Path file) throws IOException {
        return HeldLock.tryExclusive(file).map(HistoryLock::new);
    }

    @Override
    public void close() throws IOException {
        held.close();
    }
}
