package org.changeq.pipeline.state;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.changeq.pipeline.ExitCodeException;
import org.changeq.pipeline.ExitCodes;

/**
 * Every file changeq keeps (state, queue identity, locks, lists, metrics) is opened here, and nothing here
 * follows a symbolic link that another account than root could have made. The state directory belongs to the
 * service account, while root may run the programs by hand, with more rights than that account: a link planted
 * in the state directory must not turn such a run into a write (or a read) of a file the account could not
 * touch itself.
 *
 * <p>A path is entered one directory at a time, each opened relative to the one before ({@code openat}
 * through {@link SecureDirectoryStream}). A link is followed only while every directory so far, and the link
 * itself, belong to root: the administrator's layout (say {@code /var -> /data/var}). Any other link, and any
 * link at all once a directory of another owner was entered, is refused with {@link Refused}. Files are
 * opened with {@code O_NOFOLLOW}; a file is replaced by a new one (a temporary file created exclusively,
 * then renamed over it), never written in place, so a hard link to a foreign file is replaced, not written;
 * one opened in place (read, locked) must have no other name.
 *
 * <p>Stateless and thread-safe; every call opens and closes what it needs.
 */
public final class StateDirectory {

    /** The kernel's own limit on links followed in one lookup. */
    private static final int MAX_LINKS = 40;
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

    private StateDirectory() {
    }

    /** A symbolic link where changeq keeps a file or directory: refused, with the path and the fix. */
    public static final class Refused extends ExitCodeException {
        private static final long serialVersionUID = 1L;

        Refused(Path link) {
            super(ExitCodes.QUEUE_UNAVAILABLE, link + " is a symbolic link; changeq does not follow links in its "
                    + "state and queue directories (a link there could turn a run by root against other files): "
                    + "remove it (rm '" + link + "') and run again", null);
        }

        Refused(Path file, int names) {
            super(ExitCodes.QUEUE_UNAVAILABLE, file + " has " + names + " hard links; changeq does not open a file of "
                    + "its state and queue directories that has other names (one could be another user's file): "
                    + "remove it (rm '" + file + "') and run again", null);
        }
    }

    /**
     * Replaces {@code file} with {@code content} through a temporary file in the same directory that is renamed
     * over it: readers see the old content or the new, never a torn file. Missing directories on the way are
     * created.
     *
     * @param durable also fsync the file and the directory (state that must survive a power cut)
     */
    public static void replace(Path file, byte[] content, boolean durable) throws IOException {
        Path absolute = file.toAbsolutePath().normalize();
        try (Opened opened = open(absolute.getParent(), true)) {
            SecureDirectoryStream<Path> directory = opened.stream();
            Path name = absolute.getFileName();
            refuseLink(directory, opened.path(), name);
            // A dot-name: node_exporter's textfile collector reads only *.prom.
            Path temp = Path.of("." + name + ".tmp");
            try {
                directory.deleteFile(temp); // a crashed run's, or anything planted there: unlinked, never followed
            } catch (NoSuchFileException e) {
                // the usual case
            }
            try (SeekableByteChannel channel = directory.newByteChannel(temp, Set.of(StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE, NOFOLLOW))) {
                ByteBuffer buffer = ByteBuffer.wrap(content);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                if (durable) {
                    ((FileChannel) channel).force(true);
                }
            } catch (FileAlreadyExistsException e) {
                throw new IOException("cannot create " + opened.path().resolve(temp) + ": another process created it "
                        + "at the same moment; run again", e);
            } catch (AccessDeniedException e) {
                throw denied(opened.path(), e);
            }
            directory.move(temp, directory, name);
            if (durable) {
                try (SeekableByteChannel self = directory.newByteChannel(Path.of("."), Set.of(StandardOpenOption.READ))) {
                    ((FileChannel) self).force(true);
                }
            }
        }
    }

    /**
     * The content of {@code file}.
     *
     * @throws NoSuchFileException it, or a directory on the way, does not exist
     */
    public static byte[] read(Path file) throws IOException {
        try (FileChannel channel = openForReading(file)) {
            return Channels.newInputStream(channel).readAllBytes();
        }
    }

