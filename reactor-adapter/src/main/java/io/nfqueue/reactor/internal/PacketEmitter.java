package io.nfqueue.reactor.internal;

import io.nfqueue.BoundQueue;
import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Packet;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Operators;
import reactor.util.concurrent.Queues;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Serializes the signals of one subscription without holding a lock across {@code onNext}, the
 * way reactor-core's serialized sinks do: a work-in-progress counter, and a drain loop run by
 * whichever thread finds the counter at zero. A reader that finds another thread emitting leaves
 * its packets in its own queue and goes back to its loop (its verdict timeouts, its max-length,
 * its next read) instead of waiting; the emitting thread delivers them after its own. So a
 * subscriber that blocks in {@code onNext} stalls delivery, which is backpressure, but never
 * another queue's receive thread, nor the watchdog, nor a thread ending the subscription.
 *
 * <p>Nothing here is a prefetch: a packet reaches a queue here only after its reader claimed
 * demand for it, so the queues hold at most the claimed demand, and at most maxInFlight each.
 *
 * <p>Each reader's queue has one producer at a time (its receive thread, or its hand-off worker,
 * which take turns with a volatile hand-over between them) and one consumer at a time (the
 * drain loop's owner), so a single-producer queue suffices; per-queue order is kept because a
 * reader's packet goes out directly only when nothing of its own is waiting.
 *
 * <p>Packets of another queue are emitted inside that queue's {@link BoundQueue#dispatch}, so
 * the verdicts given for them in {@code onNext} go out in one batch as on its own thread.
 */
final class PacketEmitter {
    private final CoreSubscriber<? super Packet> actual;
    private final ReceiverSubscription parent;
    private final AtomicInteger wip = new AtomicInteger();
    private final List<Queue<Packet>> waiting = new ArrayList<>();
    private final List<BoundQueue> queues = new ArrayList<>();
    /** Drain-loop scratch: one queue's waiting packets, emitted in its dispatch. Owner only. */
    private final List<Packet> batch = new ArrayList<>();
    private final Consumer<Packet> deliver = this::deliver;
    /** The terminal error to deliver once the current emission is over; written once. */
    private volatile Throwable error;
    /** Completion to deliver once the current emission is over (JVM shutdown). */
    private volatile boolean complete;
    private boolean terminalDelivered;

    PacketEmitter(CoreSubscriber<? super Packet> actual, ReceiverSubscription parent) {
        this.actual = actual;
        this.parent = parent;
    }

    /** Registers a reader's queue before any emission; returns its index for {@link #emit}. */
    int register(BoundQueue queue) {
        waiting.add(Queues.<Packet>unbounded(64).get());
        queues.add(queue);
        return waiting.size() - 1;
    }

    /** Emits {@code p}, read by reader {@code index}, or leaves it for the thread emitting now. */
    void emit(int index, Packet p) {
        if (wip.get() == 0 && wip.compareAndSet(0, 1)) {
            deliver(p);
            if (wip.decrementAndGet() == 0) {
                return;
            }
        } else {
            waiting.get(index).offer(p);
            if (wip.getAndIncrement() != 0) {
                return;
            }
        }
        drain();
    }

    /** Delivers {@code e} as onError after any emission in progress; once. */
    void error(Throwable e) {
        error = e;
        if (wip.getAndIncrement() == 0) {
            drain();
        }
    }

    /** Delivers onComplete after any emission in progress; once, unless an error came first. */
    void complete() {
        complete = true;
        if (wip.getAndIncrement() == 0) {
            drain();
        }
    }

    private void drain() {
        int missed = 1;
        while (true) {
            for (int i = 0; i < waiting.size(); i++) {
                Queue<Packet> q = waiting.get(i);
                if (q.isEmpty()) {
                    continue;
                }
                Packet p;
                while ((p = q.poll()) != null) {
                    batch.add(p);
                }
                try {
                    queues.get(i).dispatch(batch, deliver);
                } finally {
                    batch.clear();
                }
            }
            Throwable e = error;
            if (!terminalDelivered && (e != null || complete)) {
                terminalDelivered = true;
                if (e != null) {
                    actual.onError(e);
                } else {
                    actual.onComplete();
                }
            }
            missed = wip.addAndGet(-missed);
            if (missed == 0) {
                return;
            }
        }
    }

    /** One packet to the subscriber; after the end, the default verdict instead. */
    private void deliver(Packet p) {
        if (parent.isTerminated()) {
            p.defaultVerdict(DefaultVerdictCause.CANCEL);
            return;
        }
        if (p.isResolved()) {
            // It timed out while it waited here behind a slow onNext: the subscriber never saw
            // it and could give it no verdict, so it is not emitted; its unit of demand goes back.
            parent.returnDemand(1);
            return;
        }
        try {
            actual.onNext(p);
        } catch (Throwable t) {
            // onNext must not throw (§2.13); if it does, the subscription is over. No subscription
            // is passed to onOperatorError: it would cancel us first and the error would be dropped.
            p.defaultVerdict(DefaultVerdictCause.ERROR);
            parent.fail(Operators.onOperatorError(null, t, p, actual.currentContext()));
        }
    }
}
