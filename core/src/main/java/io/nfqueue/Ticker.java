package io.nfqueue;

/**
 * The time source a queue measures packet ages and verdict timeouts with: a count of
 * nanoseconds from an arbitrary origin, like {@link System#nanoTime()}, which is
 * {@link #system() the default}. Tests pass another to move time on at will: the test kit
 * (nfqueue-test) passes the clock of reactor-test's {@code VirtualTimeScheduler}, so that a
 * verdict timeout fires when a {@code StepVerifier} advances virtual time.
 *
 * <pre>{@code
 * AtomicLong now = new AtomicLong();
 * QueueOptions options = QueueOptions.queue(0).verdictTimeout(Duration.ofSeconds(2)).ticker(now::get);
 * }</pre>
 *
 * <p>Read on the receive path once per batch and by the timeout check: it must be cheap,
 * thread-safe and never decrease.
 */
@FunctionalInterface
public interface Ticker {
    /** Nanoseconds since an arbitrary origin; only differences mean anything. */
    long read();

    /** {@link System#nanoTime()}. */
    static Ticker system() {
        return SystemTicker.INSTANCE;
    }
}
