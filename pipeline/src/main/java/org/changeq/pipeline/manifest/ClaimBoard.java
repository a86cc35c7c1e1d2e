package org.changeq.pipeline.manifest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import org.changeq.pipeline.state.StateDirectory;

/**
 * Claims: the queue index each consumer is about to read up to, published before it reads and
 * before it runs rsync. The writer may drop a repeated event for a path only while that path's
 * earlier record lies above every claim, i.e. no consumer can have read it yet; any consumer's
 * later run will read that record and sync the file after the change.
 *
 * <p>One file per consumer under {@code <state>/claims/}. Safe for many processes: each consumer
 * writes only its own file, atomically.
 */
public final class ClaimBoard {

    static final String SUFFIX = ".claim";
    /** Returned when no consumer has published a claim: nothing has been read by anyone. */
    public static final long NO_CLAIM = Long.MIN_VALUE;

    private final Path directory;

    public ClaimBoard(Path stateDirectory) {
        this.directory = stateDirectory.resolve("claims");
    }

    /** Publishes {@code consumer}'s claim. Call before reading records up to {@code index}. */
    /** Publishes the consumer's claim on the queue with the given identity (empty for a queue without one). */
    public void publish(String consumer, long index, Optional<UUID> queue) throws IOException {
        claimFile(consumer).write(index, queue);
    }

    public OptionalLong claimOf(String consumer) throws IOException {
        return claimFile(consumer).read();
    }

    /** The highest index any consumer has claimed, or {@link #NO_CLAIM}. Reads the files afresh. */
    public long highestClaim() {
        long highest = NO_CLAIM;
        try {
            for (Path name : StateDirectory.list(directory, SUFFIX)) {
                OptionalLong claim = new IndexFile(directory.resolve(name), "claim").read();
                if (claim.isPresent() && claim.getAsLong() > highest) {
                    highest = claim.getAsLong();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read claims in " + directory + ": " + e.getMessage(), e);
        }
        return highest;
    }

    private IndexFile claimFile(String consumer) {
        return new IndexFile(directory.resolve(consumer + SUFFIX), "claim");
    }
}
