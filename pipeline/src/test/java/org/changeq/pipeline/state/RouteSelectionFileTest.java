package org.changeq.pipeline.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RouteSelectionFileTest {

    private static final String FINGERPRINT = "0123456789abcdef".repeat(4);

    @TempDir
    Path dir;

    @Test
    void roundTrips() throws IOException {
        RouteSelectionFile file = new StateLayout(dir).routeSelection("r");
        assertEquals(RouteSelectionFile.Recorded.NONE, file.read(), "a route from before selections were recorded");
        file.write(FINGERPRINT);
        assertEquals(new RouteSelectionFile.Recorded(Optional.of(FINGERPRINT), Optional.empty()), file.read());
        assertEquals("changeq-route-selection 1 " + FINGERPRINT + "\n",
                Files.readString(dir.resolve("cursors/r.selection")));
    }

    @Test
    void whatThisBuildCannotReadIsNamedNotGuessed() {
        Path source = dir.resolve("r.selection");
        for (String text : new String[] {"", "garbage", "changeq-route-selection 2 " + FINGERPRINT,
                "changeq-route-selection 1 " + FINGERPRINT.toUpperCase(), "changeq-route-selection 1 abc"}) {
            RouteSelectionFile.Recorded recorded = RouteSelectionFile.decode(text, source);
            assertEquals(Optional.empty(), recorded.fingerprint(), text);
            assertTrue(recorded.unreadable().orElseThrow().startsWith(source.toString()), text);
        }
        assertThrows(IllegalArgumentException.class, () -> RouteSelectionFile.encode("not hex"));
    }
}
