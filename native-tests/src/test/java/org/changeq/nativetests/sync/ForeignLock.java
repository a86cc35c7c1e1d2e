package org.changeq.nativetests.sync;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * An exclusive lock on a whole file, held by another process (python3's fcntl) until {@link #close}: what a second
 * changeq program, a verify or a run started by hand holds. Creates the file when it is missing.
 */
public final class ForeignLock implements AutoCloseable {

    /** Which of the kernel's locks. */
    public enum Kind {
        /** A process's lock ({@code F_SETLK}, as Java's {@code FileChannel.tryLock} takes): /proc/locks names its pid. */
        PROCESS("fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)"),
        /** An open file description's lock ({@code F_OFD_SETLK}): /proc/locks names no process. */
        OPEN_FILE_DESCRIPTION("fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack('hhqqi4x', fcntl.F_WRLCK, os.SEEK_SET,"
                + " 0, 0, 0))");

        private final String statement;

        Kind(String statement) {
            this.statement = statement;
        }
    }

    private final Process holder;

    private ForeignLock(Process holder) {
        this.holder = holder;
    }

    /** Returns once the other process holds the lock. */
    public static ForeignLock hold(Path file, Kind kind) throws IOException {
        Process holder = new ProcessBuilder("python3", "-c", String.join("\n",
                "import fcntl, os, struct, sys",
                "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o640)",
                kind.statement,
                "print('locked', flush=True)",
                "sys.stdin.read()"), file.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        assertEquals("locked\n", new String(holder.getInputStream().readNBytes(7), UTF_8), "python3 took the lock");
        return new ForeignLock(holder);
    }

    public long pid() {
        return holder.pid();
    }

    public boolean held() {
        return holder.isAlive();
    }

    /** Lets go of the lock: the process ends. */
    @Override
    public void close() throws IOException, InterruptedException {
        holder.getOutputStream().close();
        if (!holder.waitFor(20, TimeUnit.SECONDS)) {
            holder.destroyForcibly().waitFor();
        }
        assertTrue(holder.exitValue() == 0, "the lock's process ended by itself");
    }
}
