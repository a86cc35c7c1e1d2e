package org.changeq.pipeline.manifest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import org.changeq.pipeline.PermissionDenied;
import org.changeq.pipeline.state.StateDirectory;

/**
 * Opens the manifest queue. Every Chronicle entry point of changeq goes through here, so the
 * properties that keep Chronicle quiet and offline are set before any Chronicle class loads.
 */
final class Queues {

    static {
        ChronicleSettings.apply();
    }

    private Queues() {
    }

    /** Opens (creating if needed) the queue for the single writer. */
    static SingleChronicleQueue openForWriting(Path directory) {
        try {
            StateDirectory.createDirectories(directory);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create queue directory " + directory
                    + ": " + e.getMessage() + "; check that its parent exists and is writable", e);
        }
        return SingleChronicleQueueBuilder.binary(directory)
                .rollCycle(RollCycles.FAST_DAILY)
                .build();
    }

    /** Opens an existing queue without creating or modifying anything. */
    static SingleChronicleQueue openForReading(Path directory) {
        try {
            Files.readAttributes(directory.resolve("metadata.cq4t"), BasicFileAttributes.class);
        } catch (AccessDeniedException e) {
            // Files.exists would say "no": a directory this user may not search is not a missing queue.
            throw new QueueNotFoundException(directory + ": " + PermissionDenied.FIX);
        } catch (IOException e) {
            // missing: said below
        }
        if (!Files.isDirectory(directory)) {
            throw new QueueNotFoundException("queue directory " + directory
                    + " does not exist; check 'queue:' in the config, or start changeq-tracker once to create it");
        }
        if (!Files.exists(directory.resolve("metadata.cq4t"))) {
            throw new QueueNotFoundException("directory " + directory
                    + " is not a changeq queue (no metadata.cq4t); check 'queue:' in the config");
        }
        return SingleChronicleQueueBuilder.binary(directory)
                .readOnly(true)
                .build();
    }
}
