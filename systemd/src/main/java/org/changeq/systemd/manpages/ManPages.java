package org.changeq.systemd.manpages;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.changeq.pipeline.inspect.QueueMain;
import org.changeq.sync.SyncMain;
import org.changeq.tracker.TrackerMain;

/**
 * Writes the package's man pages, gzipped as Debian installs them: {@code man8/changeq-tracker.8.gz},
 * {@code man8/changeq-sync.8.gz}, {@code man1/changeq-queue.1.gz} from the programs' command lines, and
 * {@code man5/changeq.yaml.5.gz} from {@code docs/configuration.md}. Run by the build:
 * {@code ManPages OUTPUT-DIR CONFIGURATION-MD VERSION}.
 */
public final class ManPages {
    /** Where the package installs the documents the pages refer to. */
    static final String DOCS = "/usr/share/doc/changeq";

    private ManPages() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: ManPages OUTPUT-DIR CONFIGURATION-MD VERSION");
            System.exit(2);
        }
        Path output = Path.of(args[0]);
        String source = "changeq " + args[2];
        PrintStream discard = new PrintStream(OutputStream.nullOutputStream());
        PrintWriter discardWriter = new PrintWriter(discard);
        String readme = "\\fI" + Roff.escape(DOCS + "/README.md") + "\\fR";

        write(output, "changeq-tracker", "8", CommandManPage.render(TrackerMain.commandLine(discardWriter, discardWriter),
                "8", source, seeAlso(readme, "changeq-sync(8)", "changeq-queue(1)", "changeq.yaml(5)", "inotify(7)")));
        write(output, "changeq-sync", "8", CommandManPage.render(SyncMain.commandLine(discard, discard),
                "8", source, seeAlso(readme, "changeq-tracker(8)", "changeq-queue(1)", "changeq.yaml(5)", "rsync(1)")));
        write(output, "changeq-queue", "1", CommandManPage.render(QueueMain.commandLine(discard, discard, Clock.systemUTC()),
                "1", source, seeAlso(readme, "changeq-tracker(8)", "changeq-sync(8)", "changeq.yaml(5)")));
        write(output, "changeq.yaml", "5", MarkdownManPage.render("docs/configuration.md",
                Files.readString(Path.of(args[1]), StandardCharsets.UTF_8), "changeq.yaml", "5", source,
                "configuration of changeq-tracker and changeq-sync", List.of("/etc/changeq/changeq.yaml"),
                seeAlso(readme, "changeq-tracker(8)", "changeq-sync(8)", "changeq-queue(1)", "rsync(1)")));
    }

    /** The SEE ALSO line: each page in bold with its section, then the README. */
    private static String seeAlso(String readme, String... pages) {
        StringBuilder line = new StringBuilder();
        for (String reference : pages) {
            int open = reference.indexOf('(');
            line.append(Roff.bold(reference.substring(0, open))).append(reference.substring(open)).append(",\n");
        }
        return line.append(readme).append('.').toString();
    }

    private static void write(Path output, String name, String section, String roff) throws IOException {
        Path file = output.resolve("man" + section).resolve(name + "." + section + ".gz");
        Files.createDirectories(file.getParent());
        // Java writes no name and a zero time into the gzip header, so the same page gives the same bytes;
        // Debian asks for the best compression.
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file)) {
            {
                def.setLevel(Deflater.BEST_COMPRESSION);
            }
        }) {
            out.write(roff.getBytes(StandardCharsets.US_ASCII));
        }
    }
}
