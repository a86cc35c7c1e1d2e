package org.changeq.nativetests.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.sync.SyncReport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A route to a local destination with the default rsync-args keeps every file's and directory's owner,
 * group, mode and modification time, as {@code rsync -a} run by root did for the old mirror: a PostgreSQL
 * data directory owned by uid 999 with mode 0700 restores as such.
 */
class LocalMirrorAttributesTest {
    private static final FileTime OLD = FileTime.from(Instant.parse("2020-01-02T03:04:05.123456789Z"));

    @TempDir
    Path tmp;

    private SyncBench bench;
    private Path dest;

    @BeforeEach
    void setUp() throws IOException {
        Assumptions.assumeTrue((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0,
                "not root: cannot create files of other owners; skipping the owner-preservation test");
        bench = SyncBench.create(tmp.resolve("bench"));
        dest = tmp.resolve("dest");
    }

    @Test
    void ownersGroupsModesAndTimesSurviveAFullAndAnIncrementalSync() throws Exception {
        file("plain", 0, 0, 0644);
        directory("pg", 999, 999, 0700);
        file("pg/PG_VERSION", 999, 999, 0600);
        directory("shared", 1001, 4242, 02775);
        file("shared/notes", 1001, 4242, 0640);
        touchAll();
        ChangeqConfig config = bench.config(SyncBench.Route.of("mirror", dest + "/"));

        SyncReport full = bench.sync(config, "mirror");
        assertEquals("full", full.mode());
        assertEquals(ExitCodes.OK, full.exitCode(), full.errors().toString());
        assertEquals(attributes(bench.root), attributes(dest));

        directory("pg/pg_wal", 999, 999, 0700);
        file("pg/pg_wal/000001", 999, 999, 0600);
        file("shared/notes", 1002, 4242, 0604);
        bench.record(writer -> {
            writer.publish(RecordType.SUBTREE, SyncBench.ROOT, true, "pg/pg_wal".getBytes(UTF_8));
            writer.publish(RecordType.CHANGE, SyncBench.ROOT, true, "pg".getBytes(UTF_8));
            writer.publish(RecordType.CHANGE, SyncBench.ROOT, false, "shared/notes".getBytes(UTF_8));
        });
        SyncReport incremental = bench.sync(config, "mirror");
        assertEquals("incremental", incremental.mode());
        assertEquals(ExitCodes.OK, incremental.exitCode(), incremental.errors().toString());
        assertEquals(attributes(bench.root), attributes(dest));
        assertEquals("999:999 700", attributes(dest).get("pg/pg_wal").substring(0, 11));
    }

    private void file(String relative, int uid, int gid, int mode) throws IOException {
        Path file = Trees.write(bench.root, relative, "content of " + relative);
        own(file, uid, gid, mode);
    }

    private void directory(String relative, int uid, int gid, int mode) throws IOException {
        own(Files.createDirectories(bench.root.resolve(relative)), uid, gid, mode);
    }

    /** chown before chmod: a chown clears the setgid bit. */
    private static void own(Path path, int uid, int gid, int mode) throws IOException {
        Files.setAttribute(path, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(path, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(path, "unix:mode", mode, LinkOption.NOFOLLOW_LINKS);
    }

    /** Old times on everything, deepest first, so that setting a file's time leaves its directory's alone. */
    private void touchAll() throws IOException {
        try (Stream<Path> paths = Files.walk(bench.root)) {
            for (Path path : paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.setLastModifiedTime(path, OLD);
            }
        }
    }

    /** "uid:gid mode mtime" of everything below {@code root}, by relative path. */
    private static Map<String, String> attributes(Path root) throws IOException {
        Map<String, String> attributes = new TreeMap<>();
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.filter(p -> !p.equals(root)).toList()) {
                Map<String, Object> unix = Files.readAttributes(path, "unix:uid,gid,mode,lastModifiedTime", LinkOption.NOFOLLOW_LINKS);
                attributes.put(root.relativize(path).toString(), unix.get("uid") + ":" + unix.get("gid") + " "
                        + Integer.toOctalString((Integer) unix.get("mode") & 07777) + " " + unix.get("lastModifiedTime"));
            }
        }
        return attributes;
    }
}
