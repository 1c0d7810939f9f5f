package io.nfqueue;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The threads inside a verdict's claim-and-queue step (a compare-and-set on the packet, two
 * counters, a push on the pending stack), and close()'s wait for them to leave: the handshake
 * that makes sure every verdict claimed before close() is in the stack before close() sends the
 * last batch. The step never blocks and runs no code of the program's, so the wait has no
 * deadline: a deadline would only let a verdict whose thread was descheduled longer than it be
 * claimed and never sent.
 */
final class VerdictSubmitters {
    private final AtomicInteger inside = new AtomicInteger();

    void enter() {
        inside.incrementAndGet();
    }

    void exit() {
        inside.decrementAndGet();
    }

    /** Returns once no thread is inside the step: spins briefly, then yields, then sleeps 0.1 ms at a time. */
    void awaitNone() {
        for (int i = 0; inside.get() != 0; i++) {
            if (i < 100) {
                Thread.onSpinWait();
            } else if (i < 1000) {
                Thread.yield();
            } else {
                LockSupport.parkNanos(100_000L);
            }
        }
    }
}
