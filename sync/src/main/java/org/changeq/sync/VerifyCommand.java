package org.changeq.sync;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.changeq.pipeline.config.ChangeqConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code changeq-sync verify}: options become a {@link Verify.Request}, {@link Verify#run} does the work. */
@Command(name = "verify", mixinStandardHelpOptions = true, usageHelpAutoWidth = true, sortOptions = false,
        header = "Compares the route's copy with its source by content, a slice of the tree at a time.",
        description = {
            "Compares files at the route's destination with the source by content, through rsync itself (a dry run with"
                + " --checksum), locally and through a daemon alike. Each run verifies the files of the slices of the"
                + " tree that came due (every file once per verify-cycle, default 30 days: one slice a day), the files"
                + " the route's runs sent since the last verify, and the paths the last verify found different.",
            "",
            "Each difference is printed as KIND PATH: content (the files differ), missing (not at the destination),"
                + " type (another type there; a remote destination reports it as missing), extra (at the destination,"
                + " not at the source: reported only, deleted only by runs that delete, under max-delete). All but"
                + " extra go to the route's retry list: its next run sends them compared by content. A file changed"
                + " at the source since the route's last run began is not a difference: the next run sends it.",
            "",
            "Takes the route's lock, so it never compares while a run writes. When a follower (or a run) holds it,"
                + " verify asks the follower to verify between its runs (<state>/verify/ROUTE.request), waits up to"
                + " --wait for it and prints that verify's lines and exit code as its own (it reads at the route's"
                + " verify-max-rate and writes metrics where its runs do); when neither the follower"
                + " answered nor the lock came free by then, it exits 17 and the request stays for the follower. Reads at most --max-rate (or the route's verify-max-rate) bytes per"
                + " second at the source. The state is in <state>/verify/ROUTE (changeq-queue stat shows it), the"
                + " metrics in <state>/metrics/changeq_verify_ROUTE.prom. stdout ends with one line:",
            "  route=NAME verify files=N bytes=N slices=FROM-TO/N content=N missing=N",
            "    type=N extra=N seconds=S exit=N",
            ""},
        footerHeading = "%nExample:%n",
        footer = {"  changeq-sync verify --config /etc/changeq/changeq.yaml \\",
            "      --route offsite-nfs --wait 1h"})
final class VerifyCommand implements Callable<Integer> {

    private static final Pattern RATE = Pattern.compile("(\\d{1,12})([KMGT]?)");

    @Option(names = "--config", paramLabel = "FILE", required = true, description = "the changeq config file (YAML)")
    Path config;

    @Option(names = "--route", paramLabel = "NAME", required = true, description = "the route to verify")
    String route;

    @Option(names = "--wait", paramLabel = "AGE", defaultValue = "0", converter = SyncMain.AgeConverter.class,
            description = "wait this long for the route's lock, or for its follower to verify (default 0: skip at"
                + " once), e.g. 1h")
    Duration wait;

    @Option(names = "--max-rate", paramLabel = "BYTES", converter = RateConverter.class,
            description = "read at most this many bytes per second at the source, e.g. 20M (default: the route's"
                + " verify-max-rate, or unlimited)")
    Long maxRate;

    @Option(names = "--metrics-dir", paramLabel = "DIR",
            description = "directory for changeq_verify_ROUTE.prom (default <state>/metrics)")
    Path metricsDirectory;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private final SyncMain.ConfigSource configs;
    private final Clock clock;
    private final PrintStream out;

    VerifyCommand(SyncMain.ConfigSource configs, Clock clock, PrintStream out) {
        this.configs = configs;
        this.clock = clock;
        this.out = out;
    }

    @Override
    public Integer call() throws SyncException, InterruptedException {
        ChangeqConfig loaded = SyncMain.load(configs, config);
        SyncMain.requireRoute(loaded, route, config, spec.commandLine());
        StopSignals.install();
        return Verify.runOrAsk(loaded, new Verify.Request(route, wait,
                maxRate == null ? OptionalLong.empty() : OptionalLong.of(maxRate), Optional.ofNullable(metricsDirectory)),
                clock, out);
    }

    /** {@code 20M}: bytes, or K, M, G, T of them (powers of 1024), above 0. */
    static final class RateConverter implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            Matcher matcher = RATE.matcher(value.strip());
            if (!matcher.matches() || Long.parseLong(matcher.group(1)) == 0) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a rate above 0 in bytes per"
                        + " second; write e.g. 20M (K, M, G, T: powers of 1024)");
            }
            int shift = switch (matcher.group(2)) {
                case "K" -> 10;
                case "M" -> 20;
                case "G" -> 30;
                case "T" -> 40;
                default -> 0;
            };
            return Long.parseLong(matcher.group(1)) << shift;
        }
    }
}
