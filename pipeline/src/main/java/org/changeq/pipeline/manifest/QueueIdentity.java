package org.changeq.pipeline.manifest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;
import org.changeq.pipeline.PermissionDenied;
import org.changeq.pipeline.state.StateDirectory;

/**
 * Which queue this is, and the one state directory (cursors, claims, tracker state) that belongs to it. The
 * writer creates it with the queue, in {@value #FILE_NAME} inside the queue directory, where Chronicle ignores
 * it. A writer, a sync or changeq-queue naming another state directory would read cursors and claims that
 * describe another queue, so each refuses the queue instead.
 *
 * <p>The codec of that file, versioned text:
 * <pre>
 * changeq-queue-id 1
 * id 0b5e2c6f-8f4e-4c49-a3a9-1f1d3d2c9e77
 * state /var/lib/changeq/state
 * </pre>
 * Written atomically and durably. Immutable and thread-safe.
 *
 * @param id             random, made when the queue was created (or when a tracker first bound an older queue)
 * @param stateDirectory absolute and normalised
 */
public record QueueIdentity(UUID id, Path stateDirectory) {

    public static final String FILE_NAME = "changeq-queue.id";
    static final int FORMAT_VERSION = 1;
    private static final String HEADER = "changeq-queue-id";

    public QueueIdentity {
        stateDirectory = stateDirectory.toAbsolutePath().normalize();
    }

    /**
     * The identity stored in {@code queueDirectory}, or empty when it has none (no tracker of this version has
     * written to it yet). Any thread; reads only.
     *
     * @throws IOException the file cannot be read, or is not a queue identity this build understands (the
     *                     message names the file)
     */
    public static Optional<QueueIdentity> read(Path queueDirectory) throws IOException {
        Path file = queueDirectory.resolve(FILE_NAME);
        String text;
        try {
            text = new String(StateDirectory.read(file), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        return Optional.of(decode(text, file));
    }

    /**
     * Refuses a queue that belongs to another state directory; accepts one without an identity. For readers:
     * call before reading cursors or claims for {@code queueDirectory}.
     *
     * @throws QueueNotFoundException the queue belongs to another state directory, or its identity is unreadable
     */
    public static void requireStateDirectory(Path queueDirectory, Path stateDirectory) {
        readForReader(queueDirectory).filter(bound -> !bound.belongsTo(stateDirectory)).ifPresent(bound -> {
            throw new QueueNotFoundException(bound.mismatch(queueDirectory, stateDirectory));
        });
    }

    /**
     * The state directory {@code queueDirectory} belongs to, or empty when it has no identity. For readers given
     * only the queue.
     *
     * @throws QueueNotFoundException its identity is unreadable
     */
    public static Optional<Path> boundStateDirectory(Path queueDirectory) {
        return readForReader(queueDirectory).map(QueueIdentity::stateDirectory);
    }

    private static Optional<QueueIdentity> readForReader(Path queueDirectory) {
        try {
            return read(queueDirectory);
        } catch (IOException e) {
            throw new QueueNotFoundException("cannot read the identity of the queue " + queueDirectory + ": "
                    + PermissionDenied.sentenceOr(e, e.getMessage()));
        }
    }

    /** Whether {@code stateDirectory} is this queue's state directory, by path or by being the same directory. */
    boolean belongsTo(Path stateDirectory) {
        Path candidate = stateDirectory.toAbsolutePath().normalize();
        if (candidate.equals(this.stateDirectory)) {
            return true;
        }
        try {
            return Files.isSameFile(candidate, this.stateDirectory);
        } catch (IOException e) {
            return false;
        }
    }

    /** The refusal for a process that named {@code stateDirectory} for this queue: both paths and the fix. */
    String mismatch(Path queueDirectory, Path stateDirectory) {
        return "the queue " + queueDirectory + " belongs to the state directory " + this.stateDirectory
                + " (see " + queueDirectory.resolve(FILE_NAME) + "), not to "
                + stateDirectory.toAbsolutePath().normalize()
                + ": set 'state:' (or --state) to " + this.stateDirectory + ", or use a queue of its own";
    }

    static String encode(QueueIdentity identity) {
        String state = identity.stateDirectory().toString();
        if (state.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("a state directory path with a newline cannot be recorded: " + state);
        }
        return HEADER + " " + FORMAT_VERSION + "\nid " + identity.id() + "\nstate " + state + "\n";
    }

    static QueueIdentity decode(String text, Path source) throws IOException {
        String[] lines = text.split("\n");
        String[] header = lines[0].split(" ");
        if (header.length != 2 || !header[0].equals(HEADER)) {
            throw new IOException(source + " is not a changeq queue identity (first line: '" + lines[0]
                    + "'); move it away and start changeq-tracker to write a new one");
        }
        if (!header[1].equals(String.valueOf(FORMAT_VERSION))) {
            throw new IOException(source + " has queue identity format version " + header[1]
                    + "; this build reads version " + FORMAT_VERSION);
        }
        if (lines.length != 3 || !lines[1].startsWith("id ") || !lines[2].startsWith("state ")) {
            throw new IOException(source + " is malformed (expected the lines 'id UUID' and 'state PATH'); move it "
                    + "away and start changeq-tracker to write a new one");
        }
        try {
            return new QueueIdentity(UUID.fromString(lines[1].substring(3)), Path.of(lines[2].substring(6)));
        } catch (IllegalArgumentException e) {
            throw new IOException(source + " holds a malformed id '" + lines[1].substring(3) + "'; move it away "
                    + "and start changeq-tracker to write a new one", e);
        }
    }

    /** Writes this identity into {@code queueDirectory}. Only the writer lock's holder calls this. */
    void write(Path queueDirectory) throws IOException {
        StateDirectory.replace(queueDirectory.resolve(FILE_NAME), encode(this).getBytes(StandardCharsets.UTF_8), true);
    }
}
