package io.nfqueue.reactor.internal;

import java.util.function.LongSupplier;

/**
 * The time a reader has spent idle: waiting for packets while it had demand and room to read
 * them. Everything else is busy time ({@link DrainRate}). Written by the reading thread alone
 * (one idle period at a time), read by the watchdog.
 */
final class IdleClock {
    private final LongSupplier clock;
    /** Idle time of the periods that ended. */
    private volatile long endedNanos;
    /** Start of the current idle period, 0 when not idle. */
    private volatile long since;

    /** @param clock the subscription's ({@link System#nanoTime()} unless a test's timer gives another) */
    IdleClock(LongSupplier clock) {
        this.clock = clock;
    }

    /** The reading thread starts waiting for packets. */
    void start() {
        long now = clock.getAsLong();
        since = now == 0 ? 1 : now;
    }

    /** The wait is over. */
    void stop() {
        long s = since;
        if (s != 0) {
            // endedNanos first: a reader that sees since == 0 then sees this period counted.
            endedNanos = endedNanos + (clock.getAsLong() - s);
            since = 0;
        }
    }

    /** Idle time so far, up to {@code now}, the current period included. */
    long idleNanos(long now) {
        while (true) {
            long s1 = since;
            long ended = endedNanos;
            long s2 = since;
            if (s1 == s2) {
                return ended + (s1 != 0 ? Math.max(0, now - s1) : 0);
            }
            // the reading thread started or ended a period meanwhile: read again
        }
    }
}
