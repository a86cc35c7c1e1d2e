package org.changeq.nativetests.tracker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.changeq.pipeline.manifest.RecordType;
import org.changeq.pipeline.state.StateLayout;
import org.changeq.pipeline.state.TrackerRootsFile;
import org.changeq.pipeline.state.TrackerRootsFile.Condition;
import org.changeq.pipeline.state.TrackerRootsFile.RootStatus;
import org.changeq.pipeline.testing.ExpectLog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

/**
 * A root on a real tmpfs, unmounted and mounted again under a running tracker: the loss is recorded and shown in
 * the roots file, and the tracker watches the root again on its own. Needs root (mount); skipped without it.
 */
class LostRootTest {

    @TempDir
    Path temp;

    private Path root;

    @AfterEach
    void unmountWhateverIsLeft() throws IOException, InterruptedException {
        if (root != null) {
            while (run("umount", "-l", root.toString()) == 0) {
                // A test may leave one file system over another.
            }
        }
    }

    @Test
    @ExpectLog(level = Level.ERROR, logger = "TreeWatcher", contains = "was unmounted")
    @ExpectLog(level = Level.WARN, logger = "TreeWatcher", contains = "is watched again since it was unmounted")
    void anUnmountedRootIsReportedAndWatchedAgainOnceMountedWithoutARestart() throws Exception {
        root = Files.createDirectories(temp.resolve("root"));
        mountTmpfsOrSkip();
        try (TrackedTree tree = TrackedTree.start(temp)) {
            Files.writeString(tree.path("before"), "1");
            tree.await(RecordType.CHANGE, "before");
            TrackerRootsFile rootsFile = new StateLayout(tree.state).trackerRoots();
            assertEquals(Condition.WATCHED, rootStatus(rootsFile).condition());

            assertEquals(0, run("umount", root.toString()), "umount " + root);
            awaitCondition(rootsFile, Condition.UNMOUNTED);
            assertTrue(rootStatus(rootsFile).detail().contains("mount " + root), rootStatus(rootsFile).detail());
            tree.await("an OVERFLOW for the unmounted root", record -> record.type() == RecordType.OVERFLOW);
            // What the bare mount point shows is not the root: nothing there is watched.
            Files.writeString(root.resolve("on-the-mount-point"), "x");

            mountTmpfsOrSkip();
            // Written once the new tree is watched and its OVERFLOW published; the writer may fold that OVERFLOW
            // into the earlier one while no sync has claimed it, so the records alone cannot tell.
            awaitCondition(rootsFile, Condition.WATCHED);
            Files.createDirectories(tree.path("after/deeper"));
            Files.writeString(tree.path("after/deeper/f"), "2");
            tree.await(RecordType.CHANGE, "after/deeper/f");

            assertTrue(tree.records().stream().noneMatch(record -> TrackedTree.text(record.path())
                    .equals("on-the-mount-point")), "the bare mount point was watched: " + tree.records());
        }
    }

    @Test
    @ExpectLog(level = Level.WARN, logger = "TreeWatcher", contains = "was replaced by another file system")
    @ExpectLog(level = Level.WARN, logger = "TreeWatcher", contains = "is watched again since it was replaced")
    void aFileSystemMountedOverAWatchedRootIsWatchedInsteadOfTheHiddenDirectory() throws Exception {
        root = Files.createDirectories(temp.resolve("root"));
        Files.createDirectories(root.resolve("hidden"));
        try (TrackedTree tree = TrackedTree.start(temp)) {
            TrackerRootsFile rootsFile = new StateLayout(tree.state).trackerRoots();
            mountTmpfsOrSkip();
            TrackedTree.awaitCondition(() -> rootsFile.path() + " to say the root was replaced", () -> {
                try {
                    return rootStatus(rootsFile).detail().contains("another file system");
                } catch (IOException e) {
                    return false;
                }
            });
            assertEquals(Condition.WATCHED, rootStatus(rootsFile).condition());
            tree.await("an OVERFLOW for the replaced root", record -> record.type() == RecordType.OVERFLOW);

            Files.writeString(tree.path("on-the-new-file-system"), "1");
            tree.await(RecordType.CHANGE, "on-the-new-file-system");
        }
    }

    private static RootStatus rootStatus(TrackerRootsFile file) throws IOException {
        List<RootStatus> roots = file.read().orElseThrow().roots();
        assertEquals(1, roots.size(), roots.toString());
        return roots.get(0);
    }

    private static void awaitCondition(TrackerRootsFile file, Condition condition) {
        TrackedTree.awaitCondition(() -> file.path() + " to say " + condition.token(), () -> {
            try {
                return file.read().map(snapshot -> snapshot.roots().get(0).condition() == condition).orElse(false);
            } catch (IOException e) {
                return false;
            }
        });
    }

    private void mountTmpfsOrSkip() throws IOException, InterruptedException {
        if (run("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", root.toString()) != 0) {
            String reason = "cannot mount a tmpfs at the root (needs root and mount rights)";
            System.out.println("  skipped: " + reason);
            Assumptions.abort(reason);
        }
    }

    private static int run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return process.waitFor();
    }
}
