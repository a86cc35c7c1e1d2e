package org.changeq.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.testing.ExpectLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

/**
 * rclone 1.60's JSON log lines, as measured against S3Proxy (docs/rclone.md), read back into rsync's terms: its exit
 * 1 is classified by what the log says, and its display-encoded names map back to changeq's bytes.
 */
class RcloneLogTest {

    @TempDir
    Path dir;

    private RsyncRunner.Outcome outcome(int rcloneExit, String... lines) throws Exception {
        return read(lines).outcome(new RsyncRunner.Outcome(rcloneExit, 0, 0, 0, 0, 0, List.of(), List.of(), List.of()));
    }

    private RcloneLog read(String... lines) throws Exception {
        Path log = Files.write(dir.resolve("rclone.log"), List.of(lines), UTF_8);
        return RcloneLog.read(log, new RcloneLog.Names(dir, Map.of()));
    }

    private static String error(String object, String message) {
        return "{\"level\":\"error\",\"msg\":\"" + message + "\",\"object\":\"" + object + "\",\"objectType\":"
                + "\"*local.Object\",\"source\":\"operations/operations.go:538\"}";
    }

    private static String attempt(String message) {
        return "{\"level\":\"error\",\"msg\":\"Attempt 1/1 failed with 1 errors and: " + message + "\","
                + "\"source\":\"cmd/cmd.go:283\"}";
    }

    private static String info(String object, String message) {
        return "{\"level\":\"info\",\"msg\":\"" + message + "\",\"object\":\"" + object + "\",\"objectType\":"
                + "\"*s3.Object\",\"source\":\"operations/operations.go:538\"}";
    }

    /**
     * {@code rclone sync --backup-dir} on S3 keeps the old version by a server-side copy and a delete: the delete of an
     * overwritten object is no deletion, and a deletion is the object moved into the backup directory.
     */
    @Test
    void aVersionKeptInTheBackupDirectoryIsAnOverwriteOrADeletionOnce() throws Exception {
        RsyncRunner.Outcome outcome = outcome(0, info("a", "Copied (server-side copy)"), info("a", "Deleted"),
                info("a", "Copied (new)"), info("gone", "Copied (server-side copy)"), info("gone", "Deleted"),
                info("gone", "Moved into backup dir"), info("n", "Copied (new)"));
        assertEquals(2, outcome.files(), outcome.itemized().toString());
        assertEquals(1, outcome.created(), outcome.itemized().toString());
        assertEquals(1, outcome.deleted(), outcome.itemized().toString());
        assertEquals(List.of("gone"), outcome.deletions());
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "RcloneLog", contains = "connection refused")
    void anUnreachableServerIsRetryableWholeNeverOnePathsFailure() throws Exception {
        String refused = "Failed to copy: RequestError: send request failed\\ncaused by: Put \\\"http://127.0.0.1:9/b/a\\\":"
                + " dial tcp 127.0.0.1:9: connect: connection refused";
        RsyncRunner.Outcome outcome = outcome(1, error("a", refused), attempt("RequestError: send request failed"));
        assertEquals(ExitCodes.DESTINATION_UNREACHABLE, RouteSync.exitCodeOf(outcome));
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "RcloneLog", contains = "SignatureDoesNotMatch")
    void refusedCredentialsAreRetryableWhole() throws Exception {
        RsyncRunner.Outcome outcome = outcome(1, "{\"level\":\"error\",\"msg\":\"error reading destination root directory:"
                + " SignatureDoesNotMatch: The request signature we calculated does not match\\n\\tstatus code: 403\","
                + "\"object\":\"S3 bucket b path t\",\"objectType\":\"*s3.Fs\"}");
        assertEquals(ExitCodes.DESTINATION_UNREACHABLE, RouteSync.exitCodeOf(outcome));
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "RcloneLog", contains = "NoSuchBucket")
    void aMissingBucketFailsTheRunAlthoughRcloneNamesEachObject() throws Exception {
        RsyncRunner.Outcome outcome = outcome(1, error("a", "Failed to copy: NoSuchBucket: The specified bucket does not"
                + " exist\\n\\tstatus code: 404"), attempt("NoSuchBucket"));
        assertEquals(ExitCodes.SYNC_FAILED, RouteSync.exitCodeOf(outcome));
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "RcloneLog", contains = "no such file or directory")
    void errorsThatEachNameAnObjectAreAPartialTransfer() throws Exception {
        RsyncRunner.Outcome outcome = outcome(1, error("bad\u201b\u201bFFname", "Failed to copy: failed to open source"
                        + " object: open /src/bad\u201b\u201bFFname: no such file or directory"),
                "{\"level\":\"error\",\"msg\":\"not deleting files as there were IO errors\",\"object\":\"S3 bucket b\","
                        + "\"objectType\":\"*s3.Fs\"}", attempt("failed to open source object"));
        assertEquals(ExitCodes.SYNC_PARTIAL, RouteSync.exitCodeOf(outcome));
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "RcloneLog", contains = "permission denied")
    void aNameThatReadsLikeAnOutageIsStillOnePathsFailure() throws Exception {
        RsyncRunner.Outcome outcome = outcome(1, error("connection refused: timeout", "Failed to copy: failed to open"
                + " source object: permission denied"), attempt("failed to open source object"));
        assertEquals(ExitCodes.SYNC_PARTIAL, RouteSync.exitCodeOf(outcome));
    }

