package org.changeq.pipeline.state;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The files that ask a route for a full sync: changeq's own {@code <state>/flags/ROUTE.force-full} and the
 * old pipeline's {@code .force-full-sync} in the root. Each is honoured once per appearance and never
 * deleted: changeq never writes into a root, and a flag an administrator made as root need not be
 * deletable by the service. When a full sync that saw a flag succeeds, the flag's inode and modification
 * time are remembered in {@code <state>/flags/ROUTE.honoured}; only a flag that is new, or touched
 * again, asks for another. The one codec of that file. Immutable.
 *
 * @param force         changeq's flag as seen now, if it exists
 * @param legacy        the root's legacy flag as seen now, if it exists
 * @param honouredForce the changeq flag honoured last, if any
 * @param honouredLegacy the legacy flag honoured last, if any
 */
public record FullSyncFlags(Optional<Seen> force, Optional<Seen> legacy, Optional<Seen> honouredForce,
                            Optional<Seen> honouredLegacy) {

    static final int FORMAT_VERSION = 1;
    private static final String MAGIC = "changeq-honoured-flags";
    private static final String FORCE = "force-full";
    private static final String LEGACY = "legacy";

    /** A flag file as it was seen: which file, and when it was last touched. */
    public record Seen(long inode, long modifiedNanos) {
    }

    /** The route's flags and what was honoured of them. */
    public static FullSyncFlags read(StateLayout layout, String route, Path legacyFlag) throws IOException {
        Path honouredFile = layout.honouredFlags(route);
        Optional<Seen> honouredForce = Optional.empty();
        Optional<Seen> honouredLegacy = Optional.empty();
        try {
            String text = new String(StateDirectory.read(honouredFile), StandardCharsets.US_ASCII);
            honouredForce = decode(text, FORCE, honouredFile);
            honouredLegacy = decode(text, LEGACY, honouredFile);
        } catch (NoSuchFileException e) {
            // Nothing honoured yet.
        }
        return new FullSyncFlags(seen(layout.forceFullFlag(route)), seen(legacyFlag), honouredForce, honouredLegacy);
    }

    /** changeq's flag exists and was not honoured in this form yet. */
    public boolean forceRequested() {
        return force.isPresent() && !force.equals(honouredForce);
    }

    /** The legacy flag exists and was not honoured in this form yet. */
    public boolean legacyRequested() {
        return legacy.isPresent() && !legacy.equals(honouredLegacy);
    }

    /** Remembers the flags as they were seen before the full sync that just succeeded. */
    public void markHonoured(StateLayout layout, String route) throws IOException {
        String text = MAGIC + " " + FORMAT_VERSION + "\n"
                + force.or(() -> honouredForce).map(seen -> line(FORCE, seen)).orElse("")
                + legacy.or(() -> honouredLegacy).map(seen -> line(LEGACY, seen)).orElse("");
        StateDirectory.replace(layout.honouredFlags(route), text.getBytes(StandardCharsets.US_ASCII), true);
    }

    private static String line(String kind, Seen seen) {
        return kind + " " + seen.inode() + " " + seen.modifiedNanos() + "\n";
    }

    static Optional<Seen> decode(String text, String kind, Path source) {
        String[] lines = text.split("\n");
        if (!lines[0].equals(MAGIC + " " + FORMAT_VERSION)) {
            throw new IllegalStateException(source + " is not a changeq honoured-flags file of version " + FORMAT_VERSION
                    + " (first line '" + lines[0] + "'); delete it: a flag that exists is then honoured once more");
        }
        for (int i = 1; i < lines.length; i++) {
            String[] fields = lines[i].split(" ");
            if (fields.length == 3 && fields[0].equals(kind)) {
                try {
                    return Optional.of(new Seen(Long.parseLong(fields[1]), Long.parseLong(fields[2])));
                } catch (NumberFormatException e) {
                    throw new IllegalStateException(source + " holds a malformed line '" + lines[i]
                            + "'; delete it: a flag that exists is then honoured once more", e);
                }
            }
        }
        return Optional.empty();
    }

    private static Optional<Seen> seen(Path flag) throws IOException {
        try {
            BasicFileAttributes attributes = Files.readAttributes(flag, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            long inode = ((Number) Files.getAttribute(flag, "unix:ino", LinkOption.NOFOLLOW_LINKS)).longValue();
            return Optional.of(new Seen(inode, nanos(attributes.lastModifiedTime())));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    private static long nanos(FileTime time) {
        return time.to(TimeUnit.NANOSECONDS);
    }
}
