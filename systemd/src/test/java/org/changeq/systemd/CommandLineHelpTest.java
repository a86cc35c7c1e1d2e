package org.changeq.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.inspect.QueueMain;
import org.changeq.sync.SyncMain;
import org.changeq.tracker.TrackerMain;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.UsageMessageSpec;

/**
 * What the three programs' {@code --help} and README tell an operator: every example command parses with the
 * program's real command line, every subcommand has a one-line summary, and README's exit-code table is
 * {@link ExitCodes}.
 */
class CommandLineHelpTest {

    /** picocli's usage width when it cannot ask a terminal (help piped to less or grep). */
    private static final int WIDTH = 80;

    private static final PrintStream DISCARD = new PrintStream(OutputStream.nullOutputStream());

    private static final Map<String, Supplier<CommandLine>> PROGRAMS = Map.of(
            "changeq-tracker", () -> TrackerMain.commandLine(new PrintWriter(DISCARD), new PrintWriter(DISCARD)),
            "changeq-sync", () -> SyncMain.commandLine(DISCARD, DISCARD),
            "changeq-queue", () -> QueueMain.commandLine(DISCARD, DISCARD, java.time.Clock.systemUTC()));

    /** A program's name where a command starts: at the line's start, or after a prompt, "&&", "(" or prose. */
    private static final Pattern COMMAND = Pattern.compile("(?<![\\w@/.-])(changeq-(?:tracker|sync|queue))(?=\\s|$)");

    /** Every command line and subcommand of the three programs, by its qualified name. */
    private static Map<String, CommandLine> allCommands() {
        Map<String, CommandLine> commands = new TreeMap<>();
        List<CommandLine> pending = new ArrayList<>();
        PROGRAMS.values().forEach(program -> pending.add(program.get()));
        while (!pending.isEmpty()) {
            CommandLine command = pending.remove(0);
            commands.put(command.getCommandSpec().qualifiedName(), command);
            pending.addAll(command.getSubcommands().values());
        }
        return commands;
    }

    @Test
    void everyExampleInEveryHelpParses() {
        Map<String, List<String>> examples = new LinkedHashMap<>();
        allCommands().forEach((name, command) -> examples.put(name,
                commands(List.of(command.getCommandSpec().usageMessage().footer()))));

        for (String program : PROGRAMS.keySet()) {
            assertTrue(examples.get(program).size() >= 3, program + " teaches with examples: " + examples.get(program));
        }
        assertEquals(List.of(), failures(examples.values().stream().flatMap(List::stream).toList()));
    }

    @Test
    void noExampleIsWrappedInTheMiddleOfACommand() {
        List<String> tooWide = new ArrayList<>();
        allCommands().forEach((name, command) -> {
            boolean continued = false;
            for (String line : command.getCommandSpec().usageMessage().footer()) {
                if (line.length() > WIDTH && (continued || COMMAND.matcher(line).find())) {
                    tooWide.add(name + ": " + line);
                }
                continued = line.endsWith("\\");
            }
        });
        assertEquals(List.of(), tooWide, "picocli wraps help at " + WIDTH + " columns when it cannot ask a terminal");
    }

    /**
     * picocli wraps a text line that does not fit at column 0, so an indented line (an example, its explanation, a
     * format) that is longer than the width continues at the left edge, inside its block.
     */
    @Test
    void noIndentedHelpLineWrapsIntoTheFirstColumn() {
        List<String> tooWide = new ArrayList<>();
        allCommands().forEach((name, command) -> {
            UsageMessageSpec usage = command.getCommandSpec().usageMessage();
            List<String> texts = new ArrayList<>();
            texts.addAll(List.of(usage.header()));
            texts.addAll(List.of(usage.description()));
            texts.addAll(List.of(usage.footer()));
            for (String text : texts) {
                for (String line : String.format(text).split("\\R")) {
                    if (line.startsWith(" ") && line.length() > WIDTH) {
                        tooWide.add(name + ": " + line);
                    }
                }
            }
        });
        assertEquals(List.of(), tooWide, "picocli wraps help at " + WIDTH + " columns when it cannot ask a terminal");
    }

