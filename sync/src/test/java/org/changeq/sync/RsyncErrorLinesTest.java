package org.changeq.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.changeq.pipeline.ByteStrings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Error lines as rsync 3.2.7 prints them after exit 23, locally and from a daemon ({@code uid = nobody}). */
class RsyncErrorLinesTest {

    private static final String SUMMARY = "rsync error: some files/attrs were not transferred (see previous errors)"
            + " (code 23) at main.c(1347) [sender=3.2.7]";

    @TempDir
    Path tmp;

    private List<String> paths(RsyncErrorLines lines, String... errors) {
        List<String> logged = new ArrayList<>();
        for (String error : errors) {
            logged.add(ByteStrings.escape(error.getBytes(StandardCharsets.UTF_8)));
        }
        Optional<List<byte[]>> found = lines.failedPaths(List.of(logged));
        assertTrue(found.isPresent(), "paths named");
        List<String> names = new ArrayList<>();
        found.get().forEach(path -> names.add(new String(path, StandardCharsets.ISO_8859_1)));
        return names;
    }

    @Test
    void aDaemonsNamesAreMappedFromTheModuleToTheRoot() {
        RsyncErrorLines lines = new RsyncErrorLines(tmp.resolve("src"), "rsync://127.0.0.1:18873/m/nfs");
        assertEquals(List.of("locked/f", "locked"), paths(lines,
                "rsync: [generator] recv_generator: failed to stat \"/nfs/locked/f\" (in m): Permission denied (13)",
                "rsync: [generator] opendir \"/nfs/locked\" (in m) failed: Permission denied (13)",
                "rsync: [generator] recv_generator: failed to stat \"/nfs/locked/f\" (in m): Permission denied (13)",
                SUMMARY));
        RsyncErrorLines atTop = new RsyncErrorLines(tmp.resolve("src"), "host::m");
        assertEquals(List.of("locked"), paths(atTop, "rsync: [generator] opendir \"locked\" (in m) failed:"
                + " Permission denied (13)"));
    }

    @Test
    void localNamesAreMappedFromTheRootOrTheDestinationAndUnescaped() {
        Path root = tmp.resolve("src");
        RsyncErrorLines lines = new RsyncErrorLines(root, "/tmp/fe/d2");
        assertEquals(List.of("bad\ndir", "ok", "ro/f", "f", "", "caf\u00c3\u00a9 back\\slash", "gone"), paths(lines,
                "rsync: [sender] opendir \"" + root + "/bad\\#012dir\" failed: Permission denied (13)",
                "rsync: [sender] opendir \"" + root + "/ok\" failed: Permission denied (13)",
                "rsync: [receiver] mkstemp \"/tmp/fe/d2/ro/.f.xrDTkU\" failed: Permission denied (13)",
                "rsync: [sender] send_files failed to open \"" + root + "/f\": Permission denied (13)",
                "rsync: [sender] link_stat \"" + root + "\" failed: No such file or directory (2)",
                "rsync: [sender] opendir \"" + root + "/caf\u00e9 back\\slash\" failed: Permission denied (13)",
                "rsync: [generator] delete_file: rmdir(\"/tmp/fe/d2/gone\") failed: Directory not empty (39)",
                SUMMARY));
    }

    @Test
    void aRootReachedThroughASymlinkIsMappedByEitherName() throws Exception {
        Path real = Files.createDirectories(tmp.resolve("real"));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), real);
        RsyncErrorLines lines = new RsyncErrorLines(link, "/dest");
        assertEquals(List.of("a", "b"), paths(lines,
                "rsync: [sender] opendir \"" + link + "/a\" failed: Permission denied (13)",
                "rsync: [sender] opendir \"" + real + "/b\" failed: Permission denied (13)"));
    }

    @Test
    void nothingIsKnownWhenALineNamesNoPathOrAPathElsewhereOrLinesWereCutOff() {
        RsyncErrorLines lines = new RsyncErrorLines(tmp.resolve("src"), "rsync://127.0.0.1/m/nfs");
        String locked = "rsync: [generator] opendir \"/nfs/locked\" (in m) failed: Permission denied (13)";
        assertEquals(Optional.empty(), lines.failedPaths(List.of(List.of(locked,
                "rsync: connection unexpectedly closed (0 bytes received so far) [sender]"))));
        assertEquals(Optional.empty(), lines.failedPaths(List.of(List.of(
                "rsync: [generator] opendir \"/other/locked\" (in m) failed: Permission denied (13)"))));
        assertEquals(Optional.empty(), lines.failedPaths(List.of(List.of(
                "rsync: [generator] opendir \"/nfs/locked\" (in other) failed: Permission denied (13)"))));
        assertEquals(Optional.empty(), lines.failedPaths(List.of(List.of(SUMMARY))));
        assertEquals(Optional.empty(), lines.failedPaths(List.of(List.of(locked),
                Collections.nCopies(RsyncRunner.ERROR_LIMIT, locked))));
        assertEquals(Optional.empty(), new RsyncErrorLines(tmp.resolve("src"), "host:dir").failedPaths(List.of(List.of(
                "rsync: [generator] opendir \"dir/locked\" failed: Permission denied (13)"))));
    }

    @Test
    void filesThatChangedOrVanishedWhileRsyncReadThemAreToldApartFromFailures() {
        String vanished = "file has vanished: \"/srv/nfs/tmp/upload.part\"";
        String discarded = "ERROR: \"/srv/nfs/db/live.sqlite\" failed verification -- update discarded.";
        String retried = "WARNING: \"/srv/nfs/db/live.sqlite\" failed verification -- update discarded (will try again).";
        String closing24 = "rsync warning: some files vanished before they could be transferred (code 24) at main.c(1347)"
                + " [sender=3.2.7]";
        assertTrue(RsyncErrorLines.changingFile(vanished));
        assertTrue(RsyncErrorLines.changingFile(discarded));
        assertTrue(RsyncErrorLines.onlyChangingFiles(List.of(retried, discarded, vanished, SUMMARY, closing24)));
        String denied = "rsync: [receiver] mkstemp \"/mnt/copy/db/.f.AbC123\" failed: Permission denied (13)";
        assertEquals(false, RsyncErrorLines.changingFile(denied));
        assertEquals(false, RsyncErrorLines.onlyChangingFiles(List.of(discarded, denied, SUMMARY)));
        assertEquals(false, RsyncErrorLines.onlyChangingFiles(Collections.nCopies(RsyncRunner.ERROR_LIMIT, vanished)),
                "lines that were not kept may say anything");
    }
}
