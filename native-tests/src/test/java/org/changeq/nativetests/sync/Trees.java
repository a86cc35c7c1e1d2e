package org.changeq.nativetests.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** Byte-named files in test trees, and independent comparisons of trees ({@code find}, {@code diff}). */
public final class Trees {

    private Trees() {
    }

    /** A path for raw name bytes: a {@code file:} URI with %XX escapes round-trips any name exactly. */
    public static Path path(Path directory, byte[] relative) {
        StringBuilder uri = new StringBuilder("file://");
        byte[] base = (directory.toAbsolutePath() + "/").getBytes(StandardCharsets.UTF_8);
        for (byte[] part : List.of(base, relative)) {
            for (byte b : part) {
                int c = b & 0xff;
                if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "/-_.~".indexOf(c) >= 0) {
                    uri.append((char) c);
                } else {
                    uri.append('%').append(String.format("%02X", c));
                }
            }
        }
        return Path.of(URI.create(uri.toString()));
    }

    public static Path write(Path root, String relative, String content) throws IOException {
        return write(root, relative.getBytes(StandardCharsets.UTF_8), content);
    }

    public static Path write(Path root, byte[] relative, String content) throws IOException {
        Path file = path(root, relative);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
        return file;
    }

    /** Bit rot, or an edit by hand that put the time back: rsync's quick check sees nothing. */
    public static void flipOneByteKeepingSizeAndTime(Path file) throws IOException {
        FileTime time = Files.getLastModifiedTime(file);
        byte[] content = Files.readAllBytes(file);
        content[content.length / 2] ^= 0x01;
        Files.write(file, content);
        Files.setLastModifiedTime(file, time);
        assertEquals(time, Files.getLastModifiedTime(file));
    }

    /**
     * The marker changeq-sync keeps at the top of a remote destination: changeq's own file, not a copy of the root's,
     * so the tree helpers leave it out.
     */
    public static final String DESTINATION_MARKER = ".changeq-destination";

    /**
     * Every path under {@code root} as "type path" strings, bytes mapped 1:1 through ISO-8859-1, but for a
     * {@link #DESTINATION_MARKER} at its top.
     */
    public static Set<String> list(Path root) throws IOException, InterruptedException {
        byte[] out = run(List.of("/usr/bin/find", root.toString(), "-mindepth", "1", "-printf", "%y %P\\0"), 0);
        Set<String> entries = new TreeSet<>();
        int start = 0;
        for (int i = 0; i < out.length; i++) {
            if (out[i] == 0) {
                String entry = new String(out, start, i - start, StandardCharsets.ISO_8859_1);
                if (!entry.equals("f " + DESTINATION_MARKER)) {
                    entries.add(entry);
                }
                start = i + 1;
            }
        }
        return entries;
    }

    /**
     * Fails unless {@code diff -r --no-dereference} finds the trees identical (names, types, contents), a
     * {@link #DESTINATION_MARKER} left out.
     */
    public static void assertSameTree(Path expected, Path actual) throws IOException, InterruptedException {
        assertSameTree(expected, actual, List.of());
    }

    /** As {@link #assertSameTree(Path, Path)}, leaving out entries whose base name matches a pattern ({@code diff -x}). */
    public static void assertSameTree(Path expected, Path actual, List<String> excludedNames)
            throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("diff", "-r", "--no-dereference", "-x",
                DESTINATION_MARKER));
        for (String pattern : excludedNames) {
            command.add("-x");
            command.add(pattern);
        }
        command.add(expected.toString());
        command.add(actual.toString());
        byte[] out = run(command, -1);
        assertEquals("", new String(out, StandardCharsets.UTF_8), "diff -r " + expected + " " + actual);
    }

    public static byte[] run(List<String> command, int expectedExit) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        process.getOutputStream().close();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = process.getInputStream()) {
            in.transferTo(out);
        }
        int exit = process.waitFor();
        if (expectedExit >= 0 && exit != expectedExit) {
            throw new AssertionError(command + " exited with " + exit + ": " + out.toString(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }
}
