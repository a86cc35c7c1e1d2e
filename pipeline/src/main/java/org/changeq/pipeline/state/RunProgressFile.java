package org.changeq.pipeline.state;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.changeq.pipeline.ByteStrings;

/**
 * The progress of a route's running sync, for changeq-queue (another process): the run rewrites it (atomically) when
 * it starts and at every progress interval, and removes it when it ends. A run that was killed leaves it behind, so a
 * reader trusts it only while the route's lock is held by the process that wrote it ({@link #isLive}). Format,
 * versioned text, the first line a header, then one {@code key value} line each (the current path is its bytes in
 * hex; a count rsync has not reported yet is {@code -1}):
 * <pre>
 * changeq-run-progress 1
 * pid 4711
 * started 1733570000000
 * updated 1733570030000
 * activity full sync
 * rsync running
 * files 12
 * bytes 1234567
 * rate 41152
 * checked 45000
 * total 120000
 * list growing
 * current 70686f746f732f612e6a7067
 * </pre>
 */
public final class RunProgressFile {

    static final int FORMAT_VERSION = 1;
    private static final String MAGIC = "changeq-run-progress";
    private static final HexFormat HEX = HexFormat.of();
    private static final String[] KEYS = {"pid", "started", "updated", "activity", "rsync", "files", "bytes", "rate", "checked",
        "total", "list", "current"};

    private final Path file;

    public RunProgressFile(Path file) {
        this.file = file;
    }

    public Path path() {
        return file;
    }

    /**
     * A run's progress at one moment.
     *
     * @param activity     what the run does now, for a human: {@code full sync}, {@code preparing}, ...
     * @param rsyncRunning whether an rsync pass runs now
     * @param files        the files sent so far by this run (rsync's {@code xfr#} over its passes)
     * @param bytes        the bytes of those files sent so far
     * @param rateBytesPerSecond the rate since the previous report
     * @param checked      the paths rsync checked in the current pass; -1 before rsync reported any
     * @param total        the paths rsync knows of in the current pass; -1 before rsync reported any
     * @param listComplete whether rsync's file list is complete ({@code to-chk}) rather than still growing ({@code ir-chk})
     * @param current      the path rsync named last (a file being sent, or the last one it changed); empty before any
     */
    public record Snapshot(long pid, long startedMillis, long updatedMillis, String activity, boolean rsyncRunning,
                           long files, long bytes,
                           long rateBytesPerSecond, long checked, long total, boolean listComplete, byte[] current) {
        public Snapshot {
            activity = activity.replace('\n', ' ');
            current = current.clone();
        }

        @Override
        public byte[] current() {
            return current.clone();
        }

        /** Whether rsync reported anything yet in the current pass: before that, it builds the file list. */
        public boolean rsyncReported() {
            return checked >= 0;
        }

        /**
         * One line for a human, as the log, {@code STATUS=} and changeq-queue show it:
         * {@code full sync for 1m30s: 1,234 files (2.1 GB) sent at 12.3 MB/s, 45,000 of 120,000+ paths checked;
         * current photos/a.jpg}.
         */
        public String describe() {
            StringBuilder line = new StringBuilder(activity).append(" for ")
                    .append(duration(updatedMillis - startedMillis)).append(": ");
            if (!rsyncReported() && files == 0 && bytes == 0) {
                return line.append(rsyncRunning ? "rsync is building the file list, nothing sent yet"
                        : "nothing sent yet").toString();
            }
            line.append(String.format(Locale.ROOT, "%,d %s (%s) sent at %s/s", files, files == 1 ? "file" : "files",
                    humanBytes(bytes), humanBytes(rateBytesPerSecond)));
            if (rsyncReported()) {
                line.append(String.format(Locale.ROOT, ", %,d of %,d%s paths checked%s", checked, total,
                        listComplete ? "" : "+", listComplete ? "" : " (file list still growing)"));
            }
            if (current.length > 0) {
                line.append("; current ").append(ByteStrings.escape(current));
            }
            return line.toString();
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Snapshot that && pid == that.pid && startedMillis == that.startedMillis
                    && updatedMillis == that.updatedMillis && activity.equals(that.activity)
                    && rsyncRunning == that.rsyncRunning && files == that.files
                    && bytes == that.bytes && rateBytesPerSecond == that.rateBytesPerSecond && checked == that.checked
                    && total == that.total && listComplete == that.listComplete
                    && Arrays.equals(current, that.current);
        }

        @Override
        public int hashCode() {
            return Objects.hash(pid, startedMillis, updatedMillis, activity, rsyncRunning, files, bytes, checked)
                    * 31 + Arrays.hashCode(current);
        }

        @Override
        public String toString() {
            return "Snapshot[" + describe() + ", pid " + pid + "]";
        }
    }

