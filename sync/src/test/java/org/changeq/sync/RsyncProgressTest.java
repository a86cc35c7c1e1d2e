package org.changeq.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.changeq.sync.RsyncProgress.Figures;
import org.junit.jupiter.api.Test;

/** The lines rsync 3.2.7 printed here with {@code --info=progress2 --itemize-changes}, between its carriage returns. */
class RsyncProgressTest {

    @Test
    void aLineInTheMiddleOfAFileTellsTheBytesOnly() {
        assertEquals(Optional.of(new Figures(2_129_920, -1, -1, -1, false)),
                Figures.parse("      2,129,920  23%    1.98MB/s    0:00:03  "));
    }

    @Test
    void aLineAfterAFileTellsTheFilesSentAndThePathsStillToCheck() {
        assertEquals(Optional.of(new Figures(3_000_000, 1, 53, 55, true)),
                Figures.parse("      3,000,000  33%    2.10MB/s    0:00:01 (xfr#1, to-chk=53/55)"));
        assertEquals(Optional.of(new Figures(0, 0, 1000, 12_201, false)),
                Figures.parse("              0   0%    0.00kB/s    0:00:00 (xfr#0, ir-chk=1000/12201)"),
                "ir-chk: the file list is still being built");
    }

    @Test
    void noOtherLineOfRsyncIsProgress() {
        for (String line : new String[] {">f+++++++++ 12,345  1% 3.00kB/s 0:00:01", ">f+++++++++ f1", "cd+++++++++ d/",
            "*deleting   old", "Number of files: 56 (reg: 53, dir: 3)", "Total transferred file size: 9,000,150 bytes",
            "sent 9,004,361 bytes  received 1,035 bytes  1,636,799.27 bytes/sec", "total size is 9,000,150  speedup is 1.00",
            "", "   "}) {
            assertEquals(Optional.empty(), Figures.parse(line), line);
        }
    }
}