    /**
     * The content of {@code file}; empty when it, or a directory on the way, does not exist: a state file that is
     * written only once there is something to say.
     */
    public static Optional<byte[]> readIfPresent(Path file) throws IOException {
        try {
            return Optional.of(read(file));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /**
     * Opens {@code file} for locking (and for the holder's pid), creating it and the directories on the way if
     * missing.
     */
    public static FileChannel openLock(Path file) throws IOException {
        Path absolute = file.toAbsolutePath().normalize();
        try (Opened opened = open(absolute.getParent(), true)) {
            return (FileChannel) openFile(opened, absolute.getFileName(),
                    Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE));
        }
    }

    /**
     * Opens {@code file} for reading, say to test a lock on it.
     *
     * @throws NoSuchFileException it, or a directory on the way, does not exist
     */
    public static FileChannel openForReading(Path file) throws IOException {
        Path absolute = file.toAbsolutePath().normalize();
        try (Opened opened = open(absolute.getParent(), false)) {
            return (FileChannel) openFile(opened, absolute.getFileName(), Set.of(StandardOpenOption.READ));
        }
    }

    /**
     * A new, empty {@code file} to write, in place of any file there (which is unlinked, never written
     * through); missing directories on the way are created. For files too large to replace through a copy.
     */
    public static OutputStream newFile(Path file) throws IOException {
        Path absolute = file.toAbsolutePath().normalize();
        try (Opened opened = open(absolute.getParent(), true)) {
            Path name = absolute.getFileName();
            refuseLink(opened.stream(), opened.path(), name);
            try {
                opened.stream().deleteFile(name);
            } catch (NoSuchFileException e) {
                // the first run
            }
            return Channels.newOutputStream(openFile(opened, name,
                    Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)));
        }
    }

