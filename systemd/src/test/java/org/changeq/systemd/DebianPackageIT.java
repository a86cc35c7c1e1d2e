package org.changeq.systemd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The .deb that package built: its file list, its metadata and scripts, and its launchers run from it. */
class DebianPackageIT {
    /**
     * Two installations, each building the class-data archives in postinst and running man-db's trigger for the
     * man pages, a removal and a purge: measured at 130 s on two cores shared with other builds.
     */
    private static final long INSTALL_DEADLINE_SECONDS = 360;
    private static final String DEPENDS = "default-jre-headless (>= 2:1.17) | java17-runtime-headless, rsync, adduser";
    private static Path deb;
    private static Path dpkgDeb;

    @TempDir
    Path dir;

    /** One line of {@code dpkg-deb -c}: mode, owner, link target (or null). */
    record Entry(String mode, String owner, String linkTarget) {
    }

    @BeforeAll
    static void findPackage() throws IOException {
        dpkgDeb = ModuleFiles.onPath("dpkg-deb");
        Assumptions.assumeTrue(dpkgDeb != null, "dpkg-deb is not installed; skipping the Debian package checks");
        String version = System.getProperty("changeq.version");
        deb = ModuleFiles.target("changeq_" + debianVersion(version) + "_all.deb");
        assertTrue(Files.isRegularFile(deb), deb + " was built for version " + version);
    }

    @Test
    void filesLandWhereDebianExpectsThemWithTheirModes() throws Exception {
        Map<String, Entry> contents = contents();
        String exec = "-rwxr-xr-x";
        String data = "-rw-r--r--";
        Map<String, String> expected = Map.ofEntries(
                Map.entry("/usr/share/changeq/bin/changeq-tracker", exec),
                Map.entry("/usr/share/changeq/bin/changeq-sync", exec),
                Map.entry("/usr/share/changeq/bin/changeq-queue", exec),
                Map.entry("/usr/share/changeq/libexec/changeq-java", exec),
                Map.entry("/usr/share/changeq/conf/logback.xml", data),
                Map.entry("/lib/systemd/system/changeq-tracker.service", data),
                Map.entry("/lib/systemd/system/changeq-sync@.service", data),
                Map.entry("/lib/systemd/system/changeq-sync@.timer", data),
                Map.entry("/lib/systemd/system/changeq-sync-follow@.service", data),
                Map.entry("/lib/systemd/system/changeq-verify@.service", data),
                Map.entry("/lib/systemd/system/changeq-verify@.timer", data),
                Map.entry("/usr/lib/sysctl.d/60-changeq-inotify.conf", data),
                Map.entry("/usr/lib/tmpfiles.d/changeq.conf", data),
                Map.entry("/etc/changeq/changeq.yaml", data),
                Map.entry("/etc/default/changeq", data),
                Map.entry("/usr/share/doc/changeq/README.md", data),
                Map.entry("/usr/share/doc/changeq/docs/migration.md", data),
                Map.entry("/usr/share/doc/changeq/docs/configuration.md", data),
                Map.entry("/usr/share/doc/changeq/examples/three-copies.yaml", data),
                Map.entry("/usr/share/doc/changeq/examples/changeq.yaml", data),
                Map.entry("/usr/share/man/man8/changeq-tracker.8.gz", data),
                Map.entry("/usr/share/man/man8/changeq-sync.8.gz", data),
                Map.entry("/usr/share/man/man1/changeq-queue.1.gz", data),
                Map.entry("/usr/share/man/man5/changeq.yaml.5.gz", data),
                Map.entry("/usr/share/doc/changeq/examples/changeq-alerts.yml", data),
                Map.entry("/usr/share/doc/changeq/examples/changeq-grafana.json", data),
                Map.entry("/usr/share/doc/changeq/examples/local-destination.conf", data),
                Map.entry("/usr/share/doc/changeq/examples/node-exporter-textfile.conf", data));
        expected.forEach((path, mode) -> {
            Entry entry = contents.get(path);
            assertTrue(entry != null, path + " is in the package");
            assertEquals(mode, entry.mode(), path);
        });
        for (String program : List.of("changeq-tracker", "changeq-sync", "changeq-queue")) {
            Entry link = contents.get("/usr/bin/" + program);
            assertTrue(link != null && link.mode().startsWith("l"), "/usr/bin/" + program + " is a symlink");
            assertEquals("../share/changeq/bin/" + program, link.linkTarget());
        }
        contents.forEach((path, entry) -> assertEquals("root/root", entry.owner(), path));

        Set<String> packagedJars = new TreeSet<>();
        contents.keySet().stream().filter(p -> p.startsWith("/usr/share/changeq/lib/")).forEach(p -> {
            assertEquals(data, contents.get(p).mode(), p);
            packagedJars.add(p.substring("/usr/share/changeq/lib/".length()));
        });
        Set<String> distributionJars = new TreeSet<>();
        try (var files = Files.list(ModuleFiles.target("changeq/lib"))) {
            files.forEach(f -> distributionJars.add(f.getFileName().toString()));
        }
        assertEquals(distributionJars, packagedJars, "the package ships exactly the distribution's lib/");
    }

