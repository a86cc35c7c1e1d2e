package org.changeq.pipeline;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Whether this process can read a directory, judged by doing it. {@code access(2)}, behind
 * {@link Files#isReadable} and {@link Files#isExecutable}, checks the <em>real</em> user and ignores effective
 * capabilities: a service that reads every root through {@code CAP_DAC_READ_SEARCH} would be told that another
 * user's 0700 directory is unreadable although it reads it. Opening and looking into the directory uses the same
 * credentials as the walk and rsync will. Stateless; any thread.
 */
public final class DirectoryAccess {

    private DirectoryAccess() {
    }

    /** Whether this process can list {@code directory} and look at what is in it (read and search permission). */
    public static boolean canListAndSearch(Path directory) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
            // Listing needs read permission only; a name below the directory needs search permission on it, and
            // "." is a name below every directory, even an empty one.
            Files.readAttributes(directory.resolve("."), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            return true;
        } catch (IOException | SecurityException e) {
            return false;
        }
    }
}
