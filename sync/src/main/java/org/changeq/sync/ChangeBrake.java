package org.changeq.sync;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Consumer;
import org.changeq.pipeline.ByteStrings;
import org.changeq.pipeline.ExitCodes;
import org.changeq.pipeline.config.RouteConfig;
import org.changeq.pipeline.state.ChangeLedger;
import org.changeq.pipeline.state.RunChanges;
import org.changeq.pipeline.state.StateDirectory;
import org.changeq.pipeline.state.StateLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds a run that would overwrite, delete or rename away more of the files at the destination than the route's
 * {@code max-change} allows, counted over its {@code max-change-window} across all its runs ({@link ChangeLedger}) and
 * measured against the destination as it is now: the ransomware case, where every file reached is rewritten in place
 * or replaced by an encrypted copy under a new name. Unlike max-delete, which holds back only the deletions, a held
 * run sends nothing, since the rewrites are the damage. New files do not count.
 *
 * <p>The counts come from rsync's itemized dry run of the run's passes, the same dry run the deletion guard makes of a
 * full sync where there is one. An incremental run whose pending paths, each counted as a change, stay within what the
 * route may still change needs no dry run. A route's first sync is not judged (the destination holds nothing to
 * lose), nor is a run an operator consented to with {@code --allow-changes N} or {@code changeq-sync allow} (measured
 * against N instead, and not entered in the ledger).
 *
 * <p>Confined to the run's thread; a {@link Count} is fed by rsync's output thread, which {@link RsyncRunner#run} joins
 * before it returns.
 */
final class ChangeBrake {

    private static final Logger LOG = LoggerFactory.getLogger(ChangeBrake.class);
    private static final int NAMED_PATHS = 10;
    private static final int NAMED_DIRECTORIES = 5;
    /** Beyond this many names the extension signal is left out: the counts are kept whatever the run's size. */
    private static final int EXTENSION_SIGNAL_NAMES = 200_000;
    /** A new extension on fewer files than this is no pattern. */
    private static final int EXTENSION_SIGNAL_FILES = 10;
    private static final byte[] DELETING = "*deleting ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NEW_FILE = "+++++++++".getBytes(StandardCharsets.US_ASCII);

    private final RouteConfig route;
    private final StateLayout layout;
    private final SyncRequest request;
    private final Clock clock;
    private final String command;
    /** How a running follower of the route is given consent. */
    private final String consentCommand;
    /** What an operator consented to for this run, and whether it came from the consent file. */
    private OptionalLong consent = OptionalLong.empty();
    private boolean consentFromFile;
    private long refusedChanges;

    /**
     * @param command how the operator runs this route by hand, for the consent the messages name
     */
    ChangeBrake(RouteConfig route, StateLayout layout, SyncRequest request, Clock clock, String command) {
        this.route = route;
        this.layout = layout;
        this.request = request;
        this.clock = clock;
        this.command = command;
        this.consentCommand = "changeq-sync allow ... --route " + route.name();
    }

    /**
     * Reads the consent for this run: {@code --allow-changes N}, or else the route's consent file.
     *
     * @return whether the run is judged at all: not a route's first sync
     */
    boolean judges(boolean firstSync) throws IOException {
        if (firstSync) {
            LOG.info("route '{}': the route's first sync: max-change does not judge it", route.name());
            return false;
        }
        consent = request.allowChanges();
        if (consent.isEmpty()) {
            consent = layout.changeConsent(route.name()).read();
            consentFromFile = consent.isPresent();
        }
        return true;
    }

    /**
     * Whether a run of at most {@code pendingPaths} changes is within what the route may change, so that no dry run
     * needs to count them.
     */
    boolean precheck(long pendingPaths) throws IOException {
        Budget budget = budget(layout.destinationPaths(route.name()).read());
        if (pendingPaths <= budget.allowed()) {
            LOG.info("route '{}': max-change pre-check: at most {} pending paths change files at the destination, within"
                    + " {}; no dry run counts them", route.name(), pendingPaths, budget.brief());
            return true;
        }
        return false;
    }

    /** Counts what the itemized lines of a dry run would change; deletions below {@code renamedList} are renamed away. */
    Count counter(Path renamedList) throws IOException {
        return new Count(DeletionGuard.renamedDirectories(renamedList));
    }

    /**
     * Decides whether the counted run may go on.
     *
     * @param destinationPaths the paths the destination holds now, when a full dry run measured it; else the stored size
     * @throws SyncException {@code MASS_CHANGE_REFUSED}, naming the counts, the directories most affected and the
     *                       consent, when it may not
     */
    Decision decide(Count count, OptionalLong destinationPaths) throws SyncException, IOException {
        Verdict verdict = judge(count, destinationPaths);
        Budget budget = verdict.budget();
        long changes = count.total();
        if (verdict.refused()) {
            refusedChanges = changes;
            throw new SyncException(ExitCodes.MASS_CHANGE_REFUSED, refusal(count, budget));
        }
        if (changes > 0) {
            LOG.info("route '{}': the run changes {} files at the destination ({}), within {}", route.name(), changes,
                    count.kinds(), budget.brief());
        }
        return new Decision(count.overwritten, count.deleted, count.renamed, consent.isPresent());
    }

    /**
     * What the brake says of a counted run, without acting on it: {@link #decide} refuses by it, and
     * {@code changeq-sync check} shows it.
     *
     * @param destinationPaths the paths the destination holds now, when a full dry run measured it; else the stored size
     */
    Verdict judge(Count count, OptionalLong destinationPaths) throws IOException {
        return new Verdict(count, budget(destinationPaths.isPresent() ? destinationPaths
                : layout.destinationPaths(route.name()).read()));
    }

    /** A counted run measured against what the route may still change. */
    record Verdict(Count count, Budget budget) {
        boolean refused() {
            return count.total() > budget.allowed();
        }
    }

    /** What {@code count} says a run changed, to enter when no dry run counted it beforehand. */
    Decision decision(Count count) {
        return new Decision(count.overwritten, count.deleted, count.renamed, consent.isPresent());
    }

    /** The changes this run would have made when it was refused; 0 when it was not. */
    long refusedChanges() {
        return refusedChanges;
    }

    /**
     * Enters the changes a real run may make in the ledger, durably, before it runs: a crash after rsync changed them
     * still counts them. Consented changes are not counted.
     */
    void enter(Decision decision) throws IOException {
        if (!decision.consented() && decision.total() > 0) {
            long now = clock.millis();
            Path ledger = layout.changeLedger(route.name());
            ChangeLedger.read(ledger).within(route.maxChangeWindow(), now)
                    .plus(new ChangeLedger.Run(now, decision.overwritten(), decision.deleted(), decision.renamed()))
                    .write(ledger);
        }
    }

    /**
     * After the cursor committed: a consent given through the consent file is used up, unless an operator gave
     * another one meanwhile, which is left for the next run.
     */
    void afterCommit() throws IOException {
        if (consentFromFile && layout.changeConsent(route.name()).read().equals(consent)) {
            StateDirectory.deleteIfExists(layout.changeConsent(route.name()).path());
            LOG.info("route '{}': the consent of 'changeq-sync allow' ({} changes) was used by this run", route.name(),
                    consent.getAsLong());
        }
    }

    /** What the run changes at the destination, by kind; {@code consented}: measured against an operator's consent. */
    record Decision(long overwritten, long deleted, long renamed, boolean consented) {
        long total() {
            return overwritten + deleted + renamed;
        }
    }

    /**
     * What this run may change.
     *
     * @param allowed the changes it may make now
     * @param brief   what that was measured against, e.g. {@code max-change 25% = 250 paths of the 1000 ... (40 used by
     *                runs in the last 7d, 210 left)}
     */
    record Budget(long allowed, String brief) {
    }

    /**
     * The route's max-change over its window, whatever an operator consented to.
     *
     * @param limit  max-change in files, of the destination as it was before the window's runs removed anything
     * @param recent the runs within max-change-window
     */
    record Window(long limit, ChangeLedger recent) {
        /** The files the window's runs changed. */
        long used() {
            return recent.total();
        }
    }

    /** The window as it stands now, against the destination's stored size: what the metrics show after a run. */
    Window window() throws IOException {
        return window(layout.destinationPaths(route.name()).read());
    }

    private Window window(OptionalLong destinationPaths) throws IOException {
        ChangeLedger recent = ChangeLedger.read(layout.changeLedger(route.name()))
                .within(route.maxChangeWindow(), clock.millis());
        // Against what the destination held before the window's runs removed anything from it.
        long limit = destinationPaths.isPresent() || !route.maxChange().percent()
                ? route.maxChange().allowed(destinationPaths.orElse(0) + recent.removed())
                : route.maxChange().floor();
        return new Window(limit, recent);
    }

    private Budget budget(OptionalLong destinationPaths) throws IOException {
        if (consent.isPresent()) {
            return new Budget(consent.getAsLong(), (consentFromFile ? "the consent of 'changeq-sync allow'"
                    : "--allow-changes") + " " + consent.getAsLong());
        }
        Window measured = window(destinationPaths);
        ChangeLedger recent = measured.recent();
        long limit = measured.limit();
        long used = measured.used();
        String window = route.maxChangeWindow().toHours() % 24 == 0 ? route.maxChangeWindow().toDays() + "d"
                : route.maxChangeWindow().toHours() + "h";
        String base = route.maxChange().percent() ? destinationPaths.isPresent() ? " = " + limit + " paths of the "
                + (destinationPaths.getAsLong() + recent.removed()) + " the destination held"
                : " = " + limit + " paths (the destination's size is not known before the route's next full sync)" : "";
        return new Budget(Math.max(0, limit - used), "max-change " + route.maxChange() + base + " (" + used
                + " used by the route's runs in the last " + window + ", max-change-window; " + Math.max(0, limit - used)
                + " left)");
    }

    private String refusal(Count count, Budget budget) {
        StringBuilder text = new StringBuilder("route '" + route.name() + "': mass change refused: the run would change "
                + count.total() + " files that exist at " + route.dest() + " (" + count.kinds() + "), more than "
                + budget.brief() + ". Nothing was sent; the cursor stays.");
        List<Map.Entry<ByteBuffer, long[]>> directories = new ArrayList<>(count.byDirectory.entrySet());
        directories.sort(Comparator.comparingLong((Map.Entry<ByteBuffer, long[]> entry) -> entry.getValue()[0]).reversed());
        text.append(" Most changed: ");
        for (int i = 0; i < Math.min(NAMED_DIRECTORIES, directories.size()); i++) {
            ByteBuffer directory = directories.get(i).getKey();
            text.append(i > 0 ? ", " : "").append(directory.remaining() == 0 ? "." : ByteStrings.escape(
                    Arrays.copyOfRange(directory.array(), directory.position(), directory.limit()))).append("/ (")
                    .append(directories.get(i).getValue()[0]).append(')');
        }
        text.append(". For example: ").append(String.join(", ", count.examples.stream().map(ByteStrings::escape).toList()))
                .append(count.total() > count.examples.size() ? " (and " + (count.total() - count.examples.size())
                        + " more)" : "").append('.');
        count.extensionSignal().ifPresent(signal -> text.append(' ').append(signal));
        text.append(" If the source was encrypted or rewritten by mistake, restore it there; the destination still holds"
                + " the earlier versions. If the change is wanted, let it through once: ").append(consent(count.total()));
        return text.toString();
    }

    /** How an operator lets {@code changes} through once, by hand or for a running follower. */
    String consent(long changes) {
        return "'" + command + " --allow-changes " + changes + "', or for a running follower '" + consentCommand
                + " --changes " + changes + "'";
    }

    /**
     * What an itemized line says the pass does to a path that is or was at the destination: a file sent new
     * ({@code >f+++++++++}, {@code <f} to a daemon), a file overwritten ({@code >f} with any other change), a path
     * deleted ({@code *deleting}); null for anything else (directories, links, attributes alone).
     */
    static RunChanges.Kind kindOf(byte[] line) {
        if (Count.startsWith(line, DELETING)) {
            return RunChanges.Kind.DELETED;
        }
        if (line.length > RsyncRunner.ITEMIZE_WIDTH && (line[0] == '>' || line[0] == '<') && line[1] == 'f') {
            return Arrays.equals(line, 2, 2 + NEW_FILE.length, NEW_FILE, 0, NEW_FILE.length) ? RunChanges.Kind.NEW
                    : RunChanges.Kind.OVERWRITTEN;
        }
        return null;
    }

    /** The raw path of an itemized line, relative to the root, without a deleted directory's trailing slash. */
    static byte[] pathOf(byte[] line) {
        return Count.withoutTrailingSlash(FailedPaths.unescape(line, RsyncRunner.ITEMIZE_WIDTH));
    }

    /**
     * What the itemized lines of dry runs say a run would change at the destination: files overwritten ({@code >f} or
     * {@code <f} with a change other than {@code +++++++++}), paths deleted, and paths deleted below the old name of a
     * directory renamed within the root. Fed on rsync's output thread, read after {@link RsyncRunner#run} joined it.
     */
    static final class Count implements Consumer<byte[]> {
        private final Set<ByteBuffer> renamedDirectories;
        private long overwritten;
        private long deleted;
        private long renamed;
        /** Changes per parent directory (a one-element array, to count in place). */
        private final Map<ByteBuffer, long[]> byDirectory = new HashMap<>();
        private final List<byte[]> examples = new ArrayList<>();
        private final Set<ByteBuffer> deletedNames = new HashSet<>();
        private final List<byte[]> newNames = new ArrayList<>();

        private Count(Set<ByteBuffer> renamedDirectories) {
            this.renamedDirectories = renamedDirectories;
        }

        @Override
        public void accept(byte[] line) {
            RunChanges.Kind kind = kindOf(line);
            if (kind == null) {
                return;
            }
            byte[] path = pathOf(line);
            switch (kind) {
                case DELETED -> {
                    if (DeletionGuard.below(path, renamedDirectories)) {
                        renamed++;
                    } else {
                        deleted++;
                    }
                    changed(path);
                    if (deletedNames.size() < EXTENSION_SIGNAL_NAMES) {
                        deletedNames.add(ByteBuffer.wrap(path));
                    }
                }
                case NEW -> {
                    if (newNames.size() < EXTENSION_SIGNAL_NAMES) {
                        newNames.add(path);
                    }
                }
                case OVERWRITTEN -> {
                    overwritten++;
                    changed(path);
                }
            }
        }

        /**
         * This count, hearing only the deletions of a pass: a dry run of the deletion pass itemizes again the files
         * the earlier passes would send into its directories.
         */
        Consumer<byte[]> deletionsOnly() {
            return line -> {
                if (startsWith(line, DELETING)) {
                    accept(line);
                }
            };
        }

        long total() {
            return overwritten + deleted + renamed;
        }

        /** {@code 40 overwritten, 0 deleted, 0 renamed away}. */
        String kinds() {
            return overwritten + " overwritten, " + deleted + " deleted, " + renamed + " renamed away";
        }

        private void changed(byte[] path) {
            int slash = path.length - 1;
            while (slash >= 0 && path[slash] != '/') {
                slash--;
            }
            byDirectory.computeIfAbsent(ByteBuffer.wrap(Arrays.copyOf(path, Math.max(0, slash))), key -> new long[1])[0]++;
            if (examples.size() < NAMED_PATHS) {
                examples.add(path);
            }
        }

        /**
         * {@code 35 new files end in '.locked' while the files of their names without it are deleted}: what ransomware
         * that writes an encrypted copy and deletes the original leaves, when one extension does so for many files.
         */
        Optional<String> extensionSignal() {
            Map<String, Long> byExtension = new HashMap<>();
            for (byte[] name : newNames) {
                int dot = name.length - 1;
                while (dot > 0 && name[dot] != '.' && name[dot] != '/') {
                    dot--;
                }
                if (dot > 0 && name[dot] == '.' && name[dot - 1] != '/'
                        && deletedNames.contains(ByteBuffer.wrap(Arrays.copyOf(name, dot)))) {
                    byExtension.merge(ByteStrings.escape(name, dot, name.length), 1L, Long::sum);
                }
            }
            return byExtension.entrySet().stream().max(Map.Entry.comparingByValue())
                    .filter(entry -> entry.getValue() >= EXTENSION_SIGNAL_FILES)
                    .map(entry -> entry.getValue() + " new files end in '" + entry.getKey() + "' while the files of"
                            + " their names without it are deleted: what ransomware that encrypts into a new name"
                            + " leaves.");
        }

        private static boolean startsWith(byte[] line, byte[] prefix) {
            return line.length > prefix.length && Arrays.equals(line, 0, prefix.length, prefix, 0, prefix.length);
        }

        private static byte[] withoutTrailingSlash(byte[] name) {
            return name.length > 1 && name[name.length - 1] == '/' ? Arrays.copyOf(name, name.length - 1) : name;
        }
    }
}
