package org.changeq.sync;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.PathBytes;
import org.changeq.pipeline.config.RcloneDestination;
import org.changeq.pipeline.plan.DeletionLists;
import org.changeq.pipeline.state.StateDirectory;

/**
 * The rclone destination kind, first step: the files pass ({@code rclone copy --files-from-raw}) alone. Every other
 * pass, variant and the history are not there yet, and no command reaches this class for a configured route
 * ({@link Transfer#refusal}) until they are. Measured facts it builds on: docs/rclone.md.
 */
final class RcloneTransfer implements Transfer {

    static final String RCLONE = "rclone";
    /** An outcome in rsync's terms that is a failure, neither partial nor a lost connection: the cursor stays. */
    private static final int RSYNC_ERROR = 1;
    /** rclone 1.60's S3 client refuses every command while it is set ("LoadCustomCABundleError"). */
    private static final Set<String> UNSET = Set.of("AWS_CA_BUNDLE");

    private final RcloneDestination destination;
    private final Path root;
    private final String source;

    RcloneTransfer(RcloneDestination destination, Path root, boolean dryRun) {
        if (dryRun) {
            throw notYet("a dry run");
        }
        this.destination = destination;
        this.root = root;
        this.source = root + "/";
    }

    /**
     * The NUL-separated paths of {@code list}: rclone reads them one a line from a list of its own beside it
     * ({@code --files-from-raw}, which keeps {@code #}, {@code ;} and leading spaces as names). Two kinds go on their
     * own instead: a name with a newline, which no line can carry ({@code copyto}), and a directory, which the list
     * skips without a word (1.60 copies only the files it names) where a whole subtree is meant ({@code copy}).
     */
    @Override
    public Pass recursivePass(Path list) {
        return new ListedCopy(list, list.resolveSibling(list.getFileName() + ".lines"));
    }

    private final class ListedCopy implements Pass {

        private final Path list;
        private final Path lines;

        ListedCopy(Path list, Path lines) {
            this.list = list;
            this.lines = lines;
        }

        @Override
        public List<String> command() {
            return rclone("copy", "--files-from-raw", lines.toString(), "--", source, destination.target());
        }

        @Override
        public RsyncRunner.Outcome run(Consumer<byte[]> itemized, RsyncProgress progress)
                throws SyncException, InterruptedException {
            List<Entry> alone = new ArrayList<>();
            try {
                StateDirectory.replace(lines, asLines(StateDirectory.read(list), alone), false);
            } catch (IOException e) {
                throw new SyncException(ExitCodes.SOFTWARE, "cannot write rclone's list " + lines + " from " + list + ": "
                        + e + "; check that the user changeq-sync runs as may write " + lines.getParent(), e);
            }
            RsyncRunner.Outcome outcome = RsyncRunner.run(command(), UNSET, itemized, progress);
            for (Entry entry : alone) {
                byte[] name = entry.name();
                if (!outcome.succeeded()) {
                    break;
                }
                if (!ByteStrings.isValidUtf8(name)) {
                    // A process argument is a string: this name cannot be passed, and must not be passed altered.
                    return outcome.plus(new RsyncRunner.Outcome(RSYNC_ERROR, 0, 0, 0, 0, 0, List.of(), List.of(),
                            List.of("cannot copy " + ByteStrings.escape(name) + " to " + destination.target() + ": a name"
                                    + " that is not UTF-8 cannot be given to rclone as an argument")));
                }
                String decoded = new String(name, StandardCharsets.UTF_8);
                outcome = outcome.plus(RsyncRunner.run(rclone(entry.subtree() ? "copy" : "copyto", "--", source + decoded,
                        destination.target() + "/" + decoded), UNSET, itemized, progress));
            }
            return outcome;
        }
    }

    /** An entry of a pass's list copied on its own; a subtree is a directory, copied whole. */
    private record Entry(byte[] name, boolean subtree) {
    }

    /** {@code nulSeparated} one name a line; names holding a newline, and directories, go to {@code alone} instead. */
    private byte[] asLines(byte[] nulSeparated, List<Entry> alone) {
        ByteArrayOutputStream lines = new ByteArrayOutputStream(nulSeparated.length);
        int start = 0;
        for (int i = 0; i < nulSeparated.length; i++) {
            if (nulSeparated[i] != 0) {
                continue;
            }
            boolean newline = false;
            for (int j = start; j < i; j++) {
                newline |= nulSeparated[j] == '\n';
            }
            byte[] name = Arrays.copyOfRange(nulSeparated, start, i);
            boolean subtree = Files.isDirectory(PathBytes.resolve(root, name), LinkOption.NOFOLLOW_LINKS);
            if (newline || subtree) {
                alone.add(new Entry(name, subtree));
            } else {
                lines.write(nulSeparated, start, i - start);
                lines.write('\n');
            }
            start = i + 1;
        }
        return lines.toByteArray();
    }

    private List<String> rclone(String... args) {
        List<String> command = new ArrayList<>(List.of(RCLONE, "--config", destination.config().toString(),
                // A missing bucket is an error, never one made: a typo must not receive the tree.
                "--s3-no-check-bucket"));
        command.addAll(List.of(args));
        RsyncTransfer.requireEncodable(command);
        return List.copyOf(command);
    }

    private static UnsupportedOperationException notYet(String what) {
        return new UnsupportedOperationException(what + " of an rclone destination is not there yet");
    }

    @Override
    public Transfer asDryRun() {
        throw notYet("a dry run");
    }

    @Override
    public Transfer asFailureCheck() {
        throw notYet("a failure check");
    }

    @Override
    public Transfer limitingDeletions(long limit) {
        throw notYet("the deletion limit");
    }

    @Override
    public Transfer withoutDeletions() {
        throw notYet("a full sync without deletions");
    }

    @Override
    public Transfer keepingHistoryIn(String run) {
        throw notYet("history");
    }

    @Override
    public Pass fullPass() {
        throw notYet("the full pass");
    }

    @Override
    public Pass fullPass(boolean delete) {
        throw notYet("the full pass");
    }

    @Override
    public Pass contentPass(Path list) {
        throw notYet("the content pass");
    }

    @Override
    public Pass deletionPass(DeletionLists lists) {
        throw notYet("the deletion pass");
    }

    @Override
    public Pass directoryPass(Path list) {
        throw notYet("the directory pass");
    }

    @Override
    public Pass extraPass(Path directories) {
        throw notYet("verification");
    }

    @Override
    public Pass fetchMarker(Path directory) {
        throw notYet("the destination marker");
    }

    @Override
    public Pass placeMarker(Path file) {
        throw notYet("the destination marker");
    }

    @Override
    public History history(Path scratch) {
        throw notYet("history");
    }
}
