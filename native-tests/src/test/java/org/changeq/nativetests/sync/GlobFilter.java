package org.changeq.nativetests.sync;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.changeq.pipeline.config.PathFilter;

/** A small rsync-pattern {@link PathFilter} for tests, matching bytes through ISO-8859-1 (one char per byte). */
record GlobFilter(List<String> patterns, List<Rule> rules) implements PathFilter {

    record Rule(Pattern regex, boolean directoryOnly, boolean lastComponentOnly) {
    }

    static GlobFilter of(String... patterns) {
        return of(List.of(patterns));
    }

    static GlobFilter of(List<String> patterns) {
        List<Rule> rules = new ArrayList<>();
        for (String pattern : patterns) {
            String p = pattern;
            boolean directoryOnly = p.endsWith("/") && p.length() > 1;
            if (directoryOnly) {
                p = p.substring(0, p.length() - 1);
            }
            boolean anchored = p.startsWith("/");
            if (anchored) {
                p = p.substring(1);
            }
            boolean wholePath = p.contains("/") || p.contains("**");
            String regex = toRegex(p);
            if (wholePath && !anchored) {
                regex = "(?:.*/)?" + regex;
            }
            rules.add(new Rule(Pattern.compile(regex, Pattern.DOTALL), directoryOnly, !wholePath && !anchored));
        }
        return new GlobFilter(List.copyOf(patterns), List.copyOf(rules));
    }

    private static String toRegex(String glob) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*' && i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                out.append(".*");
                i++;
                while (i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                    i++;
                }
            } else if (c == '*') {
                out.append("[^/]*");
            } else if (c == '?') {
                out.append("[^/]");
            } else if (c == '[') {
                int close = glob.indexOf(']', i + 2);
                out.append(glob, i, close + 1);
                i = close;
            } else {
                out.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return out.toString();
    }

    @Override
    public boolean isEmpty() {
        return patterns.isEmpty();
    }

    @Override
    public boolean matches(byte[] relativePath, boolean directory) {
        String path = new String(relativePath, StandardCharsets.ISO_8859_1);
        String name = path.substring(path.lastIndexOf('/') + 1);
        for (Rule rule : rules) {
            if (rule.directoryOnly && !directory) {
                continue;
            }
            if (rule.regex.matcher(rule.lastComponentOnly ? name : path).matches()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean matchesSelfOrAncestor(byte[] relativePath, boolean directory) {
        if (matches(relativePath, directory)) {
            return true;
        }
        for (int i = 0; i < relativePath.length; i++) {
            if (relativePath[i] == '/' && matches(java.util.Arrays.copyOf(relativePath, i), true)) {
                return true;
            }
        }
        return false;
    }
}
