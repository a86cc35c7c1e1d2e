package org.changeq.pipeline.state;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The codec and atomic store for the tracker's view of its roots, so that changeq-queue (another process) can
 * say which roots are not watched and since when, and changeq-sync can tell whether the running tracker watches a
 * route's root as the route's configuration says: at the same real path, with the same excludes. The tracker
 * rewrites it whenever a root's condition or its set of roots changes (start, reload); it is not a heartbeat, so a
 * reader judges its age by the writer's pid and the time in it. Format, versioned text, the first line a header,
 * then one line per root (names never contain spaces; the real path is its bytes in hex; the excludes are hex of
 * the UTF-8 patterns, each ended by a NUL, or {@code -} for none; the detail is the rest of the line):
 * <pre>
 * changeq-tracker-roots 2 &lt;written millis&gt; &lt;pid&gt;
 * &lt;root&gt; &lt;condition&gt; &lt;since millis&gt; &lt;real path&gt; &lt;excludes&gt; &lt;detail&gt;
 * </pre>
 * Version 1 (no real path, no excludes) is still read: its roots have no {@link Selection}, so no route counts as
 * tracked until the tracker that wrote it is restarted.
 */
public final class TrackerRootsFile {

    static final int FORMAT_VERSION = 2;
    private static final int FORMAT_VERSION_WITHOUT_SELECTION = 1;
    private static final String NO_EXCLUDES = "-";
    private static final HexFormat HEX = HexFormat.of();
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
     * What the tracker selects below a root: the directory it watches (symlinks resolved) and the exclude patterns
     * it drops, in order (the configured ones plus the built-in ones).
     */
    public record Selection(byte[] realPath, List<String> excludes) {
        public Selection {
            realPath = realPath.clone();
            excludes = List.copyOf(excludes);
        }

        @Override
        public byte[] realPath() {
            return realPath.clone();
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Selection that && Arrays.equals(realPath, that.realPath)
                    && excludes.equals(that.excludes);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(realPath) + excludes.hashCode();
        }

        @Override
        public String toString() {
            return "Selection[" + new String(realPath, StandardCharsets.UTF_8) + ", " + excludes + "]";
        }
    }

    /**
     * One root as the tracker last saw it.
     *
     * @param sinceMillis when it entered this condition
     * @param detail      one line for a human: what happened and, when not watched, the fix; may be empty
     * @param selection   what the tracker selects below the root; empty when an older tracker wrote the file
     */
    public record RootStatus(String root, Condition condition, long sinceMillis, String detail,
                             Optional<Selection> selection) {
        public RootStatus {
            detail = detail.replace('\n', ' ');
        }

        public RootStatus(String root, Condition condition, long sinceMillis, String detail, Selection selection) {
            this(root, condition, sinceMillis, detail, Optional.of(selection));
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
            Selection selection = root.selection().orElseThrow(() -> new IllegalArgumentException("root '"
                    + root.root() + "' has no selection"));
            text.append(root.root()).append(' ').append(root.condition().token()).append(' ')
                    .append(root.sinceMillis()).append(' ').append(HEX.formatHex(selection.realPath())).append(' ')
                    .append(encodeExcludes(selection.excludes())).append(' ').append(root.detail()).append('\n');
        }
        return text.toString();
    }

    static Snapshot decode(String text, Path source) {
        String[] lines = text.split("\n");
        String[] header = lines[0].split(" ");
        if (header.length != 4 || !header[0].equals(MAGIC)) {
            throw malformed(source, lines[0]);
        }
        boolean withSelection = header[1].equals(String.valueOf(FORMAT_VERSION));
        if (!withSelection && !header[1].equals(String.valueOf(FORMAT_VERSION_WITHOUT_SELECTION))) {
            throw new IllegalStateException(source + " has format version " + header[1] + "; this build reads versions "
                    + FORMAT_VERSION_WITHOUT_SELECTION + " and " + FORMAT_VERSION);
        }
        int fieldCount = withSelection ? 6 : 4;
        List<RootStatus> roots = new ArrayList<>();
        try {
            for (int i = 1; i < lines.length; i++) {
                String[] fields = lines[i].split(" ", fieldCount);
                Condition condition = fields.length == fieldCount ? Condition.of(fields[1]) : null;
                if (condition == null) {
                    throw malformed(source, lines[i]);
                }
                Optional<Selection> selection = withSelection
                        ? Optional.of(new Selection(HEX.parseHex(fields[3]), decodeExcludes(fields[4])))
                        : Optional.empty();
                roots.add(new RootStatus(fields[0], condition, Long.parseLong(fields[2]), fields[fieldCount - 1],
                        selection));
            }
            return new Snapshot(Long.parseLong(header[2]), Long.parseLong(header[3]), roots);
        } catch (IllegalArgumentException e) {
            // NumberFormatException included
            throw malformed(source, e.getMessage());
        }
    }

    private static String encodeExcludes(List<String> excludes) {
        if (excludes.isEmpty()) {
            return NO_EXCLUDES;
        }
        StringBuilder joined = new StringBuilder();
        for (String pattern : excludes) {
            joined.append(pattern).append('\0');
        }
        return HEX.formatHex(joined.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static List<String> decodeExcludes(String field) {
        if (field.equals(NO_EXCLUDES)) {
            return List.of();
        }
        String joined = new String(HEX.parseHex(field), StandardCharsets.UTF_8);
        if (!joined.endsWith("\0")) {
            throw new IllegalArgumentException("excludes not ended by NUL: " + field);
        }
        return List.of(joined.substring(0, joined.length() - 1).split("\0", -1));
    }

    private static IllegalStateException malformed(Path source, String content) {
        return new IllegalStateException(source + " is not a changeq tracker roots file (at: '" + content
                + "'); the tracker rewrites it when a root's condition changes, or delete it");
    }

    /** The stored snapshot, or empty when no tracker has written one. */
    public Optional<Snapshot> read() throws IOException {
        return StateDirectory.readIfPresent(file).map(bytes -> decode(new String(bytes, StandardCharsets.UTF_8), file));
    }

    /** Replaces the file atomically; not fsynced: after a power cut the tracker starts and writes it anew. */
    public void write(Snapshot snapshot) throws IOException {
        StateDirectory.replace(file, encode(snapshot).getBytes(StandardCharsets.UTF_8), false);
    }
}
