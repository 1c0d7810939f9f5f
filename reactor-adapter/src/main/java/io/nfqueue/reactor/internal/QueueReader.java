package io.nfqueue.reactor.internal;

import io.nfqueue.BoundQueue;
import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Packet;
import io.nfqueue.ResolutionListener;
import io.nfqueue.Verdict;
import reactor.core.scheduler.Scheduler;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The receive loop of one queue, on its own thread ({@code nfqueue-<num>-rx}). It reads only
 * while its subscription has unclaimed demand and the queue has fewer than maxInFlight
 * unresolved packets, and emits on its own thread. It keeps the time it spends idle (waiting for
 * packets with demand and room), from which the watchdog measures the subscriber's drain rate,
 * and moves the kernel max-length as soon as its unresolved packets grow.
 *
 * <p>With a hand-off scheduler the reading moves too: this thread waits until the socket is
 * readable and then hands the reading to a scheduler worker, which reads and emits batch after
 * batch while packets, demand and capacity last, and hands back when the socket is empty. So
 * the threads meet once per burst, not once per batch: handing over each batch made the worker
 * and this thread wake each other every 8-10 packets and shrank the batches, because this
 * thread, idle, read as soon as a packet came (twice the receive and send calls of emitting
 * here; {@code bench/run --syscalls}, docs/performance.md).
 */
final class QueueReader implements Runnable {

    private final ReceiverSubscription parent;
    /** Longest wait before the loop looks again at termination. */
    private final long sliceMillis;
    private final BoundQueue queue;
    private final int maxInFlight;
    private final int batchSize;
    private final MaxLengthControl maxLength;
    private final DrainRate rate;
    private final IdleClock idle;
    private final StallWatch stall;
    /**
     * Packets handed to the subscriber so far, counted as each goes out so that a slow
     * {@code onNext} shows its pace within a batch. Written by the reading thread alone with a
     * release store (no fence per packet), read by the watchdog.
     */
    private long delivered;
    private static final VarHandle DELIVERED;

