package org.changeq.pipeline.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.changeq.pipeline.ExitCodes;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.UsageMessageSpec;

/**
 * What the command lines of every changeq program share: {@code --version} prints the version of the build that
 * made the program's jar, and {@code --help} ends with the exit codes the command can return, each with its
 * {@link ExitCodes#meaning}, after the examples; a relative path given on the command line is relative to the
 * directory the program was started from, also when the launcher started the JVM in {@code /}. {@code help [COMMAND]}
 * prints a command's help. A bad command line gets one line naming what is wrong and one pointing at the command's
 * {@code --help}, never the whole help, which would scroll the error away. Called once per program, on the main
 * thread, before parsing.
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
        Class<?> type = commandLine.getCommandSpec().userObject().getClass();
        commandLine.addSubcommand("help", new CommandLine.HelpCommand());
        List<CommandLine> commands = new ArrayList<>(List.of(commandLine));
        for (int i = 0; i < commands.size(); i++) {
            CommandLine command = commands.get(i);
            command.getCommandSpec().versionProvider(() -> new String[] {program + " " + version(type)});
            if (!command.getCommandSpec().helpCommand()) {
                exitCodes(command, exitCodes);
            }
            commands.addAll(command.getSubcommands().values());
        }
        commandLine.registerConverter(Path.class, CommandLines::invocationPath);
        commandLine.registerConverter(Integer.class, wholeNumber(Integer::valueOf, Integer.MAX_VALUE));
        commandLine.registerConverter(int.class, wholeNumber(Integer::valueOf, Integer.MAX_VALUE));
        commandLine.registerConverter(Long.class, wholeNumber(Long::valueOf, Long.MAX_VALUE));
        commandLine.registerConverter(long.class, wholeNumber(Long::valueOf, Long.MAX_VALUE));
        commandLine.setCaseInsensitiveEnumValuesAllowed(true);
        commandLine.setParameterExceptionHandler(CommandLines::badCommandLine);
        return commandLine;
    }

    /** picocli's own message would name a Java type ("'x' is not a long"). */
    private static <T> CommandLine.ITypeConverter<T> wholeNumber(Function<String, T> parse, long largest) {
        return value -> {
            try {
                return parse.apply(value);
            } catch (NumberFormatException e) {
                throw new CommandLine.TypeConversionException(value.matches("[+-]?\\d+")
                        ? "'" + value + "' is out of range; the largest allowed is " + largest
                        : "'" + value + "' is not a whole number");
            }
        };
    }

    /**
     * What is wrong, then suggestions for a mistyped option, options given to the program that belong after the
     * command, and where the usage is. Returns {@link ExitCodes#USAGE}.
     */
    static int badCommandLine(CommandLine.ParameterException failure, String[] args) {
        CommandLine command = failure.getCommandLine();
        PrintWriter err = command.getErr();
        CommandLine program = command;
        while (program.getParent() != null) {
            program = program.getParent();
        }
        err.println(program.getCommandName() + ": " + failure.getMessage().replaceFirst("^Error: ", ""));
        CommandLine.UnmatchedArgumentException.printSuggestions(failure, err);
        misplacedOptions(command, args).ifPresent(err::println);
        err.println("Run '" + command.getCommandSpec().qualifiedName() + " --help' for usage.");
        err.flush();
        return ExitCodes.USAGE;
    }

    /**
     * "put --config after 'check'" when options before a command name belong to that command: given before it,
     * they went to the program, and the command missed them.
     */
    private static Optional<String> misplacedOptions(CommandLine failed, String[] args) {
        for (int i = 0; i < args.length; i++) {
            CommandLine named = failed.getParent() != null && args[i].equals(failed.getCommandName()) ? failed
                    : failed.getSubcommands().get(args[i]);
            if (named == null) {
                continue;
            }
            List<String> misplaced = new ArrayList<>();
            for (String arg : List.of(args).subList(0, i)) {
                OptionSpec option = arg.startsWith("-") ? named.getCommandSpec().findOption(arg.split("=", 2)[0])
                        : null;
                boolean help = option != null && (option.usageHelp() || option.versionHelp());
                if (option != null && !help && !misplaced.contains(option.longestName())) {
                    misplaced.add(option.longestName());
                }
            }
            return misplaced.isEmpty() ? Optional.empty()
                    : Optional.of("put " + String.join(" ", misplaced) + " after '" + args[i] + "': options "
                            + "given before '" + args[i] + "' belong to " + named.getParent().getCommandName());
        }
        return Optional.empty();
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
