package org.changeq.pipeline.config;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * rsync's filter-rule matching (rsync 3.x {@code exclude.c} rule_matches and {@code wildmatch.c}),
 * compiled once to bytes so that matching a path allocates nothing. Immutable and thread-safe.
 *
 * <p>Each pattern becomes one {@link Rule} carrying the flags rsync derives when it parses a rule:
 * directory-only (trailing {@code /}), anchored (leading {@code /}), wild ({@code * ? [}), "**"
 * anywhere, "**" at the start, "***" at the end, and the slash count. Matching then follows
 * rsync's own dispatch, including its two virtual slashes: one before the path for a leading
 * {@code **}, one after a directory for a trailing {@code /***}.
 */
final class RsyncPatterns implements PathFilter {

    static final RsyncPatterns EMPTY = new RsyncPatterns(List.of(), new Rule[0]);

    private final List<String> patterns;
    private final Rule[] rules;

    private RsyncPatterns(List<String> patterns, Rule[] rules) {
        this.patterns = patterns;
        this.rules = rules;
    }

    /** @throws IllegalArgumentException naming the first invalid pattern and what is wrong with it */
    static RsyncPatterns compile(List<String> patterns) {
        List<String> copy = List.copyOf(patterns);
        if (copy.isEmpty()) {
            return EMPTY;
        }
        Rule[] rules = new Rule[copy.size()];
        for (int i = 0; i < rules.length; i++) {
            rules[i] = Rule.compile(copy.get(i));
        }
        return new RsyncPatterns(copy, rules);
    }

    @Override
    public List<String> patterns() {
        return patterns;
    }

    @Override
    public boolean isEmpty() {
        return rules.length == 0;
    }

    @Override
    public boolean matches(byte[] relativePath, boolean directory) {
        int depth = 1;
        int nameStart = 0;
        for (int i = 0; i < relativePath.length; i++) {
            if (relativePath[i] == '/') {
                depth++;
                nameStart = i + 1;
            }
        }
        return anyRuleMatches(relativePath, nameStart, relativePath.length, depth, directory);
    }

    @Override
    public boolean matchesSelfOrAncestor(byte[] relativePath, int length, boolean directory) {
        if (rules.length == 0) {
            return false;
        }
        int depth = 1;
        int nameStart = 0;
        for (int i = 0; i < length; i++) {
            if (relativePath[i] == '/') {
                if (anyRuleMatches(relativePath, nameStart, i, depth, true)) {
                    return true;
                }
                depth++;
                nameStart = i + 1;
            }
        }
        return anyRuleMatches(relativePath, nameStart, length, depth, directory);
    }

    private boolean anyRuleMatches(byte[] path, int nameStart, int end, int depth, boolean directory) {
        if (end == 0) {
            return false; // the root itself: rsync never matches an empty name
        }
        for (Rule rule : rules) {
            if (rule.matches(path, nameStart, end, depth, directory)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "PathFilter" + patterns;
    }

    /** One compiled pattern. */
    static final class Rule {
        // Token values: 0..255 a literal byte, then these, then CLASS + index into classes.
        private static final int ANY = 256;
        private static final int STAR = 257;
        private static final int STAR_STAR = 258;
        private static final int CLASS = 512;

        private static final int FALSE = 0;
        private static final int TRUE = 1;
        private static final int ABORT_ALL = -1;
        private static final int ABORT_TO_STAR_STAR = -2;

        // The virtual slashes rsync puts around the text: before it for a leading "**", after a directory for "/***".
        private static final int LEADING_SLASH = 1;
        private static final int TRAILING_SLASH = 2;

        private final boolean directoryOnly;
        private final boolean anchored;
        private final boolean wild;
        private final boolean leadingStarStar;
        private final boolean trailingTripleStar;
        private final boolean nameOnly;
        /** rsync's slash_handling: 0 from the start, -1 after any slash, N the last N names. */
        private final int slashHandling;
        /** The path depth an anchored pattern without "**" can match, or -1. */
        private final int fixedDepth;
        /** The pattern body (no leading or trailing slash) for literal matching. */
        private final byte[] literal;
        private final int[] tokens;
        private final long[][] classes;
        /** Index of the literal bytes every match must end with: a cheap test before backtracking. */
        private final int literalTailStart;

        private Rule(boolean directoryOnly, boolean anchored, boolean wild, boolean leadingStarStar,
                boolean trailingTripleStar, int slashCount, boolean starStar, byte[] literal,
                int[] tokens, long[][] classes) {
            this.directoryOnly = directoryOnly;
            this.anchored = anchored;
            this.wild = wild;
            this.leadingStarStar = leadingStarStar;
            this.trailingTripleStar = trailingTripleStar;
            this.nameOnly = slashCount == 0 && !starStar;
            if (!anchored && slashCount > 0 && !starStar) {
                slashHandling = slashCount + 1;
            } else if (!anchored && !leadingStarStar && starStar) {
                slashHandling = -1;
            } else {
                slashHandling = 0;
            }
            this.fixedDepth = anchored && !starStar ? slashCount : -1;
            this.literal = literal;
            this.tokens = tokens;
            this.classes = classes;
            int tail = tokens == null ? 0 : tokens.length;
            while (tail > 0 && tokens[tail - 1] < ANY) {
                tail--;
            }
            this.literalTailStart = tail;
        }

        static Rule compile(String pattern) {
            if (pattern.isEmpty()) {
                throw invalid(pattern, "is empty");
            }
            byte[] raw = pattern.getBytes(StandardCharsets.UTF_8);
            int end = raw.length;
            boolean directoryOnly = false;
            if (end > 1 && raw[end - 1] == '/') {
                end--;
                directoryOnly = true;
            }
            int slashCount = 0;
            for (int i = 0; i < end; i++) {
                if (raw[i] == '/') {
                    slashCount++;
                }
            }
            boolean anchored = raw[0] == '/';
            int start = anchored ? 1 : 0;
            if (start >= end) {
                throw invalid(pattern, "names only the root, which is never filtered");
            }
            boolean wild = false;
            boolean starStar = false;
            for (int i = 0; i < end; i++) {
                byte b = raw[i];
                wild |= b == '*' || b == '?' || b == '[';
                starStar |= b == '*' && i + 1 < end && raw[i + 1] == '*';
            }
            starStar &= wild;
            boolean leadingStarStar = starStar && end >= 2 && raw[0] == '*' && raw[1] == '*';
            boolean trailingTripleStar = starStar && end >= 3
                    && raw[end - 3] == '*' && raw[end - 2] == '*' && raw[end - 1] == '*';
            byte[] literal = Arrays.copyOfRange(raw, start, end);
            int[] tokens = null;
            long[][] classes = null;
            if (wild) {
                Tokenizer tokenizer = new Tokenizer(pattern, literal, start);
                tokenizer.run();
                tokens = tokenizer.tokens();
                classes = tokenizer.classes();
            }
            return new Rule(directoryOnly, anchored, wild, leadingStarStar, trailingTripleStar,
                    slashCount, starStar, literal, tokens, classes);
        }

        static IllegalArgumentException invalid(String pattern, String problem) {
            return new IllegalArgumentException("invalid pattern '" + pattern + "': " + problem);
        }

        /**
         * Whether the rule matches {@code path[0, end)}, whose last name starts at {@code nameStart}
         * and which has {@code depth} names.
         */
        boolean matches(byte[] path, int nameStart, int end, int depth, boolean directory) {
            if (directoryOnly && !directory) {
                return false;
            }
            if (fixedDepth >= 0 && depth != fixedDepth) {
                return false;
            }
            if (!wild) {
                if (anchored) {
                    return end == literal.length && regionEquals(path, 0, literal);
                }
                int from = end - literal.length;
                return from >= 0 && regionEquals(path, from, literal) && (from == 0 || path[from - 1] == '/');
            }
            int from = nameOnly ? nameStart : 0;
            if (slashHandling > 0) {
                from = startOfLastNames(path, end, slashHandling);
                if (from < 0) {
                    return false;
                }
            }
            int flags = (leadingStarStar ? LEADING_SLASH : 0) | (directory && trailingTripleStar ? TRAILING_SLASH : 0);
            int base = from - ((flags & LEADING_SLASH) != 0 ? 1 : 0);
            int length = end - from + Integer.bitCount(flags);
            for (int j = tokens.length - 1, k = length - 1; j >= literalTailStart; j--, k--) {
                if (k < 0 || at(path, base, length, flags, k) != tokens[j]) {
                    return false;
                }
            }
            int matched = match(0, path, base, length, flags, 0);
            if (matched != TRUE && slashHandling < 0 && matched != ABORT_ALL) {
                for (int k = 0; k < length; k++) {
                    if (at(path, base, length, flags, k) == '/') {
                        matched = match(0, path, base, length, flags, k + 1);
                        if (matched != FALSE && matched != ABORT_TO_STAR_STAR) {
                            break;
                        }
                    }
                }
            }
            return matched == TRUE;
        }

        /** The text rsync matches: the path slice, with the virtual slashes the flags ask for. */
        private static int at(byte[] path, int base, int length, int flags, int k) {
            if (k == 0 && (flags & LEADING_SLASH) != 0) {
                return '/';
            }
            if (k == length - 1 && (flags & TRAILING_SLASH) != 0) {
                return '/';
            }
            return path[base + k] & 0xff;
        }

        /** Start of the last {@code names} names of {@code path[0, end)}, or -1 if it has fewer. */
        private static int startOfLastNames(byte[] path, int end, int names) {
            int remaining = names;
            for (int i = end - 1; i >= 0; i--) {
                if (path[i] == '/' && --remaining == 0) {
                    return i + 1;
                }
            }
            return remaining == 1 ? 0 : -1;
        }

        private static boolean regionEquals(byte[] path, int from, byte[] expected) {
            for (int i = 0; i < expected.length; i++) {
                if (path[from + i] != expected[i]) {
                    return false;
                }
            }
            return true;
        }

        /** rsync's dowild over tokens; the ABORT results prune the backtracking exactly as rsync does. */
        private int match(int ti, byte[] path, int base, int length, int flags, int k) {
            for (; ti < tokens.length; ti++, k++) {
                int token = tokens[ti];
                if (k >= length && token != STAR && token != STAR_STAR) {
                    return ABORT_ALL;
                }
                if (token < ANY) {
                    if (at(path, base, length, flags, k) != token) {
                        return FALSE;
                    }
                } else if (token == ANY) {
                    if (at(path, base, length, flags, k) == '/') {
                        return FALSE;
                    }
                } else if (token >= CLASS) {
                    int c = at(path, base, length, flags, k);
                    if ((classes[token - CLASS][c >>> 6] & (1L << c)) == 0) {
                        return FALSE;
                    }
                } else {
                    boolean crossesSlash = token == STAR_STAR;
                    ti++;
                    if (ti == tokens.length) {
                        if (!crossesSlash) {
                            for (int j = k; j < length; j++) {
                                if (at(path, base, length, flags, j) == '/') {
                                    return FALSE;
                                }
                            }
                        }
                        return TRUE;
                    }
                    for (; k < length; k++) {
                        int matched = match(ti, path, base, length, flags, k);
                        if (matched != FALSE) {
                            if (!crossesSlash || matched != ABORT_TO_STAR_STAR) {
                                return matched;
                            }
                        } else if (!crossesSlash && at(path, base, length, flags, k) == '/') {
                            return ABORT_TO_STAR_STAR;
                        }
                    }
                    return ABORT_ALL;
                }
            }
            return k >= length ? TRUE : FALSE;
        }

        /** Turns a wild pattern body into tokens, parsing classes the way rsync's wildmatch does. */
        private static final class Tokenizer {
            private final String source;
            private final byte[] p;
            /** Where the body starts in the pattern as written, for messages. */
            private final int offset;
            private final int[] out;
            private int count;
            private final ArrayList<long[]> classes = new ArrayList<>();

            Tokenizer(String source, byte[] body, int offset) {
                this.source = source;
                this.p = body;
                this.offset = offset;
                this.out = new int[body.length];
            }

            int[] tokens() {
                return Arrays.copyOf(out, count);
            }

            long[][] classes() {
                return classes.toArray(new long[0][]);
            }

            void run() {
                int i = 0;
                while (i < p.length) {
                    int c = p[i] & 0xff;
                    if (c == '\\') {
                        if (i + 1 >= p.length) {
                            throw invalid(source, "ends with a lone backslash (write \\\\ for a backslash)");
                        }
                        out[count++] = p[i + 1] & 0xff;
                        i += 2;
                    } else if (c == '?') {
                        out[count++] = ANY;
                        i++;
                    } else if (c == '*') {
                        int stars = 0;
                        while (i < p.length && p[i] == '*') {
                            stars++;
                            i++;
                        }
                        out[count++] = stars == 1 ? STAR : STAR_STAR;
                    } else if (c == '[') {
                        i = parseClass(i);
                    } else {
                        out[count++] = c;
                        i++;
                    }
                }
            }

            /** Parses the class opening at {@code open}; returns the index after its closing ']'. */
            private int parseClass(int open) {
                long[] set = new long[4];
                int i = open + 1;
                int c = byteAt(i, open);
                if (c == '^') {
                    c = '!';
                }
                boolean negated = c == '!';
                if (negated) {
                    c = byteAt(++i, open);
                }
                int previous = 0;
                while (true) {
                    if (c == '\\') {
                        c = byteAt(++i, open);
                        add(set, c, c);
                    } else if (c == '-' && previous != 0 && i + 1 < p.length && p[i + 1] != ']') {
                        c = byteAt(++i, open);
                        if (c == '\\') {
                            c = byteAt(++i, open);
                        }
                        add(set, previous, c);
                        c = 0;
                    } else if (c == '[' && i + 1 < p.length && p[i + 1] == ':') {
                        int nameStart = i + 2;
                        int close = nameStart;
                        while (close < p.length && p[close] != ']') {
                            close++;
                        }
                        byteAt(close, open);
                        if (close - nameStart - 1 < 0 || p[close - 1] != ':') {
                            add(set, '[', '[');
                        } else {
                            String name = new String(p, nameStart, close - nameStart - 1, StandardCharsets.UTF_8);
                            addPosixClass(set, name);
                            i = close;
                            c = 0;
                        }
                    } else {
                        add(set, c, c);
                    }
                    previous = c;
                    c = byteAt(++i, open);
                    if (c == ']') {
                        break;
                    }
                }
                if (negated) {
                    for (int w = 0; w < set.length; w++) {
                        set[w] = ~set[w];
                    }
                }
                set['/' >>> 6] &= ~(1L << '/'); // a class never matches the separator
                classes.add(set);
                out[count++] = CLASS + classes.size() - 1;
                return i + 1;
            }

            private int byteAt(int index, int open) {
                if (index >= p.length) {
                    throw invalid(source, "the character class at byte " + (offset + open + 1) + " is not closed by ']'");
                }
                return p[index] & 0xff;
            }

            private static void add(long[] set, int from, int to) {
                for (int c = from; c <= to; c++) {
                    set[c >>> 6] |= 1L << c;
                }
            }

            /** The C locale's ctype classes, as rsync sees bytes. */
            private void addPosixClass(long[] set, String name) {
                for (int c = 0; c < 128; c++) {
                    boolean member;
                    boolean upper = c >= 'A' && c <= 'Z';
                    boolean lower = c >= 'a' && c <= 'z';
                    boolean digit = c >= '0' && c <= '9';
                    boolean graph = c > 32 && c < 127;
                    switch (name) {
                        case "alnum": member = upper || lower || digit; break;
                        case "alpha": member = upper || lower; break;
                        case "blank": member = c == ' ' || c == '\t'; break;
                        case "cntrl": member = c < 32 || c == 127; break;
                        case "digit": member = digit; break;
                        case "graph": member = graph; break;
                        case "lower": member = lower; break;
                        case "print": member = graph || c == ' '; break;
                        case "punct": member = graph && !(upper || lower || digit); break;
                        case "space": member = c == ' ' || (c >= '\t' && c <= '\r'); break;
                        case "upper": member = upper; break;
                        case "xdigit": member = digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); break;
                        default:
                            throw invalid(source, "unknown character class [:" + name + ":]"
                                    + " (known: alnum alpha blank cntrl digit graph lower print punct space upper xdigit)");
                    }
                    if (member) {
                        add(set, c, c);
                    }
                }
            }
        }
    }
}
