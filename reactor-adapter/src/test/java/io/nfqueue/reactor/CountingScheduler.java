package io.nfqueue.reactor;

import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A single-thread scheduler that counts the tasks handed to it, to tell a hand-off per batch
 * from a hand-off per packet.
 */
final class CountingScheduler implements Scheduler {
    private final Scheduler delegate;
    private final AtomicInteger tasks = new AtomicInteger();

    CountingScheduler(String name) {
        this.delegate = Schedulers.newSingle(name);
    }

    int tasks() {
        return tasks.get();
    }

    /** The scheduler underneath (its one thread is shared by every worker). */
    Scheduler delegate() {
        return delegate;
    }

    @Override
    public Disposable schedule(Runnable task) {
        tasks.incrementAndGet();
        return delegate.schedule(task);
    }

    @Override
    public Worker createWorker() {
        Worker w = delegate.createWorker();
        return new Worker() {
            @Override
            public Disposable schedule(Runnable task) {
                tasks.incrementAndGet();
                return w.schedule(task);
            }

            @Override
            public Disposable schedule(Runnable task, long delay, TimeUnit unit) {
                tasks.incrementAndGet();
                return w.schedule(task, delay, unit);
            }

            @Override
            public void dispose() {
                w.dispose();
            }

            @Override
            public boolean isDisposed() {
                return w.isDisposed();
            }
        };
    }

    @Override
    public void dispose() {
        delegate.dispose();
    }

    @Override
    public boolean isDisposed() {
        return delegate.isDisposed();
    }

    @Override
    public void init() {
        delegate.init();
    }
}
