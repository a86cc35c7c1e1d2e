package org.changeq.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.TestConfigs;
import org.junit.jupiter.api.Test;

class FilterRulesTest {

    private static List<String> rules(String routeYaml) {
        ChangeqConfig config = TestConfigs.config("/srv/nfs", "[/.cache/]", routeYaml);
        return FilterRules.of(config.route("r"), config.root("nfs"));
    }

    /** The root's excludes come first: the written one, then the built-in legacy state files. */
    private static List<String> withRootExcludes(String... rest) {
        List<String> all = new ArrayList<>();
        ChangeqConfig config = TestConfigs.config("/srv/nfs", "[/.cache/]", "{root: nfs, dest: /d}");
        config.root("nfs").excludes().patterns().forEach(p -> all.add("--filter=- " + p));
        all.addAll(List.of(rest));
        return all;
    }

    @Test
    void theRootsExcludesIncludeTheLegacyStateFiles() {
        List<String> root = withRootExcludes();
        assertEquals("--filter=- /.cache/", root.get(0));
        assertEquals(true, root.contains("--filter=- /.force-full-sync"), root.toString());
    }

    @Test
    void excludeOnlyRoutesPassTheRootsAndTheirOwnExcludes() {
        assertEquals(withRootExcludes("--filter=- /immich/", "--filter=- *-backup"),
                rules("{root: nfs, dest: /d, exclude: [/immich/, \"*-backup\"]}"));
    }

    @Test
    void anchoredIncludesNameTheirParentsAndEverythingBelow() {
        assertEquals(withRootExcludes("--filter=- *.tmp",
                "--filter=+ /media/", "--filter=+ /media/photos/",
                "--filter=+ /immich/", "--filter=+ /immich/**",
                "--filter=+ /media/photos/raw/", "--filter=+ /media/photos/raw/**",
                "--filter=+ /media/x", "--filter=+ /media/x/**",
                "--filter=- *"),
                rules("{root: nfs, dest: /d, include: [/immich/, /media/photos/raw/, /media/x], exclude: [\"*.tmp\"]}"));
    }

    @Test
    void unanchoredIncludesWalkEveryDirectoryAndPruneTheEmptyOnes() {
        assertEquals(withRootExcludes("--filter=+ */",
                "--filter=+ *.jpg", "--filter=+ *.jpg/**", "--filter=+ /docs/", "--filter=+ /docs/**",
                "--filter=- *", "--prune-empty-dirs"),
                rules("{root: nfs, dest: /d, include: [\"*.jpg\", /docs/]}"));
    }

    @Test
    void parentsOfAnAnchoredPattern() {
        assertEquals(List.of("/a/", "/a/b/"), FilterRules.parentsOf("/a/b/c/"));
        assertEquals(List.of(), FilterRules.parentsOf("/a"));
    }
}
