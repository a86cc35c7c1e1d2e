package org.changeq.pipeline.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ConfigLoaderTest {

    static final String EXAMPLE = """
            queue: /var/lib/changeq/queue        # Chronicle Queue directory
            state: /var/lib/changeq/state        # cursors, claims, locks, flags
            roots:
              nfs:    {path: /srv/nfs, exclude: [/anca-elements/]}
              backup: {path: /mnt/backup}
            lists:
              bypass: [/immich/, /frigate/, /prometheus/, /loki/, /ollama/, /llamacpp/, /audiblez/, /ebook2audiobook/, "/*-backup/", /temp/, /alertmanager/]
            routes:
              mirror:         {root: nfs, exclude-list: bypass, dest: /mnt/backup/, delete-on-full: false}  # that disk holds other backups too
              offsite-backup: {root: backup, dest: "rsync://nas/Backup/Viki/pve-backup/", rsync-args: [-rlt, "--chmod=D0775,F0664"],
                               backlog-threshold: 500000, full-window: {days-of-month: 1-7}, delete-on-full: true}
              offsite-nfs:    {root: nfs, include-list: bypass, dest: "rsync://nas/Backup/Viki/nfs/", rsync-args: [-rlt, "--chmod=D0775,F0664"]}
            """;

    /** A valid file the error cases change one line of. */
    static final String BASE = """
            queue: /var/lib/changeq/queue
            state: /var/lib/changeq/state
            roots:
              nfs: {path: /srv/nfs}
            lists:
              bypass: [/immich/]
            routes:
              mirror: {root: nfs, dest: /mnt/backup/}
            """;

    private static ChangeqConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse("changeq.yaml", new StringReader(yaml));
    }

    private static String errorOf(String yaml) {
        return assertThrows(ConfigException.class, () -> parse(yaml)).getMessage();
    }

    private static byte[] bytes(String path) {
        return path.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void theExampleParsesCompletely() throws ConfigException {
        ChangeqConfig config = parse(EXAMPLE);
        assertEquals(Path.of("/var/lib/changeq/queue"), config.queue());
        assertEquals(Path.of("/var/lib/changeq/state"), config.state());
        assertEquals(List.of("nfs", "backup"), List.copyOf(config.roots().keySet()));
        assertEquals(List.of("mirror", "offsite-backup", "offsite-nfs"), List.copyOf(config.routes().keySet()));

        RootConfig nfs = config.root("nfs");
        assertEquals("nfs", nfs.name());
        assertEquals(Path.of("/srv/nfs"), nfs.path());
        assertEquals(List.of("/anca-elements/"), nfs.exclude());
        assertTrue(nfs.excludes().matchesSelfOrAncestor(bytes("anca-elements/x"), false));
        assertEquals(List.of(), config.root("backup").exclude());

        List<String> bypass = List.of("/immich/", "/frigate/", "/prometheus/", "/loki/", "/ollama/", "/llamacpp/",
                "/audiblez/", "/ebook2audiobook/", "/*-backup/", "/temp/", "/alertmanager/");
        assertEquals(bypass, config.lists().get("bypass"));

        RouteConfig mirror = config.route("mirror");
        assertEquals("nfs", mirror.root());
        assertEquals("/mnt/backup/", mirror.dest());
        assertEquals(Optional.of("bypass"), mirror.excludeList());
        assertEquals(Optional.empty(), mirror.includeList());
        assertEquals(bypass, mirror.excludes().patterns());
        assertTrue(mirror.includes().isEmpty());
        assertFalse(mirror.deleteOnFull());
        assertEquals(List.of("-a", "-r", "--super"), mirror.rsyncArgs());
        assertEquals(RouteConfig.DEFAULT_BACKLOG_THRESHOLD, mirror.backlogThreshold());
        assertEquals(Optional.empty(), mirror.fullWindow());

        RouteConfig offsiteBackup = config.route("offsite-backup");
        assertEquals("backup", offsiteBackup.root());
        assertEquals("rsync://nas/Backup/Viki/pve-backup/", offsiteBackup.dest());
        assertEquals(List.of("-rlt", "--chmod=D0775,F0664"), offsiteBackup.rsyncArgs());
        assertEquals(500_000, offsiteBackup.backlogThreshold());
        assertEquals(Set.of(1, 2, 3, 4, 5, 6, 7), offsiteBackup.fullWindow().orElseThrow().daysOfMonth());
        assertEquals(Set.of(), offsiteBackup.fullWindow().orElseThrow().daysOfWeek());
        assertTrue(offsiteBackup.deleteOnFull());
        assertFalse(offsiteBackup.propagateDeletes());

        RouteConfig offsiteNfs = config.route("offsite-nfs");
        assertEquals(Optional.of("bypass"), offsiteNfs.includeList());
        assertEquals(bypass, offsiteNfs.includes().patterns());
        assertTrue(offsiteNfs.excludes().isEmpty());
        assertEquals("rsync://nas/Backup/Viki/nfs/", offsiteNfs.dest());
    }

    @Test
    void aLocalDestinationKeepsOwnersAndModesByDefaultAndARemoteOneDoesNot() throws ConfigException {
        ChangeqConfig config = parse(BASE + """
                  nas: {root: nfs, dest: "rsync://nas/Backup/nfs/"}
                  ssh: {root: nfs, dest: "backup@nas:/volume1/nfs/"}
                """);
        assertEquals(List.of("-a", "-r", "--super"), config.route("mirror").rsyncArgs());
        assertEquals(List.of("-rlt"), config.route("nas").rsyncArgs());
        assertEquals(List.of("-rlt"), config.route("ssh").rsyncArgs());
    }

    /** A private rclone config file in {@code dir}, mode 600. */
    private static Path rcloneConfig(Path dir) throws Exception {
        Path file = dir.resolve("rclone.conf");
        Files.writeString(file, "[s3test]\ntype = s3\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    @Test
    void anRcloneDestinationNamesItsRemoteItsPathAndItsConfigFile(@TempDir Path dir) throws Exception {
        Path file = rcloneConfig(dir);
        ChangeqConfig config = parse(BASE + "  s3: {root: nfs, dest: \"rclone://s3test/backup/host1/\", rclone-config: "
                + file + "}\n");
        RouteConfig s3 = config.route("s3");
        assertEquals(Optional.of(new RcloneDestination("s3test", "backup/host1", file)), s3.rclone());
        assertEquals("s3test:backup/host1", s3.rclone().orElseThrow().target());
        assertEquals(List.of(), s3.rsyncArgs(), "rsync's defaults do not apply");
        assertFalse(s3.localDestination());
        assertEquals(Optional.empty(), config.route("mirror").rclone());
    }

    @ParameterizedTest
    @MethodSource("malformedRcloneDestinations")
    void aMalformedRcloneDestinationIsRefusedNamingItAndTheForm(String dest, String why, @TempDir Path dir)
            throws Exception {
        String error = errorOf(BASE + "  s3: {root: nfs, dest: \"" + dest + "\", rclone-config: " + rcloneConfig(dir)
                + "}\n");
        assertTrue(error.contains("routes.s3.dest") && error.contains("'" + dest + "'") && error.contains(why), error);
    }

    static List<Arguments> malformedRcloneDestinations() {
        return List.of(
                Arguments.of("rclone://", "names no usable rclone remote"),
                Arguments.of("rclone://-s3/b/", "names no usable rclone remote"),
                Arguments.of("rclone://s3 /b/", "names no usable rclone remote"),
                Arguments.of("rclone://s3test", "names no bucket or path"),
                Arguments.of("rclone://s3test/", "names no bucket or path"),
                Arguments.of("rclone://s3test/b//c/", "'..' segment"),
                Arguments.of("rclone://s3test/b/../c/", "'..' segment"),
                Arguments.of("rclone://s3test/./b/", "'..' segment"));
    }

    @Test
    void anRcloneConfigFileIsRequiredThereOwnerOnlyAndRefusedElsewhere(@TempDir Path dir) throws Exception {
        String route = "  s3: {root: nfs, dest: \"rclone://s3test/backup/\"";
        assertTrue(errorOf(BASE + route + "}\n").contains("missing required key 'rclone-config'"));
        Path missing = dir.resolve("none.conf");
        assertTrue(errorOf(BASE + route + ", rclone-config: " + missing + "}\n")
                .contains("'" + missing + "' does not exist; create it with 'rclone config --config " + missing));
        Path file = rcloneConfig(dir);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        String readable = errorOf(BASE + route + ", rclone-config: " + file + "}\n");
        assertTrue(readable.contains("routes.s3.rclone-config") && readable.contains("rw-r--r--")
                && readable.contains("chmod 600 " + file), readable);
        assertTrue(errorOf(BASE + route + ", rclone-config: rclone.conf}\n").contains("not an absolute path"));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        assertTrue(errorOf(BASE + route + ", rclone-config: " + file + ", rsync-args: [-rlt]}\n")
                .contains("routes.s3.rsync-args: does not apply to the rclone destination"));
        assertTrue(errorOf(BASE + "  nas: {root: nfs, dest: \"rsync://nas/b/\", rclone-config: " + file + "}\n")
                .contains("routes.nas.rclone-config: applies to rclone:// destinations only"));
    }

    @Test
    void filtersAreRefusedAtAnRcloneDestinationWhichKeepsHistory(@TempDir Path dir) throws Exception {
        String route = "  s3: {root: nfs, dest: \"rclone://s3test/backup/\", rclone-config: " + rcloneConfig(dir);
        assertTrue(errorOf(BASE + route + ", exclude: ['*.tmp']}\n").contains("routes.s3.exclude: is not supported"));
        assertEquals(Duration.ofDays(30), parse(BASE + route + ", history: {keep: 30d}}\n").route("s3").history()
                .orElseThrow().keep(), "an rclone route keeps history");
    }

    @Test
    void complementaryRoutesSendEveryPathExactlyOnce() throws ConfigException {
        ChangeqConfig config = parse(EXAMPLE);
        RouteConfig mirror = config.route("mirror");
        RouteConfig offsite = config.route("offsite-nfs");
        String[][] paths = {
            {"immich", "d"}, {"immich/library/a.jpg", "f"}, {"pg-backup/dump.sql", "f"}, {"pg-backup", "f"},
            {"documents/temp/x", "f"}, {"temp", "d"}, {"temp", "f"}, {"media/immich/x", "f"}, {"notes.txt", "f"},
            {"new\nline/f", "f"},
        };
        for (String[] path : paths) {
            boolean directory = path[1].equals("d");
            assertNotEquals(mirror.sends(bytes(path[0]), directory), offsite.sends(bytes(path[0]), directory),
                    "exactly one route sends " + path[0]);
        }
        assertTrue(offsite.sends(bytes("immich/library/a.jpg"), false));
        assertTrue(mirror.sends(bytes("media/immich/x"), false));
    }

    @Test
    void defaultsApplyToAMinimalRoute() throws ConfigException {
        RouteConfig route = parse(BASE).route("mirror");
        assertEquals(RouteConfig.DEFAULT_LOCAL_RSYNC_ARGS, route.rsyncArgs());
        assertEquals(RouteConfig.DEFAULT_BACKLOG_THRESHOLD, route.backlogThreshold());
        assertEquals(RouteConfig.DEFAULT_DELETE_ON_FULL, route.deleteOnFull());
        assertEquals(RouteConfig.DEFAULT_PROPAGATE_DELETES, route.propagateDeletes());
        assertEquals(Optional.empty(), route.fullWindow());
        assertEquals(DeleteLimit.DEFAULT, route.maxDelete());
        assertEquals(RouteConfig.DEFAULT_MAX_DELETE_WINDOW, route.maxDeleteWindow());
        assertEquals(ChangeLimit.DEFAULT, route.maxChange());
        assertEquals(RouteConfig.DEFAULT_MAX_DELETE_WINDOW, route.maxChangeWindow());
        assertEquals(List.of(), route.include());
        assertEquals(List.of(), route.exclude());
        assertTrue(route.includes().isEmpty());
        assertTrue(route.excludes().isEmpty());
        assertTrue(route.sends(bytes("anything/at/all"), false));
    }

    @Test
    void maxDeleteIsACountOrAPercentageOfTheDestination() throws ConfigException {
        RouteConfig counted = parse(BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, max-delete: 1000}")).route("mirror");
        assertEquals(new DeleteLimit(1000, false), counted.maxDelete());
        assertEquals(1000, counted.maxDelete().allowed(50));
        RouteConfig share = parse(BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, max-delete: \"10%\"}")).route("mirror");
        assertEquals(new DeleteLimit(10, true), share.maxDelete());
        assertEquals(6, share.maxDelete().allowed(59), "rounded up");
        assertEquals(6, share.maxDelete().allowed(60));
        assertEquals(0, share.maxDelete().allowed(0));
        assertEquals(0, parse(BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, max-delete: 0}"))
                .route("mirror").maxDelete().allowed(1_000_000));
    }

    @Test
    void maxChangeIsACountAPercentageOrAPercentageWithAFloor() throws ConfigException {
        assertEquals(1000, ChangeLimit.DEFAULT.allowed(400), "the default's floor");
        assertEquals(2500, ChangeLimit.DEFAULT.allowed(10_000), "the default's quarter");
        RouteConfig counted = parse(BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, max-change: 5000}")).route("mirror");
        assertEquals(new ChangeLimit(new DeleteLimit(5000, false), 0), counted.maxChange());
        assertEquals(5000, counted.maxChange().allowed(1_000_000));
        RouteConfig share = parse(BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, max-change: \"10%\","
                + " max-change-window: 1d}")).route("mirror");
        assertEquals(6, share.maxChange().allowed(59), "rounded up, no floor");
        assertEquals(java.time.Duration.ofDays(1), share.maxChangeWindow());
        RouteConfig floored = parse(BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, max-change: \"60% min 200\"}"))
                .route("mirror");
        assertEquals("60% min 200", floored.maxChange().toString());
        assertEquals(200, floored.maxChange().allowed(100));
        assertEquals(600, floored.maxChange().allowed(1000));
    }

    @Test
    void maxDeleteWindowTakesDaysAndHours() throws ConfigException {
        assertEquals(java.time.Duration.ofDays(2), parse(BASE.replace("dest: /mnt/backup/}",
                "dest: /mnt/backup/, max-delete-window: 2d}")).route("mirror").maxDeleteWindow());
        assertEquals(java.time.Duration.ofHours(12), parse(BASE.replace("dest: /mnt/backup/}",
                "dest: /mnt/backup/, max-delete-window: 12h}")).route("mirror").maxDeleteWindow());
    }

    @Test
    void aDestinationInsideAnotherRoutesRootIsAllowed() throws ConfigException {
        // The local backup disk is itself a root that a second route sends onward.
        ChangeqConfig config = parse(EXAMPLE);
        assertTrue(Path.of(config.route("mirror").dest()).startsWith(config.root("backup").path()));
    }

    @Test
    void listsAndRoutesAreOptional() throws ConfigException {
        ChangeqConfig config = parse("queue: /q\nstate: /s\nroots:\n  r: {path: /data}\nroutes:\n");
        assertEquals(Set.of(), config.routes().keySet());
        assertEquals(Set.of(), config.lists().keySet());
    }

    @Test
    void includeAndIncludeListCombine() throws ConfigException {
        RouteConfig route = parse(BASE.replace("{root: nfs, dest: /mnt/backup/}",
                "{root: nfs, dest: /mnt/backup/, include: [/docs/], include-list: bypass, exclude: [\"*.tmp\"]}")).route("mirror");
        assertEquals(List.of("/docs/", "/immich/"), route.includes().patterns());
        assertTrue(route.sends(bytes("docs/a"), false));
        assertTrue(route.sends(bytes("immich/a"), false));
        assertFalse(route.sends(bytes("music/a"), false));
        assertFalse(route.sends(bytes("docs/a.tmp"), false));
    }

    @Test
    void builtInExcludesCoverOwnDirectoriesInsideTheRootAndLegacyFiles() throws ConfigException {
        ChangeqConfig config = parse("""
                queue: /srv/nfs/.changeq/queue
                state: /srv/nfs/.changeq/state
                roots:
                  nfs: {path: /srv/nfs, exclude: [/anca-elements/]}
                  other: {path: /mnt/other}
                """);
        RootConfig nfs = config.root("nfs");
        assertEquals(List.of("/anca-elements/"), nfs.exclude(), "exclude keeps the written patterns only");
        assertEquals(List.of("/anca-elements/", "/.changeq/queue/", "/.changeq/state/",
                "/.changed-files", "/.changed-files.lock", "/.force-full-sync"), nfs.excludes().patterns());
        PathFilter excludes = nfs.excludes();
        assertTrue(excludes.matchesSelfOrAncestor(bytes(".changeq/queue/20240101.cq4"), false));
        assertTrue(excludes.matchesSelfOrAncestor(bytes(".changeq/state/cursors/mirror"), false));
        assertFalse(excludes.matchesSelfOrAncestor(bytes(".changeq/notes"), false));
        assertTrue(excludes.matchesSelfOrAncestor(bytes(".changed-files"), false));
        assertTrue(excludes.matchesSelfOrAncestor(bytes(".changed-files.lock"), false));
        assertTrue(excludes.matchesSelfOrAncestor(bytes(".force-full-sync"), false));
        assertFalse(excludes.matchesSelfOrAncestor(bytes("sub/.changed-files"), false), "anchored at the root");

        assertEquals(List.of("/.changed-files", "/.changed-files.lock", "/.force-full-sync"),
                config.root("other").excludes().patterns());
    }

    @Test
    void ownDirectoriesWithWildcardCharactersAreExcludedLiterally() throws ConfigException {
        ChangeqConfig config = parse("queue: /data/q[1]*\nstate: /var/s\nroots:\n  r: {path: /data}\n");
        PathFilter excludes = config.root("r").excludes();
        assertTrue(excludes.matchesSelfOrAncestor(bytes("q[1]*/x"), false));
        assertFalse(excludes.matchesSelfOrAncestor(bytes("q1/x"), false));
        assertFalse(excludes.matchesSelfOrAncestor(bytes("q[1]x/x"), false));
    }

    @Test
    void pathsAreNormalized() throws ConfigException {
        ChangeqConfig config = parse("queue: /var/lib/../lib/changeq/q/\nstate: /s\nroots:\n  r: {path: /srv/./nfs/}\n");
        assertEquals(Path.of("/var/lib/changeq/q"), config.queue());
        assertEquals(Path.of("/srv/nfs"), config.root("r").path());
    }

    @Test
    void fullWindowAcceptsListsRangesAndWeekdays() throws ConfigException {
        FullWindow window = parse(BASE.replace("dest: /mnt/backup/}",
                "dest: /mnt/backup/, full-window: {days-of-month: [1, 15-16], days-of-week: [sat, Sunday, mon-tue]}}"))
                .route("mirror").fullWindow().orElseThrow();
        assertEquals(Set.of(1, 15, 16), window.daysOfMonth());
        assertEquals(Set.of(DayOfWeek.SATURDAY, DayOfWeek.SUNDAY, DayOfWeek.MONDAY, DayOfWeek.TUESDAY), window.daysOfWeek());
        assertTrue(window.contains(LocalDate.of(2024, 6, 1)), "Saturday the 1st");
        assertFalse(window.contains(LocalDate.of(2024, 6, 2)), "Sunday the 2nd");

        FullWindow weekend = parse(BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, full-window: {days-of-week: fri-mon}}"))
                .route("mirror").fullWindow().orElseThrow();
        assertEquals(Set.of(DayOfWeek.FRIDAY, DayOfWeek.SATURDAY, DayOfWeek.SUNDAY, DayOfWeek.MONDAY), weekend.daysOfWeek());
        assertEquals(Set.of(), weekend.daysOfMonth());
    }

    @Test
    void followSettingsDefaultAndTakeDurationsWithUnits() throws ConfigException {
        assertEquals(FollowSettings.DEFAULT, parse(BASE).route("mirror").follow());
        FollowSettings follow = parse(BASE.replace("dest: /mnt/backup/}",
                "dest: /mnt/backup/, follow: {quiet: 500ms, max-delay: 2m, max-batch: 2000, retry-max: 1h}}"))
                .route("mirror").follow();
        assertEquals(new FollowSettings(Duration.ofMillis(500), Duration.ofMinutes(2), 2000, Duration.ofHours(1)), follow);
        FollowSettings partly = parse(BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, follow: {quiet: 0s}}"))
                .route("mirror").follow();
        assertEquals(Duration.ZERO, partly.quiet());
        assertEquals(FollowSettings.DEFAULT_MAX_DELAY, partly.maxDelay());
    }

    @Test
    void historyIsOffByDefaultAndTakesAKeepAndABinarySize() throws ConfigException {
        assertEquals(Optional.empty(), parse(BASE).route("mirror").history());
        HistorySettings history = parse(BASE.replace("dest: /mnt/backup/}",
                "dest: /mnt/backup/, history: {keep: 30d, max-size: 50G}}")).route("mirror").history().orElseThrow();
        assertEquals(new HistorySettings(Duration.ofDays(30), OptionalLong.of(50L << 30)), history);
        assertEquals(OptionalLong.empty(), parse(BASE.replace("dest: /mnt/backup/}",
                "dest: /mnt/backup/, history: {keep: 12h}}")).route("mirror").history().orElseThrow().maxBytes());
    }

    @Test
    void verifyCoversTheTreeInThirtyDaysUnlimitedByDefaultAndTakesWholeDaysAndABinaryRate() throws ConfigException {
        assertEquals(VerifySettings.DEFAULT, parse(BASE).route("mirror").verify());
        assertEquals(new VerifySettings(Duration.ofDays(7), OptionalLong.of(20L << 20)), parse(BASE.replace(
                "dest: /mnt/backup/}", "dest: /mnt/backup/, verify-cycle: 7d, verify-max-rate: 20M}")).route("mirror")
                .verify());
    }

    @Test
    void harmlessRsyncArgsPass() throws ConfigException {
        RouteConfig route = parse(BASE.replace("dest: /mnt/backup/}",
                "dest: /mnt/backup/, rsync-args: [-raH, --delay-updates, --skip-compress=gz/zip, -e, ssh -p 2222, --numeric-ids]}"))
                .route("mirror");
        assertEquals(List.of("-raH", "--delay-updates", "--skip-compress=gz/zip", "-e", "ssh -p 2222", "--numeric-ids"),
                route.rsyncArgs());
        RouteConfig values = parse(BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-avr, --timeout,"
                + " 30, \"--chmod=D0775,F0664\", -rlte, ssh, --no-human-readable]}")).route("mirror");
        assertEquals(List.of("-avr", "--timeout", "30", "--chmod=D0775,F0664", "-rlte", "ssh", "--no-human-readable"),
                values.rsyncArgs(), "one -v, and values as the next argument of an option that takes one");
    }

    static List<Arguments> errors() {
        return List.of(
                Arguments.of("an unknown key, with a suggestion", BASE.replace("routes:", "route:"),
                        7, "route", "unknown key 'route'; did you mean 'routes'?"),
                Arguments.of("an unknown route key", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, exlude: [a]}"),
                        8, "routes.mirror.exlude", "did you mean 'exclude'?"),
                Arguments.of("a missing queue", BASE.replace("queue: /var/lib/changeq/queue\n", ""),
                        1, "queue", "missing required key 'queue'"),
                Arguments.of("a missing state", BASE.replace("state: /var/lib/changeq/state\n", ""),
                        1, "state", "missing required key 'state'"),
                Arguments.of("missing roots", "queue: /q\nstate: /s\n", 1, "roots", "missing required key 'roots'"),
                Arguments.of("no roots", "queue: /q\nstate: /s\nroots: {}\n", 3, "roots", "no roots"),
                Arguments.of("a root without path", BASE.replace("{path: /srv/nfs}", "{exclude: [/x/]}"),
                        4, "roots.nfs", "missing required key 'path'"),
                Arguments.of("a route without root", BASE.replace("{root: nfs, dest: /mnt/backup/}", "{dest: /mnt/backup/}"),
                        8, "routes.mirror", "missing required key 'root'"),
                Arguments.of("a route without dest", BASE.replace("{root: nfs, dest: /mnt/backup/}", "{root: nfs}"),
                        8, "routes.mirror", "missing required key 'dest'"),
                Arguments.of("a relative queue", BASE.replace("queue: /var/lib/changeq/queue", "queue: var/queue"),
                        1, "queue", "'var/queue' is not an absolute path"),
                Arguments.of("a relative root path", BASE.replace("{path: /srv/nfs}", "{path: srv/nfs}"),
                        4, "roots.nfs.path", "not an absolute path"),
                Arguments.of("queue and state the same", BASE.replace("state: /var/lib/changeq/state", "state: /var/lib/changeq/queue"),
                        2, "state", "must be separate directories"),
                Arguments.of("state inside the queue", BASE.replace("state: /var/lib/changeq/state", "state: /var/lib/changeq/queue/s"),
                        2, "state", "must be separate directories"),
                Arguments.of("a root inside the queue", BASE.replace("{path: /srv/nfs}", "{path: /var/lib/changeq/queue/x}"),
                        4, "roots.nfs.path", "changeq would watch its own writes"),
                Arguments.of("an unknown list", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, exclude-list: bypas}"),
                        8, "routes.mirror.exclude-list", "no list named 'bypas'; defined lists: bypass"),
                Arguments.of("an unknown include list", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, include-list: x}"),
                        8, "routes.mirror.include-list", "no list named 'x'"),
                Arguments.of("an unknown root", BASE.replace("{root: nfs,", "{root: nsf,"),
                        8, "routes.mirror.root", "no root named 'nsf'; defined roots: nfs"),
                Arguments.of("a zero threshold", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, backlog-threshold: 0}"),
                        8, "routes.mirror.backlog-threshold", "must be greater than 0, got 0"),
                Arguments.of("a negative threshold", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, backlog-threshold: -5}"),
                        8, "routes.mirror.backlog-threshold", "must be greater than 0, got -5"),
                Arguments.of("a threshold that is text", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, backlog-threshold: lots}"),
                        8, "routes.mirror.backlog-threshold", "expected a whole number, got 'lots'"),
                Arguments.of("an invalid pattern in a list", BASE.replace("[/immich/]", "[/immich/, \"a[b\"]"),
                        6, "lists.bypass[1]", "invalid pattern 'a[b'"),
                Arguments.of("an empty pattern in a root", BASE.replace("{path: /srv/nfs}", "{path: /srv/nfs, exclude: [\"\"]}"),
                        4, "roots.nfs.exclude[0]", "is empty"),
                Arguments.of("an invalid route pattern", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, include: [\"[[:word:]]\"]}"),
                        8, "routes.mirror.include[0]", "unknown character class [:word:]"),
                Arguments.of("exclude as a single text", BASE.replace("{path: /srv/nfs}", "{path: /srv/nfs, exclude: /immich/}"),
                        4, "roots.nfs.exclude", "expected a list of patterns"),
                Arguments.of("-z", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-rlt, -z]}"),
                        8, "routes.mirror.rsync-args[1]", "'-z' compresses: the hops are on the LAN"),
                Arguments.of("z in a cluster", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-rltz]}"),
                        8, "routes.mirror.rsync-args[0]", "'-rltz' compresses"),
                Arguments.of("--compress", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-r, --compress-level=3]}"),
                        8, "routes.mirror.rsync-args[1]", "compresses"),
                Arguments.of("--files-from", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-r, --files-from=/x]}"),
                        8, "routes.mirror.rsync-args[1]", "added or decided by changeq itself"),
                Arguments.of("--from0", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-r, --from0]}"),
                        8, "routes.mirror.rsync-args[1]", "'--from0' is added or decided by changeq"),
                Arguments.of("-0", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-r0]}"),
                        8, "routes.mirror.rsync-args[0]", "'-r0' is added or decided by changeq"),
                Arguments.of("--delete-after", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-r, --delete-after]}"),
                        8, "routes.mirror.rsync-args[1]", "delete-on-full and propagate-deletes"),
                Arguments.of("--del", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-r, --del]}"),
                        8, "routes.mirror.rsync-args[1]", "'--del' is added or decided"),
                Arguments.of("--remove-source-files", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-r, --remove-source-files]}"),
                        8, "routes.mirror.rsync-args[1]", "deletes the data being backed up"),
                Arguments.of("--exclude", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-r, --exclude=x]}"),
                        8, "routes.mirror.rsync-args[1]", "use the route's include/exclude keys"),
                Arguments.of("--dry-run", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-rn]}"),
                        8, "routes.mirror.rsync-args[0]", "never sent"),
                Arguments.of("-q", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-rlt, -q]}"),
                        8, "routes.mirror.rsync-args[1]", "'-q' changes what rsync prints"),
                Arguments.of("q in a cluster", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-aqr]}"),
                        8, "routes.mirror.rsync-args[0]", "'-aqr' changes what rsync prints"),
                Arguments.of("--quiet", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-r, --quiet]}"),
                        8, "routes.mirror.rsync-args[1]", "to find the paths a partial transfer left out"),
                Arguments.of("--info", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-r, --info=progress2]}"),
                        8, "routes.mirror.rsync-args[1]", "changes what rsync prints"),
                Arguments.of("--out-format", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-r, \"--out-format=%n\"]}"),
                        8, "routes.mirror.rsync-args[1]", "changes what rsync prints"),
                Arguments.of("--log-format", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-r, --log-format=x]}"),
                        8, "routes.mirror.rsync-args[1]", "changes what rsync prints"),
                Arguments.of("-h", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-rlth]}"),
                        8, "routes.mirror.rsync-args[0]", "changes what rsync prints"),
                Arguments.of("-vv", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-rvv]}"),
                        8, "routes.mirror.rsync-args[0]", "more verbose than -v"),
                Arguments.of("-v twice", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-rv, --verbose]}"),
                        8, "routes.mirror.rsync-args[1]", "more verbose than -v"),
                Arguments.of("--max-size", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-r, --max-size=1G]}"),
                        8, "routes.mirror.rsync-args[1]", "skip files changeq asked it to send, and still exit 0"),
                Arguments.of("--min-size", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-r, --min-size=1]}"),
                        8, "routes.mirror.rsync-args[1]", "and still exit 0"),
                Arguments.of("-u", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-rlu]}"),
                        8, "routes.mirror.rsync-args[0]", "and still exit 0"),
                Arguments.of("--update", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-r, --update]}"),
                        8, "routes.mirror.rsync-args[1]", "and still exit 0"),
                Arguments.of("--existing", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-r, --existing]}"),
                        8, "routes.mirror.rsync-args[1]", "and still exit 0"),
                Arguments.of("--ignore-existing", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-r, --ignore-existing]}"),
                        8, "routes.mirror.rsync-args[1]", "and still exit 0"),
                Arguments.of("--size-only", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-r, --size-only]}"),
                        8, "routes.mirror.rsync-args[1]", "and still exit 0"),
                Arguments.of("-x", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-rx]}"),
                        8, "routes.mirror.rsync-args[0]", "and still exit 0"),
                Arguments.of("--one-file-system", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-r, --one-file-system]}"),
                        8, "routes.mirror.rsync-args[1]", "and still exit 0"),
                Arguments.of("a chmod YAML split in two", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-rlt, --chmod=D0775,F0664]}"),
                        8, "routes.mirror.rsync-args[2]", "'F0664' is not an option, and the argument before it takes no value"),
                Arguments.of("a bare word first", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [rlt]}"),
                        8, "routes.mirror.rsync-args[0]", "'rlt' is not an option"),
                Arguments.of("a word after a value given with =", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-r, --timeout=5, 30]}"),
                        8, "routes.mirror.rsync-args[2]", "is not an option"),
                Arguments.of("no recursion", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-lt]}"),
                        8, "routes.mirror.rsync-args", "must recurse"),
                Arguments.of("-a, which does not recurse with --files-from", BASE.replace("dest: /mnt/backup/}",
                        "dest: /mnt/backup/, rsync-args: [-a]}"), 8, "routes.mirror.rsync-args", "-a does not with --files-from"),
                Arguments.of("rsync-args as text", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: -rlt}"),
                        8, "routes.mirror.rsync-args", "expected a list"),
                Arguments.of("an empty dest", BASE.replace("dest: /mnt/backup/}", "dest: \"\"}"),
                        8, "routes.mirror.dest", "is empty"),
                Arguments.of("a null dest", BASE.replace("dest: /mnt/backup/}", "dest: }"),
                        8, "routes.mirror.dest", "expected a text value, got nothing"),
                Arguments.of("a relative dest", BASE.replace("dest: /mnt/backup/}", "dest: backup/}"),
                        8, "routes.mirror.dest", "neither an absolute path, host:path, rsync://host/module/path/ nor rclone://"),
                Arguments.of("an rsync dest without module", BASE.replace("dest: /mnt/backup/}", "dest: \"rsync://nas\"}"),
                        8, "routes.mirror.dest", "names no host or module"),
                Arguments.of("a duplicate key", BASE.replace("{root: nfs, dest: /mnt/backup/}", "{root: nfs, root: nfs, dest: /x}"),
                        8, "routes.mirror.root", "duplicate key 'root'"),
                Arguments.of("a duplicate route", BASE + "  mirror: {root: nfs, dest: /y}\n",
                        9, "routes.mirror", "duplicate key 'mirror' (first at line 8)"),
                Arguments.of("a duplicate top-level key", BASE + "queue: /other\n",
                        9, "queue", "duplicate key 'queue'"),
                Arguments.of("a route name with a space", BASE.replace("  mirror:", "  my mirror:"),
                        8, "routes.my mirror", "may use only letters, digits"),
                Arguments.of("a root name with a slash", BASE.replace("  nfs: {path", "  a/b: {path"),
                        4, "roots.a/b", "names become file names"),
                Arguments.of("a route named ..", BASE.replace("  mirror:", "  ..:"),
                        8, "routes...", "is not . or .."),
                Arguments.of("a boolean as text", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, delete-on-full: \"no\"}"),
                        8, "routes.mirror.delete-on-full", "expected true or false, got 'no'"),
                Arguments.of("a boolean as a list", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, propagate-deletes: [true]}"),
                        8, "routes.mirror.propagate-deletes", "expected true or false, got a list"),
                Arguments.of("a root that is text", BASE.replace("  nfs: {path: /srv/nfs}", "  nfs: /srv/nfs"),
                        4, "roots.nfs", "expected a mapping (key: value), got '/srv/nfs'"),
                Arguments.of("two roots on one path", BASE.replace("  nfs: {path: /srv/nfs}", "  nfs: {path: /srv/nfs}\n  again: {path: /srv/nfs/}"),
                        5, "roots.again.path", "root 'nfs' already has the path /srv/nfs"),
                Arguments.of("a root inside another", BASE.replace("  nfs: {path: /srv/nfs}", "  nfs: {path: /srv/nfs}\n  all: {path: /srv}"),
                        5, "roots.all.path", "root 'nfs' (/srv/nfs) overlap, one inside the other"),
                Arguments.of("a root below another", BASE.replace("  nfs: {path: /srv/nfs}", "  nfs: {path: /srv/nfs}\n  photos: {path: /srv/nfs/photos}"),
                        5, "roots.photos.path", "overlap, one inside the other"),
                Arguments.of("a dest equal to the root", BASE.replace("dest: /mnt/backup/}", "dest: /srv/nfs/}"),
                        8, "routes.mirror.dest", "lies inside the route's own root 'nfs'"),
                Arguments.of("a dest inside the root", BASE.replace("dest: /mnt/backup/}", "dest: /srv/nfs/backup}"),
                        8, "routes.mirror.dest", "copy the backup into itself"),
                Arguments.of("a dest above the root", BASE.replace("dest: /mnt/backup/}", "dest: /srv}"),
                        8, "routes.mirror.dest", "contains the route's own root"),
                Arguments.of("a dest in the state directory", BASE.replace("dest: /mnt/backup/}", "dest: /var/lib/changeq/state/out}"),
                        8, "routes.mirror.dest", "overlaps changeq's own directory /var/lib/changeq/state"),
                Arguments.of("a dest holding the queue", BASE.replace("dest: /mnt/backup/}", "dest: /var/lib}"),
                        8, "routes.mirror.dest", "overlaps changeq's own directory /var/lib/changeq/queue"),
                Arguments.of("two deleting routes on one dest", BASE + "  again: {root: nfs, dest: /mnt/backup}\n",
                        9, "routes.again.dest", "routes.mirror.dest (/mnt/backup/) are the same or one lies inside the other"),
                Arguments.of("a deleting route inside another's dest", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, delete-on-full: false}")
                        + "  inner: {root: nfs, dest: /mnt/backup/inner/}\n",
                        9, "routes.inner.dest", "and this route deletes there"),
                Arguments.of("two daemon routes on one module path", BASE + "  a: {root: nfs, dest: \"rsync://nas/m/x/\"}\n"
                        + "  b: {root: nfs, dest: \"rsync://nas//m/x\"}\n",
                        10, "routes.b.dest", "are the same or one lies inside the other"),
                Arguments.of("max-delete as words", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, max-delete: many}"),
                        8, "routes.mirror.max-delete", "expected a number of paths (e.g. 1000) or a percentage"),
                Arguments.of("max-delete above 100%", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, max-delete: \"150%\"}"),
                        8, "routes.mirror.max-delete", "got '150%'"),
                Arguments.of("max-change as words", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, max-change: lots}"),
                        8, "routes.mirror.max-change", "expected a number of paths (e.g. 1000), a percentage of the"
                                + " destination's files (e.g. \"25%\", quoted) or a percentage with a floor (e.g. \"25% min"
                                + " 1000\"), got 'lots'; the default is \"25% min 1000\""),
                Arguments.of("a floor on a count", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, max-change: \"500 min 10\"}"),
                        8, "routes.mirror.max-change", "got '500 min 10'"),
                Arguments.of("a max-change-window of seconds", BASE.replace("dest: /mnt/backup/}",
                        "dest: /mnt/backup/, max-change-window: 5s}"), 8, "routes.mirror.max-change-window",
                        "a shorter window lets a series of runs pass the limit in slices"),
                Arguments.of("a negative max-delete", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, max-delete: -1}"),
                        8, "routes.mirror.max-delete", "got '-1'"),
                Arguments.of("day 0", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, full-window: {days-of-month: 0-7}}"),
                        8, "routes.mirror.full-window.days-of-month", "'0' is not a day of the month"),
                Arguments.of("a backwards range", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, full-window: {days-of-month: 7-1}}"),
                        8, "routes.mirror.full-window.days-of-month", "runs backwards"),
                Arguments.of("an unknown weekday", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, full-window: {days-of-week: [funday]}}"),
                        8, "routes.mirror.full-window.days-of-week", "'funday' is not a day of the week"),
                Arguments.of("an empty window", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, full-window: {}}"),
                        8, "routes.mirror.full-window", "empty window"),
                Arguments.of("an empty day list", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, full-window: {days-of-week: []}}"),
                        8, "routes.mirror.full-window.days-of-week", "the list is empty"),
                Arguments.of("a window key typo", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, full-window: {day-of-month: 1}}"),
                        8, "routes.mirror.full-window.day-of-month", "did you mean 'days-of-month'?"),
                Arguments.of("a follow delay without unit", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, follow: {quiet: 2}}"),
                        8, "routes.mirror.follow.quiet", "expected a duration with its unit (500ms, 2s, 5m, 1h, 7d), got '2'"),
                Arguments.of("a follow key typo", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, follow: {max-dealy: 1m}}"),
                        8, "routes.mirror.follow.max-dealy", "did you mean 'max-delay'?"),
                Arguments.of("max-delay below quiet", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, follow: {quiet: 10s, max-delay: 5s}}"),
                        8, "routes.mirror.follow.max-delay", "max-delay (5s) is shorter than quiet (10s)"),
                Arguments.of("quiet above the default max-delay", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, follow: {quiet: 1m}}"),
                        8, "routes.mirror.follow.quiet", "max-delay (30s) is shorter than quiet (60s)"),
                Arguments.of("a zero batch", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, follow: {max-batch: 0}}"),
                        8, "routes.mirror.follow.max-batch", "must be greater than 0, got 0"),
                Arguments.of("a retry-max below a second", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, follow: {retry-max: 100ms}}"),
                        8, "routes.mirror.follow.retry-max", "must be at least 1s, the first wait after a failed run; got 100ms"),
                Arguments.of("a max-delete-window below a minute", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, max-delete-window: 30s}"),
                        8, "routes.mirror.max-delete-window", "must be at least 60s, got 30s: a shorter window lets a series of runs"),
                Arguments.of("a max-delete-window without unit", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, max-delete-window: 7}"),
                        8, "routes.mirror.max-delete-window", "expected a duration with its unit (500ms, 2s, 5m, 1h, 7d), got"),
                Arguments.of("a history without keep", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, history: {max-size: 1G}}"),
                        8, "routes.mirror.history", "keep"),
                Arguments.of("a history size without a known unit", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, history: {keep: 30d, max-size: 5GB}}"),
                        8, "routes.mirror.history.max-size", "expected a size above 0 with an optional unit K, M, G or T (e.g. 50G), got"),
                Arguments.of("a history kept for no time", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, history: {keep: 0d}}"),
                        8, "routes.mirror.history.keep", "must be longer than 0"),
                Arguments.of("backups made by rsync-args", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, rsync-args: [-a, --backup-dir=old]}"),
                        8, "routes.mirror.rsync-args[1]", "history:"),
                Arguments.of("a verify cycle of hours", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, verify-cycle: 36h}"),
                        8, "routes.mirror.verify-cycle", "must be a whole number of days (e.g. 30d), got"),
                Arguments.of("a verify rate of zero", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, verify-max-rate: 0}"),
                        8, "routes.mirror.verify-max-rate", "expected a size above 0"),
                Arguments.of("follow as a number", BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, follow: 5}"),
                        8, "routes.mirror.follow", "expected a mapping"),
                Arguments.of("broken YAML", BASE.replace("[/immich/]", "[/immich/"),
                        7, "", "not valid YAML"),
                Arguments.of("two documents", "queue: /q\n---\nstate: /s\n", 2, "", "expected a single document"),
                Arguments.of("a document that is a list", "- a\n- b\n", 1, "", "expected a mapping (key: value), got a list"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("errors")
    void errorsNameTheLineTheKeyAndTheProblem(String what, String yaml, int line, String key, String problem) {
        String message = errorOf(yaml);
        assertTrue(message.startsWith("changeq.yaml line " + line + " column "), message);
        assertTrue(message.contains(key.isEmpty() ? ": " : ", " + key + ": "), message);
        assertTrue(message.contains(problem), message);
    }

    @Test
    void theMessageHasTheDocumentedShape() {
        assertEquals("changeq.yaml line 8 column 57, routes.mirror.exclude-list: no list named 'bypas'; defined lists: bypass",
                errorOf(BASE.replace("dest: /mnt/backup/}", "dest: /mnt/backup/, exclude-list: bypas}")));
    }

    @Test
    void anEmptyFileIsRefused() {
        assertEquals("changeq.yaml: the file is empty; it needs at least queue, state and roots", errorOf("# nothing\n"));
    }

    @Test
    void aRootHoldingAHistoryIsRefusedUnlessItIsAnotherRoutesHistory(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("backup/.changeq-history"));
        Files.createDirectories(dir.resolve("src"));
        String yaml = "queue: " + dir.resolve("q") + "\nstate: " + dir.resolve("s") + "\nroots:\n  src: {path: " + dir.resolve("src")
                + "}\n  backup: {path: " + dir.resolve("backup") + "}\nroutes:\n  mirror: {root: src, dest: " + dir.resolve("backup")
                + "/, history: {keep: 7d}}\n  nas: {root: backup, dest: \"rsync://nas/m/\", history: {keep: 30d}}\n";
        ChangeqConfig config = parse(yaml);
        assertEquals(2, config.routes().size(), "the local disk's own history, sent onward without it");
        assertTrue(config.root("backup").excludes().matchesSelfOrAncestor(bytes(".changeq-history/2026-12-07T12-00-00Z/f"),
                false), "neither recorded nor sent");
        assertFalse(config.root("src").excludes().matchesSelfOrAncestor(bytes(".changeq-history"), true));
        String message = errorOf(yaml.replace(", history: {keep: 7d}", ""));
        assertTrue(message.contains("line 8 column 56, routes.nas.history: the root 'backup' holds")
                && message.contains("remove history:"), message);
        Files.delete(dir.resolve("backup/.changeq-history"));
        ChangeqConfig below = parse(yaml.replace("dest: " + dir.resolve("backup") + "/,", "dest: " + dir.resolve("backup")
                + "/mirror?1/,"));
        assertEquals(List.of("/.changed-files", "/.changed-files.lock", "/.force-full-sync", "/mirror\\?1/.changeq-history/"),
                below.root("backup").excludes().patterns());
    }

    @Test
    void loadReadsAFileAndNamesItInErrors(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("changeq.yaml");
        Files.writeString(file, EXAMPLE);
        assertEquals(3, ConfigLoader.load(file).routes().size());

        Files.writeString(file, BASE.replace("routes:", "routs:"));
        String message = assertThrows(ConfigException.class, () -> ConfigLoader.load(file)).getMessage();
        assertTrue(message.startsWith(file + " line 7 column 1, routs: unknown key 'routs'"), message);

        Path missing = dir.resolve("absent.yaml");
        message = assertThrows(ConfigException.class, () -> ConfigLoader.load(missing)).getMessage();
        assertTrue(message.contains("cannot read the configuration file " + missing), message);
    }

    /** The tracker watches, and rsync writes, where symbolic links lead: nesting through a link is nesting. */
    @Test
    void rootsAndDestinationsNestedThroughSymbolicLinksAreRefused(@TempDir Path dir) throws Exception {
        Path data = Files.createDirectories(dir.resolve("srv/data/photos"));
        Path link = Files.createSymbolicLink(dir.resolve("photos-link"), data);
        String base = BASE.replace("/srv/nfs}", dir.resolve("srv") + "}");

        assertEquals("changeq.yaml line 5 column 18, roots.photos.path: the root " + link + " (through a symbolic link: "
                + data + ") and root 'nfs' (" + dir.resolve("srv") + ") overlap, one inside the other; the directories they"
                + " share would be tracked for only one of them. Use one root and give the routes include/exclude patterns",
                errorOf(base.replace("  nfs: {path: " + dir.resolve("srv") + "}", "  nfs: {path: " + dir.resolve("srv")
                        + "}\n  photos: {path: " + link + "}")));

        Path backupLink = Files.createSymbolicLink(dir.resolve("backup"), dir.resolve("srv/data"));
        String inside = errorOf(base.replace("dest: /mnt/backup/}", "dest: " + backupLink + "/}"));
        assertTrue(inside.contains("routes.mirror.dest: the destination " + backupLink + " (through a symbolic link: "
                + dir.resolve("srv/data") + ") lies inside the route's own root 'nfs'"), inside);

        // State inside a root is allowed and kept out of the queue, also when a link takes it there.
        Files.createSymbolicLink(dir.resolve("state-link"), Files.createDirectories(dir.resolve("srv/data/state")));
        ChangeqConfig stateInside = parse(base.replace("state: /var/lib/changeq/state", "state: " + dir.resolve("state-link/x"))
                .replace("dest: /mnt/backup/}", "dest: " + dir.resolve("elsewhere") + "/}"));
        assertTrue(stateInside.root("nfs").excludes().matches(bytes("data/state/x"), true));
    }

    @Test
    void quickModeHasOneDefaultRootAndNoRoutes() throws ConfigException {
        ChangeqConfig config = ConfigLoader.quick(Path.of("/srv/nfs"), Path.of("/srv/nfs/.q"), Path.of("/var/s"),
                List.of("/immich/", "*.tmp"));
        assertEquals(Set.of(ConfigLoader.QUICK_ROOT_NAME), config.roots().keySet());
        RootConfig root = config.root("default");
        assertEquals(Path.of("/srv/nfs"), root.path());
        assertEquals(List.of("/immich/", "*.tmp"), root.exclude());
        assertEquals(List.of("/immich/", "*.tmp", "/.q/", "/.changed-files", "/.changed-files.lock", "/.force-full-sync"),
                root.excludes().patterns());
        assertTrue(config.routes().isEmpty());
        assertTrue(config.lists().isEmpty());
    }

    @Test
    void quickModeValidatesToo() {
        String relative = assertThrows(ConfigException.class,
                () -> ConfigLoader.quick(Path.of("srv"), Path.of("/q"), Path.of("/s"), List.of())).getMessage();
        assertEquals("quick mode, root: 'srv' is not an absolute path; write it from /", relative);
        String pattern = assertThrows(ConfigException.class,
                () -> ConfigLoader.quick(Path.of("/srv"), Path.of("/q"), Path.of("/s"), List.of("ok", "[x"))).getMessage();
        assertTrue(pattern.startsWith("quick mode, exclude[1]: invalid pattern '[x'"), pattern);
    }

    @Test
    void closestSuggestsOnlyNearKeys() {
        assertEquals("backlog-threshold", ConfigLoader.closest("backlog-treshold", List.of("root", "backlog-threshold")));
        assertEquals(null, ConfigLoader.closest("colour", List.of("root", "dest")));
    }
}
