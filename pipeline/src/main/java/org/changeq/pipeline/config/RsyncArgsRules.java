package org.changeq.pipeline.config;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What changeq refuses in a route's {@code rsync-args}, and why: rsync knowledge (which options compress,
 * filter, delete or stop recursion, and how short options cluster), kept apart from reading the YAML.
 * Stateless.
 */
final class RsyncArgsRules {

    private static final Set<String> COMPRESSION_ALIASES = Set.of("--zc", "--zl", "--new-compress", "--old-compress");
    /** Short options that take a value: the letters after them in a cluster are that value. */
    private static final String SHORT_OPTIONS_WITH_VALUE = "eBTM@";
    /** Long options that take a value, which may come as the next argument ({@code -e}, {@code "ssh -p 2222"}). */
    private static final Set<String> LONG_OPTIONS_WITH_VALUE = Set.of("--rsh", "--rsync-path", "--info", "--debug",
            "--stderr", "--max-delete", "--max-size", "--min-size", "--max-alloc", "--block-size", "--backup-dir",
            "--suffix", "--chmod", "--chown", "--usermap", "--groupmap", "--timeout", "--contimeout", "--modify-window",
            "--temp-dir", "--compare-dest", "--copy-dest", "--link-dest", "--compress-choice", "--zc", "--compress-level",
            "--zl", "--skip-compress", "--checksum-choice", "--cc", "--checksum-seed", "--filter", "--exclude",
            "--include", "--exclude-from", "--include-from", "--files-from", "--address", "--port", "--sockopts",
            "--out-format", "--log-format", "--log-file", "--log-file-format", "--password-file", "--early-input",
            "--bwlimit", "--stop-after", "--stop-at", "--time-limit", "--write-batch", "--only-write-batch",
            "--read-batch", "--protocol", "--iconv", "--outbuf", "--partial-dir", "--copy-as", "--remote-option");
    /**
     * Options that change what rsync prints, which changeq reads: the itemized names find the paths a partial transfer
     * left out, the statistics count what was sent and deleted.
     */
    private static final Set<String> OUTPUT_OPTIONS = Set.of("--quiet", "--info", "--debug", "--out-format",
            "--log-format", "--no-itemize-changes", "--no-i", "--no-stats", "--8-bit-output", "--human-readable",
            "--stderr", "--msgs2stderr", "--progress", "--list-only");
    /** Their short forms: -q, -h (with other options: --human-readable), -8, -P (--progress). */
    private static final String OUTPUT_LETTERS = "qh8P";
    /** Options with which rsync skips a changed file and still exits 0. */
    private static final Set<String> SKIPPING_OPTIONS = Set.of("--max-size", "--min-size", "--update", "--existing",
            "--ignore-non-existing", "--ignore-existing", "--size-only", "--one-file-system", "--append",
            "--append-verify", "--compare-dest", "--safe-links", "--prune-empty-dirs");
    /** Their short forms: -u, -x, -m. */
    private static final String SKIPPING_LETTERS = "uxm";

    /**
     * A refused argument list.
     *
     * @param index  the refused argument, or empty when the list as a whole is refused
     * @param reason what is wrong and what to do
     */
    record Refusal(Optional<Integer> index, String reason) {
    }

    private RsyncArgsRules() {
    }

