package io.nfqueue.reactor.internal;

import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;

import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * The subscription's own clock ({@code nfqueue-<num>-watchdog}): every tick it measures each
 * reader's drain rate and moves the kernel max-length after it, gives the default verdict to
 * packets past the verdict timeout, and retries failed verdict sends. On a thread of its own
 * because the receive threads cannot be relied on for it: a subscriber that blocks in
 * {@code onNext} holds the thread that emits, and that is exactly when the max-length must
 * shrink and overdue packets must be resolved. With a timer scheduler (tests, virtual time) the
 * ticks are that scheduler's periodic task instead, timed by its clock.
 */
final class Watchdog implements Runnable {

    private final ReceiverSubscription parent;
    private final List<QueueReader> readers;
    private final long tickMillis;
    private final LongSupplier clock;
    private volatile Thread thread;
    private volatile Disposable periodic;

    Watchdog(ReceiverSubscription parent, List<QueueReader> readers, long tickMillis, LongSupplier clock) {
        this.parent = parent;
        this.readers = readers;
        this.tickMillis = tickMillis;
        this.clock = clock;
    }

    /** Starts the ticks: on {@code timer} when there is one, else on a thread of {@code threads}. */
    void start(Scheduler timer, ThreadFactory threads, String name) {
        if (timer != null) {
            periodic = timer.schedulePeriodically(this::tickOnce, tickMillis, tickMillis, TimeUnit.MILLISECONDS);
            if (parent.isTerminated()) {
                periodic.dispose(); // ended while being scheduled: wake() may have missed it
            }
            return;
        }
        Thread t = threads.newThread(this);
        t.setName(name);
        thread = t;
        t.start();
    }

    /** Ends the ticks at once (the subscription is over). */
    void wake() {
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
        Disposable d = periodic;
        if (d != null) {
            d.dispose();
        }
    }

    @Override
    public void run() {
        while (!parent.isTerminated() && tickOnce()) {
            LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(tickMillis));
        }
    }

    /** One tick over every reader; false once the subscription has failed or ended. */
    private boolean tickOnce() {
        if (parent.isTerminated()) {
            return false;
        }
        try {
            long now = clock.getAsLong();
            for (QueueReader r : readers) {
                r.tick(now);
            }
            return true;
        } catch (Throwable t) {
            if (!parent.isTerminated()) {
                parent.fail(t);
            } // else: a queue closed under a tick by the subscription's end, which is not an error
            return false;
        }
    }
}
