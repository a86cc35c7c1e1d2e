package org.changeq.sync;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.changeq.pipeline.PathBytes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one rclone invocation did, read from its JSON log ({@code --use-json-log --log-file}), told in rsync's terms:
 * one {@code --itemize-changes} line per object copied, overwritten or deleted (or that a dry run would), and an
 * outcome whose exit status is rsync's for the same situation, since rclone 1.60's own status cannot be classified
 * (exit 1 is a usage error, an unreachable server, refused credentials and one failed file alike, docs/rclone.md):
 *
 * <ul>
 * <li>the server unreachable, a timeout, a 5xx answer or refused credentials: rsync's 10 (the destination cannot be
 *     reached; the run is retried whole, nothing commits);</li>
 * <li>errors that each name an object, and nothing else: rsync's 23 (a partial transfer; the failure check finds
 *     which paths still differ and they go to the retry list);</li>
 * <li>rclone's {@code --max-delete} fence: rsync's 25;</li>
 * <li>anything else, a missing bucket too: rsync's 1 (failed; the cursor stays).</li>
 * </ul>
 *
 * <p>rclone's log names objects in its display encoding (a control character as U+2400 plus its code, invalid UTF-8
 * as U+FFFD), which is not byte-exact: a name is mapped back through {@link Names}, the paths changeq listed or the
 * root's own directory entries. Confined to the thread that runs the pass.
 */
final class RcloneLog {

    private static final Logger LOG = LoggerFactory.getLogger(RcloneLog.class);

    static final int RSYNC_OK = 0;
    static final int RSYNC_FAILED = 1;
    static final int RSYNC_UNREACHABLE = 10;
    static final int RSYNC_MAX_DELETE = 25;

    private static final String NEW = ">f+++++++++ ";
    private static final String OVERWRITTEN = ">f.st...... ";
    private static final String DELETING = "*deleting   ";

    /** A whole run that may succeed when tried again: the server, the network or the credentials, not a path. */
    private static final Pattern UNREACHABLE = Pattern.compile("connection refused|connection reset|dial tcp|"
            + "send request failed|i/o timeout|timeout|no such host|network is unreachable|unexpected EOF|"
            + "status code: 5\\d\\d|status code: 403|SignatureDoesNotMatch|InvalidAccessKeyId|AccessDenied|Forbidden",
            Pattern.CASE_INSENSITIVE);
    /** Never one path's failure, even when rclone reports it per object. */
    private static final Pattern WHOLE_DESTINATION = Pattern.compile("NoSuchBucket|directory not found");
    /** rclone's own summaries of per-object errors it already reported. */
    private static final Pattern SUMMARY = Pattern.compile("^(not deleting (files|directories) as there were IO errors"
            + "|Attempt \\d+/\\d+ failed with \\d+ errors.*|Failed to [a-z]+ with \\d+ errors.*)", Pattern.DOTALL);

    private final List<byte[]> itemized = new ArrayList<>();
    /** The objects whose version rclone copied into the backup directory: their delete is no deletion. */
    private final Set<String> backedUp = new HashSet<>();
    private final List<String> objectErrors = new ArrayList<>();
    private final List<String> otherErrors = new ArrayList<>();
    /** The messages of the errors alone, which classify the outcome: a name may read like any message. */
    private final List<String> errorMessages = new ArrayList<>();
    private long files;
    private long bytes;
    private long deleted;
    private long checks;
    private long created;

    private RcloneLog() {
    }

