package org.changeq.pipeline.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Expected results were checked against rsync 3.2.7 ({@code rsync -r --exclude=PATTERN}) on a tree
 * holding every path used here.
 */
class RsyncPatternsTest {

    private static final boolean DIR = true;
    private static final boolean FILE = false;

    private static byte[] bytes(String path) {
        return path.getBytes(StandardCharsets.UTF_8);
    }

    private static boolean matches(String pattern, String path, boolean directory) {
        return PathFilter.of(List.of(pattern)).matches(bytes(path), directory);
    }

    private static boolean excluded(String pattern, String path, boolean directory) {
        return PathFilter.of(List.of(pattern)).matchesSelfOrAncestor(bytes(path), directory);
    }

    @ParameterizedTest(name = "{0} matches {1} ({2}): {3}")
    @CsvSource(delimiter = '|', textBlock = """
            a            | a            | f | true
            a            | x/a          | f | true
            a            | x/ab         | f | false
            a            | xa           | f | false
            /a           | a            | f | true
            /a           | x/a          | f | false
            a/           | a            | d | true
            a/           | a            | f | false
            a/           | x/a          | d | true
            /a/          | x/a          | d | false
            a/b          | a/b          | f | true
            a/b          | x/a/b        | f | true
            a/b          | xa/b         | f | false
            a/b          | a/b/c        | f | false
            /a/b         | x/a/b        | f | false
            *            | anything     | f | true
            *            | a/b          | f | true
            /*           | a            | f | true
            /*           | a/b          | f | false
            /*/          | a            | d | true
            /*/          | a            | f | false
            a*           | abc          | f | true
            a*           | x/abc        | f | true
            a*           | xabc         | f | false
            ?            | a            | f | true
            ?            | ab           | f | false
            a?b          | a.b          | f | true
            a?b          | a/b          | f | false
            *.txt        | x/y/f.txt    | f | true
            *.txt        | f.txt.gz     | f | false
            /x/*.txt     | x/f.txt      | f | true
            /x/*.txt     | x/a/f.txt    | f | false
            x/*          | x/f          | f | true
            x/*          | q/x/f        | f | true
            x/*          | x/a/f        | f | false
            x/**         | x/a/f        | f | true
            x/**         | q/x/a/f      | f | true
            x/**         | x            | d | false
            /x/**        | q/x/a        | f | false
            x/***        | x            | d | true
            x/***        | x            | f | false
            x/***        | x/a/b        | f | true
            x/***        | q/x          | d | true
            /x/***       | q/x          | d | false
            **/b         | b            | f | true
            **/b         | a/x/b        | f | true
            **/b         | ab           | f | false
            **b          | ab           | f | true
            /**/b        | b            | f | false
            /**/b        | a/b          | f | true
            a/**/b       | a/b          | f | false
            a/**/b       | a/x/y/b      | f | true
            a/**/b       | q/a/x/b      | f | true
            **           | a/b/c        | f | true
            [ab]         | a            | f | true
            [ab]         | c            | f | false
            [!a]         | b            | f | true
            [!a]         | a            | f | false
            [^a]         | b            | f | true
            [^a]         | a            | f | false
            c[0-9]       | c7           | f | true
            c[0-9]       | cx           | f | false
            c[!0-9]      | cx           | f | true
            [[:alpha:]]* | x1           | f | true
            [[:alpha:]]* | 1x           | f | false
            []x]         | ]            | f | true
            [!]]*        | ]a           | f | false
            [a-]*        | -q           | f | true
            /a[/]b       | a/b          | f | false
            /a[!x]b      | a/b          | f | false
            \\[x]        | [x]          | f | true
            \\*          | *            | f | true
            \\*          | a            | f | false
            */*/f        | x/a/f        | f | true
            */*/f        | q/x/a/f      | f | true
            */*/f        | a/f          | f | false
            a/*/c        | q/a/b/c      | f | true
            /a/*/c       | q/a/b/c      | f | false
            """)
    void matchesLikeRsync(String pattern, String path, char kind, boolean expected) {
        assertEquals(expected, matches(pattern, path, kind == 'd'));
    }

    @Test
    void theRootItselfNeverMatches() {
        assertFalse(excluded("*", "", DIR));
        assertFalse(excluded("**", "", DIR));
    }

