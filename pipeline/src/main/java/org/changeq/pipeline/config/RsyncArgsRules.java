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
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            Optional<String> reason = reasonAgainst(arg);
            if (reason.isPresent()) {
                return Optional.of(new Refusal(Optional.of(i), "'" + arg + "' " + reason.get()));
            }
            String option = longOption(arg);
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
        if ("--no-recursive".equals(option) || "--no-r".equals(option)) {
            return Optional.of("breaks directory syncs: changeq lists a new directory once and relies on rsync to send"
                    + " what is inside");
        }
        return Optional.empty();
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
