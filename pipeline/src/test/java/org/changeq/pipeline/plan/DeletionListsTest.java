package org.changeq.pipeline.plan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeletionListsTest {

    @TempDir
    Path dir;

    /** rsync reads a backslash as an escape only in a pattern with a wildcard: names are escaped exactly then. */
    @Test
    void namesBecomeExactRsyncPatternsWhateverBytesTheyHold() throws IOException {
        DeletionLists lists = new DeletionLists(dir.resolve("dirs"), dir.resolve("filter"), dir.resolve("renamed"));
        byte[] newline = {'n', 'l', '\n', (byte) 0xff};
        try (DeletionLists.Writer writer = lists.open()) {
            for (String name : new String[] {"w*ild/z", "b\\s", "b\\s[1]?", " sp "}) {
                byte[] path = name.getBytes(StandardCharsets.UTF_8);
                writer.deleted(path, 0, path.length);
            }
            writer.deleted(newline, 0, newline.length);
            writer.renamedAway(newline, newline.length);
        }
        assertEquals("R /w\\*ild/z\0R /b\\s\0R /b\\\\s\\[1]\\?\0R / sp \0R /nl\n\uFFFD\0P /w\\*ild/*\0P /*\0",
                new String(Files.readAllBytes(lists.filter()), StandardCharsets.UTF_8));
        assertEquals("./w*ild/.\0./.\0", Files.readString(lists.directories()));
        assertArrayEquals(new byte[] {'n', 'l', '\n', (byte) 0xff, 0}, Files.readAllBytes(lists.renamed()));
    }
}
