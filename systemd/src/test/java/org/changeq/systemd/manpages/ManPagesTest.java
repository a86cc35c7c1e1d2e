package org.changeq.systemd.manpages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.changeq.pipeline.inspect.QueueMain;
import org.changeq.sync.SyncMain;
import org.changeq.tracker.TrackerMain;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.UsageMessageSpec;

/**
 * The man pages render without a warning from groff, have the sections a reader looks for, and list every option
 * that {@code --help} lists, for the program and each of its subcommands.
 */
class ManPagesTest {
    private static final PrintStream DISCARD = new PrintStream(OutputStream.nullOutputStream());

    /**
     * An option's names where the help's option list starts an entry, {@code -n, --dry-run} or {@code --config=FILE};
     * an entry's wrapped description is indented further.
     */
    private static final Pattern OPTION_LINE = Pattern.compile("^ {1,6}((?:--?[A-Za-z0-9][\\w-]*(?:, )?)+)");

    @Test
    void theTrackerPageListsEveryOptionOfItsHelp() throws Exception {
        assertListsEveryOption(() -> TrackerMain.commandLine(new PrintWriter(DISCARD), new PrintWriter(DISCARD)), "8");
    }

    @Test
    void theSyncPageListsEveryOptionOfItsHelpAndItsSubcommands() throws Exception {
        assertListsEveryOption(() -> SyncMain.commandLine(DISCARD, DISCARD), "8");
    }

    @Test
    void theQueuePageListsEveryOptionOfItsHelpAndItsSubcommands() throws Exception {
        assertListsEveryOption(() -> QueueMain.commandLine(DISCARD, DISCARD, Clock.systemUTC()), "1");
    }

    @Test
    void theConfigurationPageHasEverySectionOfTheReference() throws Exception {
        Path reference = Path.of(System.getProperty("basedir"), "../docs/configuration.md");
        String markdown = Files.readString(reference, StandardCharsets.UTF_8);

        String page = render(MarkdownManPage.render("docs/configuration.md", markdown, "changeq.yaml", "5",
                "changeq test", "configuration of changeq-tracker and changeq-sync", List.of("/etc/changeq/changeq.yaml"),
                "\\fBchangeq-sync\\fR(8)"));

        assertSections(page, "NAME", "SYNOPSIS", "DESCRIPTION", "SEE ALSO");
        Matcher heading = Pattern.compile("(?m)^## (.*)$").matcher(markdown);
        int sections = 0;
        while (heading.find()) {
            sections++;
            String title = heading.group(1).replace("`", "").toUpperCase(java.util.Locale.ROOT);
            assertTrue(page.lines().anyMatch(line -> line.equals(title)), title + " in\n" + page);
        }
        assertTrue(sections >= 8, "the reference's sections: " + sections);
        assertTrue(page.contains("--chmod=D0775,F0664"), "a code span keeps its hyphens and commas");
    }

    @Test
    void markdownThePageCannotShowFailsTheBuildWithItsLine() {
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> MarkdownManPage.render(
                "doc.md", "# Title\n\nText.\n\n<table><tr><td>x</td></tr></table>\n", "doc", "5", "s", "sum",
                List.of(), ""));

        assertEquals("doc.md line 5: a HtmlBlock cannot be shown in a man page; write it as text, a list, a table"
                + " or a code block", refused.getMessage());
    }

    private static void assertListsEveryOption(Supplier<CommandLine> program, String section) throws Exception {
        String roff = CommandManPage.render(program.get(), section, "changeq test", "\\fBchangeq.yaml\\fR(5)");
        String page = render(roff);

        assertSections(page, "NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "EXAMPLES", "SEE ALSO");
        Map<String, Set<String>> listed = listedOptions(roff, program.get().getCommandName());
        Map<String, Set<String>> help = helpOptions(program.get());
        assertTrue(help.get(program.get().getCommandName()).size() >= 2, "options found in --help: " + help);
        assertEquals(help, listed, "each command's options in --help and on the page");
    }

    /**
     * The options each command's section of the page lists as the tags of its option paragraphs: the program's
     * before the first subsection, each subcommand's in the subsection named after it.
     */
    private static Map<String, Set<String>> listedOptions(String roff, String program) {
        Map<String, Set<String>> listed = new TreeMap<>();
        String command = program;
        boolean tag = false;
        for (String line : roff.lines().toList()) {
            if (line.startsWith(".SS ")) {
                command = line.substring(4).replace("\\-", "-").replace("\"", "");
            } else if (tag) {
                Matcher bold = Pattern.compile("\\\\fB((?:\\\\-|[^\\\\])+)\\\\fR").matcher(line);
                while (bold.find()) {
                    String name = bold.group(1).replace("\\-", "-");
                    if (name.startsWith("-")) {
                        listed.computeIfAbsent(command, c -> new TreeSet<>()).add(name);
                    }
                }
            }
            tag = line.equals(".TP");
        }
        return listed;
    }

    /** The option names that the option list of {@code --help} shows, for the program and each subcommand. */
    private static Map<String, Set<String>> helpOptions(CommandLine program) {
        Map<String, Set<String>> names = new TreeMap<>();
        List<CommandLine> commands = new ArrayList<>(List.of(program));
        for (int i = 0; i < commands.size(); i++) {
            CommandLine command = commands.get(i);
            CommandLine.Help help = new CommandLine.Help(command.getCommandSpec(),
                    CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF));
            String optionList = command.getHelpSectionMap().get(UsageMessageSpec.SECTION_KEY_OPTION_LIST).render(help);
            for (String line : optionList.lines().toList()) {
                Matcher matcher = OPTION_LINE.matcher(line);
                if (matcher.find()) {
                    for (String name : matcher.group(1).split(", ")) {
                        names.computeIfAbsent(commands.get(i).getCommandSpec().qualifiedName(), c -> new TreeSet<>())
                                .add(name.strip().replaceAll("=.*", ""));
                    }
                }
            }
            commands.addAll(commands.get(i).getSubcommands().values());
        }
        return names;
    }

    private static void assertSections(String page, String... sections) {
        for (String section : sections) {
            assertTrue(page.lines().anyMatch(line -> line.equals(section)), section + " in\n" + page);
        }
    }

    /**
     * The page as {@code man} shows it, from groff with its warnings on; without hyphenation and on long lines, so
     * an option is never split. A warning fails the test.
     */
    private static String render(String roff) throws IOException, InterruptedException {
        Path source = Files.createTempFile("changeq-man-", ".roff");
        Path out = Files.createTempFile("changeq-man-", ".txt");
        Path err = Files.createTempFile("changeq-man-", ".err");
        try {
            Files.writeString(source, roff, StandardCharsets.US_ASCII);
            Process groff = new ProcessBuilder("groff", "-man", "-Tutf8", "-ww", "-rHY=0", "-rLL=400n", "-P-cbou",
                    source.toString()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            assertTrue(groff.waitFor(60, TimeUnit.SECONDS), "groff finished");
            assertEquals("", Files.readString(err), "groff's warnings");
            assertEquals(0, groff.exitValue());
            return Files.readString(out, StandardCharsets.UTF_8);
        } finally {
            Files.delete(source);
            Files.delete(out);
            Files.delete(err);
        }
    }
}
