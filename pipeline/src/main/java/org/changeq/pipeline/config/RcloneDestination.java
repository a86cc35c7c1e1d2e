package org.changeq.pipeline.config;

import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A route's destination in an rclone remote: {@code dest: "rclone://REMOTE/PATH"} is rclone's {@code REMOTE:PATH}, the
 * remote defined in the rclone configuration file {@code config} ({@code rclone-config:}), which holds its credentials.
 * The scheme keeps it apart from rsync's {@code host:path}, {@code host::module} and {@code rsync://}.
 *
 * @param remote the remote's name in {@code config}
 * @param path   the bucket and prefix below it, without a trailing slash
 * @param config the rclone configuration file
 */
public record RcloneDestination(String remote, String path, Path config) {

    public static final String SCHEME = "rclone://";
    /** rclone 1.60's rule for a remote's name: letters, digits, {@code _ - .} and spaces, not first and not last. */
    private static final Pattern REMOTE = Pattern.compile("[A-Za-z0-9_.][A-Za-z0-9_.\\- ]*(?<! )");

    /** Whether {@code dest} names an rclone destination. */
    public static boolean names(String dest) {
        return dest.startsWith(SCHEME);
    }

    /** What rclone is given: {@code REMOTE:PATH}. */
    public String target() {
        return remote + ":" + path;
    }

    /**
     * Why {@code dest}, which {@link #names names} an rclone destination, is not a usable one; empty when it is. A
     * sentence naming the value and the fix.
     */
    static Optional<String> problem(String dest) {
        String rest = dest.substring(SCHEME.length());
        int slash = rest.indexOf('/');
        String remote = slash < 0 ? rest : rest.substring(0, slash);
        String path = slash < 0 ? "" : stripTrailingSlash(rest.substring(slash + 1));
        if (!REMOTE.matcher(remote).matches()) {
            return Optional.of("'" + dest + "' names no usable rclone remote ('" + remote + "': letters, digits, _ - . and"
                    + " inner spaces); write rclone://REMOTE/BUCKET/PATH/ with REMOTE as in the rclone config file");
        }
        if (path.isEmpty()) {
            return Optional.of("'" + dest + "' names no bucket or path in the remote '" + remote + "'; write rclone://"
                    + remote + "/BUCKET/PATH/: a route never writes to the top of a remote");
        }
        for (String segment : path.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                return Optional.of("'" + dest + "' has an empty, '.' or '..' segment in its path '" + path + "'; write the"
                        + " bucket and prefix plainly, e.g. rclone://" + remote + "/backup/host1/");
            }
        }
        if (path.chars().anyMatch(c -> c < 0x20)) {
            return Optional.of("'" + dest.replace("\n", "\\n") + "' has a control character in its path; remove it");
        }
        return Optional.empty();
    }

    /** {@code dest}, which has no {@link #problem}, with its configuration file. */
    static RcloneDestination of(String dest, Path config) {
        String rest = dest.substring(SCHEME.length());
        int slash = rest.indexOf('/');
        return new RcloneDestination(rest.substring(0, slash), stripTrailingSlash(rest.substring(slash + 1)), config);
    }

    private static String stripTrailingSlash(String path) {
        return path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    }
}
