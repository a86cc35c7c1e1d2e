package org.changeq.pipeline.cli;

import java.nio.file.Path;
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
 * {@link ExitCodes#meaning}, after the examples; a relative path given on the command line is relative to the
 * directory the program was started from, also when the launcher started the JVM in {@code /}. Called once per
 * program, on the main thread, before parsing.
 */
public final class CommandLines {

    /**
     * Set by the launcher, which starts the JVM in {@code /} so that nothing a library reads relative to the working
     * directory (chronicle-core's {@code system.properties}) can come from wherever root happened to type a command.
     */
    static final String INVOCATION_DIRECTORY = "changeq.invocation.dir";

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
        commandLine.registerConverter(Path.class, CommandLines::invocationPath);
        return commandLine;
    }

    /** {@code value} as a path, a relative one resolved against the directory the program was started from. */
    static Path invocationPath(String value) {
        String invocationDirectory = System.getProperty(INVOCATION_DIRECTORY);
        Path path = Path.of(value);
        return invocationDirectory == null || invocationDirectory.isEmpty() ? path
                : Path.of(invocationDirectory).resolve(path);
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
