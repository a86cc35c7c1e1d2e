package org.changeq.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class FilterRulesTest {

    private final org.changeq.pipeline.config.RootConfig root = TestConfigs.root("nfs", Path.of("/srv/nfs"), "/.cache/");

    @Test
    void excludeOnlyRoutesPassTheRootsAndTheirOwnExcludes() {
        var route = TestConfigs.route("mirror", "nfs", "/mnt/backup", List.of(), List.of("/immich/", "*-backup"));
        assertEquals(List.of("--filter=- /.cache/", "--filter=- /immich/", "--filter=- *-backup"),
                FilterRules.of(route, root));
    }

    @Test
    void anchoredIncludesNameTheirParentsAndEverythingBelow() {
        var route = TestConfigs.route("offsite", "nfs", "nas::nfs", List.of("/immich/", "/media/photos/raw/", "/media/x"),
                List.of("*.tmp"));
        assertEquals(List.of("--filter=- /.cache/", "--filter=- *.tmp",
                "--filter=+ /media/", "--filter=+ /media/photos/",
                "--filter=+ /immich/", "--filter=+ /immich/**",
                "--filter=+ /media/photos/raw/", "--filter=+ /media/photos/raw/**",
                "--filter=+ /media/x", "--filter=+ /media/x/**",
                "--filter=- *"), FilterRules.of(route, root));
    }

    @Test
    void unanchoredIncludesWalkEveryDirectoryAndPruneTheEmptyOnes() {
        var route = TestConfigs.route("photos", "nfs", "nas::p", List.of("*.jpg", "/docs/"), List.of());
        assertEquals(List.of("--filter=- /.cache/", "--filter=+ */",
                "--filter=+ *.jpg", "--filter=+ *.jpg/**", "--filter=+ /docs/", "--filter=+ /docs/**",
                "--filter=- *", "--prune-empty-dirs"), FilterRules.of(route, root));
    }

    @Test
    void parentsOfAnAnchoredPattern() {
        assertEquals(List.of("/a/", "/a/b/"), FilterRules.parentsOf("/a/b/c/"));
        assertEquals(List.of(), FilterRules.parentsOf("/a"));
    }
}
