package org.changeq.systemd;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;

import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.ConfigLoader;
import org.changeq.pipeline.config.FullWindow;
import org.changeq.pipeline.config.RootConfig;
import org.changeq.pipeline.config.RouteConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The example of three copies (examples/three-copies.yaml) loads and reproduces the old pipeline route for route. */
class ExampleConfigTest {
    private static final List<String> NAS_ARGS = List.of("-rlt", "--chmod=D0775,F0664");
    private static ChangeqConfig config;

    @BeforeAll
    static void load() throws Exception {
        config = ConfigLoader.load(ModuleFiles.source("examples/three-copies.yaml"));
    }

    @Test
    void queueAndStateLiveWhereTheUnitsMayWrite() {
        assertEquals(Path.of("/var/lib/changeq/queue"), config.queue());
        assertEquals(Path.of("/var/lib/changeq/state"), config.state());
    }

    @Test
    void theNasReplicaNeverEntersTheQueue() {
        RootConfig nfs = config.root("nfs");
        assertEquals(Path.of("/srv/nfs"), nfs.path());
        assertEquals(List.of("/anca-elements/"), nfs.exclude());
        assertTrue(nfs.excludes().matchesSelfOrAncestor(bytes("anca-elements/2024/a.mkv"), false));
        assertFalse(nfs.excludes().matchesSelfOrAncestor(bytes("photos/anca-elements/a.jpg"), false));
        assertEquals(Path.of("/mnt/backup"), config.root("backup").path());
        assertEquals(List.of(), config.root("backup").exclude());
    }

    @Test
    void theBypassListIsTheOldMirrorExcludes() {
        assertEquals(List.of("/immich/", "/frigate/", "/prometheus/", "/loki/", "/ollama/", "/llamacpp/", "/audiblez/",
                "/ebook2audiobook/", "/*-backup/", "/temp/", "/alertmanager/"), config.lists().get("bypass"));
    }

    @Test
    void mirrorIsTheWeeklyLocalCopyWithoutDeletes() {
        RouteConfig mirror = config.route("mirror");
        assertEquals("nfs", mirror.root());
        assertEquals("/mnt/backup/", mirror.dest());
        assertEquals(Optional.of("bypass"), mirror.excludeList());
        assertEquals(Optional.empty(), mirror.includeList());
        assertFalse(mirror.deleteOnFull(), "/mnt/backup holds daily-backup's output too");
        FullWindow window = mirror.fullWindow().orElseThrow();
        LocalDate sunday = LocalDate.of(2026, 11, 29);
        assertEquals(DayOfWeek.SUNDAY, sunday.getDayOfWeek());
        assertTrue(window.contains(sunday));
        for (int day = 1; day < 7; day++) {
            assertFalse(window.contains(sunday.plusDays(day)), sunday.plusDays(day) + " is not in the weekly window");
        }
    }

    @Test
    void offsiteBackupIsStepOneWithTheMonthlyFullSync() {
        RouteConfig route = config.route("offsite-backup");
        assertEquals("backup", route.root());
        assertEquals("rsync://nas/Backup/Viki/pve-backup/", route.dest());
        assertEquals(NAS_ARGS, route.rsyncArgs());
        assertEquals(500_000, route.backlogThreshold());
        assertTrue(route.deleteOnFull());
        FullWindow window = route.fullWindow().orElseThrow();
        for (int day = 1; day <= 31; day++) {
            assertEquals(day <= 7, window.contains(LocalDate.of(2026, 12, day)), "day " + day);
        }
    }

    @Test
    void offsiteNfsIsStepTwoSendingOnlyTheBypassedTrees() {
        RouteConfig route = config.route("offsite-nfs");
        assertEquals("nfs", route.root());
        assertEquals("rsync://nas/Backup/Viki/nfs/", route.dest());
        assertEquals(Optional.of("bypass"), route.includeList());
        assertEquals(NAS_ARGS, route.rsyncArgs());
    }

    @Test
    void theNasRoutesKeepThirtyDaysOfHistoryAndTheLocalMirrorNone() {
        for (String name : List.of("offsite-backup", "offsite-nfs")) {
            assertEquals(java.time.Duration.ofDays(30), config.route(name).history().orElseThrow().keep(), name);
            assertEquals(java.util.OptionalLong.of(200L << 30), config.route(name).history().orElseThrow().maxBytes());
        }
        assertTrue(config.route("mirror").history().isEmpty());
    }

    @Test
    void mirrorAndOffsiteNfsSendEveryPathExactlyOnce() {
        RouteConfig mirror = config.route("mirror");
        RouteConfig offsiteNfs = config.route("offsite-nfs");
        List<String> bypassed = List.of("immich/library/a.jpg", "frigate/clips/c.mp4", "db-backup/dump.sql",
                "-backup/x", "temp/t", "alertmanager/nflog", "ebook2audiobook/out.m4b");
        List<String> mirrored = List.of("documents/taxes.pdf", "photos/immich/a.jpg", "media/db-backup/x",
                "db-backups/x", "temporary/t", "immich2/a", "a\nb");
        for (String path : bypassed) {
            assertTrue(offsiteNfs.sends(bytes(path), false) && !mirror.sends(bytes(path), false), path + " only via offsite-nfs");
        }
        for (String path : mirrored) {
            assertTrue(mirror.sends(bytes(path), false) && !offsiteNfs.sends(bytes(path), false), path + " only via mirror");
        }
    }

    @Test
    void noRouteCompressesOnTheLan() {
        for (RouteConfig route : config.routes().values()) {
            assertTrue(route.rsyncArgs().stream().noneMatch(arg -> arg.matches("-[^-]*z.*|--compress.*")),
                    route.name() + ": " + route.rsyncArgs());
        }
    }

    private static byte[] bytes(String path) {
        return path.getBytes(UTF_8);
    }
}
