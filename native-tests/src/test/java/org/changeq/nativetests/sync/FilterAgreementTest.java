package org.changeq.nativetests.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.sync.SyncReport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rsync filter rules of a full sync send exactly what {@code RouteConfig.sends} accepts: every
 * file, checked against a real tree. Directories may also arrive as parents of sent paths.
 */
class FilterAgreementTest {

    @TempDir
    Path tmp;

    record Case(String name, List<String> include, List<String> exclude) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<Case> cases() {
        return List.of(
                new Case("excludes only", List.of(), List.of("/immich/", "*-backup", "*.tmp", "cache/")),
                new Case("anchored includes", List.of("/immich/", "/media/photos/", "/top-file"), List.of("*.tmp")),
                new Case("unanchored includes", List.of("*.jpg", "cache/", "raw/*.nef"), List.of("/media/")),
                new Case("wildcards", List.of("/h?me/*/db-*/", "/docs/**/deep"), List.of()));
    }

    private static final List<String> TREE = List.of(
            "top-file", "docs/a.txt", "docs/x/y/deep", "docs/deep", "docs/x.tmp", "immich/library/p.jpg",
            "immich/cache/c.bin", "media/photos/x.jpg", "media/photos/raw/y.nef", "media/films/f.mkv",
            "db-backup/dump.sql", "home/user/db-backup/old.sql", "home/user/db-x/new.sql", "home/user/notes.jpg",
            "cache/keep", "src/cache/k2", "raw/a.nef", "raw/b.txt", "photos/raw/c.nef", "weird name [1]*.jpg");

    @ParameterizedTest
    @MethodSource("cases")
    void aFullSyncSendsExactlyWhatTheRouteAccepts(Case c) throws Exception {
        SyncBench bench = SyncBench.create(tmp.resolve("bench"));
        for (String path : TREE) {
            Trees.write(bench.root, path, path);
        }
        Files.createDirectories(bench.root.resolve("immich/empty-dir"));
        Path dest = tmp.resolve("dest");
        var config = bench.config(SyncBench.Route.of("r", dest.toString())
                .include(c.include().toArray(String[]::new)).exclude(c.exclude().toArray(String[]::new)));
        RouteConfig route = config.route("r");
        SyncReport report = bench.sync(config, "r");
        assertEquals(ExitCodes.OK, report.exitCode(), report.errors().toString());

        Set<String> expectedFiles = new TreeSet<>();
        Set<String> sentDirectories = new TreeSet<>();
        for (String entry : Trees.list(bench.root)) {
            String path = entry.substring(2);
            boolean directory = entry.charAt(0) == 'd';
            if (route.sends(path.getBytes(StandardCharsets.ISO_8859_1), directory)) {
                (directory ? sentDirectories : expectedFiles).add(path);
            }
        }
        Set<String> arrivedFiles = new TreeSet<>();
        Set<String> arrivedDirectories = new TreeSet<>();
        if (Files.exists(dest)) {
            for (String entry : Trees.list(dest)) {
                (entry.charAt(0) == 'd' ? arrivedDirectories : arrivedFiles).add(entry.substring(2));
            }
        }
        assertEquals(expectedFiles, arrivedFiles, c.name());
        for (String directory : arrivedDirectories) {
            assertTrue(sentDirectories.contains(directory)
                            || expectedFiles.stream().anyMatch(f -> f.startsWith(directory + "/")),
                    c.name() + ": directory " + directory + " arrived but is neither sent nor a parent of a sent file");
        }
        // Unanchored includes walk every directory with --prune-empty-dirs, which also drops included empty ones.
        boolean emptyDirectoriesPruned = !c.include().isEmpty()
                && !c.include().stream().allMatch(p -> p.startsWith("/") && !p.contains("**"));
        for (String directory : sentDirectories) {
            boolean empty = expectedFiles.stream().noneMatch(f -> f.startsWith(directory + "/"));
            assertTrue(arrivedDirectories.contains(directory) || empty && emptyDirectoriesPruned,
                    c.name() + ": directory " + directory + " is sent but did not arrive");
        }
    }
}
