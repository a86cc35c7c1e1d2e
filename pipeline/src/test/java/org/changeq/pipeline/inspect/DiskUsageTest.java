package org.changeq.pipeline.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskUsageTest {

    private static final long MIB = 1024 * 1024;

    @TempDir
    Path dir;

    @Test
    void aSparseFileCountsWhatIsWrittenNotItsApparentSize() throws IOException {
        Path sparse = dir.resolve("sparse.cq4");
        try (RandomAccessFile file = new RandomAccessFile(sparse.toFile(), "rw")) {
            file.setLength(80 * MIB);
            file.write(new byte[4096]);
        }
        Path dense = Files.write(dir.resolve("dense.cq4"), new byte[(int) MIB]);

        long sparseBytes = DiskUsage.allocatedBytes(List.of(sparse));
        long both = DiskUsage.allocatedBytes(List.of(sparse, dense));

        assertEquals(80 * MIB, Files.size(sparse));
        assertTrue(sparseBytes > 0 && sparseBytes < MIB, sparseBytes + " bytes");
        assertTrue(both - sparseBytes >= MIB, both + " bytes with a dense MiB");
        assertEquals(0, DiskUsage.allocatedBytes(List.of()));
    }

    @Test
    void aFileDuCannotReadIsAnErrorThatSaysWhy() {
        IOException failure = assertThrows(IOException.class,
                () -> DiskUsage.allocatedBytes(List.of(dir.resolve("missing.cq4"))));
        assertTrue(failure.getMessage().contains("missing.cq4"), failure.getMessage());
    }
}
