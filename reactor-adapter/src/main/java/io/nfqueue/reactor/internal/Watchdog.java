package io.nfqueue.reactor.internal;

import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The subscription's own clock ({@code nfqueue-<num>-watchdog}): every tick it measures each
 * reader's drain rate and moves the kernel max-length after it, gives the default verdict to
 * packets past the verdict timeout, and retries failed verdict sends. On a thread of its own
 * because the receive threads cannot be relied on for it: a subscriber that blocks in
 * {@code onNext} holds the thread that emits, and that is exactly when the max-length must
 * shrink and overdue packets must be resolved.
 */
final class Watchdog implements Runnable {

    private final ReceiverSubscription parent;
    private final List<QueueReader> readers;
    private final long tickMillis;
    private volatile Thread thread;

    Watchdog(ReceiverSubscription parent, List<QueueReader> readers, long tickMillis) {
        this.parent = parent;
        this.readers = readers;
        this.tickMillis = tickMillis;
    }

    void start(ThreadFactory threads, String name) {
        Thread t = threads.newThread(this);
        t.setName(name);
        thread = t;
        t.start();
    }

    /** Ends the loop at once (the subscription is over). */
    void wake() {
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    @Override
    public void run() {
        try {
            while (!parent.isTerminated()) {
                long now = System.nanoTime();
                for (QueueReader r : readers) {
                    r.tick(now);
                }
                LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(tickMillis));
            }
        } catch (Throwable t) {
            if (!parent.isTerminated()) {
                parent.fail(t);
            } // else: a queue closed under a tick by the subscription's end, which is not an error
        }
    }
}
