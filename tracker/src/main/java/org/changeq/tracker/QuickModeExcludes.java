package org.changeq.tracker;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.changeq.pipeline.config.PathFilter;

/**
 * The exclude patterns of quick mode ({@code --exclude}), matched over raw path bytes with rsync's rules for
 * {@code /} anchoring, a trailing {@code /} (directories only), {@code *}, {@code **} and {@code ?}; character
 * classes are not supported. Immutable and thread-safe.
 */
final class QuickModeExcludes implements PathFilter {

    private record Pattern(byte[] body, boolean anchored, boolean directoryOnly, boolean hasSlash) {
    }

    private final List<String> patterns;
    private final List<Pattern> compiled = new ArrayList<>();

    QuickModeExcludes(List<String> patterns) {
        this.patterns = List.copyOf(patterns);
        for (String pattern : patterns) {
            boolean anchored = pattern.startsWith("/");
            boolean directoryOnly = pattern.endsWith("/") && pattern.length() > 1;
            String body = pattern.substring(anchored ? 1 : 0, pattern.length() - (directoryOnly ? 1 : 0));
            compiled.add(new Pattern(body.getBytes(StandardCharsets.UTF_8), anchored, directoryOnly,
                    body.indexOf('/') >= 0));
        }
    }

    @Override
    public List<String> patterns() {
        return patterns;
    }

    @Override
    public boolean isEmpty() {
        return patterns.isEmpty();
    }

    @Override
    public boolean matches(byte[] relativePath, boolean directory) {
        return matches(relativePath, relativePath.length, directory);
    }

    @Override
    public boolean matchesSelfOrAncestor(byte[] relativePath, boolean directory) {
        if (compiled.isEmpty()) {
            return false;
        }
        for (int end = 0; end < relativePath.length; end++) {
            if (relativePath[end] == '/' && matches(relativePath, end, true)) {
                return true;
            }
        }
        return matches(relativePath, relativePath.length, directory);
    }

    private boolean matches(byte[] path, int length, boolean directory) {
        for (Pattern pattern : compiled) {
            if (pattern.directoryOnly && !directory) {
                continue;
            }
            if (pattern.anchored) {
                if (glob(pattern.body, 0, path, 0, length)) {
                    return true;
                }
                continue;
            }
            for (int start = length; start >= 0; start--) {
                boolean boundary = start == 0 || path[start - 1] == '/';
                if (boundary && glob(pattern.body, 0, path, start, length)) {
                    return true;
                }
                if (boundary && !pattern.hasSlash) {
                    break;
                }
            }
        }
        return false;
    }

    private static boolean glob(byte[] pattern, int p, byte[] text, int t, int end) {
        while (p < pattern.length) {
            byte c = pattern[p];
            if (c == '*') {
                boolean crossesSlash = p + 1 < pattern.length && pattern[p + 1] == '*';
                int next = p + (crossesSlash ? 2 : 1);
                for (int k = t; k <= end; k++) {
                    if (glob(pattern, next, text, k, end)) {
                        return true;
                    }
                    if (k < end && text[k] == '/' && !crossesSlash) {
                        return false;
                    }
                }
                return false;
            }
            if (t >= end || (c == '?' ? text[t] == '/' : text[t] != c)) {
                return false;
            }
            p++;
            t++;
        }
        return t == end;
    }
}