    static {
        try {
            DELIVERED = MethodHandles.lookup().findVarHandle(QueueReader.class, "delivered", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    private final Scheduler handoffScheduler;
    private final Scheduler.Worker handoff;
    private volatile Thread thread;
    private volatile boolean parked;
    private final ResolutionListener extraListener;
    /** Made once: a method reference written in the loop would be a new object per batch. */
    private final Consumer<Packet> emit;
    /** With a hand-off, the worker's task: reads and emits until the socket is empty. */
    private final Runnable readOnWorker;
    /** With a hand-off: true while the worker owns the reading (from its scheduling to its end). */
    private volatile boolean atWorker;
    /**
     * Batches one worker task reads before it hands back (and the receive thread hands over
     * again at once if packets wait), so the scheduler's other tasks get their turn. Handing
     * back rather than rescheduling itself keeps a scheduler that runs tasks inline
     * ({@code Schedulers.immediate()}) from recursing.
     */
    private static final int WORKER_TURNS = 64;
    /**
     * Busy time the rate forgets by a factor e: about the last 100 ms of work count. A stopped
     * subscriber's rate falls a hundredfold in about half a second of it.
     */
    static final long RATE_TAU_BUSY_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /**
     * Wall time the rate forgets by a factor e: a stall weighs little a second or two after the
     * subscriber resumed, however little busy time its work then adds.
     */
    static final long RATE_TAU_WALL_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** How long a lower rate must last before the headroom follows it down. */
    static final long RATE_HOLD_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    /**
     * Busy time before a rate is trusted; until then the headroom is the ceiling. Half the
     * window: the first packets a JVM emits also load and link the pipeline's classes and run
     * interpreted, many times slower than later, and a rate trusted after a few milliseconds of
     * that would shrink the queue to the floor in the middle of the first burst. A subscriber that
     * is stuck from the start is known after 50 ms.
     */
    static final long RATE_MIN_BUSY_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

    QueueReader(ReceiverSubscription parent, BoundQueue queue, int maxInFlight, MaxLengthControl maxLength,
                Scheduler handoffScheduler, PacketEmitter emitter, Timings timings, LongSupplier clock) {
        this.parent = parent;
        this.idle = new IdleClock(clock);
        this.sliceMillis = timings.sliceMillis();
        this.queue = queue;
        this.maxInFlight = maxInFlight;
        this.batchSize = queue.options().batchSize();
        this.maxLength = maxLength;
        this.rate = new DrainRate(RATE_TAU_BUSY_NANOS, RATE_TAU_WALL_NANOS, RATE_MIN_BUSY_NANOS,
                RATE_HOLD_NANOS);
        this.stall = new StallWatch(queue, maxInFlight, parent::outstandingDemand, timings);
        this.handoffScheduler = handoffScheduler;
        this.handoff = handoffScheduler == null ? null : handoffScheduler.createWorker();
        // A verdict that frees capacity wakes a reader parked at its in-flight limit.
        queue.onResolution(this::onResolution);
        this.extraListener = parent.resolutionListener();
        int index = emitter.register(queue);
        this.emit = p -> {
            DELIVERED.setRelease(this, delivered + 1);
            emitter.emit(index, p);
        };
        this.readOnWorker = handoff == null ? null : this::readOnWorker;
    }

    BoundQueue queue() {
        return queue;
    }

    void start(ThreadFactory threads) {
        Thread t = threads.newThread(this);
        t.setName("nfqueue-" + queue.queueNumber() + "-rx");
        thread = t;
        t.start();
    }

    /**
     * The watchdog's turn: measure the drain rate, follow it with the max-length, expire, retry,
     * and say so if reading has stopped at the in-flight limit.
     */
    void tick(long now) {
        rate.sample(now, (long) DELIVERED.getAcquire(this), idle.idleNanos(now));
        adjustMaxLength();
        queue.expireOverdue();
        queue.flush(); // verdicts whose send failed are tried again
        stall.check(now);
    }

    long stalls() {
        return stall.stalls();
    }

    /**
     * Moves the kernel max-length toward unresolved + headroom. Called by this loop after each
     * batch (unresolved packets just grew) and by the watchdog (the rate changed).
     */
    void adjustMaxLength() {
        RuntimeException refused = null;
        // Decide and apply under one lock: this thread and the watchdog both get here, and an
        // older length must never reach the kernel after a newer one.
        synchronized (maxLength) {
            int next = maxLength.update(queue.unresolvedCount(), rate.heldPerSecond());
            if (next <= 0 || queue.isClosed()) {
                return;
            }
            try {
                queue.setMaxLength(next);
            } catch (IllegalStateException closedMeanwhile) {
                // the subscription ended between the check and the call
            } catch (RuntimeException e) {
                refused = e;
            }
        }
        if (refused != null) {
            // A refused change would leave the control and the kernel apart: end the
            // subscription (as onError). Outside the lock: ending it closes the queues, which
            // must not wait for a thread that waits for this lock.
            parent.fail(refused);
        }
    }

    /** What the watchdog and the public state report. */
    double drainRate() {
        return rate.perSecond();
    }

    int headroom() {
        return maxLength.headroom(rate.heldPerSecond());
    }

    int kernelMaxLength() {
        return maxLength.current();
    }

    long maxLengthChanges() {
        return maxLength.changes();
    }

    /** Wakes the loop from a park (new demand, freed capacity) or a socket wait (termination). */
    void wake() {
        Thread t = thread;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    private void onResolution(Packet p, Verdict v, DefaultVerdictCause cause) {
        // Not while the hand-off worker reads: this thread then waits for the worker, not for
        // capacity, and waking it for every verdict cost a context switch per packet.
        if (parked && !atWorker) {
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
        } finally {
            idle.stop();
        }
    }

    /**
     * One turn of the loop: a batch read and emitted, or a wait for packets, demand or capacity.
     * Its own method, called once per batch, so the JIT compiles it like any hot method; a loop
     * body left in {@link #run}, entered once, would wait for on-stack replacement.
     *
     * @return false once the queue is closed
     */
    private boolean runOnce() {
        queue.flush();
        adjustMaxLength();
        if (handoff != null) {
            return awaitThenHandOff();
        }
        int n = readBatch();
        if (n < 0) {
            return false; // closed by the subscription's end
        }
        if (n == 0 && canRead()) {
            awaitPackets();
        } else if (n == 0) {
            park();
        }
        return true;
    }

    /** Waits for packets with demand and room to read them: the only time this reader is idle. */
    private boolean awaitPackets() {
        idle.start();
        try {
            return queue.awaitReadable(sliceMillis);
        } finally {
            idle.stop();
        }
    }

    /**
     * Claims demand within the in-flight limit and reads one batch with it, emitting on the
     * calling thread (this one, or the hand-off worker).
     *
     * @return packets read, 0 when there was no demand, capacity or packet, -1 once closed
     */
    private int readBatch() {
        int capacity = Math.min(batchSize, maxInFlight - queue.unresolvedCount());
        int claimed = capacity > 0 ? parent.claimDemand(capacity) : 0;
        if (claimed == 0) {
            return 0;
        }
        int n;
        try {
            n = queue.receive(emit, claimed);
        } catch (RuntimeException | Error e) {
            parent.settleDemand(this, claimed, 0);
            throw e;
        }
        parent.settleDemand(this, claimed, Math.max(n, 0));
        return n;
    }

    private void park() {
        parked = true;
        if (!parent.isTerminated() && !canRead()) {
            LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(sliceMillis));
        }
        parked = false;
    }

    private boolean canRead() {
        return !atWorker && parent.outstandingDemand() > 0 && queue.unresolvedCount() < maxInFlight;
    }

    /** Hand-off mode: wait for demand and a readable socket, then let the worker read. */
    private boolean awaitThenHandOff() {
        if (atWorker && (handoffScheduler.isDisposed() || handoff.isDisposed())) {
            // A disposed scheduler drops a queued task without running it or saying so: the
            // worker would never hand back and reading would stop for good, silently.
            throw new RejectedExecutionException("the hand-off scheduler was disposed while the "
                    + "subscription was active: " + handoffScheduler);
        }
        if (!canRead()) {
            park();
        } else if (awaitPackets() && !parent.isTerminated() && canRead()) {
            atWorker = true;
            try {
                handoff.schedule(readOnWorker);
            } catch (RuntimeException rejected) {
                atWorker = false; // the worker was disposed: the subscription is ending
                throw rejected;
            }
        }
        return !queue.isClosed();
    }

    /** On the hand-off worker: reads and emits until the socket is empty, then hands back. */
    private void readOnWorker() {
        try {
            for (int turns = 0; turns < WORKER_TURNS && !parent.isTerminated(); turns++) {
                if (readBatch() <= 0) {
                    break;
                }
            }
            // The packets this burst left unresolved move the kernel max-length now, not at the
            // receive thread's next turn.
            adjustMaxLength();
        } catch (Throwable t) {
            parent.fail(t);
        } finally {
            atWorker = false;
            if (parked) {
                wake(); // this thread waits for the worker to be done
            }
        }
    }
}
