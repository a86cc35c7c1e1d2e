package org.changeq.systemd.manpages;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * The man page of one program, made from the same picocli model its {@code --help} prints: the synopsis,
 * description, options, subcommands, exit codes and examples, so that the two cannot disagree.
 */
final class CommandManPage {
    /** The width the synopsis and examples are laid out for: a terminal's 80 columns less man's indent. */
    private static final int WIDTH = 72;

    private CommandManPage() {
    }

    /**
     * @param section the manual section, 1 for a user command, 8 for an administrator's
     * @param seeAlso further pages and files, already roff
     */
    static String render(CommandLine program, String section, String source, String seeAlso) {
        CommandSpec spec = program.getCommandSpec();
        spec.usageMessage().autoWidth(false).width(WIDTH);
        Roff page = new Roff(spec.name(), section, source);
        page.section("Name").text(Roff.escape(spec.name() + " - " + summary(spec)));
        page.section("Synopsis");
        synopsis(page, spec);
        for (CommandLine subcommand : subcommands(program)) {
            synopsis(page, subcommand.getCommandSpec());
        }
        page.section("Description");
        paragraphs(page, formatted(spec.usageMessage().description()));
        page.section("Options");
        arguments(page, spec);
        if (!subcommands(program).isEmpty()) {
            page.section("Commands");
            for (CommandLine subcommand : subcommands(program)) {
                command(page, subcommand.getCommandSpec());
            }
        }
        page.section("Exit status");
        exitCodes(page, spec.usageMessage().exitCodeList());
        page.section("Examples");
        page.verbatim(withoutHeading(formatted(spec.usageMessage().footer())));
        page.section("See also").text(seeAlso);
        return page.toString();
    }

    /** Every subcommand below {@code program}, depth first, each once (aliases share one entry). */
    private static List<CommandLine> subcommands(CommandLine program) {
        List<CommandLine> all = new ArrayList<>();
        for (CommandLine subcommand : new java.util.LinkedHashSet<>(program.getSubcommands().values())) {
            all.add(subcommand);
            all.addAll(subcommands(subcommand));
        }
        return all;
    }

    private static void command(Roff page, CommandSpec spec) {
        page.subsection(spec.qualifiedName());
        page.paragraph().text(Roff.escape(String.join(" ", formatted(spec.usageMessage().header()))));
        paragraphs(page, formatted(spec.usageMessage().description()));
        arguments(page, spec);
        if (spec.usageMessage().footer().length > 0) {
            page.paragraph().verbatim(formatted(spec.usageMessage().footer()));
        }
        if (!spec.usageMessage().exitCodeList().equals(spec.parent().usageMessage().exitCodeList())) {
            page.paragraph().text(Roff.escape("Exit codes of " + spec.qualifiedName() + ":"));
            exitCodes(page, spec.usageMessage().exitCodeList());
        }
    }

    private static void synopsis(Roff page, CommandSpec spec) {
        spec.usageMessage().autoWidth(false).width(WIDTH);
        String synopsis = new Help(spec, Help.defaultColorScheme(Help.Ansi.OFF)).synopsis(0);
        page.paragraph().verbatim(synopsis.strip().lines().toList());
    }

    private static void arguments(Roff page, CommandSpec spec) {
        for (PositionalParamSpec positional : spec.positionalParameters()) {
            if (!positional.hidden()) {
                page.tagged(Roff.italic(positional.paramLabel()));
                describe(page, positional);
            }
        }
        for (OptionSpec option : spec.options()) {
            if (!option.hidden()) {
                List<String> names = new ArrayList<>();
                for (String name : option.names()) {
                    names.add(Roff.bold(name));
                }
                String label = option.typeInfo().isBoolean() ? "" : " " + Roff.italic(option.paramLabel());
                page.tagged(String.join(", ", names) + label);
                describe(page, option);
            }
        }
    }

    private static void describe(Roff page, ArgSpec argument) {
        List<String> lines = formatted(argument.renderedDescription());
        for (int i = 0; i < lines.size(); i++) {
            if (i > 0) {
                page.lineBreak();
            }
            page.text(Roff.escape(lines.get(i)));
        }
    }

    private static void exitCodes(Roff page, Map<String, String> codes) {
        codes.forEach((code, meaning) -> page.tagged(Roff.bold(code.strip())).text(Roff.escape(meaning)));
    }

    /**
     * Paragraphs separated by empty lines; a line indented like a sample of output is printed as it is, on a line
     * of its own.
     */
    private static void paragraphs(Roff page, List<String> lines) {
        boolean open = false;
        for (String line : lines) {
            if (line.isBlank()) {
                open = false;
            } else if (Character.isWhitespace(line.charAt(0))) {
                page.indent().verbatim(List.of(line.strip())).unindent();
                open = false;
            } else {
                if (!open) {
                    page.paragraph();
                }
                page.text(Roff.escape(line));
                open = true;
            }
        }
    }

    /** Help text lines as picocli prints them: each formatted ({@code %n} is a line break), then split. */
    private static List<String> formatted(String[] lines) {
        List<String> result = new ArrayList<>();
        for (String line : lines) {
            String text = String.format(Locale.ROOT, line);
            result.addAll(text.lines().toList());
            if (text.isEmpty() || text.endsWith("\n")) {
                result.add("");
            }
        }
        return result;
    }

    /** The footer without the "Examples:" some footers start with: the section's heading says it already. */
    private static List<String> withoutHeading(List<String> footer) {
        int start = 0;
        while (start < footer.size() && footer.get(start).isBlank()) {
            start++;
        }
        if (start < footer.size() && footer.get(start).strip().equalsIgnoreCase("examples:")) {
            start++;
        }
        return footer.subList(start, footer.size());
    }

    /** The first sentence of the description, or the header: what NAME shows in one line. */
    private static String summary(CommandSpec spec) {
        String[] header = spec.usageMessage().header();
        String text = header.length > 0 ? String.format(Locale.ROOT, header[0])
                : String.format(Locale.ROOT, spec.usageMessage().description()[0]);
        int end = text.indexOf(". ");
        return (end < 0 ? text : text.substring(0, end)).replaceAll("\\.$", "");
    }
}