    @Test
    void everyExampleInTheReadmeParses() throws Exception {
        List<String> shellLines = new ArrayList<>();
        List<String> block = null;
        for (String line : Files.readAllLines(ModuleFiles.module().resolve("../README.md"))) {
            if (line.startsWith("```")) {
                boolean diagram = block != null && block.stream().anyMatch(text -> text.contains("\u25b6"));
                // A block that shows a session has prompts: only they are commands, the rest is output.
                boolean session = block != null && block.stream().anyMatch(text -> text.startsWith("$ "));
                if (block != null && !diagram) {
                    block.stream().filter(text -> !session || text.startsWith("$ "))
                            .forEach(text -> shellLines.add(text.replaceFirst("\\s#.*", "")));
                }
                block = block == null ? new ArrayList<>() : null;
            } else if (block != null) {
                block.add(line);
            }
        }
        List<String> examples = commands(shellLines);

        assertTrue(examples.size() >= 10, examples.toString());
        assertEquals(List.of(), failures(examples));
    }

    @Test
    void theParserRejectsABrokenExample() {
        assertEquals(1, failures(commands(List.of("  See it:  changeq-queue tail /var/lib/changeq/queue"))).size());
        assertEquals(1, failures(commands(List.of("changeq-sync --config FILE --route r \\", "    --fulll"))).size());
    }

    @Test
    void everySubcommandHasAOneLineSummary() {
        allCommands().forEach((name, command) -> {
            if (command.getParent() != null) {
                String[] header = command.getCommandSpec().usageMessage().header();
                assertEquals(1, header.length, name);
                assertTrue(header[0].endsWith(".") && header[0].length() <= 100, name + ": " + header[0]);
            }
        });
    }

    @Test
    void theReadmeExitCodeTableIsExitCodes() throws Exception {
        Map<Integer, String> table = new TreeMap<>();
        Pattern row = Pattern.compile("\\| (\\d+) \\| (.*) \\|");
        String readme = Files.readString(ModuleFiles.module().resolve("../README.md"), StandardCharsets.UTF_8);
        String section = readme.substring(readme.indexOf("## Exit codes"));
        for (String line : section.substring(0, section.indexOf("\n## ", 1)).lines().toList()) {
            Matcher matcher = row.matcher(line);
            if (matcher.matches()) {
                table.put(Integer.parseInt(matcher.group(1)), matcher.group(2).replace("`", ""));
            }
        }
        Map<Integer, String> expected = new TreeMap<>();
        ExitCodes.all().forEach(code -> expected.put(code, ExitCodes.meaning(code)));

        assertEquals(expected, table);
    }

    /** The changeq commands in {@code lines}, a trailing backslash joining a line to the next. */
    private static List<String> commands(List<String> lines) {
        List<String> commands = new ArrayList<>();
        StringBuilder joined = new StringBuilder();
        for (String line : lines) {
            joined.append(line);
            if (line.endsWith("\\")) {
                joined.setLength(joined.length() - 1);
                continue;
            }
            Matcher matcher = COMMAND.matcher(joined);
            if (matcher.find()) {
                commands.add(joined.substring(matcher.start()).strip());
            }
            joined.setLength(0);
        }
        return commands;
    }

    /** Each command that its program's parser refuses, with the parser's message. */
    private static List<String> failures(List<String> commands) {
        List<String> failures = new ArrayList<>();
        for (String command : commands) {
            List<String> words = shellWords(command);
            try {
                PROGRAMS.get(words.get(0)).get().parseArgs(words.subList(1, words.size()).toArray(String[]::new));
            } catch (CommandLine.ParameterException e) {
                failures.add(command + "  ->  " + e.getMessage());
            }
        }
        return failures;
    }

    /**
     * The words of a shell command up to its end: a pipe, a list operator, a closing parenthesis or a comment.
     * Quotes are removed; nothing is expanded.
     */
    private static List<String> shellWords(String command) {
        List<String> words = new ArrayList<>();
        StringBuilder word = null;
        for (int i = 0; i < command.length(); i++) {
            char c = command.charAt(i);
            if (c == '\'' || c == '"') {
                int close = command.indexOf(c, i + 1);
                word = word == null ? new StringBuilder() : word;
                word.append(command, i + 1, close);
                i = close;
            } else if (Character.isWhitespace(c)) {
                if (word != null) {
                    words.add(word.toString());
                    word = null;
                }
            } else if ("|&;)".indexOf(c) >= 0 || word == null && c == '#') {
                // An operator ends the command even right after a word; '#' starts a comment only as a word.
                break;
            } else {
                word = word == null ? new StringBuilder() : word;
                word.append(c);
            }
        }
        if (word != null) {
            words.add(word.toString());
        }
        return words;
    }
}
