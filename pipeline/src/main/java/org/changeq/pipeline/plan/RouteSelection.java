package org.changeq.pipeline.plan;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.changeq.pipeline.config.RootConfig;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.pipeline.state.RouteSelectionFile;
import org.changeq.pipeline.state.StateLayout;

/**
 * What a route selects and where it sends it, as one fingerprint: the root's path and excludes (the built-in ones
 * too), the route's effective includes and excludes (the contents of named lists, not their names), its {@code dest}
 * and its rsync arguments. A destination holds what the route selected when its cursor was committed; when any of
 * these changes, only a full sync brings the destination to the new selection, since incremental runs send changes
 * only. Every rsync argument counts, not just the ones known to change the selection: a needless full sync costs a
 * walk, a missed one loses files. Thread-safe (stateless).
 */
public final class RouteSelection {

    private RouteSelection() {
    }

    /** SHA-256, in hex, of the fields in a fixed order, each length-prefixed so that no two selections share a text. */
    public static String fingerprint(RouteConfig route, RootConfig root) {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides SHA-256", e);
        }
        field(digest, "root", List.of(root.path().toString()));
        field(digest, "root-exclude", root.excludes().patterns());
        field(digest, "include", route.includes().patterns());
        field(digest, "exclude", route.excludes().patterns());
        field(digest, "dest", List.of(route.dest()));
        field(digest, "rsync-args", route.rsyncArgs());
        return HexFormat.of().formatHex(digest.digest());
    }

    /**
     * Why the route's selection differs from the one recorded with its cursor, if it does. Nothing recorded (a cursor
     * committed by a version that recorded no selection) counts as unchanged; an unreadable record as changed.
     */
    public static Optional<String> whyChanged(StateLayout layout, RootConfig root, RouteConfig route)
            throws IOException {
        RouteSelectionFile.Recorded recorded = layout.routeSelection(route.name()).read();
        if (recorded.unreadable().isPresent()) {
            return recorded.unreadable();
        }
        return recorded.fingerprint().filter(fingerprint -> !fingerprint.equals(fingerprint(route, root)))
                .map(fingerprint -> "the route's root, excludes, includes (or the lists they name), dest or rsync-args"
                        + " changed since its cursor was committed");
    }

    private static void field(MessageDigest digest, String name, List<String> values) {
        text(digest, name);
        digest.update(ByteBuffer.allocate(Integer.BYTES).putInt(values.size()).array());
        values.forEach(value -> text(digest, value));
    }

    private static void text(MessageDigest digest, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        digest.update(ByteBuffer.allocate(Integer.BYTES).putInt(bytes.length).array());
        digest.update(bytes);
    }
}
