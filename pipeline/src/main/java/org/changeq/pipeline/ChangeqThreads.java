package org.changeq.pipeline;

import java.util.Optional;
import java.util.concurrent.ThreadFactory;

/**
 * Makes every thread the changeq programs start, shutdown hooks included: each is named {@code changeq-...} and
 * remembers its owner, the one component that starts, wakes and joins it. A thread left running can then be traced
 * to the code that should have stopped it ({@link #ownerOf}); ARCHITECTURE.md lists every name with its owner.
 *
 * <p><b>Threading.</b> Stateless; any thread may call it. The threads it makes are not started; like any
 * {@code new Thread}, each is a daemon exactly when the thread that made it is.
 */
public final class ChangeqThreads {

    /** The prefix of every thread name, so that a thread dump's changeq threads sort together. */
    public static final String NAME_PREFIX = "changeq-";

    private ChangeqThreads() {
    }

    /**
     * An unstarted thread.
     *
     * @param owner the class whose code starts and joins the thread (for a shutdown hook: registers and removes it)
     * @param name  the thread's name, {@code changeq-...}
     * @throws IllegalArgumentException when {@code name} does not start with {@value #NAME_PREFIX}
     */
    public static Thread newThread(Class<?> owner, String name, Runnable task) {
        return new OwnedThread(owner, checkedName(name), task);
    }

    /**
     * A factory for libraries that start threads themselves (the Disruptor): every thread it makes has this name and
     * owner.
     */
    public static ThreadFactory factory(Class<?> owner, String name) {
        String checked = checkedName(name);
        return task -> new OwnedThread(owner, checked, task);
    }

    /** The owner a thread was made for, or empty when this class did not make it. */
    public static Optional<Class<?>> ownerOf(Thread thread) {
        return thread instanceof OwnedThread owned ? Optional.of(owned.owner) : Optional.empty();
    }

    private static String checkedName(String name) {
        if (!name.startsWith(NAME_PREFIX) || name.length() == NAME_PREFIX.length()) {
            throw new IllegalArgumentException("thread name must start with " + NAME_PREFIX + ": " + name);
        }
        return name;
    }

    private static final class OwnedThread extends Thread {
        private final Class<?> owner;

        OwnedThread(Class<?> owner, String name, Runnable task) {
            super(task, name);
            this.owner = owner;
        }

        @Override
        public String toString() {
            return super.toString() + " owned by " + owner.getName();
        }
    }
}
