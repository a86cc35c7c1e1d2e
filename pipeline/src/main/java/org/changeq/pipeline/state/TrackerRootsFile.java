package org.changeq.pipeline.state;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The codec and atomic store for the tracker's view of its roots, so that changeq-queue (another process) can
 * say which roots are not watched and since when. The tracker rewrites it whenever a root's condition changes;
 * it is not a heartbeat, so a reader judges its age by the writer's pid and the time in it. Format, versioned
 * text, the first line a header, then one line per root (names never contain spaces; the detail is the rest of
 * the line):
 * <pre>
 * changeq-tracker-roots 1 &lt;written millis&gt; &lt;pid&gt;
 * &lt;root&gt; &lt;condition&gt; &lt;since millis&gt; &lt;detail&gt;
 * </pre>
 */
public final class TrackerRootsFile {

    static final int FORMAT_VERSION = 1;
    private static final String MAGIC = "changeq-tracker-roots";

    /** What the tracker can do with a root right now. */
    public enum Condition {
        WATCHED("watched"),
        UNMOUNTED("unmounted"),
        MISSING("missing"),
        NOT_A_DIRECTORY("not-a-directory"),
        UNREADABLE("unreadable");

        private final String token;

        Condition(String token) {
            this.token = token;
        }

        public String token() {
            return token;
        }

        static Condition of(String token) {
            for (Condition condition : values()) {
                if (condition.token.equals(token)) {
                    return condition;
                }
            }
            return null;
        }
    }

    /**
     * One root as the tracker last saw it.
     *
     * @param sinceMillis when it entered this condition
     * @param detail      one line for a human: what happened and, when not watched, the fix; may be empty
     */
    public record RootStatus(String root, Condition condition, long sinceMillis, String detail) {
        public RootStatus {
            detail = detail.replace('\n', ' ');
        }

        public boolean watched() {
            return condition == Condition.WATCHED;
        }
    }

    /** The whole file: when and by which process it was written, and every root. */
    public record Snapshot(long writtenMillis, long pid, List<RootStatus> roots) {
        public Snapshot {
            roots = List.copyOf(roots);
        }
    }

    private final Path file;

    public TrackerRootsFile(Path file) {
        this.file = file;
    }

    public Path path() {
        return file;
    }

    static String encode(Snapshot snapshot) {
        StringBuilder text = new StringBuilder().append(MAGIC).append(' ').append(FORMAT_VERSION).append(' ')
                .append(snapshot.writtenMillis()).append(' ').append(snapshot.pid()).append('\n');
        for (RootStatus root : snapshot.roots()) {
            text.append(root.root()).append(' ').append(root.condition().token()).append(' ')
                    .append(root.sinceMillis()).append(' ').append(root.detail()).append('\n');
        }
        return text.toString();
    }

    static Snapshot decode(String text, Path source) {
        String[] lines = text.split("\n");
        String[] header = lines[0].split(" ");
        if (header.length != 4 || !header[0].equals(MAGIC)) {
            throw malformed(source, lines[0]);
        }
        if (!header[1].equals(String.valueOf(FORMAT_VERSION))) {
            throw new IllegalStateException(source + " has format version " + header[1] + "; this build reads version "
                    + FORMAT_VERSION);
        }
        List<RootStatus> roots = new ArrayList<>();
        try {
            for (int i = 1; i < lines.length; i++) {
                String[] fields = lines[i].split(" ", 4);
                Condition condition = fields.length == 4 ? Condition.of(fields[1]) : null;
                if (condition == null) {
                    throw malformed(source, lines[i]);
                }
                roots.add(new RootStatus(fields[0], condition, Long.parseLong(fields[2]), fields[3]));
            }
            return new Snapshot(Long.parseLong(header[2]), Long.parseLong(header[3]), roots);
        } catch (NumberFormatException e) {
            throw malformed(source, e.getMessage());
        }
    }

    private static IllegalStateException malformed(Path source, String content) {
        return new IllegalStateException(source + " is not a changeq tracker roots file (at: '" + content
                + "'); the tracker rewrites it when a root's condition changes, or delete it");
    }

    /** The stored snapshot, or empty when no tracker has written one. */
    public Optional<Snapshot> read() throws IOException {
        try {
            return Optional.of(decode(new String(StateDirectory.read(file), StandardCharsets.UTF_8), file));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** Replaces the file atomically; not fsynced: after a power cut the tracker starts and writes it anew. */
    public void write(Snapshot snapshot) throws IOException {
        StateDirectory.replace(file, encode(snapshot).getBytes(StandardCharsets.UTF_8), false);
    }
}
