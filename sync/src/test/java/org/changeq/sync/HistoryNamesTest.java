package org.changeq.sync;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class HistoryNamesTest {

    @Test
    void aRunIsNamedByItsSecondAndNeverSharesOneWithThePreviousRun() {
        Instant start = Instant.parse("2026-12-07T12:00:00.400Z");
        assertEquals("2026-12-07T12-00-00Z", History.runName(start, Optional.empty()));
        assertEquals("2026-12-07T12-00-00Z", History.runName(start, Optional.of(Instant.parse("2026-12-07T11:59:59.900Z"))));
        assertEquals("2026-12-07T12-00-01Z", History.runName(start, Optional.of(Instant.parse("2026-12-07T12:00:00.100Z"))),
                "the previous run finished within this second");
        assertEquals(Optional.of(Instant.parse("2026-12-07T12:00:01Z")), History.runStart("2026-12-07T12-00-01Z"));
        assertEquals(Optional.empty(), History.runStart("not-a-run"));
    }

    @Test
    void listedLinesGiveRunPathSizeAndTimeByteExact() {
        History.Entry file = History.parse(line(">f+++++++++ 1,234 2026/12/07-12:00:00 .changeq-history/2026-12-07T12-00-00Z/d/new\\#012line\\#377"))
                .orElseThrow();
        assertEquals("2026-12-07T12-00-00Z", file.run());
        assertArrayEquals("d/new\nline\u00ff".getBytes(ISO_8859_1), file.path());
        assertEquals(1234, file.size());
        assertEquals("2026/12/07-12:00:00", file.modified());
        History.Entry run = History.parse(line("cd+++++++++ 4,096 2026/12/07-12:00:00 .changeq-history/2026-12-07T12-00-00Z/"))
                .orElseThrow();
        assertTrue(run.directory());
        assertEquals(0, run.path().length);
        assertEquals(Optional.empty(), History.parse(line("cd+++++++++ 4,096 2026/12/07-12:00:00 ./")));
        assertEquals(Optional.empty(), History.parse(line("cd+++++++++ 4,096 2026/12/07-12:00:00 .changeq-history/")));
    }

    private static byte[] line(String text) {
        return text.getBytes(ISO_8859_1);
    }
}
