package io.nfqueue.reactor.internal;

import io.nfqueue.BoundQueue;
import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Packet;
import io.nfqueue.QueueOptions;
import io.nfqueue.ResolutionListener;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.Scannable;
import reactor.core.publisher.Operators;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One subscription to a receiver: the queues it bound, their readers, the demand they share, the
 * watchdog, and the end of it all. Its queues live exactly as long as the subscription: bound in
 * {@link #subscribe}, closed when it is cancelled or fails. Every packet still unresolved then
 * gets the default verdict, counted under the cause.
 *
 * <p>Signals to the subscriber go through a {@link PacketEmitter}, which serializes them without
 * a lock held across {@code onNext}; order within each queue is kept because each queue has one
 * reader.
 */
public final class ReceiverSubscription implements Subscription, Scannable {
    private final CoreSubscriber<? super Packet> actual;
    private final List<QueueReader> readers = new ArrayList<>();
    private final DemandPool demand = new DemandPool();
    private final PacketEmitter emitter;
    private final Watchdog watchdog;
    private final AtomicBoolean terminated = new AtomicBoolean();
    private final Runnable onTerminate;
    private final ResolutionListener listener;
    private final SubscriptionConfig options;

    private ReceiverSubscription(CoreSubscriber<? super Packet> actual, SubscriptionConfig options, Runnable onTerminate,
                                 ResolutionListener listener) {
        this.actual = actual;
        this.options = options;
        this.onTerminate = onTerminate;
        this.listener = listener;
        this.emitter = new PacketEmitter(actual, this);
        this.watchdog = new Watchdog(this, readers, options.timings().tickMillis(), options.clock());
    }

    ResolutionListener resolutionListener() {
        return listener;
    }

    /**
     * Binds every queue of {@code options} on the calling thread, then signals onSubscribe and
     * starts the readers and the watchdog. A bind failure closes what was bound and reaches the
     * subscriber as onError.
     *
     * @return the subscription, or null when binding failed (the subscriber has had onError)
     */
    public static ReceiverSubscription subscribe(CoreSubscriber<? super Packet> actual, SubscriptionConfig options,
                                                 Function<QueueOptions, BoundQueue> binder,
                                                 Consumer<ReceiverSubscription> onBound,
                                                 Runnable onTerminate, ResolutionListener listener) {
        ReceiverSubscription s = new ReceiverSubscription(actual, options, onTerminate, listener);
        try {
            for (int q = options.firstQueue(); q <= options.lastQueue(); q++) {
                QueueOptions qo = options.queueOptions().apply(q);
                BoundQueue queue = binder.apply(qo);
                MaxLengthControl control = new MaxLengthControl(options.floor(), options.ceiling(),
                        options.hysteresis(), options.budgetNanos(), qo.maxLength());
                QueueReader reader;
                try {
                    reader = new QueueReader(s, queue, options.maxInFlight(), control, options.handoff(), s.emitter,
                            options.timings(), options.clock());
                } catch (RuntimeException | Error e) {
                    queue.close(); // not a reader yet, so closeAll would not see it
                    throw e;
                }
                s.readers.add(reader);
                s.runHooks(options.onBound(), queue, "bound");
            }
        } catch (Throwable e) {
            s.terminated.set(true);
            s.closeAll(DefaultVerdictCause.ERROR);
            onTerminate.run();
            Operators.error(actual, Operators.onOperatorError(e, actual.currentContext()));
            return null;
        }
        onBound.accept(s);
        JvmShutdown.register(s);
        actual.onSubscribe(s);
        for (QueueReader r : s.readers) {
            r.start(options.threads());
        }
        String range = options.firstQueue() == options.lastQueue() ? String.valueOf(options.firstQueue())
                : options.firstQueue() + "-" + options.lastQueue();
        s.watchdog.start(options.timer(), options.threads(), "nfqueue-" + range + "-watchdog");
        return s;
    }

    @Override
    public void request(long n) {
        if (n <= 0) {
            fail(new IllegalArgumentException("§3.9 violated: request must be positive, was " + n));
            return;
        }
        // Demand gates reading only: the max-length follows the drain rate, so request() never
        // waits for a config message.
        demand.add(n);
        for (QueueReader r : readers) {
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

    /**
     * The JVM is shutting down: every packet gets the default verdict (cause CLOSE), the queues
     * unbind, and the subscriber gets onComplete (the source is gone, not failed).
     */
    void shutdown() {
        if (terminated.compareAndSet(false, true)) {
            closeAll(DefaultVerdictCause.CLOSE);
            onTerminate.run();
            emitter.complete();
        }
    }

    boolean isTerminated() {
        return terminated.get();
    }

    @Override
    public Object scanUnsafe(Attr key) {
        if (key == Attr.ACTUAL) {
            return actual;
        }
        if (key == Attr.CANCELLED || key == Attr.TERMINATED) {
            return terminated.get();
        }
        if (key == Attr.REQUESTED_FROM_DOWNSTREAM) {
            return demand.outstanding();
        }
        if (key == Attr.BUFFERED) {
            int held = 0;
            for (QueueReader r : readers) {
                held += r.queue().unresolvedCount();
            }
            return held; // handed out and waiting for a verdict: nothing is buffered ahead of demand
        }
        if (key == Attr.PREFETCH) {
            return 0;
        }
        if (key == Attr.RUN_STYLE) {
            return Attr.RunStyle.ASYNC;
        }
        if (key == Attr.NAME) {
            return "nfqueue";
        }
        return null;
    }

    /** Demand no reader has claimed. */
    long outstandingDemand() {
        return demand.outstanding();
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

    /** Demand a packet claimed and did not use (it was resolved before it could be emitted). */
    void returnDemand(int n) {
        if (demand.giveBack(n)) {
            for (QueueReader r : readers) {
                r.wake();
            }
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
        // After any onNext in progress, by the thread running it; this one never waits for it.
        emitter.error(error);
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
        watchdog.wake();
        JvmShutdown.unregister(this);
        for (QueueReader r : readers) {
            runHooks(options.onUnbound(), r.queue(), "unbound");
        }
    }

    /** Runs the user's bound or unbound hooks; one that throws is logged and cannot undo anything. */
    private void runHooks(List<Consumer<BoundQueue>> hooks, BoundQueue queue, String when) {
        for (Consumer<BoundQueue> hook : hooks) {
            try {
                hook.accept(queue);
            } catch (RuntimeException e) {
                System.getLogger("io.nfqueue.reactor").log(System.Logger.Level.WARNING,
                        "a doOn" + (when.equals("bound") ? "Bound" : "Unbound") + " hook threw for queue "
                                + queue.queueNumber() + "; ignored", e);
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

    /** Outstanding demand now (unclaimed), {@code Long.MAX_VALUE} when unbounded. */
    public long outstanding() {
        return demand.outstanding();
    }

    /** Per queue of this subscription, in queue order: the state of its max-length control. */
    public List<ControlState> controlStates() {
        List<ControlState> states = new ArrayList<>(readers.size());
        for (QueueReader r : readers) {
            states.add(new ControlState(r.queue(), r.kernelMaxLength(), r.headroom(), r.drainRate(),
                    r.maxLengthChanges(), r.stalls()));
        }
        return states;
    }

    /** A snapshot of one queue's max-length control, for the public state and the metrics. */
    public record ControlState(BoundQueue queue, int maxLength, int headroom, double drainRate, long maxLengthChanges,
                               long stalls) {
    }
}