    static String encode(Snapshot snapshot) {
        return MAGIC + " " + FORMAT_VERSION + "\n"
                + "pid " + snapshot.pid() + "\n"
                + "started " + snapshot.startedMillis() + "\n"
                + "updated " + snapshot.updatedMillis() + "\n"
                + "activity " + snapshot.activity() + "\n"
                + "rsync " + (snapshot.rsyncRunning() ? "running" : "idle") + "\n"
                + "files " + snapshot.files() + "\n"
                + "bytes " + snapshot.bytes() + "\n"
                + "rate " + snapshot.rateBytesPerSecond() + "\n"
                + "checked " + snapshot.checked() + "\n"
                + "total " + snapshot.total() + "\n"
                + "list " + (snapshot.listComplete() ? "complete" : "growing") + "\n"
                + "current " + HEX.formatHex(snapshot.current()) + "\n";
    }

    static Snapshot decode(String text, Path source) {
        String[] lines = text.split("\n");
        String header = lines.length == 0 ? "" : lines[0];
        if (!header.startsWith(MAGIC + " ")) {
            throw malformed(source, "it does not start with '" + MAGIC + "'");
        }
        if (!header.equals(MAGIC + " " + FORMAT_VERSION)) {
            throw malformed(source, "it has format version " + header.substring(MAGIC.length() + 1)
                    + " and this build reads version " + FORMAT_VERSION);
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int space = lines[i].indexOf(' ');
            values.put(space < 0 ? lines[i] : lines[i].substring(0, space), space < 0 ? "" : lines[i].substring(space + 1));
        }
        for (String key : KEYS) {
            if (!values.containsKey(key)) {
                throw malformed(source, "it has no '" + key + "' line");
            }
        }
        String rsync = values.get("rsync");
        if (!rsync.equals("running") && !rsync.equals("idle")) {
            throw malformed(source, "its rsync is '" + rsync + "', neither 'running' nor 'idle'");
        }
        String list = values.get("list");
        if (!list.equals("complete") && !list.equals("growing")) {
            throw malformed(source, "its list is '" + list + "', neither 'complete' nor 'growing'");
        }
        try {
            return new Snapshot(number(values, "pid"), number(values, "started"), number(values, "updated"),
                    values.get("activity"), rsync.equals("running"), number(values, "files"), number(values, "bytes"),
                    number(values, "rate"), number(values, "checked"), number(values, "total"), list.equals("complete"),
                    HEX.parseHex(values.get("current")));
        } catch (IllegalArgumentException e) {
            throw malformed(source, e.getMessage());
        }
    }

    private static long number(Map<String, String> values, String key) {
        try {
            return Long.parseLong(values.get(key));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("its " + key + " '" + values.get(key) + "' is not a number", e);
        }
    }

    private static IllegalStateException malformed(Path source, String why) {
        return new IllegalStateException(source + " is not a progress file this build can read: " + why
                + "; it is rewritten by the route's next run (or delete it)");
    }

    /** The file's content; empty when no run of the route is running, or one ended cleanly. */
    public Optional<Snapshot> read() throws IOException {
        return StateDirectory.readIfPresent(file).map(bytes -> decode(new String(bytes, StandardCharsets.UTF_8), file));
    }

    /** Replaces the file; not fsynced: after a power cut no run is running. */
    public void write(Snapshot snapshot) throws IOException {
        StateDirectory.replace(file, encode(snapshot).getBytes(StandardCharsets.UTF_8), false);
    }

    public void delete() throws IOException {
        StateDirectory.deleteIfExists(file);
    }

    /**
     * Whether the run that wrote {@code snapshot} still runs: its process is alive and holds the route's lock. A killed
     * run leaves its file behind and releases the lock with its death; a pid alone could have been reused. The lock's
     * holder is looked up ({@link LockHolder}), never tested by taking it: a run of the route starting at that instant
     * must not find it taken. When the holder cannot be told, a live process is taken at its word: this only decides
     * what a report shows, and calling a running sync dead would invite someone to start another or to kill it.
     */
    public static boolean isLive(Snapshot snapshot, Path routeLock) {
        if (!ProcessHandle.of(snapshot.pid()).map(ProcessHandle::isAlive).orElse(false)) {
            return false;
        }
        LockHolder holder = LockHolder.of(routeLock);
        return switch (holder.status()) {
            case HELD -> holder.pid().isEmpty() || holder.pid().getAsLong() == snapshot.pid();
            case FREE -> false;
            case UNKNOWN -> true;
        };
    }

    /** {@code 1m30s}, {@code 2h05m}, {@code 45s}. */
    static String duration(long millis) {
        long seconds = Math.max(0, millis) / 1000;
        if (seconds < 60) {
            return seconds + "s";
        }
        if (seconds < 3600) {
            return seconds / 60 + "m" + String.format(Locale.ROOT, "%02d", seconds % 60) + "s";
        }
        return seconds / 3600 + "h" + String.format(Locale.ROOT, "%02d", seconds / 60 % 60) + "m";
    }

    /** {@code 512 B}, {@code 3.0 MB}, {@code 2.1 TB}: decimal units, as rsync's progress shows them. */
    static String humanBytes(long bytes) {
        if (bytes < 1000) {
            return bytes + " B";
        }
        String[] units = {"kB", "MB", "GB", "TB", "PB", "EB"};
        double value = bytes;
        int unit = -1;
        while (value >= 1000 && unit < units.length - 1) {
            value /= 1000;
            unit++;
        }
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }
}
