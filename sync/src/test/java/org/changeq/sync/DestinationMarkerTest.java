package org.changeq.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.changeq.pipeline.config.ChangeqConfig;
import org.changeq.pipeline.config.TestConfigs;
import org.junit.jupiter.api.Test;

class DestinationMarkerTest {

    private static Optional<UUID> decode(String content) {
        return DestinationMarker.decode(content.getBytes(StandardCharsets.UTF_8));
    }

    private static RsyncTransfer commands(String dest) {
        ChangeqConfig config = TestConfigs.config("/srv/nfs", "[]", "{root: nfs, dest: '" + dest + "'}");
        return new RsyncTransfer(config.route("r"), config.root("nfs"), false);
    }

    @Test
    void aMarkerRoundTripsAndNothingElseDecodes() {
        UUID id = UUID.randomUUID();
        assertEquals(Optional.of(id), DestinationMarker.decode(DestinationMarker.encode(id)));
        assertEquals("changeq-destination 1\nid " + id + "\n",
                new String(DestinationMarker.encode(id), StandardCharsets.UTF_8));
        assertEquals(Optional.empty(), decode("changeq-destination 2\nid " + id + "\n"), "a later version");
        assertEquals(Optional.empty(), decode("changeq-destination 1\nid not-a-uuid\n"));
        assertEquals(Optional.empty(), decode("changeq-destination 1\nid " + id + "\nmore\n"));
        assertEquals(Optional.empty(), decode(""));
        assertEquals(Optional.empty(), DestinationMarker.decode(new byte[] {(byte) 0xff, 0, '\n'}));
    }

    @Test
    void theMarkerLiesAtTheTopOfEveryKindOfRemoteDestination() {
        Path into = Path.of("/tmp/x");
        assertEquals("rsync://nas/backup/nfs/.changeq-destination", fetched(commands("rsync://nas/backup/nfs"), into));
        assertEquals("rsync://nas/backup/nfs/.changeq-destination", fetched(commands("rsync://nas/backup/nfs/"), into));
        assertEquals("nas::backup/.changeq-destination", fetched(commands("nas::backup"), into));
        assertEquals("nas:.changeq-destination", fetched(commands("nas:"), into), "the login's home directory");
        assertEquals("nas:/volume1/nfs/", last(commands("nas:/volume1/nfs").placeMarker(into.resolve("m")).command()));
    }

    @Test
    void everyPassToARemoteDestinationExcludesTheMarkerAndALocalOneDoesNot() {
        String rule = "--filter=- /" + DestinationMarker.NAME;
        assertTrue(commands("rsync://nas/backup/nfs").fullPass(true).command().contains(rule));
        assertTrue(commands("rsync://nas/backup/nfs").recursivePass(Path.of("/l")).command().contains(rule));
        assertFalse(commands("/mnt/backup").fullPass(true).command().contains(rule));
    }

    private static String fetched(RsyncTransfer commands, Path into) {
        List<String> args = commands.fetchMarker(into).command();
        return args.get(args.size() - 2);
    }

    private static String last(List<String> args) {
        return args.get(args.size() - 1);
    }
}
