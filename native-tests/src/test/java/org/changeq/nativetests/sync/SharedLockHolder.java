package org.changeq.nativetests.sync;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A process that holds a shared lock on a file, as a reader of a route's history holds its lock: says {@code locked}
 * on stdout once it holds it, and releases it when its stdin closes.
 */
public final class SharedLockHolder {

    private SharedLockHolder() {
    }

    public static void main(String[] args) throws IOException {
        Path file = Path.of(args[0]);
        Files.createDirectories(file.getParent());
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE); FileLock lock = channel.lock(0, Long.MAX_VALUE, true)) {
            System.out.println("locked");
            System.out.flush();
            while (System.in.read() >= 0) {
                // Held until the test closes stdin.
            }
        }
    }
}
