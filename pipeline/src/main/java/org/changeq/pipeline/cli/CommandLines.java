package org.changeq.pipeline.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.changeq.pipeline.ExitCodes;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.UsageMessageSpec;

/**
 * What the command lines of every changeq program share: {@code --version} prints the version of the build that
 * made the program's jar, and {@code --help} ends with the exit codes the command can return, each with its
 * {@link ExitCodes#meaning}, after the examples. Called once per program, on the main thread, before parsing.
 */
public final class CommandLines {

    private CommandLines() {
    }

    /**
     * Gives {@code commandLine} and all its subcommands the build's version, and the exit-code list
     * {@code exitCodes}; a subcommand that exits with other codes gets its own list from {@link #exitCodes}.
     *
     * @return {@code commandLine}
     */
    public static CommandLine configure(CommandLine commandLine, int... exitCodes) {
        String program = commandLine.getCommandName();
        List<CommandLine> commands = new ArrayList<>(List.of(commandLine));
        for (int i = 0; i < commands.size(); i++) {
            CommandLine command = commands.get(i);
            CommandSpec spec = command.getCommandSpec();
            Class<?> type = spec.userObject().getClass();
            spec.versionProvider(() -> new String[] {program + " " + version(type)});
            exitCodes(command, exitCodes);
            commands.addAll(command.getSubcommands().values());
        }
        return commandLine;
    }

    /** Sets the exit-code list of {@code commandLine} alone. */
    public static void exitCodes(CommandLine commandLine, int... exitCodes) {
        Map<String, String> list = new LinkedHashMap<>();
        for (int code : exitCodes) {
            list.put(String.valueOf(code), ExitCodes.meaning(code));
        }
        commandLine.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(list);
        List<String> sections = new ArrayList<>(commandLine.getHelpSectionKeys());
        List<String> exitCodeSections = List.of(UsageMessageSpec.SECTION_KEY_EXIT_CODE_LIST_HEADING,
                UsageMessageSpec.SECTION_KEY_EXIT_CODE_LIST);
        sections.removeAll(exitCodeSections);
        sections.addAll(exitCodeSections);
        commandLine.setHelpSectionKeys(sections);
    }

    /**
     * The Implementation-Version of the jar {@code type} was loaded from, which the build writes from the pom's
     * version; a class run from a build's class directory has none.
     */
    static String version(Class<?> type) {
        String version = type.getPackage().getImplementationVersion();
        return version != null ? version : "(version unknown: not run from a built jar)";
    }
}
