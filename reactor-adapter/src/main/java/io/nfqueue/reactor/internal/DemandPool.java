package io.nfqueue.reactor.internal;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Outstanding demand shared by the readers of one subscription. A reader claims demand before
 * it reads and gives back what it did not use, so the packets read never exceed the packets
 * requested: there is no prefetch anywhere. {@code Long.MAX_VALUE} means unbounded and is
 * never consumed (Reactive Streams §3.17).
 */
final class DemandPool {
    /** Demand no reader has claimed yet. */
    private final AtomicLong available = new AtomicLong();

    /** Adds {@code n} (> 0), capping at unbounded. */
    void add(long n) {
        addCapped(available, n);
    }

    /** Returns the value before the addition. */
    private static long addCapped(AtomicLong counter, long n) {
        long current;
        long next;
        do {
            current = counter.get();
            if (current == Long.MAX_VALUE) {
                return current;
            }
            next = current + n;
            if (next < 0) {
                next = Long.MAX_VALUE;
            }
        } while (!counter.compareAndSet(current, next));
        return current;
    }

    /** Takes up to {@code want} units; returns how many were taken (0 when there is no demand). */
    int claim(int want) {
        while (true) {
            long current = available.get();
            if (current == 0 || want <= 0) {
                return 0;
            }
            if (current == Long.MAX_VALUE) {
                return want;
            }
            int k = (int) Math.min(current, want);
            if (available.compareAndSet(current, current - k)) {
                return k;
            }
        }
    }

    /**
     * Returns claimed units that were not used (a claim whose packets were not consumed).
     *
     * @return true when they made demand available again, that is, none was left: another reader
     *         may have found none meanwhile and be waiting for it
     */
    boolean giveBack(int unused) {
        return unused > 0 && addCapped(available, unused) == 0;
    }

    /**
     * Ends a claim of {@code claimed} units of which {@code used} went to packets read.
     *
     * @return as {@link #giveBack}
     */
    boolean settle(int claimed, int used) {
        return giveBack(claimed - used);
    }

    /** Demand nobody has claimed yet: what a reader may still take; {@code Long.MAX_VALUE} when unbounded. */
    long outstanding() {
        return available.get();
    }
}
