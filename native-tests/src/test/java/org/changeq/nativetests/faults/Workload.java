package org.changeq.nativetests.faults;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.changeq.nativetests.sync.Trees;

/**
 * Writes the fault scenarios' file trees: many small files spread over directories, and in every batch the
 * names that break naive pipelines (newline, invalid UTF-8, {@code #}/{@code ;}/{@code -} prefixes that rsync or a
 * shell read as comments or options, glob characters, spaces, a path over a thousand bytes long) and one file the
 * route excludes. Names are bytes; paths are built through {@link Trees#path}. Not thread-safe.
 */
public final class Workload {

    /** What a route in the fault scenarios excludes; {@code diff -x} takes the same pattern. */
    public static final String EXCLUDED_PATTERN = "*.tmp";
    private static final int FILES_PER_DIRECTORY = 100;

    private final Path root;
    private int generation;

    public Workload(Path root) {
        this.root = root;
    }

    /** Names every batch contains, as raw bytes. */
    static List<byte[]> nastyNames() {
        List<byte[]> names = new ArrayList<>();
        names.add("new\nline".getBytes(StandardCharsets.UTF_8));
        names.add(new byte[] {'b', 'a', 'd', (byte) 0xff, (byte) 0xfe, '-', 'u', 't', 'f', '8'});
        names.add("#comment".getBytes(StandardCharsets.UTF_8));
        names.add(";semicolon".getBytes(StandardCharsets.UTF_8));
        names.add("-option".getBytes(StandardCharsets.UTF_8));
        names.add("--delete".getBytes(StandardCharsets.UTF_8));
        names.add("glob [*?]".getBytes(StandardCharsets.UTF_8));
        names.add(" leading and trailing spaces ".getBytes(StandardCharsets.UTF_8));
        names.add("ünïcödé".getBytes(StandardCharsets.UTF_8));
        return names;
    }

    /**
     * Creates {@code count} files under {@code top} in directories of {@value #FILES_PER_DIRECTORY}, then the nasty
     * names (as files, and as a directory holding a file), a long path, and an excluded file.
     *
     * @param between called after each directory is filled, e.g. to kill a process half-way
     */
    public List<Path> createFiles(String top, int count, Runnable between) throws IOException {
        generation++;
        List<Path> directories = new ArrayList<>();
        for (int first = 0; first < count; first += FILES_PER_DIRECTORY) {
            Path directory = Files.createDirectories(root.resolve(top).resolve(String.format("d%04d", first / FILES_PER_DIRECTORY)));
            directories.add(directory);
            for (int i = first; i < Math.min(count, first + FILES_PER_DIRECTORY); i++) {
                Files.writeString(directory.resolve(String.format("f%05d", i)), content(top, i));
            }
            between.run();
        }
        writeNastyNames(top);
        return directories;
    }

    private void writeNastyNames(String top) throws IOException {
        byte[] topBytes = top.getBytes(StandardCharsets.UTF_8);
        for (byte[] name : nastyNames()) {
            Trees.write(root, concat(topBytes, "/nasty/".getBytes(StandardCharsets.UTF_8), name), "file " + generation);
            Trees.write(root, concat(topBytes, "/nasty-dirs/".getBytes(StandardCharsets.UTF_8), name,
                    "/inside".getBytes(StandardCharsets.UTF_8)), "inside " + generation);
        }
        StringBuilder longPath = new StringBuilder(top).append("/long");
        for (int i = 0; i < 12; i++) {
            longPath.append('/').append(String.valueOf((char) ('a' + i)).repeat(100));
        }
        Trees.write(root, longPath.append("/leaf").toString(), "long " + generation);
        Trees.write(root, top + "/nasty/scratch.tmp", "excluded " + generation);
    }

    /**
     * Rewrites every {@code step}-th file of the directories with content of the same size: rsync's quick check
     * would skip such a rewrite within the same second.
     */
    public int modify(List<Path> directories, int step) throws IOException {
        int modified = 0;
        for (Path directory : directories) {
            if (!Files.isDirectory(directory)) {
                continue;
            }
            try (var files = Files.list(directory)) {
                for (Path file : files.sorted().toList()) {
                    if (modified++ % step == 0) {
                        byte[] bytes = Files.readAllBytes(file);
                        for (int i = 0; i < bytes.length; i++) {
                            bytes[i] = (byte) (bytes[i] == 'x' ? 'y' : 'x');
                        }
                        Files.write(file, bytes);
                    }
                }
            }
        }
        return modified;
    }

    /** Renames each directory to {@code <name>-renamed}; returns the new paths. */
    public List<Path> rename(List<Path> directories) throws IOException {
        List<Path> renamed = new ArrayList<>();
        for (Path directory : directories) {
            renamed.add(Files.move(directory, directory.resolveSibling(directory.getFileName() + "-renamed")));
        }
        return renamed;
    }

    /**
     * Builds a directory with files outside the root, to be moved in later with {@link #moveIn}: its files keep
     * the times they have now, as a directory restored from an archive or moved from another tree would.
     */
    public static Path stage(Path outside, int files) throws IOException {
        Path staged = Files.createDirectories(outside.resolve("staged").resolve("sub"));
        for (int i = 0; i < files; i++) {
            Files.writeString(staged.resolve("old" + i), "staged " + i);
        }
        Trees.write(outside.resolve("staged"), concat("sub/".getBytes(StandardCharsets.UTF_8), nastyNames().get(0)),
                "staged nasty");
        return outside.resolve("staged");
    }

    /** Moves a staged directory to {@code target} below the root (a rename: the files inside keep their times). */
    public Path moveIn(Path staged, String target) throws IOException {
        Path destination = root.resolve(target);
        Files.createDirectories(destination.getParent());
        return Files.move(staged, destination);
    }

    private static String content(String top, int i) {
        return top + " file " + i + " " + "x".repeat(i % 64) + "\n";
    }

    private static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] part : parts) {
            length += part.length;
        }
        byte[] joined = new byte[length];
        int offset = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, joined, offset, part.length);
            offset += part.length;
        }
        return joined;
    }
}