    @Test
    void everyDocumentationPathTheProjectNamesIsInThePackage() throws Exception {
        Map<String, Entry> contents = contents();
        Pattern named = Pattern.compile("/usr/share/(?:doc/changeq|man)/[\\w./-]*[\\w/]");
        Path project = ModuleFiles.module().getParent();
        List<Path> sources = new ArrayList<>(List.of(project.resolve("README.md")));
        for (Path tree : List.of(project.resolve("docs"), ModuleFiles.module().resolve("src/main"),
                project.resolve("pipeline/src/main"), project.resolve("tracker/src/main"), project.resolve("sync/src/main"))) {
            try (var files = Files.walk(tree)) {
                files.filter(Files::isRegularFile).forEach(sources::add);
            }
        }
        Set<String> missing = new TreeSet<>();
        int found = 0;
        for (Path source : sources) {
            Matcher matcher = named.matcher(new String(Files.readAllBytes(source), StandardCharsets.ISO_8859_1));
            while (matcher.find()) {
                found++;
                String path = matcher.group().replaceAll("/$", "");
                if (!contents.containsKey(path)) {
                    missing.add(path + " (named in " + project.relativize(source) + ")");
                }
            }
        }
        assertTrue(found >= 20, "paths found: " + found);
        assertEquals(Set.of(), missing);
    }

    @Test
    void theInstalledDocumentsLinkOnlyToEachOther() throws Exception {
        Path doc = unpack().resolveSibling("share/doc/changeq");
        Pattern link = Pattern.compile("\\]\\(([^)#:]+)(?:#[^)]*)?\\)");
        Set<String> broken = new TreeSet<>();
        List<Path> documents = new ArrayList<>(List.of(doc.resolve("README.md")));
        try (var files = Files.walk(doc.resolve("docs"))) {
            files.filter(file -> file.toString().endsWith(".md")).forEach(documents::add);
        }
        for (Path document : documents) {
            Matcher matcher = link.matcher(Files.readString(document, StandardCharsets.UTF_8));
            while (matcher.find()) {
                // A link may name a directory of the documentation (the JSON schemas) as well as a file.
                if (!Files.exists(document.resolveSibling(matcher.group(1)))) {
                    broken.add(doc.relativize(document) + " -> " + matcher.group(1));
                }
            }
        }
        assertEquals(Set.of(), broken);
    }

    @Test
    void theManPagesAndTheConfigurationAreTheBuiltOnes() throws Exception {
        Path root = unpack().getParent().getParent();
        for (String page : List.of("man8/changeq-tracker.8.gz", "man8/changeq-sync.8.gz", "man1/changeq-queue.1.gz",
                "man5/changeq.yaml.5.gz")) {
            Path packaged = root.resolve("usr/share/man").resolve(page);
            assertArrayEquals(Files.readAllBytes(ModuleFiles.target("man").resolve(page)), Files.readAllBytes(packaged), page);
            try (var text = new GZIPInputStream(Files.newInputStream(packaged))) {
                assertTrue(new String(text.readAllBytes(), StandardCharsets.US_ASCII).startsWith(".TH "), page);
            }
        }
        assertEquals(Files.readString(ModuleFiles.source("etc/changeq.yaml")),
                Files.readString(root.resolve("etc/changeq/changeq.yaml")), "the generic example is the conffile");
    }