    /** The first thing wrong with {@code args}, if any. */
    static Optional<Refusal> check(List<String> args) {
        boolean recursive = false;
        int verbosity = 0;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (!arg.startsWith("-") && (i == 0 || !takesNextArgument(args.get(i - 1)))) {
                return Optional.of(new Refusal(Optional.of(i), "'" + arg + "' is not an option, and the argument before"
                        + " it takes no value: an unquoted comma splits a YAML list item in two ([-rlt,"
                        + " --chmod=D0775,F0664] gives '--chmod=D0775' and 'F0664'); quote the option"
                        + " (\"--chmod=D0775,F0664\") or give an option's value with '='"));
            }
            Optional<String> reason = reasonAgainst(arg);
            if (reason.isPresent()) {
                return Optional.of(new Refusal(Optional.of(i), "'" + arg + "' " + reason.get()));
            }
            String option = longOption(arg);
            verbosity += "--verbose".equals(option) ? 1 : (int) shortOptionLetters(arg).chars().filter(c -> c == 'v').count();
            if (verbosity > 1) {
                return Optional.of(new Refusal(Optional.of(i), "'" + arg + "' makes rsync more verbose than -v, and the"
                        + " extra lines it prints are not the itemized names and statistics changeq reads to find the"
                        + " paths a partial transfer left out; give -v at most once, or not at all"));
            }
            // -a implies -r except together with --files-from, which every incremental run uses.
            recursive |= "--recursive".equals(option) || shortOptionLetters(arg).indexOf('r') >= 0;
        }
        if (!recursive) {
            return Optional.of(new Refusal(Optional.empty(), "rsync-args must recurse (-r or --recursive; -a does not"
                    + " with --files-from): changeq lists a new directory once and relies on rsync to send what is"
                    + " inside; the defaults are " + RouteConfig.DEFAULT_LOCAL_RSYNC_ARGS + " for a local destination and "
                    + RouteConfig.DEFAULT_REMOTE_RSYNC_ARGS + " for a remote one"));
        }
        return Optional.empty();
    }

    private static Optional<String> reasonAgainst(String arg) {
        String option = longOption(arg);
        String shortOptions = shortOptionLetters(arg);
        if (shortOptions.indexOf('z') >= 0 || option != null && (option.startsWith("--compress")
                || COMPRESSION_ALIASES.contains(option))) {
            return Optional.of("compresses: the hops are on the LAN, where compression only costs CPU and slows the"
                    + " transfer; remove it");
        }
        if ("--files-from".equals(option) || "--from0".equals(option) || shortOptions.indexOf('0') >= 0
                || "--del".equals(option) || option != null && option.startsWith("--delete")) {
            return Optional.of("is added or decided by changeq itself (--files-from, --from0, --delete* follow the"
                    + " route's settings delete-on-full and propagate-deletes); remove it");
        }
        if ("--backup".equals(option) || "--backup-dir".equals(option) || "--suffix".equals(option)
                || shortOptions.indexOf('b') >= 0) {
            return Optional.of("keeps earlier versions inside rsync, where a full sync's --delete removes them and"
                    + " retention cannot see them; remove it and give the route history: {keep: 30d}");
        }
        if ("--remove-source-files".equals(option)) {
            return Optional.of("deletes the data being backed up from the root; remove it");
        }
        if (option != null && (option.startsWith("--include") || option.startsWith("--exclude")
                || option.equals("--filter") || option.equals("--cvs-exclude"))
                || shortOptions.indexOf('f') >= 0 || shortOptions.indexOf('F') >= 0 || shortOptions.indexOf('C') >= 0) {
            return Optional.of("filters inside rsync, where changeq cannot see it; use the route's include/exclude keys,"
                    + " which changeq applies to incremental and full runs alike");
        }
        if ("--dry-run".equals(option) || shortOptions.indexOf('n') >= 0) {
            return Optional.of("would let the route's cursor pass changes that were never sent; remove it");
        }
        if (option != null && OUTPUT_OPTIONS.contains(option) || containsAny(shortOptions, OUTPUT_LETTERS)) {
            return Optional.of("changes what rsync prints, which changeq reads to find the paths a partial transfer left"
                    + " out (they would never be sent again) and to count what was sent and deleted; remove it");
        }
        if (option != null && SKIPPING_OPTIONS.contains(option) || containsAny(shortOptions, SKIPPING_LETTERS)) {
            return Optional.of("makes rsync skip files changeq asked it to send, and still exit 0: the cursor would move"
                    + " past changes that never arrived; remove it (the route's include/exclude keys choose what is sent)");
        }
        if ("--no-recursive".equals(option) || "--no-r".equals(option)) {
            return Optional.of("breaks directory syncs: changeq lists a new directory once and relies on rsync to send"
                    + " what is inside");
        }
        return Optional.empty();
    }

    private static boolean containsAny(String letters, String wanted) {
        return letters.chars().anyMatch(c -> wanted.indexOf(c) >= 0);
    }

    /** Whether the next argument is this one's value: {@code -e}, {@code -rlte} or {@code --rsh} without {@code =}. */
    private static boolean takesNextArgument(String arg) {
        if (arg.startsWith("--")) {
            return !arg.contains("=") && LONG_OPTIONS_WITH_VALUE.contains(arg);
        }
        return arg.startsWith("-") && shortOptionLetters(arg).length() == arg.length() - 2
                && SHORT_OPTIONS_WITH_VALUE.indexOf(arg.charAt(arg.length() - 1)) >= 0;
    }

    /** {@code --name} of {@code --name=value}, or null for anything else. */
    private static String longOption(String arg) {
        return arg.startsWith("--") ? arg.split("=", 2)[0] : null;
    }

    /** The option letters of a short-option cluster, up to the first one that takes a value; empty otherwise. */
    private static String shortOptionLetters(String arg) {
        if (arg.startsWith("--") || !arg.startsWith("-")) {
            return "";
        }
        StringBuilder letters = new StringBuilder();
        for (int i = 1; i < arg.length(); i++) {
            char c = arg.charAt(i);
            if (SHORT_OPTIONS_WITH_VALUE.indexOf(c) >= 0) {
                break;
            }
            letters.append(c);
        }
        return letters.toString();
    }
}
