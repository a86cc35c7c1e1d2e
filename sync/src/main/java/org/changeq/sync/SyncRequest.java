package org.changeq.sync;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * One run of one route, as asked for on the command line.
 *
 * @param route            the route's name
 * @param forceFull        {@code --full}
 * @param dryRun           plan, print and run rsync with {@code --dry-run}; commit nothing
 * @param metricsDirectory where the {@code .prom} file goes; default {@code <state>/metrics}
 * @param retainMinAge     queue files younger than this are never deleted by retention
 */
public record SyncRequest(String route, boolean forceFull, boolean dryRun, Optional<Path> metricsDirectory,
                          Duration retainMinAge) {

    public static final Duration DEFAULT_RETAIN_MIN_AGE = Duration.ofDays(1);

    public SyncRequest {
        if (retainMinAge.isNegative()) {
            throw new IllegalArgumentException("retain-min-age must not be negative, got " + retainMinAge);
        }
    }

    public static SyncRequest of(String route) {
        return new SyncRequest(route, false, false, Optional.empty(), DEFAULT_RETAIN_MIN_AGE);
    }
}
