package org.changeq.nativetests.sync;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Where a test's route sends: a local directory, or a module of an rsync daemon on loopback standing in for
 * the NAS. {@link #close()} stops the daemon.
 *
 * @param directory where the destination's files land on disk
 * @param dest      the route's {@code dest} as configured
 */
record TestDestination(Path directory, String dest, RsyncDaemon daemon) implements AutoCloseable {

    enum Kind { LOCAL, DAEMON }

    static TestDestination start(Kind kind, Path tmp) throws IOException, InterruptedException {
        if (kind == Kind.LOCAL) {
            Path directory = tmp.resolve("dest");
            return new TestDestination(directory, directory.toString(), null);
        }
        RsyncDaemon daemon = RsyncDaemon.start(tmp.resolve("daemon"), tmp.resolve("module"));
        return new TestDestination(daemon.moduleDirectory().resolve("nfs"), daemon.url("nfs"), daemon);
    }

    @Override
    public void close() throws InterruptedException {
        if (daemon != null) {
            daemon.close();
        }
    }
}
