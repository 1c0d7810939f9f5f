package io.nfqueue.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** A bounded wait on a condition, instead of a sleep. */
public final class Await {
    private Await() {
    }

    /** Polls {@code condition} every 10 ms until it holds or {@code timeout} passes; returns the last result. */
    public static boolean until(BooleanSupplier condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (condition.getAsBoolean()) {
                return true;
            }
            if (System.nanoTime() >= deadline) {
                return false;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return condition.getAsBoolean();
            }
        }
    }
}
