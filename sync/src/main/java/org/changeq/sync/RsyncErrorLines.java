package org.changeq.sync;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.PathBytes;
import org.changeq.pipeline.state.RetryList.Kind;

/**
 * The paths named by rsync's error lines after a partial transfer, relative to the route's root: the last resort of a
 * pass whose failure check (its dry run) ended in a partial transfer too and whose entries cannot be dry-run apart
 * (the full pass, the deletion pass). rsync prints each failing path once per line, quoted, escaped as {@code \#ooo},
 * with a {@code [sender]}/{@code [receiver]}/{@code [generator]} prefix since 3.2.0:
 * <pre>
 * rsync: [sender] opendir "/srv/root/dir" failed: Permission denied (13)
 * rsync: [generator] recv_generator: failed to stat "/share/dir/f" (in nas): Permission denied (13)
 * rsync: [receiver] mkstemp "/mnt/copy/dir/.f.AbC123" failed: Permission denied (13)
 * </pre>
 * A local name is absolute (below the root at the sender, the destination at the receiver); a daemon's is below its
 * module, which {@code (in MODULE)} names. A name under none of these, or any other line than such a per-path one and
 * rsync's closing summary, means the lines cannot say what failed.
 */
final class RsyncErrorLines {

    /** One message about one path, ending in the system's error text and number. */
    private static final Pattern PER_PATH = Pattern.compile(
            "^rsync: (?:\\[(?:sender|receiver|generator)\\] )?([^\"]*)\"(.*)\"(?: \\(in ([^)]+)\\))?[^\"]*\\(\\d+\\)$");
    /** The last line of every exit 23. */
    private static final Pattern SUMMARY = Pattern.compile(
            "^rsync error: some files/attrs were not transferred \\(see previous errors\\) \\(code 23\\).*");
    /**
     * A file that changed or vanished while rsync read it, or the closing line of such a run: the file is pending
     * again (its change is a newer record, its deletion a DELETE), not failing.
     */
    private static final Pattern CHANGING = Pattern.compile("^(?:rsync: )?(?:\\[(?:sender|receiver|generator)\\] )?"
            + "(?:file has vanished: .*|(?:WARNING|ERROR): .* failed verification -- update (?:discarded|retained).*"
            + "|rsync warning: some files vanished before they could be transferred \\(code 24\\).*)$");
    /** The temporary name the receiver gives a file while writing it: {@code .name.XXXXXX}. */
    private static final Pattern TEMPORARY = Pattern.compile("^\\.(.+)\\.[A-Za-z0-9]{6}$", Pattern.DOTALL);

    private final Path root;
    private final List<byte[]> localPrefixes;
    private final Optional<String> module;
    private final byte[] modulePrefix;

    /**
     * @param root  the route's root
     * @param dest  the route's destination: a local path, {@code host:path}, {@code host::module/path} or
     *              {@code rsync://host[:port]/module/path}
     */
    RsyncErrorLines(Path root, String dest) {
        this.root = root;
        List<byte[]> prefixes = new ArrayList<>();
        // The sender prints the root as given or as the kernel resolves it.
        addDirectory(prefixes, root.toString());
        String modulePath = null;
        String moduleName = null;
        if (dest.startsWith("/")) {
            addDirectory(prefixes, dest);
        } else {
            String rest = null;
            if (dest.startsWith("rsync://")) {
                String afterHost = dest.substring("rsync://".length());
                rest = afterHost.substring(afterHost.indexOf('/') + 1);
            } else if (dest.indexOf("::") > 0) {
                rest = dest.substring(dest.indexOf("::") + 2);
            }
            if (rest != null) {
                int slash = rest.indexOf('/');
                moduleName = slash < 0 ? rest : rest.substring(0, slash);
                modulePath = slash < 0 ? "" : rest.substring(slash + 1);
            }
        }
        this.localPrefixes = prefixes;
        this.module = Optional.ofNullable(moduleName);
        this.modulePrefix = modulePath == null ? null : directory(modulePath);
    }

