package io.nfqueue.reactor;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Bounded waits for the receive thread to catch up: poll a condition until it holds or time is up. */
final class Await {
    private Await() {
    }

    static void until(BooleanSupplier condition, Duration max, Supplier<String> what) {
        long deadline = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what.get() + ": not reached within " + max);
            }
            sleep(2);
        }
    }

    static void until(BooleanSupplier condition, Supplier<String> what) {
        until(condition, Duration.ofSeconds(5), what);
    }

    /**
     * Gives the receive thread time to do what it must not do (read past demand, emit more):
     * several of its 50 ms wait slices.
     */
    static void quiet() {
        sleep(200);
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