    @Test
    void metadataDependsAndConffiles() throws Exception {
        ModuleFiles.Result fields = dpkgDeb("-f", deb.toString(), "Package", "Version", "Architecture", "Depends");
        assertEquals(0, fields.exitCode(), fields.toString());
        assertEquals("Package: changeq\nVersion: " + debianVersion(System.getProperty("changeq.version"))
                + "\nArchitecture: all\nDepends: " + DEPENDS + "\n", fields.stdout());

        ModuleFiles.Result info = dpkgDeb("-I", deb.toString());
        assertEquals(0, info.exitCode(), info.toString());
        for (String member : List.of("control", "conffiles", "md5sums", "preinst", "postinst", "prerm", "postrm")) {
            assertTrue(info.stdout().matches("(?s).*\\s" + member + "\\s.*"), member + " in\n" + info.stdout());
        }

        Path control = dir.resolve("control");
        assertEquals(0, dpkgDeb("-e", deb.toString(), control.toString()).exitCode());
        assertEquals("/etc/changeq/changeq.yaml\n/etc/default/changeq\n", Files.readString(control.resolve("conffiles")));
        for (String script : List.of("preinst", "postinst", "prerm", "postrm")) {
            Path file = control.resolve(script);
            assertTrue(Files.isExecutable(file), script + " is executable");
            ModuleFiles.Result syntax = ModuleFiles.run(dir, List.of("sh", "-n", file.toString()));
            assertEquals(0, syntax.exitCode(), script + ": " + syntax);
        }
        String postinst = Files.readString(control.resolve("postinst"));
        assertTrue(postinst.contains("adduser --system --group --home /var/lib/changeq --no-create-home"), postinst);
        assertTrue(!postinst.contains("systemctl enable") && !postinst.contains("systemctl start"),
                "installing enables and starts nothing");
    }

    @Test
    void theQueueToolRunsFromTheUnpackedPackage() throws Exception {
        Path usrBin = unpack();
        ModuleFiles.Result help = ModuleFiles.run(dir, List.of(usrBin.resolve("changeq-queue").toString(), "--help"));
        assertEquals(0, help.exitCode(), help.toString());
        assertTrue(help.stdout().contains("Usage: changeq-queue"), help.toString());
    }

    @Test
    void theTrackerRunsFromTheUnpackedPackage() throws Exception {
        assertHelpFromPackage("changeq-tracker", "org.changeq.tracker.TrackerMain");
    }

    @Test
    void theSyncRunsFromTheUnpackedPackage() throws Exception {
        assertHelpFromPackage("changeq-sync", "org.changeq.sync.SyncMain");
    }

    @Test
    void installUpgradeRemoveAndPurgeWithTheRealMaintainerScripts() throws Exception {
        boolean hostHadUser = ModuleFiles.run(dir, List.of("getent", "passwd", "changeq")).exitCode() == 0;
        ModuleFiles.Result result = installInOverlay();
        String out = result.stdout();
        for (String expected : List.of(
                "config: " + Files.readAllLines(ModuleFiles.source("etc/changeq.yaml")).get(0),
                "user: changeq:/var/lib/changeq:/usr/sbin/nologin",
                "dir: 750 changeq:changeq /var/lib/changeq\n",
                "dir: 750 changeq:changeq /var/lib/changeq/queue\n",
                "dir: 750 changeq:changeq /var/lib/changeq/state\n",
                "conffile kept: # edited",
                "help: Usage: changeq-queue",
                "after remove: changeq.yaml no-usr-share",
                "after purge: gone user removed")) {
            assertTrue(out.contains(expected), "'" + expected + "' in\n" + result);
        }
        assertEquals(hostHadUser, ModuleFiles.run(dir, List.of("getent", "passwd", "changeq")).exitCode() == 0,
                "the host's users are untouched");
    }

    @Test
    void anUpgradeKeepsTheLayoutThatEarlierBuildsInstalledAsTheirDefault() throws Exception {
        Path earlierDefault = ModuleFiles.module().resolve("src/test/resources/earlier-default-changeq.yaml");
        Path earlier = dir.resolve("earlier");
        assertEquals(0, dpkgDeb("-R", deb.toString(), earlier.toString()).exitCode());
        Files.copy(earlierDefault, earlier.resolve("etc/changeq/changeq.yaml"), StandardCopyOption.REPLACE_EXISTING);
        Files.delete(earlier.resolve("DEBIAN/preinst"));
        ModuleFiles.Result built = dpkgDeb("-b", earlier.toString(), dir.resolve("earlier.deb").toString());
        assertEquals(0, built.exitCode(), built.toString());

        ModuleFiles.Result result = installInOverlay(dir.resolve("earlier.deb").toString());

        String earlierFirstLine = Files.readAllLines(earlierDefault).get(0);
        assertTrue(result.stdout().contains("config: " + earlierFirstLine + "\n"), result.toString());
        assertTrue(result.stderr().contains("changeq: kept /etc/changeq/changeq.yaml as it was"), result.toString());
        for (String expected : List.of("conffile kept: # edited", "after purge: gone user removed")) {
            assertTrue(result.stdout().contains(expected), "'" + expected + "' in\n" + result);
        }
    }

