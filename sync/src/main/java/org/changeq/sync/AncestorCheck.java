package org.changeq.sync;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.plan.PendingChanges;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admits a list entry only if every ancestor of it below the root is a real directory right now, checked with
 * {@code lstat} one component at a time from the root down: rsync resolves a {@code --files-from} entry through the
 * kernel, and versions before 3.5.0 follow a symbolic link that replaced a directory (rsync's NEWS for 3.5.0), so a
 * stale entry {@code x/shadow} below {@code x -> /etc} would copy {@code /etc/shadow}; 3.5.0 refuses a link owned by
 * another user and fails the pass instead. A refused entry is left out with one log line per refused ancestor; the
 * ancestor's own entry sends or deletes what replaced it. An ancestor that is gone admits the entry: rsync treats
 * the entry as missing.
 *
 * <p>Each directory is checked once per run, so a list of 100,000 entries costs one {@code lstat} per distinct
 * directory. This narrows the window to the time between the check and rsync's walk; it does not close it (see the
 * README's safety section). Confined to the run's thread.
 */
final class AncestorCheck implements PendingChanges.EntryCheck {

    private static final Logger LOG = LoggerFactory.getLogger(AncestorCheck.class);
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private final String rootUri;
    private final String route;
    /** Whether each directory checked so far (relative bytes, no trailing slash) admits what lies below it. */
    private final Map<ByteBuffer, Boolean> admitting = new HashMap<>();

    AncestorCheck(Path root, String route) {
        String uri = root.toAbsolutePath().toUri().toString();
        this.rootUri = uri.endsWith("/") ? uri : uri + "/";
        this.route = route;
    }

    @Override
    public boolean admits(byte[] path, int length, boolean deletion) {
        for (int i = 1; i < length; i++) {
            if (path[i] == '/' && !admitsBelow(path, i)) {
                return false;
            }
        }
        return true;
    }

    private boolean admitsBelow(byte[] path, int length) {
        ByteBuffer key = ByteBuffer.wrap(path, 0, length);
        Boolean known = admitting.get(key);
        if (known != null) {
            return known;
        }
        // Its own ancestors were checked first, on the way down to it.
        byte[] directory = Arrays.copyOf(path, length);
        boolean admits = isDirectoryOrGone(directory);
        admitting.put(ByteBuffer.wrap(directory), admits);
        return admits;
    }

    private boolean isDirectoryOrGone(byte[] directory) {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(resolve(directory), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            // Gone: rsync takes the entry as missing. Unreadable: rsync meets the same error and reports the entry
            // as failed, which puts it in the retry list.
            return true;
        }
        if (attributes.isDirectory()) {
            return true;
        }
        LOG.warn("route '{}': leaving out the paths below {}: it is {} now, not a directory inside the root, and rsync"
                        + " would read them through it; what replaced it is sent by its own record", route,
                ByteStrings.escape(directory), attributes.isSymbolicLink() ? "a symbolic link" : "not a directory");
        return false;
    }

    /** The path of {@code relative} below the root, built from its bytes: a {@code file:} URI with %XX escapes. */
    private Path resolve(byte[] relative) {
        StringBuilder uri = new StringBuilder(rootUri.length() + relative.length * 3);
        uri.append(rootUri);
        for (byte b : relative) {
            int c = b & 0xff;
            if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '/' || c == '-'
                    || c == '.' || c == '_' || c == '~') {
                uri.append((char) c);
            } else {
                uri.append('%').append(HEX[c >>> 4]).append(HEX[c & 0xf]);
            }
        }
        return Path.of(URI.create(uri.toString()));
    }
}