    @Test
    void ancestorsAreMatchedAsDirectories() {
        assertTrue(excluded("/immich/", "immich/library/2024/photo.jpg", FILE));
        assertTrue(excluded("/immich/", "immich", DIR));
        assertFalse(excluded("/immich/", "immich", FILE), "a file named like a directory-only pattern stays");
        assertFalse(excluded("/immich/", "nested/immich/f", FILE), "anchored: only at the root");
        assertFalse(excluded("/immich/", "immich2/f", FILE));
        assertTrue(excluded("temp/", "a/b/temp/c/d", FILE));
        assertFalse(excluded("temp/", "a/b/temp", FILE));
        assertTrue(excluded("a/b", "x/a/b/c", FILE), "an inner-slash pattern matches an ancestor tail");
        assertFalse(excluded("a/b", "x/a/bc/d", FILE));
    }

    @Test
    void matchesSelfOnlyIgnoresAncestors() {
        PathFilter filter = PathFilter.of(List.of("/immich/"));
        assertFalse(filter.matches(bytes("immich/f"), FILE));
        assertTrue(filter.matchesSelfOrAncestor(bytes("immich/f"), FILE));
    }

    @Test
    void theBypassListFromTheExampleConfig() {
        PathFilter bypass = PathFilter.of(List.of("/immich/", "/frigate/", "/prometheus/", "/loki/", "/ollama/",
                "/llamacpp/", "/audiblez/", "/ebook2audiobook/", "/*-backup/", "/temp/", "/alertmanager/"));
        assertTrue(bypass.matchesSelfOrAncestor(bytes("immich/upload/x.jpg"), FILE));
        assertTrue(bypass.matchesSelfOrAncestor(bytes("frigate"), DIR));
        assertTrue(bypass.matchesSelfOrAncestor(bytes("pg-backup/dump.sql"), FILE));
        assertTrue(bypass.matchesSelfOrAncestor(bytes("-backup/x"), FILE), "* may match nothing");
        assertTrue(bypass.matchesSelfOrAncestor(bytes("temp/a/b/c"), FILE));
        assertFalse(bypass.matchesSelfOrAncestor(bytes("pg-backup"), FILE), "directory-only");
        assertFalse(bypass.matchesSelfOrAncestor(bytes("media/pg-backup/x"), FILE), "anchored");
        assertFalse(bypass.matchesSelfOrAncestor(bytes("media/temp/x"), FILE), "anchored");
        assertFalse(bypass.matchesSelfOrAncestor(bytes("pg-backups/x"), FILE));
        assertFalse(bypass.matchesSelfOrAncestor(bytes("documents/taxes.pdf"), FILE));
        assertFalse(bypass.matchesSelfOrAncestor(bytes("immich.txt"), FILE));
        assertFalse(bypass.matchesSelfOrAncestor(bytes(""), DIR));
    }

    @Test
    void namesWithNewlinesAndInvalidUtf8AreMatchedAsBytes() {
        byte[] newline = bytes("media/new\nline/f");
        assertTrue(excluded("new?line", "media/new\nline/f", FILE));
        assertTrue(excluded("new*", "media/new\nline/f", FILE));
        assertTrue(excluded("/media/new\nline/", "media/new\nline/f", FILE));
        assertFalse(PathFilter.of(List.of("new")).matchesSelfOrAncestor(newline, FILE));

        byte[] invalid = {'b', 'a', 'd', (byte) 0xff, 'n', 'a', 'm', 'e', '/', 'f'};
        assertTrue(PathFilter.of(List.of("bad?name")).matchesSelfOrAncestor(invalid, FILE));
        assertTrue(PathFilter.of(List.of("bad*")).matchesSelfOrAncestor(invalid, FILE));
        assertTrue(PathFilter.of(List.of("bad[!a-z]name/")).matchesSelfOrAncestor(invalid, FILE));
        assertTrue(PathFilter.of(List.of("/*/f")).matches(invalid, FILE));
        assertFalse(PathFilter.of(List.of("bad??name")).matchesSelfOrAncestor(invalid, FILE));
    }

    @Test
    void questionMarkAndClassesStandForOneByteNotOneCharacter() {
        assertFalse(matches("caf?", "café", FILE), "é is two bytes in UTF-8");
        assertTrue(matches("caf??", "café", FILE));
        assertTrue(matches("café", "café", FILE), "non-ASCII patterns compile to their UTF-8 bytes");
    }