    /**
     * Adds the paths {@link #failedPaths} finds to {@code failed}: a directory of the root as a subtree, a path the
     * root no longer holds as a deletion.
     *
     * @return false when nothing is known, and nothing was added
     */
    boolean addFailedPaths(List<List<String>> runs, FailedPaths failed) {
        Optional<List<byte[]>> named = failedPaths(runs);
        for (byte[] path : named.orElse(List.of())) {
            Path source = PathBytes.resolve(root, path);
            failed.failedEntry(path, Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS) ? Kind.SUBTREE
                    : Files.exists(source, LinkOption.NOFOLLOW_LINKS) ? Kind.FILE : Kind.DELETION);
        }
        return named.isPresent();
    }

    /**
     * @param runs the error lines of each run, as {@link RsyncRunner} keeps them (escaped by {@link ByteStrings}): a failed pass and its failure check
     * @return the paths the lines name, relative to the root (the root itself empty), each once, in the order named;
     *         empty when a line names no path or a path this route cannot place, when a run printed more lines than
     *         were kept, or when no line names a path: nothing is known then
     */
    Optional<List<byte[]>> failedPaths(List<List<String>> runs) {
        Set<String> seen = new LinkedHashSet<>();
        List<byte[]> paths = new ArrayList<>();
        for (List<String> errors : runs) {
            if (errors.size() >= RsyncRunner.ERROR_LIMIT) {
                // The lines not kept may name no path.
                return Optional.empty();
            }
            for (String line : errors) {
                if (SUMMARY.matcher(line).matches()) {
                    continue;
                }
                Matcher matcher = PER_PATH.matcher(line);
                if (!matcher.matches()) {
                    return Optional.empty();
                }
                byte[] name = FailedPaths.unescape(ByteStrings.unescape(matcher.group(2)), 0);
                Optional<byte[]> path = relative(name, Optional.ofNullable(matcher.group(3)));
                if (path.isEmpty()) {
                    return Optional.empty();
                }
                byte[] relative = matcher.group(1).startsWith("mkstemp") ? withoutTemporaryName(path.get()) : path.get();
                if (seen.add(new String(relative, StandardCharsets.ISO_8859_1))) {
                    paths.add(relative);
                }
            }
        }
        return paths.isEmpty() ? Optional.empty() : Optional.of(paths);
    }

    /**
     * Whether each of {@code errors} (escaped, as {@link RsyncRunner} keeps them) says only that a file changed or
     * vanished while rsync read it, or closes such a run: nothing failed that a newer record does not send again.
     */
    static boolean onlyChangingFiles(List<String> errors) {
        return errors.size() < RsyncRunner.ERROR_LIMIT && errors.stream()
                .allMatch(line -> changingFile(line) || SUMMARY.matcher(line).matches());
    }

    /** Whether {@code line} of rsync's stderr says that a file vanished before rsync could read it. */
    static boolean vanishedFile(String line) {
        return changingFile(line) && line.contains("file has vanished: ");
    }

    /** Whether {@code line} of rsync's stderr says that a file changed or vanished while rsync read it. */
    static boolean changingFile(String line) {
        return CHANGING.matcher(line).matches();
    }

    private Optional<byte[]> relative(byte[] name, Optional<String> inModule) {
        if (inModule.isPresent()) {
            if (!inModule.equals(module) || modulePrefix == null) {
                return Optional.empty();
            }
            // Without chroot the daemon prints the name below the module with a leading slash.
            byte[] inside = name.length > 0 && name[0] == '/' ? Arrays.copyOfRange(name, 1, name.length) : name;
            return below(inside, modulePrefix);
        }
        for (byte[] prefix : localPrefixes) {
            Optional<byte[]> path = below(name, prefix);
            if (path.isPresent()) {
                return path;
            }
        }
        return Optional.empty();
    }

    /** {@code name} below {@code prefix} (a directory ending in a slash, or empty), without a trailing slash. */
    private static Optional<byte[]> below(byte[] name, byte[] prefix) {
        int end = name.length > 0 && name[name.length - 1] == '/' ? name.length - 1 : name.length;
        if (end == prefix.length - 1 && Arrays.equals(name, 0, end, prefix, 0, end)) {
            return Optional.of(new byte[0]);
        }
        if (end < prefix.length || !Arrays.equals(name, 0, prefix.length, prefix, 0, prefix.length)) {
            return Optional.empty();
        }
        byte[] path = Arrays.copyOfRange(name, prefix.length, end);
        return path.length == 1 && path[0] == '.' ? Optional.of(new byte[0]) : Optional.of(path);
    }

    private static byte[] withoutTemporaryName(byte[] path) {
        int slash = lastSlash(path);
        String base = new String(path, slash + 1, path.length - slash - 1, StandardCharsets.ISO_8859_1);
        Matcher temporary = TEMPORARY.matcher(base);
        if (!temporary.matches()) {
            return path;
        }
        byte[] name = temporary.group(1).getBytes(StandardCharsets.ISO_8859_1);
        byte[] original = Arrays.copyOf(path, slash + 1 + name.length);
        System.arraycopy(name, 0, original, slash + 1, name.length);
        return original;
    }

    private static int lastSlash(byte[] path) {
        for (int i = path.length - 1; i >= 0; i--) {
            if (path[i] == '/') {
                return i;
            }
        }
        return -1;
    }

    /** {@code directory} as given and, if the kernel resolves it to another name, as resolved. */
    private static void addDirectory(List<byte[]> prefixes, String directory) {
        prefixes.add(directory(directory));
        try {
            String resolved = Path.of(directory).toRealPath().toString();
            if (!resolved.equals(directory)) {
                prefixes.add(directory(resolved));
            }
        } catch (IOException | RuntimeException unresolvable) {
            // The name as configured is the only one rsync can print then.
        }
    }

    /** A directory's name as a prefix: ending in exactly one slash; the top of a module empty. */
    private static byte[] directory(String name) {
        if (name.isEmpty() || name.equals("/")) {
            return name.isEmpty() ? new byte[0] : new byte[] {'/'};
        }
        String trimmed = name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
        return (trimmed + "/").getBytes(StandardCharsets.UTF_8);
    }
}
