package org.changeq.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sysctl and tmpfiles snippets. */
class SnippetsTest {
    private static final int CHANGEQ_ID = 4242;

    @TempDir
    Path root;

    @Test
    void sysctlRaisesBothInotifyLimitsToKernelKeysThatExist() throws Exception {
        Map<String, Long> values = new LinkedHashMap<>();
        for (String line : Files.readAllLines(ModuleFiles.source("sysctl/60-changeq-inotify.conf"))) {
            if (!line.isBlank() && !line.startsWith("#")) {
                String[] keyValue = line.split("=", 2);
                values.put(keyValue[0].strip(), Long.valueOf(keyValue[1].strip()));
            }
        }
        assertEquals(List.of("fs.inotify.max_user_watches", "fs.inotify.max_queued_events"), List.copyOf(values.keySet()));
        assertTrue(values.get("fs.inotify.max_user_watches") >= 1 << 20, values.toString());
        assertTrue(values.get("fs.inotify.max_queued_events") >= 1 << 16, values.toString());
        for (String key : values.keySet()) {
            Path proc = Path.of("/proc/sys", key.replace('.', '/'));
            assertTrue(Files.exists(proc), key + " exists as " + proc);
        }
    }

    @Test
    void tmpfilesCreatesTheStateTreeOwnedByChangeq() throws Exception {
        Path tmpfiles = ModuleFiles.onPath("systemd-tmpfiles");
        Assumptions.assumeTrue(tmpfiles != null, "systemd-tmpfiles is not installed; skipping the tmpfiles check");
        Assumptions.assumeTrue((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0,
                "not root: systemd-tmpfiles cannot chown to changeq; skipping the tmpfiles check");
        // --root resolves users from the root's own /etc/passwd, so the host needs no changeq user.
        Files.createDirectories(root.resolve("etc"));
        Files.writeString(root.resolve("etc/passwd"), "changeq:x:" + CHANGEQ_ID + ":" + CHANGEQ_ID + "::/var/lib/changeq:/usr/sbin/nologin\n");
        Files.writeString(root.resolve("etc/group"), "changeq:x:" + CHANGEQ_ID + ":\n");

        ModuleFiles.Result result = ModuleFiles.run(root, List.of(tmpfiles.toString(), "--create", "--root=" + root,
                ModuleFiles.source("tmpfiles/changeq.conf").toString()));
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("", result.stderr(), result.toString());

        for (String dir : List.of("var/lib/changeq", "var/lib/changeq/queue", "var/lib/changeq/state",
                "var/lib/changeq/state/flags")) {
            Path created = root.resolve(dir);
            assertTrue(Files.isDirectory(created), dir);
            assertEquals(0750, (Integer) Files.getAttribute(created, "unix:mode") & 07777, dir + " mode");
            assertEquals(CHANGEQ_ID, Files.getAttribute(created, "unix:uid"), dir + " owner");
            assertEquals(CHANGEQ_ID, Files.getAttribute(created, "unix:gid"), dir + " group");
        }
    }
}