    @Test
    void aFailureWithoutALogIsFatalAndTheFenceOfMaxDeleteIsTheDeletionLimit() throws Exception {
        assertEquals(ExitCodes.SYNC_FAILED, RouteSync.exitCodeOf(read().outcome(new RsyncRunner.Outcome(1, 0, 0, 0, 0, 0,
                List.of(), List.of(), List.of("Fatal error: unknown flag: --nosuchflag")))));
        assertEquals(ExitCodes.DELETIONS_REFUSED, RouteSync.exitCodeOf(read().outcome(new RsyncRunner.Outcome(7, 0, 0, 0,
                0, 0, List.of(), List.of(), List.of("Got fatal error on delete: --max-delete threshold reached")))));
        assertEquals(ExitCodes.OK, RouteSync.exitCodeOf(outcome(0)));
    }

    @Test
    void aDryRunTellsOverwritesNewFilesAndDeletionsApartInRsyncsItemizedTerms() throws Exception {
        RcloneLog log = read(
                "{\"level\":\"warning\",\"msg\":\"Skipped copy as --dry-run is set (size 4)\",\"object\":\"n\","
                        + "\"objectType\":\"*local.Object\",\"size\":4,\"skipped\":\"copy\"}",
                "{\"level\":\"warning\",\"msg\":\"Skipped move as --dry-run is set (size 9)\",\"object\":\"d/b\","
                        + "\"objectType\":\"*s3.Object\",\"size\":9,\"skipped\":\"move\"}",
                "{\"level\":\"warning\",\"msg\":\"Skipped copy as --dry-run is set (size 9)\",\"object\":\"d/b\","
                        + "\"objectType\":\"*local.Object\",\"size\":9,\"skipped\":\"copy\"}",
                "{\"level\":\"warning\",\"msg\":\"Skipped move into backup dir as --dry-run is set (size 2)\","
                        + "\"object\":\"gone\",\"objectType\":\"*s3.Object\",\"size\":2,\"skipped\":\"move into backup dir\"}",
                "{\"level\":\"warning\",\"msg\":\"\\nTransferred: 2 / 2\",\"stats\":{\"bytes\":13,\"checks\":5,"
                        + "\"deletes\":0,\"transfers\":2,\"eta\":null,\"fatalError\":false}}");
        RsyncRunner.Outcome outcome = log.outcome(RsyncRunner.Outcome.NOT_RUN);
        assertEquals(List.of(">f+++++++++ n", ">f.st...... d/b", "*deleting   gone"), outcome.itemized());
        assertEquals(2, outcome.files());
        assertEquals(13, outcome.bytes());
        assertEquals(1, outcome.deletionCount());
        assertEquals(5 + 1, outcome.destinationPathsBefore(), "the five compared and the one deleted");
    }

    @Test
    void displayedNamesMapBackToTheRootsBytes() throws Exception {
        byte[] invalid = {'d', '/', 'b', 'a', 'd', (byte) 0xff, '\n', 'x'};
        Files.createDirectories(dir.resolve("d"));
        Files.write(org.changeq.pipeline.PathBytes.resolve(dir, invalid), new byte[0]);
        assertEquals("d/bad\ufffd\u240ax", RcloneLog.Names.display(invalid));
        RcloneLog.Names names = new RcloneLog.Names(dir, Map.of());
        assertArrayEquals(invalid, names.bytes("d/bad\ufffd\u240ax"));
        assertArrayEquals("plain/name".getBytes(UTF_8), names.bytes("plain/name"));
        assertEquals("\u201b\u240a", RcloneLog.Names.display("\u240a".getBytes(UTF_8)), "a real symbol is quoted");
        assertEquals("bad\u201b\u201bFFname", RcloneLog.Names.display("bad\u201bFFname".getBytes(UTF_8)),
                "so is a real quote before what would read as a byte's code");
        RcloneLog log = read("{\"level\":\"info\",\"msg\":\"Copied (new)\",\"object\":\"d/bad\ufffd\u240ax\","
                + "\"objectType\":\"*local.Object\"}");
        assertEquals(List.of(">f+++++++++ d/bad\\xff\\nx"), log.outcome(RsyncRunner.Outcome.NOT_RUN).itemized());
    }
}
