package io.nfqueue.reactor.internal;

import io.nfqueue.BoundQueue;
import io.nfqueue.Packet;
import reactor.core.scheduler.Scheduler;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The receive loop of one queue, on its own thread ({@code nfqueue-<num>-rx}). It reads only
 * while its subscription has unclaimed demand and the queue has fewer than maxInFlight
 * unresolved packets; it emits on its own thread (or hands each batch to a scheduler worker),
 * keeps the kernel max-length following demand, and runs the verdict-timeout watchdog.
 */
final class QueueReader implements Runnable {
    /** Longest wait before the loop looks again at timeouts and termination. */
    private static final long SLICE_MILLIS = 50;

    private final ReceiverSubscription parent;
    private final BoundQueue queue;
    private final int maxInFlight;
    private final int batchSize;
    private final MaxLengthControl maxLength;
    private final Scheduler.Worker handoff;
    private volatile Thread thread;
    private volatile boolean parked;
    private final io.nfqueue.ResolutionListener extraListener;
    private final java.util.function.IntConsumer consume;
    /** Made once: a method reference written in the loop would be a new object per batch. */
    private final java.util.function.Consumer<Packet> emit;

    QueueReader(ReceiverSubscription parent, BoundQueue queue, int maxInFlight, MaxLengthControl maxLength,
                Scheduler.Worker handoff) {
        this.parent = parent;
        this.queue = queue;
        this.maxInFlight = maxInFlight;
        this.batchSize = queue.options().batchSize();
        this.maxLength = maxLength;
        this.handoff = handoff;
        // A verdict that frees capacity wakes a reader parked at its in-flight limit.
        queue.onResolution(this::onResolution);
        this.extraListener = parent.resolutionListener();
        this.consume = parent::consumeDemand;
        this.emit = parent::emit;
    }

    BoundQueue queue() {
        return queue;
    }

    void start() {
        Thread t = new Thread(this, "nfqueue-" + queue.queueNumber() + "-rx");
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    /**
     * Moves the kernel max-length toward outstanding demand + unresolved packets. Called by the
     * loop and by request(), so new demand reaches the kernel before request() returns, not when
     * this thread next gets a core.
     */
    void followDemand() {
        // Decide and apply under one lock: the requesting thread and this one both get here, and
        // an older length must never reach the kernel after a newer one.
        synchronized (maxLength) {
            int next = maxLength.update(parent.unconsumedDemand(), queue.unresolvedCount());
            if (next <= 0 || queue.isClosed()) {
                return;
            }
            try {
                queue.setMaxLength(next);
            } catch (IllegalStateException closedMeanwhile) {
                // the subscription ended between the check and the call
            } catch (RuntimeException refused) {
                // A refused change would leave demand and the kernel apart: end the subscription
                // (as onError, not as an exception out of request(), §3.16).
                parent.fail(refused);
            }
        }
    }

    /** Wakes the loop from a park (new demand, freed capacity) or a socket wait (termination). */
    void wake() {
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    private void onResolution(Packet p, io.nfqueue.Verdict v, io.nfqueue.DefaultVerdictCause cause) {
        if (parked) {
            wake();
        }
        if (extraListener != null) {
            extraListener.resolved(p, v, cause);
        }
    }

    void disposeHandoff() {
        if (handoff != null) {
            handoff.dispose();
        }
    }

    @Override
    public void run() {
        try {
            while (!parent.isTerminated() && runOnce()) {
                // runOnce does one batch or one wait
            }
        } catch (Throwable t) {
            parent.fail(t);
        }
    }

    /**
     * One turn of the loop: a batch read and emitted, or a wait for demand or capacity. Its own
     * method, called once per batch, so the JIT compiles it like any hot method; a loop body left
     * in {@link #run}, entered once, would wait for on-stack replacement.
     *
     * @return false once the queue is closed
     */
    private boolean runOnce() {
        queue.expireOverdue();
        queue.flush(); // verdicts whose send failed are tried again
        followDemand();
        int capacity = Math.min(batchSize, maxInFlight - queue.unresolvedCount());
        int claimed = capacity > 0 ? parent.claimDemand(capacity) : 0;
        if (claimed > 0) {
            int n;
            try {
                n = read(claimed);
            } catch (RuntimeException | Error e) {
                parent.settleDemand(claimed, 0);
                throw e;
            }
            parent.settleDemand(claimed, Math.max(n, 0));
            if (n < 0) {
                return false; // closed by the subscription's end
            }
            if (n == 0) {
                queue.awaitReadable(SLICE_MILLIS);
            }
        } else {
            parked = true;
            if (!parent.isTerminated() && !canRead()) {
                LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(SLICE_MILLIS));
            }
            parked = false;
        }
        return true;
    }

    private boolean canRead() {
        return parent.outstandingDemand() > 0 && queue.unresolvedCount() < maxInFlight;
    }

    private int read(int limit) {
        if (handoff == null) {
            return queue.receive(emit, limit, consume);
        }
        List<Packet> batch = new ArrayList<>(limit);
        int n = queue.receive(batch::add, limit, consume);
        if (n > 0) {
            // One task per batch: one wake of the worker, not one per packet; the verdicts given
            // during the batch go out together when it ends.
            handoff.schedule(() -> queue.dispatch(batch, emit));
        }
        return n;
    }
}
