package org.changeq.pipeline.config;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.DayOfWeek;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.changeq.pipeline.PermissionDenied;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;

/**
 * Reads {@code changeq.yaml} into an immutable {@link ChangeqConfig}, validating everything once at
 * the edge. docs/configuration.md is the reference for the format.
 *
 * <p>Stateless and thread-safe; {@link #load} blocks on reading the file. Every problem is a
 * {@link ConfigException} whose message names the file, line, column and key path.
 */
public final class ConfigLoader {

    /** The only root of {@link #quick}. */
    public static final String QUICK_ROOT_NAME = "default";

    /** Files of the old shell pipeline that live in a root and must never be synced as data. */
    static final List<String> LEGACY_STATE_FILES = List.of("/.changed-files", "/.changed-files.lock", "/.force-full-sync");

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]+");
    private static final List<String> TOP_KEYS = List.of("queue", "state", "roots", "lists", "routes");
    private static final List<String> ROOT_KEYS = List.of("path", "exclude");
    private static final List<String> ROUTE_KEYS = List.of("root", "dest", "include", "exclude", "include-list",
            "exclude-list", "rsync-args", "backlog-threshold", "full-window", "delete-on-full", "propagate-deletes",
            "max-delete", "max-delete-window", "max-change", "max-change-window", "follow", "history",
            "verify-cycle", "verify-max-rate", "rclone-config");
    private static final List<String> WINDOW_KEYS = List.of("days-of-month", "days-of-week");
    private static final List<String> HISTORY_KEYS = List.of("keep", "max-size");
    private static final Pattern SIZE = Pattern.compile("(\\d{1,12})([KMGT]?)");
    private static final List<String> FOLLOW_KEYS = List.of("quiet", "max-delay", "max-batch", "retry-max");
    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)");
    private static final Pattern CHANGE_LIMIT = Pattern.compile("(\\d+)\\s*(%)?(?:\\s+min\\s+(\\d+))?");

    private ConfigLoader() {
    }

    /**
     * Reads and validates the configuration file.
     *
     * @throws ConfigException when the file cannot be read, is not YAML, or breaks a rule; the
     *                         message names the line and key
     */
    public static ChangeqConfig load(Path file) throws ConfigException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            throw new ConfigException("cannot read the configuration file " + file + ": " + unreadable(file, e), e);
        }
        return parse(file.toString(), new StringReader(text));
    }

    /** Why {@code file} could not be read, and what to do, without Java's exception names. */
    private static String unreadable(Path file, Exception e) {
        if (e instanceof NoSuchFileException) {
            return "it does not exist; check the path given with --config";
        }
        if (Files.isDirectory(file)) {
            return "it is a directory; give the YAML file itself (e.g. " + file.resolve("changeq.yaml") + ")";
        }
        if (e instanceof AccessDeniedException) {
            return PermissionDenied.FIX;
        }
        if (e instanceof CharacterCodingException || e instanceof UncheckedIOException
                && e.getCause() instanceof CharacterCodingException) {
            return "it is not UTF-8 text; save it as UTF-8";
        }
        return String.valueOf(e.getMessage());
    }

    /**
     * The configuration of the tracker's quick mode: one root named {@value #QUICK_ROOT_NAME},
     * no lists, no routes; the same validation and built-in excludes as a file.
     *
     * @throws ConfigException when a path is not absolute or a pattern is invalid
     */
    public static ChangeqConfig quick(Path root, Path queue, Path state, List<String> excludes) throws ConfigException {
        Parser parser = new Parser("quick mode");
        Path queueDir = parser.absolute(queue, null, "queue");
        Path stateDir = parser.absolute(state, null, "state");
        parser.checkStateDirs(queueDir, stateDir, null);
        Path rootDir = parser.absolute(root, null, "root");
        for (int i = 0; i < excludes.size(); i++) {
            parser.checkPattern(excludes.get(i), null, "exclude[" + i + "]");
        }
        RootConfig rootConfig = parser.root(QUICK_ROOT_NAME, rootDir, excludes, queueDir, stateDir, null, "root");
        return new ChangeqConfig(queueDir, stateDir, Map.of(QUICK_ROOT_NAME, rootConfig), Map.of(), Map.of());
    }

    static ChangeqConfig parse(String fileName, Reader yaml) throws ConfigException {
        Parser parser = new Parser(fileName);
        Node document;
        try {
            LoadSettings settings = LoadSettings.builder().setLabel(fileName).setUseMarks(true).build();
            document = new Compose(settings).composeReader(yaml).orElse(null);
        } catch (MarkedYamlEngineException e) {
            String context = e.getContext() == null ? "" : e.getContext() + ", ";
            throw parser.error(e.getProblemMark().orElse(null), null, "not valid YAML: " + context + e.getProblem());
        } catch (YamlEngineException e) {
            throw new ConfigException(fileName + ": not valid YAML: " + e.getMessage(), e);
        }
        if (document == null) {
            throw new ConfigException(fileName + ": the file is empty; it needs at least queue, state and roots");
        }
        return parser.config(document);
    }

    /** One parse: knows the file name for messages. */
    /** Parses one field's node; {@code key} names the field in messages. */
    @FunctionalInterface
    private interface FieldParser<T> {
        T parse(Node node, String key) throws ConfigException;
    }

    private static final class Parser {
        private final String fileName;

        Parser(String fileName) {
            this.fileName = fileName;
        }

        ChangeqConfig config(Node document) throws ConfigException {
            Map<String, NodeTuple> top = mapping(document, null, TOP_KEYS);
            Path queue = path(require(top, document, null, "queue"), "queue");
            Path state = path(require(top, document, null, "state"), "state");
            checkStateDirs(queue, state, top.get("state").getValueNode());

            Map<String, List<String>> lists = new LinkedHashMap<>();
            if (top.containsKey("lists") && !isNull(top.get("lists").getValueNode())) {
                for (NodeTuple entry : entries(top.get("lists").getValueNode(), "lists")) {
                    String name = name(entry, "lists");
                    lists.put(name, patterns(entry.getValueNode(), "lists." + name));
                }
            }

            Map<String, RootConfig> roots = new LinkedHashMap<>();
            Node rootsNode = require(top, document, null, "roots");
            List<NodeTuple> rootEntries = entries(rootsNode, "roots");
            if (rootEntries.isEmpty()) {
                throw error(rootsNode, "roots", "no roots: name at least one tree to watch, e.g. nfs: {path: /srv/nfs}");
            }
            for (NodeTuple entry : rootEntries) {
                String name = name(entry, "roots");
                String key = "roots." + name;
                Map<String, NodeTuple> fields = mapping(entry.getValueNode(), key, ROOT_KEYS);
                Node pathNode = require(fields, entry.getValueNode(), key, "path");
                Path path = path(pathNode, key + ".path");
                for (RootConfig other : roots.values()) {
                    if (other.path().equals(path) || realPath(other.path()).equals(realPath(path))) {
                        throw error(pathNode, key + ".path", "root '" + other.name() + "' already has the path "
                                + shown(path) + "; two roots must not watch the same tree");
                    }
                    if (inside(path, other.path()) || inside(other.path(), path)) {
                        // The kernel gives one watch per directory, so its events would reach only one of the roots.
                        throw error(pathNode, key + ".path", "the root " + shown(path) + " and root '" + other.name()
                                + "' (" + shown(other.path()) + ") overlap, one inside the other; the directories they share would be"
                                + " tracked for only one of them. Use one root and give the routes include/exclude patterns");
                    }
                }
                List<String> exclude = optionalPatterns(fields, key, "exclude");
                roots.put(name, root(name, path, exclude, queue, state, pathNode, key + ".path"));
            }

            Map<String, RouteConfig> routes = new LinkedHashMap<>();
            if (top.containsKey("routes") && !isNull(top.get("routes").getValueNode())) {
                for (NodeTuple entry : entries(top.get("routes").getValueNode(), "routes")) {
                    String name = name(entry, "routes");
                    routes.put(name, route(name, entry.getValueNode(), roots, lists, queue, state, routes.values()));
                }
                for (NodeTuple entry : entries(top.get("routes").getValueNode(), "routes")) {
                    checkHistoryName(routes.get(name(entry, "routes")), entry.getValueNode(), roots, routes.values());
                }
            }
            return new ChangeqConfig(queue, state, excludingHistories(roots, routes.values()), lists, routes);
        }

        RootConfig root(String name, Path path, List<String> exclude, Path queue, Path state, Node node, String key)
                throws ConfigException {
            for (Path own : List.of(queue, state)) {
                if (inside(path, own)) {
                    throw error(node, key, "the root " + shown(path) + " lies inside changeq's own directory " + shown(own)
                            + "; changeq would watch its own writes");
                }
            }
            List<String> all = new ArrayList<>(exclude);
            for (Path own : List.of(queue, state)) {
                if (own.startsWith(path)) {
                    all.add("/" + escapeLiteral(path.relativize(own).toString()) + "/");
                } else if (inside(own, path)) {
                    all.add("/" + escapeLiteral(realPath(path).relativize(realPath(own)).toString()) + "/");
                }
            }
            all.addAll(LEGACY_STATE_FILES);
            return new RootConfig(name, path, exclude, PathFilter.of(all));
        }

        private RouteConfig route(String name, Node node, Map<String, RootConfig> roots, Map<String, List<String>> lists,
                Path queue, Path state, Collection<RouteConfig> earlier) throws ConfigException {
            String key = "routes." + name;
            Map<String, NodeTuple> fields = mapping(node, key, ROUTE_KEYS);

            Node rootNode = require(fields, node, key, "root");
            String root = string(rootNode, key + ".root");
            if (!roots.containsKey(root)) {
                throw error(rootNode, key + ".root", "no root named '" + root + "'; defined roots: " + String.join(", ", roots.keySet()));
            }
            Node destNode = require(fields, node, key, "dest");
            String dest = string(destNode, key + ".dest");
            checkDest(dest, destNode, key + ".dest");
            Optional<RcloneDestination> rclone = rclone(fields, node, key, dest);

            List<String> include = optionalPatterns(fields, key, "include");
            List<String> exclude = optionalPatterns(fields, key, "exclude");
            Optional<String> includeList = listName(fields, key, "include-list", lists);
            Optional<String> excludeList = listName(fields, key, "exclude-list", lists);

            List<String> rsyncArgs = rclone.isPresent() ? List.of() : RouteConfig.defaultRsyncArgs(dest);
            if (fields.containsKey("rsync-args")) {
                Node argsNode = fields.get("rsync-args").getValueNode();
                if (rclone.isPresent()) {
                    throw error(argsNode, key + ".rsync-args", "does not apply to the rclone destination '" + dest
                            + "'; remove it (the remote's settings belong in its rclone config file)");
                }
                rsyncArgs = strings(argsNode, key + ".rsync-args");
                checkRsyncArgs(rsyncArgs, argsNode, key + ".rsync-args");
            }
            long threshold = optional(fields, key, "backlog-threshold", RouteConfig.DEFAULT_BACKLOG_THRESHOLD,
                    this::positiveLong);
            Optional<FullWindow> window = optional(fields, key, "full-window", Optional.empty(),
                    (windowNode, windowKey) -> Optional.of(fullWindow(windowNode, windowKey)));
            boolean deleteOnFull = optional(fields, key, "delete-on-full", RouteConfig.DEFAULT_DELETE_ON_FULL, this::bool);
            boolean propagateDeletes = optional(fields, key, "propagate-deletes", RouteConfig.DEFAULT_PROPAGATE_DELETES,
                    this::bool);
            DeleteLimit maxDelete = optional(fields, key, "max-delete", DeleteLimit.DEFAULT, this::deleteLimit);
            Duration maxDeleteWindow = optional(fields, key, "max-delete-window", RouteConfig.DEFAULT_MAX_DELETE_WINDOW,
                    this::limitWindow);
            ChangeLimit maxChange = optional(fields, key, "max-change", ChangeLimit.DEFAULT, this::changeLimit);
            Duration maxChangeWindow = optional(fields, key, "max-change-window", RouteConfig.DEFAULT_MAX_DELETE_WINDOW,
                    this::limitWindow);
            FollowSettings follow = optional(fields, key, "follow", FollowSettings.DEFAULT, this::follow);
            Optional<HistorySettings> history = optional(fields, key, "history", Optional.empty(),
                    (historyNode, historyKey) -> Optional.of(history(historyNode, historyKey)));
            if (rclone.isPresent()) {
                for (String unsupported : List.of("include", "exclude", "include-list", "exclude-list")) {
                    if (fields.containsKey(unsupported)) {
                        throw error(fields.get(unsupported).getValueNode(), key + "." + unsupported, "is not supported"
                                + " for the rclone destination '" + dest + "' yet; remove it, or send this root to an"
                                + " rsync destination");
                    }
                }
            }
            VerifySettings verify = new VerifySettings(
                    optional(fields, key, "verify-cycle", VerifySettings.DEFAULT_CYCLE, this::verifyCycle),
                    optional(fields, key, "verify-max-rate", OptionalLong.empty(),
                            (rateNode, rateKey) -> OptionalLong.of(size(rateNode, rateKey))));

            RouteConfig route = new RouteConfig(name, root, dest, include, exclude, includeList, excludeList,
                    PathFilter.of(combine(include, includeList, lists)), PathFilter.of(combine(exclude, excludeList, lists)),
                    rsyncArgs, threshold, window, deleteOnFull, propagateDeletes, maxDelete, maxDeleteWindow, maxChange,
                    maxChangeWindow, follow, history, verify, rclone);
            checkDestinationPlace(route, destNode, roots.get(root), queue, state, earlier);
            return route;
        }

        /**
         * {@code history: {keep: 30d, max-size: 50G}}, {@code keep} required.
         */
        private HistorySettings history(Node node, String key) throws ConfigException {
            Map<String, NodeTuple> fields = mapping(node, key, HISTORY_KEYS);
            Duration keep = duration(require(fields, node, key, "keep"), key + ".keep");
            if (keep.isZero()) {
                throw error(fields.get("keep").getValueNode(), key + ".keep", "must be longer than 0: a history kept for"
                        + " no time is removed by the run that makes it; remove history: to keep none");
            }
            OptionalLong maxBytes = optional(fields, key, "max-size", OptionalLong.empty(),
                    (sizeNode, sizeKey) -> OptionalLong.of(size(sizeNode, sizeKey)));
            return new HistorySettings(keep, maxBytes);
        }

        /**
         * Refuses a route with history whose root holds a {@value HistorySettings#DIRECTORY} at its top: every pass
         * leaves that name out, so it would never be copied. Unless it is the history of another route writing into
         * the root (a local backup disk sent onward): that history is a copy already, and stays out on purpose.
         */
        private void checkHistoryName(RouteConfig route, Node node, Map<String, RootConfig> roots,
                Collection<RouteConfig> all) throws ConfigException {
            RootConfig root = roots.get(route.root());
            Path held = root.path().resolve(HistorySettings.DIRECTORY);
            if (route.history().isEmpty() || !Files.exists(held, LinkOption.NOFOLLOW_LINKS)) {
                return;
            }
            for (RouteConfig writer : all) {
                if (writer.history().isPresent() && writer.localDestination()
                        && Path.of(writer.dest()).normalize().equals(root.path())) {
                    return;
                }
            }
            Node at = ((MappingNode) node).getValue().stream().filter(field -> field.getKeyNode() instanceof ScalarNode key
                    && key.getValue().equals("history")).findFirst().orElseThrow().getValueNode();
            throw error(at, "routes." + route.name() + ".history", "the root '" + root.name() + "' holds " + shown(held)
                    + " at its top, the name this route's history takes at the destination, which every pass leaves out;"
                    + " rename or move it out of the root, or remove history:");
        }

        /**
         * The roots with a built-in exclude for each history a route keeps at a local destination inside them (a local
         * backup disk that another route sends onward): its versions are that disk's own, neither recorded by the
         * tracker nor sent by the root's routes.
         */
        private static Map<String, RootConfig> excludingHistories(Map<String, RootConfig> roots,
                Collection<RouteConfig> routes) {
            Map<String, RootConfig> result = new LinkedHashMap<>();
            for (RootConfig root : roots.values()) {
                List<String> patterns = new ArrayList<>(root.excludes().patterns());
                for (RouteConfig route : routes) {
                    if (route.history().isPresent() && route.localDestination()) {
                        Path dest = Path.of(route.dest()).normalize();
                        if (dest.equals(root.path()) || inside(dest, root.path())) {
                            String relative = root.path().relativize(dest).toString();
                            patterns.add("/" + (relative.isEmpty() ? "" : escapeLiteral(relative) + "/")
                                    + HistorySettings.DIRECTORY + "/");
                        }
                    }
                }
                result.put(root.name(), patterns.size() == root.excludes().patterns().size() ? root
                        : new RootConfig(root.name(), root.path(), root.exclude(), PathFilter.of(patterns)));
            }
            return result;
        }

        /** {@code 500M}, {@code 50G}, {@code 2T}: binary units; a plain number is bytes. */
        private long size(Node node, String key) throws ConfigException {
            String text = node instanceof ScalarNode ? ((ScalarNode) node).getValue().strip() : "";
            Matcher matcher = SIZE.matcher(text);
            if (!matcher.matches() || Long.parseLong(matcher.group(1)) == 0) {
                throw error(node, key, "expected a size above 0 with an optional unit K, M, G or T (e.g. 50G), got "
                        + describe(node));
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

        /** {@code follow: {quiet: 2s, max-delay: 30s, max-batch: 10000, retry-max: 5m}}, each key optional. */
        private FollowSettings follow(Node node, String key) throws ConfigException {
            Map<String, NodeTuple> fields = mapping(node, key, FOLLOW_KEYS);
            Duration quiet = optional(fields, key, "quiet", FollowSettings.DEFAULT_QUIET, this::duration);
            Duration maxDelay = optional(fields, key, "max-delay", FollowSettings.DEFAULT_MAX_DELAY, this::duration);
            long maxBatch = optional(fields, key, "max-batch", FollowSettings.DEFAULT_MAX_BATCH, this::positiveLong);
            Duration retryMax = optional(fields, key, "retry-max", FollowSettings.DEFAULT_RETRY_MAX, this::duration);
            if (maxDelay.compareTo(quiet) < 0) {
                Node at = fields.containsKey("max-delay") ? fields.get("max-delay").getValueNode() : fields.get("quiet").getValueNode();
                throw error(at, key + (fields.containsKey("max-delay") ? ".max-delay" : ".quiet"), "max-delay ("
                        + text(maxDelay) + ") is shorter than quiet (" + text(quiet) + "): a change would never wait for"
                        + " quiet; make max-delay at least as long");
            }
            if (retryMax.compareTo(FollowSettings.FIRST_RETRY_WAIT) < 0) {
                throw error(fields.get("retry-max").getValueNode(), key + ".retry-max", "must be at least "
                        + text(FollowSettings.FIRST_RETRY_WAIT) + ", the first wait after a failed run; got " + text(retryMax));
            }
            return new FollowSettings(quiet, maxDelay, maxBatch, retryMax);
        }

        /**
         * The time over which max-delete or max-change counts a route's runs: at least a minute, so that runs cannot
         * outpace it.
         */
        private Duration limitWindow(Node node, String key) throws ConfigException {
            Duration window = duration(node, key);
            if (window.compareTo(RouteConfig.SHORTEST_MAX_DELETE_WINDOW) < 0) {
                throw error(node, key, "must be at least " + text(RouteConfig.SHORTEST_MAX_DELETE_WINDOW) + ", got "
                        + text(window) + ": a shorter window lets a series of runs pass the limit in slices; the default is "
                        + RouteConfig.DEFAULT_MAX_DELETE_WINDOW.toDays() + "d");
            }
            return window;
        }

        /** Whole days: the rotating slice of a verify run is one day's share of the cycle. */
        private Duration verifyCycle(Node node, String key) throws ConfigException {
            Duration cycle = duration(node, key);
            if (cycle.toDays() < 1 || !cycle.equals(Duration.ofDays(cycle.toDays()))) {
                throw error(node, key, "must be a whole number of days (e.g. 30d), got " + text(cycle)
                        + ": every file is verified once per cycle, one day's slice at a time");
            }
            return cycle;
        }

        /** {@code 500ms}, {@code 2s}, {@code 5m}, {@code 1h}, {@code 7d}. */
        private Duration duration(Node node, String key) throws ConfigException {
            String text = node instanceof ScalarNode && !node.getTag().equals(Tag.NULL) ? ((ScalarNode) node).getValue().strip() : "";
            Matcher matcher = DURATION.matcher(text);
            if (!matcher.matches()) {
                throw error(node, key, "expected a duration with its unit (500ms, 2s, 5m, 1h, 7d), got " + describe(node));
            }
            long amount = Long.parseLong(matcher.group(1));
            return switch (matcher.group(2)) {
                case "ms" -> Duration.ofMillis(amount);
                case "s" -> Duration.ofSeconds(amount);
                case "m" -> Duration.ofMinutes(amount);
                case "h" -> Duration.ofHours(amount);
                default -> Duration.ofDays(amount);
            };
        }

        private static String text(Duration duration) {
            return duration.toMillis() % 1000 == 0 ? duration.toSeconds() + "s" : duration.toMillis() + "ms";
        }

        /** {@code 1000} (paths) or {@code "25%"} (of the destination's paths). */
        private DeleteLimit deleteLimit(Node node, String key) throws ConfigException {
            String text = node instanceof ScalarNode ? ((ScalarNode) node).getValue().strip() : "";
            boolean percent = text.endsWith("%");
            String digits = percent ? text.substring(0, text.length() - 1).strip() : text;
            if (!digits.isEmpty() && digits.chars().allMatch(Character::isDigit) && digits.length() <= 15) {
                long value = Long.parseLong(digits);
                if (!percent || value <= 100) {
                    return new DeleteLimit(value, percent);
                }
            }
            throw error(node, key, "expected a number of paths (e.g. 1000) or a percentage of the destination"
                    + " (e.g. \"25%\", quoted), got " + describe(node) + "; the default is " + DeleteLimit.DEFAULT);
        }

        /** {@code 1000}, {@code "25%"} or {@code "25% min 1000"}. */
        private ChangeLimit changeLimit(Node node, String key) throws ConfigException {
            String text = node instanceof ScalarNode ? ((ScalarNode) node).getValue().strip() : "";
            Matcher matcher = CHANGE_LIMIT.matcher(text);
            if (matcher.matches() && matcher.group(1).length() <= 15 && (matcher.group(3) == null
                    || matcher.group(3).length() <= 15)) {
                long value = Long.parseLong(matcher.group(1));
                boolean percent = matcher.group(2) != null;
                // A floor belongs to a percentage: a count is its own floor.
                if (percent ? value <= 100 : matcher.group(3) == null) {
                    return new ChangeLimit(new DeleteLimit(value, percent),
                            matcher.group(3) == null ? 0 : Long.parseLong(matcher.group(3)));
                }
            }
            throw error(node, key, "expected a number of paths (e.g. 1000), a percentage of the destination's files"
                    + " (e.g. \"25%\", quoted) or a percentage with a floor (e.g. \"25% min 1000\"), got " + describe(node)
                    + "; the default is \"" + ChangeLimit.DEFAULT + "\"");
        }

        /**
         * Refuses destinations that would copy a tree into itself, write into changeq's own directories, or let two
         * routes delete each other's files. A destination inside another route's root stays allowed: that is how a
         * local backup disk is sent onward.
         */
        private void checkDestinationPlace(RouteConfig route, Node destNode, RootConfig root, Path queue, Path state,
                Collection<RouteConfig> earlier) throws ConfigException {
            String key = "routes." + route.name() + ".dest";
            if (route.localDestination()) {
                Path dest = Path.of(route.dest()).normalize();
                if (inside(dest, root.path())) {
                    throw error(destNode, key, "the destination " + shown(dest) + " lies inside the route's own root '"
                            + root.name() + "' (" + shown(root.path()) + "): every run would copy the backup into itself until the disk is full;"
                            + " choose a directory outside the root");
                }
                if (inside(root.path(), dest)) {
                    throw error(destNode, key, "the destination " + shown(dest) + " contains the route's own root '"
                            + root.name() + "' (" + shown(root.path()) + "): the sync would write over the data it reads; choose a directory"
                            + " outside the root");
                }
                for (Path own : List.of(queue, state)) {
                    if (inside(dest, own) || inside(own, dest)) {
                        throw error(destNode, key, "the destination " + shown(dest) + " overlaps changeq's own directory "
                                + shown(own)
                                + "; choose a directory apart from the queue and the state directory");
                    }
                }
            }
            for (RouteConfig other : earlier) {
                if ((route.deletes() || other.deletes()) && destinationsOverlap(route.dest(), other.dest())) {
                    throw error(destNode, key, "the destination " + route.dest() + " and routes." + other.name() + ".dest ("
                            + other.dest() + ") are the same or one lies inside the other, and "
                            + (route.deletes() ? "this route" : "route '" + other.name() + "'") + " deletes there:"
                            + " its full syncs would delete the other route's files. Give each route a directory of its own");
                }
            }
        }

        private static List<String> combine(List<String> own, Optional<String> list, Map<String, List<String>> lists) {
            List<String> all = new ArrayList<>(own);
            list.ifPresent(name -> all.addAll(lists.get(name)));
            return all;
        }

        private List<String> optionalPatterns(Map<String, NodeTuple> fields, String key, String field) throws ConfigException {
            return optional(fields, key, field, List.of(), this::patterns);
        }

        /** The value of {@code key.field} parsed, or {@code fallback} when the field is absent. */
        private <T> T optional(Map<String, NodeTuple> fields, String key, String field, T fallback, FieldParser<T> parser)
                throws ConfigException {
            NodeTuple entry = fields.get(field);
            return entry == null ? fallback : parser.parse(entry.getValueNode(), key + "." + field);
        }

        private Optional<String> listName(Map<String, NodeTuple> fields, String key, String field,
                Map<String, List<String>> lists) throws ConfigException {
            if (!fields.containsKey(field)) {
                return Optional.empty();
            }
            Node node = fields.get(field).getValueNode();
            String name = string(node, key + "." + field);
            if (!lists.containsKey(name)) {
                throw error(node, key + "." + field, "no list named '" + name + "'; defined lists: "
                        + (lists.isEmpty() ? "none (add them under lists:)" : String.join(", ", lists.keySet())));
            }
            return Optional.of(name);
        }

        private void checkDest(String dest, Node node, String key) throws ConfigException {
            if (RcloneDestination.names(dest)) {
                Optional<String> problem = RcloneDestination.problem(dest);
                if (problem.isPresent()) {
                    throw error(node, key, problem.get());
                }
                return;
            }
            if (dest.startsWith("rsync://")) {
                String rest = dest.substring("rsync://".length());
                int slash = rest.indexOf('/');
                if (slash <= 0 || slash == rest.length() - 1) {
                    throw error(node, key, "'" + dest + "' names no host or module; write rsync://host/module/path/");
                }
                return;
            }
            if (dest.startsWith("/")) {
                return;
            }
            int colon = dest.indexOf(':');
            int slash = dest.indexOf('/');
            if (colon > 0 && (slash < 0 || colon < slash)) {
                return;
            }
            throw error(node, key, "'" + dest + "' is neither an absolute path, host:path, rsync://host/module/path/ nor"
                    + " rclone://remote/bucket/path/;"
                    + " a relative destination would depend on the working directory");
        }

        /**
         * The rclone remote of an {@code rclone://} destination, with its {@code rclone-config}: required there, refused
         * anywhere else.
         */
        private Optional<RcloneDestination> rclone(Map<String, NodeTuple> fields, Node node, String key, String dest)
                throws ConfigException {
            String configKey = key + ".rclone-config";
            if (!RcloneDestination.names(dest)) {
                if (fields.containsKey("rclone-config")) {
                    throw error(fields.get("rclone-config").getValueNode(), configKey, "applies to rclone:// destinations"
                            + " only, and dest is '" + dest + "'; remove it");
                }
                return Optional.empty();
            }
            Node configNode = require(fields, node, key, "rclone-config");
            Path config = path(configNode, configKey);
            checkPrivate(config, configNode, configKey);
            return Optional.of(RcloneDestination.of(dest, config));
        }

        /**
         * The rclone config file holds the remote's keys in clear text: only its owner may read or write it. A reader
         * that may not even look at it (changeq-queue as another user) leaves the question to those that can.
         */
        private void checkPrivate(Path file, Node node, String key) throws ConfigException {
            Set<PosixFilePermission> permissions;
            try {
                permissions = Files.getPosixFilePermissions(file);
            } catch (NoSuchFileException e) {
                throw error(node, key, "'" + file + "' does not exist; create it with 'rclone config --config " + file
                        + "', owned by the user changeq-sync runs as, mode 600");
            } catch (AccessDeniedException e) {
                return;
            } catch (IOException e) {
                throw error(node, key, "'" + file + "' cannot be examined: " + e + "; check that it is a file of the user"
                        + " changeq-sync runs as, mode 600");
            }
            if (permissions.stream().anyMatch(permission -> !permission.name().startsWith("OWNER_"))) {
                throw error(node, key, "'" + file + "' holds the remote's keys but its mode "
                        + PosixFilePermissions.toString(permissions) + " lets others than its owner at it; chmod 600 "
                        + file);
            }
        }

        /** Refuses arguments that contradict what changeq passes or relies on ({@link RsyncArgsRules}). */
        private void checkRsyncArgs(List<String> args, Node node, String key) throws ConfigException {
            Optional<RsyncArgsRules.Refusal> refusal = RsyncArgsRules.check(args);
            if (refusal.isEmpty()) {
                return;
            }
            Optional<Integer> index = refusal.get().index();
            throw index.isPresent()
                    ? error(((SequenceNode) node).getValue().get(index.get()), key + "[" + index.get() + "]", refusal.get().reason())
                    : error(node, key, refusal.get().reason());
        }

        private FullWindow fullWindow(Node node, String key) throws ConfigException {
            Map<String, NodeTuple> fields = mapping(node, key, WINDOW_KEYS);
            if (fields.isEmpty()) {
                throw error(node, key, "empty window: give days-of-month (e.g. 1-7) and/or days-of-week (e.g. [sun])");
            }
            Set<Integer> days = new TreeSet<>();
            if (fields.containsKey("days-of-month")) {
                days(fields.get("days-of-month").getValueNode(), key + ".days-of-month", days, FullWindow::daysOfMonth);
            }
            Set<DayOfWeek> weekdays = EnumSet.noneOf(DayOfWeek.class);
            if (fields.containsKey("days-of-week")) {
                days(fields.get("days-of-week").getValueNode(), key + ".days-of-week", weekdays, FullWindow::daysOfWeek);
            }
            return new FullWindow(days, weekdays);
        }

        /** Adds the days of every entry of a list ({@code [1, 15-16]}, or {@code 1-7} alone, commas allowed). */
        private <T> void days(Node node, String key, Set<T> days, Function<String, Set<T>> parse) throws ConfigException {
            for (Node item : items(node, key)) {
                for (String part : string(item, key).split(",")) {
                    try {
                        days.addAll(parse.apply(part.trim()));
                    } catch (IllegalArgumentException e) {
                        throw error(item, key, e.getMessage());
                    }
                }
            }
        }

        void checkStateDirs(Path queue, Path state, Node stateNode) throws ConfigException {
            if (state.startsWith(queue) || queue.startsWith(state)) {
                throw error(stateNode, "state", "the queue (" + queue + ") and the state directory (" + state
                        + ") must be separate directories, neither inside the other: the queue directory belongs to Chronicle Queue");
            }
        }

        // ---- typed readers over nodes -------------------------------------------------------

        /** The entries of a mapping, checking that keys are unique and known; keyed by name, in file order. */
        private Map<String, NodeTuple> mapping(Node node, String key, List<String> known) throws ConfigException {
            Map<String, NodeTuple> fields = new LinkedHashMap<>();
            for (NodeTuple entry : entries(node, key)) {
                String field = keyText(entry, key);
                if (!known.contains(field)) {
                    String closest = closest(field, known);
                    throw error(entry.getKeyNode(), join(key, field), "unknown key '" + field + "'"
                            + (closest == null ? "" : "; did you mean '" + closest + "'?") + " known keys: " + String.join(", ", known));
                }
                fields.put(field, entry);
            }
            return fields;
        }

        /** The entries of a mapping whose keys are unique scalars. */
        private List<NodeTuple> entries(Node node, String key) throws ConfigException {
            if (!(node instanceof MappingNode)) {
                throw error(node, key, "expected a mapping (key: value), got " + describe(node));
            }
            List<NodeTuple> entries = ((MappingNode) node).getValue();
            Map<String, Node> seen = new LinkedHashMap<>();
            for (NodeTuple entry : entries) {
                String field = keyText(entry, key);
                Node first = seen.putIfAbsent(field, entry.getKeyNode());
                if (first != null) {
                    throw error(entry.getKeyNode(), join(key, field), "duplicate key '" + field + "' (first at line "
                            + first.getStartMark().map(m -> m.getLine() + 1).orElse(0) + ")");
                }
            }
            return entries;
        }

        private String keyText(NodeTuple entry, String key) throws ConfigException {
            Node keyNode = entry.getKeyNode();
            if (!(keyNode instanceof ScalarNode)) {
                throw error(keyNode, key, "keys must be plain names, got " + describe(keyNode));
            }
            return ((ScalarNode) keyNode).getValue();
        }

        private String name(NodeTuple entry, String key) throws ConfigException {
            String name = keyText(entry, key);
            if (!NAME.matcher(name).matches() || name.equals(".") || name.equals("..")) {
                throw error(entry.getKeyNode(), join(key, name), "the name '" + name + "' may use only letters, digits,"
                        + " '.', '_' and '-' (and is not . or ..): names become file names in the state directory");
            }
            return name;
        }

        private Node require(Map<String, NodeTuple> fields, Node parent, String key, String field) throws ConfigException {
            NodeTuple entry = fields.get(field);
            if (entry == null) {
                throw error(parent, key == null ? field : key, "missing required key '" + field + "'");
            }
            return entry.getValueNode();
        }

        private List<Node> items(Node node, String key) throws ConfigException {
            if (node instanceof SequenceNode) {
                List<Node> items = ((SequenceNode) node).getValue();
                if (items.isEmpty()) {
                    throw error(node, key, "the list is empty");
                }
                return items;
            }
            return List.of(node);
        }

        private String string(Node node, String key) throws ConfigException {
            if (!(node instanceof ScalarNode) || node.getTag().equals(Tag.NULL)) {
                throw error(node, key, "expected a text value, got " + describe(node));
            }
            String value = ((ScalarNode) node).getValue();
            if (value.isEmpty()) {
                throw error(node, key, "is empty");
            }
            return value;
        }

        private List<String> strings(Node node, String key) throws ConfigException {
            if (!(node instanceof SequenceNode)) {
                throw error(node, key, "expected a list, e.g. [-rlt], got " + describe(node));
            }
            List<String> values = new ArrayList<>();
            List<Node> items = ((SequenceNode) node).getValue();
            for (int i = 0; i < items.size(); i++) {
                values.add(string(items.get(i), key + "[" + i + "]"));
            }
            return values;
        }

        private List<String> patterns(Node node, String key) throws ConfigException {
            if (!(node instanceof SequenceNode)) {
                throw error(node, key, "expected a list of patterns, e.g. [/photos/, \"*.tmp\"], got " + describe(node));
            }
            List<String> patterns = new ArrayList<>();
            List<Node> items = ((SequenceNode) node).getValue();
            for (int i = 0; i < items.size(); i++) {
                String itemKey = key + "[" + i + "]";
                String pattern = string(items.get(i), itemKey);
                checkPattern(pattern, items.get(i), itemKey);
                patterns.add(pattern);
            }
            return patterns;
        }

        void checkPattern(String pattern, Node node, String key) throws ConfigException {
            try {
                PathFilter.of(List.of(pattern));
            } catch (IllegalArgumentException e) {
                throw error(node, key, e.getMessage());
            }
        }

        private Path path(Node node, String key) throws ConfigException {
            String text = string(node, key);
            Path path;
            try {
                path = Path.of(text);
            } catch (InvalidPathException e) {
                throw error(node, key, "'" + text + "' is not a usable path here (" + e.getReason()
                        + "); run changeq under a UTF-8 locale for non-ASCII paths");
            }
            return absolute(path, node, key);
        }

        Path absolute(Path path, Node node, String key) throws ConfigException {
            if (!path.isAbsolute()) {
                throw error(node, key, "'" + path + "' is not an absolute path; write it from /");
            }
            return path.normalize();
        }

        private boolean bool(Node node, String key) throws ConfigException {
            if (node instanceof ScalarNode && node.getTag().equals(Tag.BOOL)) {
                return Boolean.parseBoolean(((ScalarNode) node).getValue());
            }
            throw error(node, key, "expected true or false, got " + describe(node));
        }

        private long positiveLong(Node node, String key) throws ConfigException {
            if (node instanceof ScalarNode && node.getTag().equals(Tag.INT)) {
                String text = ((ScalarNode) node).getValue();
                long value;
                try {
                    value = Long.parseLong(text);
                } catch (NumberFormatException e) {
                    throw error(node, key, "'" + text + "' is too large");
                }
                if (value <= 0) {
                    throw error(node, key, "must be greater than 0, got " + value);
                }
                return value;
            }
            throw error(node, key, "expected a whole number, got " + describe(node));
        }

        private static boolean isNull(Node node) {
            return node instanceof ScalarNode && node.getTag().equals(Tag.NULL);
        }

        private static String describe(Node node) {
            if (node instanceof ScalarNode) {
                return node.getTag().equals(Tag.NULL) ? "nothing" : "'" + ((ScalarNode) node).getValue() + "'";
            }
            return node instanceof SequenceNode ? "a list" : "a mapping";
        }

        ConfigException error(Node node, String key, String problem) {
            return error(node == null ? null : node.getStartMark().orElse(null), key, problem);
        }

        ConfigException error(Mark mark, String key, String problem) {
            StringBuilder message = new StringBuilder(fileName);
            if (mark != null) {
                message.append(" line ").append(mark.getLine() + 1).append(" column ").append(mark.getColumn() + 1);
            }
            if (key != null) {
                message.append(", ").append(key);
            }
            return new ConfigException(message.append(": ").append(problem).toString());
        }
    }

    /**
     * Whether {@code inner} is {@code outer} or lies inside it, as written or once the symbolic links of the parts
     * that exist are resolved: the tracker watches, and rsync writes, where the links lead.
     */
    static boolean inside(Path inner, Path outer) {
        return inner.startsWith(outer) || realPath(inner).startsWith(realPath(outer));
    }

    /** {@code path} with the symbolic links of its longest existing part resolved; the rest as written. */
    static Path realPath(Path path) {
        Path missing = path.getFileSystem().getPath("");
        for (Path existing = path.toAbsolutePath().normalize(); existing != null; existing = existing.getParent()) {
            try {
                return existing.toRealPath().resolve(missing);
            } catch (IOException e) {
                missing = existing.getFileName() == null ? missing : existing.getFileName().resolve(missing);
            }
        }
        return path;
    }

    /** {@code path} for a message, with where it really leads when a symbolic link takes it elsewhere. */
    private static String shown(Path path) {
        Path real = realPath(path);
        return real.equals(path) ? path.toString() : path + " (through a symbolic link: " + real + ")";
    }

    /** Whether one destination is the other or lies inside it, comparing paths component by component. */
    static boolean destinationsOverlap(String a, String b) {
        String first = normalizedDestination(a);
        String second = normalizedDestination(b);
        return first.startsWith(second) || second.startsWith(first);
    }

    /** {@code host:path} and {@code rsync://host/module/path} compared as text, after the scheme, with one trailing slash. */
    private static String normalizedDestination(String dest) {
        int start = dest.startsWith("rsync://") ? "rsync://".length() : 0;
        String normalized = dest.substring(0, start) + dest.substring(start).replaceAll("/{2,}", "/").replace("/./", "/");
        if (dest.startsWith("/")) {
            normalized = Path.of(dest).normalize().toString();
        }
        return normalized.endsWith("/") ? normalized : normalized + "/";
    }

    private static String join(String key, String field) {
        return key == null ? field : key + "." + field;
    }

    /** The known key within a small edit distance of a mistyped one, if any. */
    static String closest(String field, List<String> known) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : known) {
            int distance = editDistance(field, candidate);
            if (distance < bestDistance) {
                bestDistance = distance;
                best = candidate;
            }
        }
        return bestDistance <= Math.max(2, field.length() / 3) ? best : null;
    }

    private static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    /** A path written as an rsync pattern that matches exactly that path. */
    static String escapeLiteral(String path) {
        // rsync reads backslashes literally unless the pattern has a wildcard, so escape only then.
        if (path.chars().noneMatch(c -> c == '*' || c == '?' || c == '[')) {
            return path;
        }
        StringBuilder escaped = new StringBuilder();
        for (char c : path.toCharArray()) {
            if (c == '*' || c == '?' || c == '[' || c == '\\') {
                escaped.append('\\');
            }
            escaped.append(c);
        }
        return escaped.toString();
    }
}
