package org.changeq.pipeline.state;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * How a verify that a route's follower ran on request ended, kept in {@code <state>/verify/ROUTE.answer}: written by
 * the follower, read by the {@code changeq-sync verify} that asked, which prints it as its own. The one codec of that
 * file. Immutable.
 *
 * <p>Format, version 1: the line {@code changeq-verify-answer 1}, then {@code started MILLIS} (when that verify
 * started, milliseconds since the epoch), {@code exit N}, {@code error LENGTH} and {@code output LENGTH}, each length
 * followed by a newline and that many bytes: the error message (empty when the verify ran to its end) and what the
 * verify printed, its summary line last.
 *
 * @param startedMillis when the verify started: it answers every request made before
 * @param exitCode      the exit code a direct verify would have ended with
 * @param error         why the verify did not run to its end; empty when it did
 * @param output        the lines it printed, raw bytes (paths are escaped already)
 */
public record VerifyAnswer(long startedMillis, int exitCode, String error, byte[] output) {

    static final int FORMAT_VERSION = 1;
    private static final String MAGIC = "changeq-verify-answer";

    public VerifyAnswer {
        output = output.clone();
    }

    @Override
    public byte[] output() {
        return output.clone();
    }

    /** The answer stored, if any. */
    public static Optional<VerifyAnswer> read(Path file) throws IOException {
        try {
            return Optional.of(decode(StateDirectory.read(file), file));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** Replaces the stored answer atomically. */
    public void write(Path file) throws IOException {
        StateDirectory.replace(file, encode(), false);
    }

    byte[] encode() {
        byte[] message = error.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(128 + message.length + output.length);
        out.writeBytes(ascii(MAGIC + " " + FORMAT_VERSION + "\nstarted " + startedMillis + "\nexit " + exitCode
                + "\nerror " + message.length + "\n"));
        out.writeBytes(message);
        out.writeBytes(ascii("output " + output.length + "\n"));
        out.writeBytes(output);
        return out.toByteArray();
    }

    static VerifyAnswer decode(byte[] bytes, Path source) {
        Cursor cursor = new Cursor(bytes, source);
        String[] first = cursor.line().split(" ");
        if (first.length != 2 || !first[0].equals(MAGIC)) {
            throw cursor.malformed("not a changeq verify answer (first line '" + String.join(" ", first) + "')");
        }
        if (!first[1].equals(String.valueOf(FORMAT_VERSION))) {
            throw new IllegalStateException(source + " has verify answer format version " + first[1] + "; this build"
                    + " reads version " + FORMAT_VERSION);
        }
        long started = cursor.number("started");
        int exit = Math.toIntExact(cursor.number("exit"));
        String error = new String(cursor.bytes("error"), StandardCharsets.UTF_8);
        byte[] output = cursor.bytes("output");
        if (!cursor.atEnd()) {
            throw cursor.malformed("it holds more than its output");
        }
        return new VerifyAnswer(started, exit, error, output);
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    /** Reads the file's fields in order. */
    private static final class Cursor {
        private final byte[] bytes;
        private final Path source;
        private int at;

        Cursor(byte[] bytes, Path source) {
            this.bytes = bytes;
            this.source = source;
        }

        String line() {
            int newline = at;
            while (newline < bytes.length && bytes[newline] != '\n') {
                newline++;
            }
            if (newline == bytes.length) {
                throw malformed("it ends within a line");
            }
            String line = new String(bytes, at, newline - at, StandardCharsets.US_ASCII);
            at = newline + 1;
            return line;
        }

        long number(String field) {
            String[] words = line().split(" ");
            if (words.length != 2 || !words[0].equals(field)) {
                throw malformed("expected '" + field + " N', found '" + String.join(" ", words) + "'");
            }
            try {
                return Long.parseLong(words[1]);
            } catch (NumberFormatException e) {
                throw malformed("'" + field + "' is not a number");
            }
        }

        byte[] bytes(String field) {
            long length = number(field);
            if (length < 0 || length > bytes.length - at) {
                throw malformed("'" + field + "' is cut off");
            }
            byte[] value = Arrays.copyOfRange(bytes, at, at + (int) length);
            at += (int) length;
            return value;
        }

        boolean atEnd() {
            return at == bytes.length;
        }

        IllegalStateException malformed(String what) {
            return new IllegalStateException(source + " is malformed: " + what + "; remove it: the follower writes"
                    + " it again at the next requested verify");
        }
    }
}
