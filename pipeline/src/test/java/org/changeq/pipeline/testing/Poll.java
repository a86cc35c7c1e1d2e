package org.changeq.pipeline.testing;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/** Waits for a condition with a deadline instead of sleeping a guessed time. */
public final class Poll {

    private Poll() {
    }

    public static void until(Duration timeout, String what, Callable<Boolean> condition) throws InterruptedException {
        until(timeout, () -> what, condition);
    }

    /** As {@link #until(Duration, String, Callable)}, the description built only when it is needed. */
    public static void until(Duration timeout, Supplier<String> what, Callable<Boolean> condition)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        // Quick conditions are seen within a millisecond; costly ones (a tree walk) are not run back to back.
        long pauseMillis = 1;
        while (true) {
            try {
                if (condition.call()) {
                    return;
                }
            } catch (InterruptedException e) {
                throw e;
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new AssertionError("while waiting for " + what.get() + ": " + e, e);
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what.get());
            }
            Thread.sleep(pauseMillis);
            pauseMillis = Math.min(pauseMillis * 2, 20);
        }
    }
}