    /** Reads {@code log}, written by a pass over {@code names}; a missing or empty log reads as nothing done. */
    static RcloneLog read(Path log, Names names) throws IOException {
        RcloneLog read = new RcloneLog();
        if (!Files.exists(log)) {
            return read;
        }
        Set<String> overwritten = new HashSet<>();
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
            if (!line.startsWith("{")) {
                continue;
            }
            Map<String, Object> entry;
            try {
                entry = JsonLine.parse(line);
            } catch (IllegalArgumentException e) {
                LOG.info("rclone: {}", line);
                continue;
            }
            read.accept(entry, names, overwritten);
        }
        return read;
    }

    private void accept(Map<String, Object> entry, Names names, Set<String> overwritten) {
        String level = text(entry, "level");
        String message = text(entry, "msg");
        String object = text(entry, "object");
        boolean ofObject = entry.containsKey("object") && !text(entry, "objectType").endsWith("Fs");
        if (entry.get("stats") instanceof Map<?, ?> stats) {
            checks = number(stats.get("checks"));
            bytes = Math.max(bytes, number(stats.get("bytes")));
            return;
        }
        String skipped = text(entry, "skipped");
        if (!skipped.isEmpty()) {
            switch (skipped) {
                case "move" -> overwritten.add(object);
                case "copy" -> {
                    boolean replaces = overwritten.contains(object);
                    item(replaces ? OVERWRITTEN : NEW, names.bytes(object));
                    files++;
                    created += replaces ? 0 : 1;
                    bytes += number(entry.get("size"));
                }
                case "delete", "move into backup dir" -> {
                    item(DELETING, names.bytes(object));
                    deleted++;
                }
                default -> LOG.debug("rclone: {}: {}", object, message);
            }
            return;
        }
        if (level.equals("error")) {
            String text = ofObject ? object + ": " + message : (entry.containsKey("object") ? object + ": " : "") + message;
            (ofObject ? objectErrors : otherErrors).add(text);
            errorMessages.add(message);
            if (!ofObject && SUMMARY.matcher(message).find()) {
                // It repeats what the errors before it said.
                LOG.info("rclone: {}", text);
            } else {
                LOG.warn("rclone: {}", text);
            }
            return;
        }
        if (!ofObject) {
            LOG.info("rclone: {}{}", entry.containsKey("object") ? object + ": " : "", message);
            return;
        }
        switch (message) {
            // With --backup-dir, S3 keeps the old version by a server-side copy into the backup directory and a delete
            // of the object; then comes the new version, or, for a deletion, "Moved into backup dir".
            case "Copied (server-side copy)" -> backedUp.add(object);
            case "Moved into backup dir" -> {
                item(DELETING, names.bytes(object));
                deleted++;
            }
            case "Copied (new)" -> {
                boolean replaces = backedUp.remove(object);
                item(replaces ? OVERWRITTEN : NEW, names.bytes(object));
                files++;
                created += replaces ? 0 : 1;
            }
            case "Copied (replaced existing)" -> {
                item(OVERWRITTEN, names.bytes(object));
                files++;
            }
            case "Deleted" -> {
                if (!backedUp.contains(object)) {
                    item(DELETING, names.bytes(object));
                    deleted++;
                }
            }
            default -> LOG.debug("rclone: {}: {}", object, message);
        }
    }

    private static String text(Map<String, Object> entry, String member) {
        return entry.get(member) instanceof String value ? value : "";
    }

    private static long number(Object value) {
        return value instanceof Number number ? number.longValue() : 0;
    }

    private void item(String change, byte[] name) {
        itemized.add(line(change, name));
    }

    /** The itemized line of a new file {@code name}, as a dry run shows one it would send. */
    static byte[] itemizedNew(byte[] name) {
        return line(NEW, name);
    }

    private static byte[] line(String change, byte[] name) {
        ByteArrayOutputStream line = new ByteArrayOutputStream(change.length() + name.length + 8);
        line.writeBytes(change.getBytes(StandardCharsets.US_ASCII));
        for (byte b : name) {
            int c = b & 0xff;
            if (c < 0x20 || c == 0x7f || c == '\\') {
                // rsync's escape, which FailedPaths.unescape reads back.
                line.writeBytes(String.format(Locale.ROOT, "\\#%03o", c).getBytes(StandardCharsets.US_ASCII));
            } else {
                line.write(b);
            }
        }
        return line.toByteArray();
    }

    /** The itemized lines, in the log's order. */
    List<byte[]> itemized() {
        return itemized;
    }

    /**
     * The pass's outcome in rsync's terms (see the class comment), from rclone's exit status, this log and what rclone
     * printed to stderr ({@code raw}'s errors).
     */
    RsyncRunner.Outcome outcome(RsyncRunner.Outcome raw) {
        List<String> errors = new ArrayList<>(objectErrors);
        errors.addAll(otherErrors);
        errors.addAll(raw.errors());
        List<String> messages = new ArrayList<>(errorMessages);
        messages.addAll(raw.errors());
        int status = classify(raw.exitCode(), messages);
        List<String> shown = new ArrayList<>();
        List<String> deletions = new ArrayList<>();
        for (byte[] line : itemized.subList(0, Math.min(itemized.size(), RsyncRunner.SAMPLE_LIMIT))) {
            String display = RsyncRunner.itemizedForDisplay(line);
            shown.add(display);
            if (display.startsWith(DELETING.trim())) {
                deletions.add(display.substring(RsyncRunner.ITEMIZE_WIDTH));
            }
        }
        return new RsyncRunner.Outcome(status, files, bytes, deleted, checks + created, created, List.copyOf(shown),
                List.copyOf(deletions), List.copyOf(errors.subList(0, Math.min(errors.size(), RsyncRunner.ERROR_LIMIT))));
    }

    /** @param errors the messages of the log's errors and what rclone printed to stderr, without object names */
    private int classify(int exit, List<String> errors) {
        if (exit == 0 && errors.isEmpty()) {
            return RSYNC_OK;
        }
        if (errors.stream().anyMatch(error -> UNREACHABLE.matcher(error).find())) {
            return RSYNC_UNREACHABLE;
        }
        if (exit == 7 && errors.stream().anyMatch(error -> error.contains("--max-delete"))) {
            return RSYNC_MAX_DELETE;
        }
        boolean perObject = !objectErrors.isEmpty()
                && errors.stream().noneMatch(error -> WHOLE_DESTINATION.matcher(error).find())
                && otherErrors.stream().allMatch(error -> SUMMARY.matcher(stripObject(error)).find())
                && exit != 7;
        return perObject ? RsyncRunner.PARTIAL_TRANSFER : RSYNC_FAILED;
    }

    private static String stripObject(String error) {
        for (String summary : List.of("not deleting", "Attempt ", "Failed to ")) {
            int at = error.indexOf(summary);
            if (at >= 0) {
                return error.substring(at);
            }
        }
        return error;
    }

    /** Hands the itemized lines to {@code sink} (after the pass: rclone's log is read once it exited). */
    void feed(Consumer<byte[]> sink) {
        itemized.forEach(sink);
    }

    /**
     * Maps rclone's display names back to changeq's bytes: a name changeq listed, a name found in the root's directory
     * with that display form, or else (an object the source lacks, whose name is not plain) the display form's UTF-8.
     */
    static final class Names {

        private final Path root;
        private final Map<String, byte[]> listed;

        Names(Path root, Map<String, byte[]> listed) {
            this.root = root;
            this.listed = listed;
        }

        byte[] bytes(String display) {
            byte[] known = listed.get(display);
            if (known != null) {
                return known;
            }
            if (plain(display)) {
                return display.getBytes(StandardCharsets.UTF_8);
            }
            return inRoot(display).orElseGet(() -> {
                LOG.info("rclone named '{}', which is no name changeq listed or the root holds; taken as it is",
                        display);
                return display.getBytes(StandardCharsets.UTF_8);
            });
        }

        /** Each segment of {@code display} looked up among the entries of its directory in the root. */
        private Optional<byte[]> inRoot(String display) {
            ByteArrayOutputStream path = new ByteArrayOutputStream();
            for (String segment : display.split("/", -1)) {
                byte[] parent = path.toByteArray();
                Optional<byte[]> name = plain(segment) ? Optional.of(segment.getBytes(StandardCharsets.UTF_8))
                        : entry(parent, segment);
                if (name.isEmpty()) {
                    return Optional.empty();
                }
                if (path.size() > 0) {
                    path.write('/');
                }
                path.writeBytes(name.get());
            }
            return Optional.of(path.toByteArray());
        }

        private Optional<byte[]> entry(byte[] parent, String segment) {
            Path directory = parent.length == 0 ? root : PathBytes.resolve(root, parent);
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
                for (Path entry : entries) {
                    byte[] full = PathBytes.of(entry);
                    int slash = full.length - 1;
                    while (full[slash] != '/') {
                        slash--;
                    }
                    byte[] name = Arrays.copyOfRange(full, slash + 1, full.length);
                    if (display(name).equals(segment)) {
                        return Optional.of(name);
                    }
                }
            } catch (IOException e) {
                LOG.debug("cannot list {}: {}", directory, e.toString());
            }
            return Optional.empty();
        }

        /** Whether rclone displays {@code name} as it is: nothing it encodes or replaces. */
        static boolean plain(String name) {
            return name.chars().noneMatch(c -> c == 0xfffd || c == '\u201b' || c >= 0x2400 && c <= 0x2421);
        }

        /**
         * {@code name} as rclone's log shows it: control characters as the symbols U+2400..U+241F (DEL as U+2421), such a
         * symbol that is really in the name quoted with U+201B, a real U+201B before two hex digits quoted too (it
         * would read as rclone's code of an invalid byte), and each byte that is not UTF-8 as U+FFFD.
         */
        static String display(byte[] name) {
            StringBuilder out = new StringBuilder(name.length);
            int i = 0;
            while (i < name.length) {
                int length = utf8Length(name, i);
                if (length == 0) {
                    out.append('\ufffd');
                    i++;
                    continue;
                }
                int c = new String(name, i, length, StandardCharsets.UTF_8).codePointAt(0);
                if (c < 0x20) {
                    out.append((char) (0x2400 + c));
                } else if (c == 0x7f) {
                    out.append('\u2421');
                } else {
                    if (c >= 0x2400 && c <= 0x2421 || c == 0x201b && hexPair(name, i + length)) {
                        out.append('\u201b');
                    }
                    out.appendCodePoint(c);
                }
                i += length;
            }
            return out.toString();
        }

        /** Two upper-case hex digits at {@code at}: after U+201B they would read as rclone's code of a byte. */
        private static boolean hexPair(byte[] name, int at) {
            return at + 1 < name.length && isHex(name[at]) && isHex(name[at + 1]);
        }

        private static boolean isHex(byte b) {
            return b >= '0' && b <= '9' || b >= 'A' && b <= 'F';
        }

        private static int utf8Length(byte[] bytes, int at) {
            int b = bytes[at] & 0xff;
            int length = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
            if (length <= 1 || at + length > bytes.length) {
                return at + length > bytes.length ? 0 : length;
            }
            byte[] sequence = Arrays.copyOfRange(bytes, at, at + length);
            String decoded = new String(sequence, StandardCharsets.UTF_8);
            return decoded.length() > 0 && decoded.codePointAt(0) != 0xfffd
                    && Arrays.equals(decoded.getBytes(StandardCharsets.UTF_8), sequence) ? length : 0;
        }
    }
}