    /** Removes {@code file} (a link is removed, not followed); returns false when there was none. */
    public static boolean deleteIfExists(Path file) throws IOException {
        Path absolute = file.toAbsolutePath().normalize();
        try (Opened opened = open(absolute.getParent(), false)) {
            opened.stream().deleteFile(absolute.getFileName());
            return true;
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    /**
     * The names in {@code directory} that end with {@code suffix}, or none when it does not exist; read each
     * with {@link #read(Path)} on {@code directory.resolve(name)}.
     */
    public static List<Path> list(Path directory, String suffix) throws IOException {
        List<Path> names = new ArrayList<>();
        try (Opened opened = open(directory.toAbsolutePath().normalize(), false)) {
            for (Path entry : opened.stream()) {
                if (entry.getFileName().toString().endsWith(suffix)) {
                    names.add(entry.getFileName());
                }
            }
        } catch (NoSuchFileException e) {
            return List.of();
        }
        return names;
    }

    /** Creates {@code directory} and those on the way if missing. */
    public static void createDirectories(Path directory) throws IOException {
        open(directory.toAbsolutePath().normalize(), true).close();
    }

    private static SeekableByteChannel openFile(Opened opened, Path name, Set<StandardOpenOption> options)
            throws IOException {
        refuseLink(opened.stream(), opened.path(), name);
        Set<OpenOption> withoutFollowing = new HashSet<>(options);
        withoutFollowing.add(NOFOLLOW);
        SeekableByteChannel channel;
        try {
            channel = opened.stream().newByteChannel(name, withoutFollowing);
        } catch (AccessDeniedException e) {
            throw denied(opened.path().resolve(name), e);
        } catch (FileSystemException e) {
            // Replaced by a link since the check: O_NOFOLLOW fails with ELOOP.
            refuseLink(opened.stream(), opened.path(), name);
            throw e;
        }
        try {
            refuseHardLink(opened, name);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        return channel;
    }

    /**
     * A hard link to another user's file is as good as a symbolic link to it when the file is opened in place (a
     * lock's pid, a read). Java gives no fstat of a channel: the file opened is the one the directory names before
     * and after the open, and the path, resolved again, must lead to that same file.
     */
    private static void refuseHardLink(Opened opened, Path name) throws IOException {
        Path path = opened.path().resolve(name);
        Optional<PosixFileAttributes> named = attributes(opened.stream(), name);
        Map<String, Object> byPath = Files.readAttributes(path, "unix:nlink,fileKey", NOFOLLOW);
        if (named.isEmpty() || !named.get().fileKey().equals(byPath.get("fileKey"))) {
            throw new IOException(path + " was replaced while it was opened; run again");
        }
        int names = (Integer) byPath.get("nlink");
        if (names > 1) {
            throw new Refused(path, names);
        }
    }

    private static void refuseLink(SecureDirectoryStream<Path> directory, Path directoryPath, Path name)
            throws IOException {
        Optional<PosixFileAttributes> attributes = attributes(directory, name);
        if (attributes.isPresent() && attributes.get().isSymbolicLink()) {
            throw new Refused(directoryPath.resolve(name));
        }
        if (attributes.isPresent() && !attributes.get().isRegularFile()) {
            // A FIFO would block the open for good.
            throw new FileSystemException(directoryPath.resolve(name).toString(), null,
                    "not a regular file; move it away");
        }
    }

    private static Optional<PosixFileAttributes> attributes(SecureDirectoryStream<Path> directory, Path name)
            throws IOException {
        try {
            return Optional.of(directory.getFileAttributeView(name, PosixFileAttributeView.class, NOFOLLOW)
                    .readAttributes());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /**
     * The same failure naming the whole path: a call relative to an open directory names only the last name, which
     * tells an operator nothing.
     */
    private static AccessDeniedException denied(Path path, AccessDeniedException e) {
        AccessDeniedException named = new AccessDeniedException(path.toString(), null, e.getReason());
        named.initCause(e);
        return named;
    }

    /** An open directory and the path it was reached by (for messages, and to create what is missing). */
    private record Opened(SecureDirectoryStream<Path> stream, Path path) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            stream.close();
        }
    }

    private static Opened open(Path absolute, boolean create) throws IOException {
        Path target = absolute;
        for (int links = 0; ; links++) {
            Path reached = target.getRoot();
            // Every directory entered, kept open until the end: their owners matter only when a link shows up.
            List<SecureDirectoryStream<Path>> entered = new ArrayList<>(List.of(openRoot(reached)));
            Path followed = null;
            try {
                for (int i = 0; i < target.getNameCount(); i++) {
                    SecureDirectoryStream<Path> current = entered.get(entered.size() - 1);
                    Path name = target.getName(i);
                    Optional<PosixFileAttributes> entry = attributes(current, name);
                    if (entry.isEmpty() && create) {
                        // Java has no mkdirat: created by path, then entered relative and without following, so a
                        // link swapped in meanwhile is refused below rather than used.
                        try {
                            Files.createDirectory(reached.resolve(name));
                        } catch (FileAlreadyExistsException e) {
                            // made by another process meanwhile
                        }
                        entry = attributes(current, name);
                    }
                    if (entry.isEmpty()) {
                        throw new NoSuchFileException(reached.resolve(name).toString());
                    }
                    if (entry.get().isSymbolicLink()) {
                        if (links >= MAX_LINKS || !ownedByRoot(entry.get(), entered)) {
                            throw new Refused(reached.resolve(name));
                        }
                        // Only root can change anything above here, so resolving the path is resolving these fds.
                        Path resolved = reached.resolve(Files.readSymbolicLink(reached.resolve(name)));
                        int count = target.getNameCount();
                        followed = (i + 1 < count ? resolved.resolve(target.subpath(i + 1, count)) : resolved)
                                .normalize();
                        break;
                    }
                    try {
                        entered.add(current.newDirectoryStream(name, NOFOLLOW));
                    } catch (AccessDeniedException e) {
                        throw denied(reached.resolve(name), e);
                    } catch (FileSystemException e) {
                        if (attributes(current, name).map(PosixFileAttributes::isSymbolicLink).orElse(false)) {
                            throw new Refused(reached.resolve(name));
                        }
                        throw e;
                    }
                    reached = reached.resolve(name);
                }
            } catch (IOException | RuntimeException e) {
                closeAll(entered);
                throw e;
            }
            if (followed == null) {
                SecureDirectoryStream<Path> last = entered.remove(entered.size() - 1);
                closeAll(entered);
                return new Opened(last, reached);
            }
            closeAll(entered);
            target = followed;
        }
    }

    /** Whether {@code link} and every directory above it belong to root, so no other account can have made it. */
    private static boolean ownedByRoot(PosixFileAttributes link, List<SecureDirectoryStream<Path>> above)
            throws IOException {
        UserPrincipal root = FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByName("root");
        if (!link.owner().equals(root)) {
            return false;
        }
        for (SecureDirectoryStream<Path> directory : above) {
            if (!directory.getFileAttributeView(PosixFileAttributeView.class).readAttributes().owner().equals(root)) {
                return false;
            }
        }
        return true;
    }

    private static void closeAll(List<SecureDirectoryStream<Path>> directories) throws IOException {
        for (SecureDirectoryStream<Path> directory : directories) {
            directory.close();
        }
    }

    private static SecureDirectoryStream<Path> openRoot(Path root) throws IOException {
        DirectoryStream<Path> stream = Files.newDirectoryStream(root);
        if (stream instanceof SecureDirectoryStream<Path> secure) {
            return secure;
        }
        stream.close();
        throw new IOException("this platform cannot open directories relative to each other (no openat); "
                + "changeq needs Linux");
    }
}