    /** install-in-overlay.sh with this package and {@code earlier} packages installed before it. */
    private ModuleFiles.Result installInOverlay(String... earlier) throws Exception {
        Path script = ModuleFiles.module().resolve("src/test/sh/install-in-overlay.sh");
        List<String> command = new ArrayList<>(List.of("sh", script.toString(), deb.toString(),
                dir.resolve("overlay").toString()));
        command.addAll(List.of(earlier));
        ModuleFiles.Result result = ModuleFiles.run(dir, command, Map.of(), INSTALL_DEADLINE_SECONDS);
        Assumptions.assumeTrue(result.exitCode() != 77, "cannot install into an overlay of / here ("
                + result.stdout().strip() + "); skipping the dpkg -i test");
        assertEquals(0, result.exitCode(), result.toString());
        return result;
    }

    @Test
    void theUnpackedPackageBuildsClassDataArchivesThatItsProgramsStartFrom() throws Exception {
        Assumptions.assumeTrue(ModuleFiles.onPath("rsync") != null, "rsync is not installed; the sync archive needs it");
        Path usrBin = unpack();
        Path home = usrBin.resolveSibling("share/changeq");

        ModuleFiles.Result made = ModuleFiles.run(dir, List.of(home.resolve("libexec/changeq-cds").toString()));

        assertEquals(0, made.exitCode(), made.toString());
        for (String program : List.of("tracker", "sync", "queue")) {
            Path archive = home.resolve("cds/" + program + ".jsa");
            assertTrue(Files.size(archive) > 1_000_000, archive + " holds the classes");
        }
        ModuleFiles.Result help = ModuleFiles.run(dir, List.of(usrBin.resolve("changeq-tracker").toString(), "--help"),
                Map.of("CHANGEQ_JAVA_OPTS", "-Xshare:on"));
        assertEquals(0, help.exitCode(), "-Xshare:on fails unless the archive maps: " + help);
    }

    private void assertHelpFromPackage(String program, String mainClass) throws Exception {
        Assumptions.assumeTrue(classExists(mainClass), mainClass + " is not in this build yet; skipping " + program + " --help");
        ModuleFiles.Result help = ModuleFiles.run(dir, List.of(unpack().resolve(program).toString(), "--help"));
        assertEquals(0, help.exitCode(), help.toString());
        assertTrue(help.stdout().contains("Usage: " + program), help.toString());
    }

    /** dpkg-deb -x into the temporary directory; the relative /usr/bin links resolve inside it. */
    private Path unpack() throws Exception {
        Path root = dir.resolve("root");
        ModuleFiles.Result extract = dpkgDeb("-x", deb.toString(), root.toString());
        assertEquals(0, extract.exitCode(), extract.toString());
        return root.resolve("usr/bin");
    }

    private Map<String, Entry> contents() throws Exception {
        ModuleFiles.Result listing = dpkgDeb("-c", deb.toString());
        assertEquals(0, listing.exitCode(), listing.toString());
        Map<String, Entry> contents = new TreeMap<>();
        for (String line : listing.stdout().split("\n")) {
            // drwxr-xr-x root/root 0 2026-11-26 20:31 ./usr/  |  lrw-r--r-- root/root 0 ... ./usr/bin/x -> target
            String[] fields = line.split("\\s+", 6);
            String[] nameAndTarget = fields[5].split(" -> ", 2);
            String path = nameAndTarget[0].substring(1).replaceAll("/$", "");
            contents.put(path, new Entry(fields[0], fields[1], nameAndTarget.length > 1 ? nameAndTarget[1] : null));
        }
        return contents;
    }

    private ModuleFiles.Result dpkgDeb(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(dpkgDeb.toString()));
        command.addAll(List.of(args));
        return ModuleFiles.run(dir, command);
    }

    /** jdeb's mapping of a Maven version: 0.1.0-SNAPSHOT sorts before 0.1.0 as 0.1.0~SNAPSHOT. */
    private static String debianVersion(String mavenVersion) {
        return mavenVersion.replace("-SNAPSHOT", "~SNAPSHOT");
    }

    private static boolean classExists(String name) {
        try {
            Class.forName(name, false, DebianPackageIT.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }
}
