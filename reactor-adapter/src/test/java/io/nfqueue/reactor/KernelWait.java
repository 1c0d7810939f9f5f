package io.nfqueue.reactor;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Bounded waits for kernel tests: poll a condition until it holds or the time is up. */
final class KernelWait {
    private KernelWait() {
    }

    static void until(BooleanSupplier condition, Duration max, String what) throws InterruptedException {
        until(condition, max, () -> what);
    }

    /** Like {@link #until(BooleanSupplier, Duration, String)}, describing the state when it fails. */
    static void until(BooleanSupplier condition, Duration max, Supplier<String> what)
            throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what.get() + ": not reached within " + max);
            }
            Thread.sleep(10);
        }
    }
}