    @Test
    void starStaysWithinOneNameAndStarStarCrosses() {
        assertFalse(matches("/a*z", "ab/cz", FILE));
        assertTrue(matches("/a**z", "ab/cz", FILE));
        assertTrue(matches("/a**", "ab/c/d", FILE));
        assertFalse(matches("/a*", "ab/c", FILE));
    }

    @Test
    void backslashIsLiteralWithoutWildcardsAndAnEscapeWithThem() {
        assertTrue(matches("a\\b", "a\\b", FILE));
        assertTrue(matches("a\\\\b*", "a\\bc", FILE));
        assertFalse(matches("a\\b*", "a\\bc", FILE));
        assertTrue(matches("a\\b*", "abc", FILE));
    }

    @Test
    void anyPatternOfAListMatches() {
        PathFilter filter = PathFilter.of(List.of("*.tmp", "/cache/", "**/node_modules"));
        assertTrue(filter.matchesSelfOrAncestor(bytes("a/b.tmp"), FILE));
        assertTrue(filter.matchesSelfOrAncestor(bytes("cache/x"), FILE));
        assertTrue(filter.matchesSelfOrAncestor(bytes("web/app/node_modules/x/y"), FILE));
        assertFalse(filter.matchesSelfOrAncestor(bytes("web/app/src/x"), FILE));
        assertEquals(List.of("*.tmp", "/cache/", "**/node_modules"), filter.patterns());
        assertFalse(filter.isEmpty());
    }

    @Test
    void anEmptyListMatchesNothing() {
        PathFilter none = PathFilter.of(List.of());
        assertTrue(none.isEmpty());
        assertFalse(none.matchesSelfOrAncestor(bytes("a/b"), FILE));
        assertFalse(none.matches(bytes("a"), DIR));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', textBlock = """
            ''          | is empty
            /           | names only the root
            //          | names only the root
            a[bc        | class at byte 2 is not closed
            /x/[!       | class at byte 4 is not closed
            [a-         | class at byte 1 is not closed
            *\\         | lone backslash
            [[:nope:]]  | unknown character class [:nope:]
            """)
    void invalidPatternsAreRefusedWithTheirProblem(String pattern, String problem) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PathFilter.of(List.of("ok/", pattern)));
        assertTrue(e.getMessage().contains("'" + pattern + "'"), e.getMessage());
        assertTrue(e.getMessage().contains(problem), e.getMessage());
    }

    @Test
    void deepPathsAgainstManyPatternsStayFast() {
        List<String> patterns = new java.util.ArrayList<>();
        for (int i = 0; i < 50; i++) {
            patterns.add("/dir" + i + "/");
            patterns.add("*.ext" + i);
            patterns.add("**/deep" + i + "/*.x");
        }
        PathFilter filter = PathFilter.of(patterns);
        byte[] path = bytes("a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/file.txt");
        // A pathological backtracking matcher would take seconds here; rsync's pruning keeps it linear-ish.
        PathFilter stars = PathFilter.of(List.of("/*a*a*a*a*a*a*a*a*b"));
        byte[] aaaa = bytes("a".repeat(200));
        long deadline = System.nanoTime() + 5_000_000_000L;
        for (int i = 0; i < 2_000; i++) {
            assertFalse(filter.matchesSelfOrAncestor(path, FILE));
            assertFalse(stars.matches(aaaa, FILE));
            assertTrue(System.nanoTime() < deadline, "matching is too slow");
        }
    }

    @Test
    void aPathInALongerBufferIsMatchedUpToItsLength() {
        PathFilter filter = PathFilter.of(List.of("*.tmp", "/cache/"));
        assertTrue(filter.matchesSelfOrAncestor(bytes("a.tmpxyz"), 5, FILE));
        assertFalse(filter.matchesSelfOrAncestor(bytes("a.tm/x.tmp"), 4, FILE));
        assertTrue(filter.matchesSelfOrAncestor(bytes("cache/x"), 7, FILE));
        assertFalse(filter.matchesSelfOrAncestor(bytes("cache/x"), 5, FILE));
        assertTrue(filter.matchesSelfOrAncestor(bytes("cache/x"), 5, DIR));
    }
}
