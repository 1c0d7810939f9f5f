package io.nfqueue.reactor.internal;

import io.nfqueue.BoundQueue;
import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Packet;
import io.nfqueue.reactor.ReceiverOptions;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Operators;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * One subscription to a receiver: the queues it bound, their readers, the demand they share,
 * and the end of it all. Its queues live exactly as long as the subscription: bound in
 * {@link #bind}, closed when it is cancelled or fails. Every packet still unresolved then gets
 * the default verdict, counted under the cause.
 *
 * <p>Signals to the subscriber are serialized by one lock, so readers of several queues can
 * emit without overlapping; order within each queue is kept because each queue has one reader.
 */
public final class ReceiverSubscription implements Subscription {
    private final CoreSubscriber<? super Packet> actual;
    private final List<QueueReader> readers = new ArrayList<>();
    private final DemandPool demand = new DemandPool();
    private final ReentrantLock emitLock = new ReentrantLock();
    private final AtomicBoolean terminated = new AtomicBoolean();
    private final Runnable onTerminate;
    private final io.nfqueue.ResolutionListener listener;

    private ReceiverSubscription(CoreSubscriber<? super Packet> actual, Runnable onTerminate,
                                 io.nfqueue.ResolutionListener listener) {
        this.actual = actual;
        this.onTerminate = onTerminate;
        this.listener = listener;
    }

    io.nfqueue.ResolutionListener resolutionListener() {
        return listener;
    }

    /**
     * Binds every queue of {@code options} on the calling thread, then signals onSubscribe and
     * starts the readers. A bind failure closes what was bound and reaches the subscriber as
     * onError.
     */
    public static void subscribe(CoreSubscriber<? super Packet> actual, ReceiverOptions options,
                                 Function<io.nfqueue.QueueOptions, BoundQueue> binder,
                                 java.util.function.Consumer<List<BoundQueue>> onBound, Runnable onTerminate,
                                 io.nfqueue.ResolutionListener listener) {
        ReceiverSubscription s = new ReceiverSubscription(actual, onTerminate, listener);
        try {
            for (int q = options.firstQueue(); q <= options.lastQueue(); q++) {
                io.nfqueue.QueueOptions qo = options.queueOptionsFor(q);
                BoundQueue queue = binder.apply(qo);
                MaxLengthControl control = new MaxLengthControl(options.minMaxLength(), options.maxMaxLength(),
                        options.maxLengthHysteresis(), qo.maxLength());
                s.readers.add(new QueueReader(s, queue, options.maxInFlight(), control,
                        options.handoffScheduler().orElse(null)));
            }
        } catch (Throwable e) {
            s.terminated.set(true);
            s.closeAll(DefaultVerdictCause.ERROR);
            onTerminate.run();
            Operators.error(actual, Operators.onOperatorError(e, actual.currentContext()));
            return;
        }
        onBound.accept(s.queues());
        actual.onSubscribe(s);
        for (QueueReader r : s.readers) {
            r.start();
        }
    }

    @Override
    public void request(long n) {
        if (n <= 0) {
            fail(new IllegalArgumentException("§3.9 violated: request must be positive, was " + n));
            return;
        }
        demand.add(n);
        for (QueueReader r : readers) {
            r.followDemand();
            r.wake();
        }
    }

    @Override
    public void cancel() {
        if (terminated.compareAndSet(false, true)) {
            closeAll(DefaultVerdictCause.CANCEL);
            onTerminate.run();
        }
    }

    boolean isTerminated() {
        return terminated.get();
    }

    /** Demand no reader has claimed. */
    long outstandingDemand() {
        return demand.outstanding();
    }

    /** Demand not yet consumed, claims included: what the kernel max-length follows. */
    long unconsumedDemand() {
        return demand.unconsumed();
    }

    int claimDemand(int want) {
        return demand.claim(want);
    }

    void settleDemand(QueueReader from, int claimed, int used) {
        if (demand.settle(claimed, used) && readers.size() > 1) {
            // While `from` held this demand, another reader may have found none and parked for
            // a whole slice with packets waiting in its socket: the demand is back, wake them.
            for (QueueReader r : readers) {
                if (r != from) {
                    r.wake();
                }
            }
        }
    }

    void consumeDemand(int read) {
        demand.consume(read);
    }

    /** Emits one packet; after termination the packet gets the default verdict instead. */
    void emit(Packet p) {
        emitLock.lock();
        try {
            if (terminated.get()) {
                p.defaultVerdict(DefaultVerdictCause.CANCEL);
                return;
            }
            actual.onNext(p);
        } catch (Throwable t) {
            // onNext must not throw (§2.13); if it does, the subscription is over. No subscription
            // is passed to onOperatorError: it would cancel us first and the error would be dropped.
            p.defaultVerdict(DefaultVerdictCause.ERROR);
            fail(Operators.onOperatorError(null, t, p, actual.currentContext()));
        } finally {
            emitLock.unlock();
        }
    }

    /** Ends the subscription with an error: packets get the default verdict, then onError. */
    void fail(Throwable error) {
        if (!terminated.compareAndSet(false, true)) {
            Operators.onErrorDropped(error, actual.currentContext());
            return;
        }
        closeAll(DefaultVerdictCause.ERROR);
        onTerminate.run();
        emitLock.lock();
        try {
            actual.onError(error);
        } finally {
            emitLock.unlock();
        }
    }

    private void closeAll(DefaultVerdictCause cause) {
        for (QueueReader r : readers) {
            try {
                r.queue().resolveAllWithDefault(cause);
                r.queue().close();
            } catch (Throwable t) {
                Operators.onErrorDropped(t, actual.currentContext());
            } finally {
                r.disposeHandoff();
                r.wake();
            }
        }
    }

    /** The queues this subscription bound, for metrics and tests. */
    public List<BoundQueue> queues() {
        List<BoundQueue> qs = new ArrayList<>(readers.size());
        for (QueueReader r : readers) {
            qs.add(r.queue());
        }
        return qs;
    }
}
