package org.changeq.tracker;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class QuickModeExcludesTest {

    private static boolean excluded(List<String> patterns, String path, boolean directory) {
        return new QuickModeExcludes(patterns).matchesSelfOrAncestor(path.getBytes(UTF_8), directory);
    }

    @Test
    void aNameWithoutSlashMatchesAtAnyDepth() {
        assertTrue(excluded(List.of("*.tmp"), "a/b/x.tmp", false));
        assertTrue(excluded(List.of("cache"), "a/cache/f", false));
        assertFalse(excluded(List.of("*.tmp"), "a/b/x.tmpl", false));
    }

    @Test
    void aTrailingSlashMatchesDirectoriesOnly() {
        assertTrue(excluded(List.of("cache/"), "cache", true));
        assertFalse(excluded(List.of("cache/"), "cache", false));
        assertTrue(excluded(List.of("cache/"), "x/cache/f", false));
    }

    @Test
    void aLeadingSlashAnchorsAtTheRoot() {
        assertTrue(excluded(List.of("/top/"), "top/f", false));
        assertFalse(excluded(List.of("/top/"), "a/top/f", false));
        assertTrue(excluded(List.of("/a/*/c"), "a/b/c", false));
        assertFalse(excluded(List.of("/a/*/c"), "a/b/x/c", false));
        assertTrue(excluded(List.of("/a/**/c"), "a/b/x/c", false));
    }

    @Test
    void anInnerSlashMatchesAtANameBoundary() {
        assertTrue(excluded(List.of("b/c"), "a/b/c", false));
        assertFalse(excluded(List.of("b/c"), "a/xb/c", false));
    }
}
