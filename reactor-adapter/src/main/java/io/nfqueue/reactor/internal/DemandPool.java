package io.nfqueue.reactor.internal;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Outstanding demand shared by the readers of one subscription. A reader claims demand before
 * it reads and gives back what it did not use, so the packets read never exceed the packets
 * requested: there is no prefetch anywhere. {@code Long.MAX_VALUE} means unbounded and is
 * never consumed (Reactive Streams §3.17).
 */
final class DemandPool {
    private final AtomicLong available = new AtomicLong();

    /** Adds {@code n} (> 0), capping at unbounded. */
    void add(long n) {
        long current;
        long next;
        do {
            current = available.get();
            if (current == Long.MAX_VALUE) {
                return;
            }
            next = current + n;
            if (next < 0) {
                next = Long.MAX_VALUE;
            }
        } while (!available.compareAndSet(current, next));
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

    /** Returns claimed units that were not used. */
    void giveBack(int unused) {
        if (unused > 0) {
            add(unused);
        }
    }

    /** Demand not yet claimed; {@code Long.MAX_VALUE} when unbounded. */
    long outstanding() {
        return available.get();
    }
}
