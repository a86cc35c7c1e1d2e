package org.changeq.pipeline.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.changeq.pipeline.ExitCodes;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

class CommandLinesTest {

    @Command(name = "prog", mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n", footer = "  prog sub",
            subcommands = Sub.class)
    static final class Prog implements Runnable {
        @Override
        public void run() {
        }
    }

    @Command(name = "sub", mixinStandardHelpOptions = true)
    static final class Sub implements Runnable {
        @Option(names = "--config")
        Path config;

        @Override
        public void run() {
        }
    }

    private static String output(CommandLine commandLine, String... args) {
        StringWriter out = new StringWriter();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.execute(args);
        return out.toString();
    }

    /** Whether {@code help} lists {@code code} with the start of its meaning (the rest may wrap). */
    private static boolean lists(String help, int code) {
        String meaning = ExitCodes.meaning(code);
        String start = meaning.substring(0, Math.min(20, meaning.length()));
        return Pattern.compile("(?m)^ +" + code + " +" + Pattern.quote(start)).matcher(help).find();
    }

    @Test
    void helpListsTheGivenExitCodesWithTheirMeaningsAfterTheExamples() {
        CommandLine commandLine = CommandLines.configure(new CommandLine(new Prog()), ExitCodes.OK,
                ExitCodes.QUEUE_UNAVAILABLE);

        String help = output(commandLine, "--help");

        assertTrue(help.indexOf("Exit codes:") > help.indexOf("  prog sub"), help);
        assertTrue(lists(help, ExitCodes.OK), help);
        assertTrue(lists(help, ExitCodes.QUEUE_UNAVAILABLE), help);
        assertFalse(lists(help, ExitCodes.SOFTWARE), help);
    }

    private static String errors(CommandLine commandLine, int exitCode, String... args) {
        StringWriter err = new StringWriter();
        commandLine.setErr(new PrintWriter(err, true));
        assertEquals(exitCode, commandLine.execute(args));
        return err.toString();
    }

    @Test
    void aBadCommandLineGetsOneLineAndAPointerToTheCommandsHelpNotTheHelp() {
        CommandLine commandLine = CommandLines.configure(new CommandLine(new Prog()), ExitCodes.OK);

        assertEquals("prog: Unknown option: '--bogus'\nRun 'prog sub --help' for usage.\n",
                errors(commandLine, ExitCodes.USAGE, "sub", "--bogus"));
        assertEquals("prog: Unknown options: '--config', 'x'\nput --config after 'sub': options given before 'sub' "
                + "belong to prog\nRun 'prog --help' for usage.\n",
                errors(commandLine, ExitCodes.USAGE, "--config", "x", "sub"));
    }

    @Test
    void helpNamesACommandAndPrintsItsHelp() {
        CommandLine commandLine = CommandLines.configure(new CommandLine(new Prog()), ExitCodes.OK);

        assertEquals(output(commandLine, "sub", "--help"), output(commandLine, "help", "sub"));
        assertEquals(output(commandLine, "--help"), output(commandLine, "help"));
    }

    @Test
    void aNumberIsNotCalledALong() {
        CommandLine commandLine = CommandLines.configure(new CommandLine(new Counted()));

        assertEquals("counted: Invalid value for option '--limit': 'many' is not a whole number\n"
                + "Run 'counted --help' for usage.\n", errors(commandLine, ExitCodes.USAGE, "--limit", "many"));
        assertTrue(errors(commandLine, ExitCodes.USAGE, "--limit", "99999999999999999999")
                .contains("'99999999999999999999' is out of range; the largest allowed is " + Long.MAX_VALUE));
    }

    @Command(name = "counted")
    static final class Counted implements Runnable {
        @Option(names = "--limit")
        long limit;

        @Override
        public void run() {
        }
    }

    @Test
    void aSubcommandHasTheProgramsExitCodesUnlessGivenItsOwn() {
        CommandLine commandLine = CommandLines.configure(new CommandLine(new Prog()), ExitCodes.OK);
        assertTrue(lists(output(commandLine, "sub", "--help"), ExitCodes.OK));

        CommandLines.exitCodes(commandLine.getSubcommands().get("sub"), ExitCodes.CHECK_FAILED);
        String help = output(commandLine, "sub", "--help");
        assertTrue(lists(help, ExitCodes.CHECK_FAILED), help);
        assertFalse(lists(help, ExitCodes.OK), help);
    }

    @Test
    void aRelativePathMeansTheDirectoryTheLauncherWasStartedFromAndAnAbsoluteOneStays() {
        String before = System.getProperty(CommandLines.INVOCATION_DIRECTORY);
        try {
            System.setProperty(CommandLines.INVOCATION_DIRECTORY, "/home/admin/work dir");
            CommandLine commandLine = CommandLines.configure(new CommandLine(new Prog()));
            CommandLine sub = commandLine.getSubcommands().get("sub");

            commandLine.parseArgs("sub", "--config", "etc/changeq.yaml");
            assertEquals(Path.of("/home/admin/work dir/etc/changeq.yaml"), ((Sub) sub.getCommand()).config);
            commandLine.parseArgs("sub", "--config", "/etc/changeq/changeq.yaml");
            assertEquals(Path.of("/etc/changeq/changeq.yaml"), ((Sub) sub.getCommand()).config);

            System.clearProperty(CommandLines.INVOCATION_DIRECTORY);
            commandLine.parseArgs("sub", "--config", "etc/changeq.yaml");
            assertEquals(Path.of("etc/changeq.yaml"), ((Sub) sub.getCommand()).config);
        } finally {
            if (before == null) {
                System.clearProperty(CommandLines.INVOCATION_DIRECTORY);
            } else {
                System.setProperty(CommandLines.INVOCATION_DIRECTORY, before);
            }
        }
    }

    @Test
    void theProgramAndEachSubcommandPrintTheProgramsNameAndTheJarsVersion() {
        CommandLine commandLine = CommandLines.configure(new CommandLine(new Prog()));
        String expected = "prog " + CommandLines.version(Prog.class) + "\n";

        assertEquals(expected, output(commandLine, "--version"));
        assertEquals(expected, output(commandLine, "sub", "--version"));
    }

    @Test
    void aClassFromAJarReportsItsManifestVersionAndOneFromADirectorySaysItHasNone() {
        assertEquals(CommandLine.class.getPackage().getImplementationVersion(), CommandLines.version(CommandLine.class));
        assertTrue(CommandLine.class.getPackage().getImplementationVersion().matches("\\d+\\.\\d+\\.\\d+"));
        assertEquals("(version unknown: not run from a built jar)", CommandLines.version(Prog.class));
    }
}
