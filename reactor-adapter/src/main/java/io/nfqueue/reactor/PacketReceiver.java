package io.nfqueue.reactor;

import io.nfqueue.BoundQueue;
import io.nfqueue.Packet;
import io.nfqueue.QueueCounters;
import io.nfqueue.QueueOptions;
import io.nfqueue.QueueStats;
import io.nfqueue.ResolutionListener;
import io.nfqueue.Verdict;
import io.nfqueue.reactor.internal.ReceiverSubscription;
import io.nfqueue.reactor.internal.SubscriptionConfig;
import io.nfqueue.reactor.internal.Timings;
import org.reactivestreams.Publisher;
import reactor.core.CoreSubscriber;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.Scannable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.core.publisher.ParallelFlux;
import reactor.util.function.Tuples;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Packets of one NFQUEUE (or a range of them) as a backpressure-aware {@link Flux}, whose demand
 * reaches the kernel: the socket is read only while there is demand, and the kernel queue's
 * max-length follows what the subscriber drains over time (unresolved packets plus the packets it
 * takes within a queue delay budget at its measured rate; see {@link ReceiverOptions}).
 *
 * <pre>{@code
 * PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(1));
 * Disposable running = receiver.receive()
 *         .doOnNext(p -> { if (isBad(p)) p.drop(); else p.accept(); })
 *         .subscribe();
 * ...
 * running.dispose();   // unbinds; unresolved packets get the default verdict
 * }</pre>
 *
 * <p>Each subscription binds the queues when it starts and unbinds them when it ends (cancel,
 * error). One receiver has at most one active subscription, since a queue number has at most one
 * owner: a second concurrent one fails with {@link IllegalStateException}.
 *
 * <p>Packets are read and emitted on the queue's receive thread ({@code nfqueue-<num>-rx}) unless
 * {@link ReceiverOptions#handoff} names a scheduler, whose worker then reads and emits. A
 * subscriber that blocks stalls reading, and that is backpressure: the kernel queue and the
 * overflow policy take over.
 */
public final class PacketReceiver {
    private final ReceiverOptions options;
    private final Function<QueueOptions, BoundQueue> binder;
    /** The loops' clocks: the defaults, but for tests of this package. */
    private final Timings timings;
    /** One owner per queue number: receive() and each rail of receiveParallel() claim theirs. */
    private final AtomicBoolean[] owned;
    /** Listeners attached after creation ({@link ReceiverMetrics}); the options' come first. */
    private final List<ResolutionListener> attached = new CopyOnWriteArrayList<>();
    /** The queues of the current subscriptions, by queue number. */
    private final ConcurrentSkipListMap<Integer, BoundQueue> live =
            new ConcurrentSkipListMap<>();
    /** The current subscriptions (one, or one per rail of receiveParallel()). */
    private final Set<ReceiverSubscription> subscriptions = ConcurrentHashMap.newKeySet();
    /**
     * Final counters of queues whose subscription ended. A snapshot, not the queue: a closed
     * queue would keep its buffers, and through its listener the subscriber (§3.13), alive.
     */
    private final ConcurrentSkipListMap<Integer, QueueCounters> ended =
            new ConcurrentSkipListMap<>();

    private PacketReceiver(ReceiverOptions options, Function<QueueOptions, BoundQueue> binder, Timings timings) {
        this.options = options;
        this.binder = binder;
        this.timings = timings;
        this.owned = new AtomicBoolean[options.queueCount()];
        for (int i = 0; i < owned.length; i++) {
            owned[i] = new AtomicBoolean();
        }
    }

    /** Claims queues first..last for one subscription; false (claiming none) if any is taken. */
    private boolean claim(int first, int last) {
        for (int q = first; q <= last; q++) {
            if (!owned[q - options.firstQueue()].compareAndSet(false, true)) {
                release(first, q - 1);
                return false;
            }
        }
        return true;
    }

    private void release(int first, int last) {
        for (int q = first; q <= last; q++) {
            owned[q - options.firstQueue()].set(false);
        }
    }

    public static PacketReceiver create(ReceiverOptions options) {
        return new PacketReceiver(Objects.requireNonNull(options, "options"), BoundQueue::open, Timings.DEFAULT);
    }

    /**
     * A receiver that binds each of its queues with {@code binder} instead of
     * {@link BoundQueue#open(QueueOptions)}: the binder gets the options the receiver decided for
     * the queue and returns it bound (or throws, which fails the subscription). The test kit
     * (nfqueue-test) binds over its in-memory queue this way; a program may also use it to
     * bind in its own way (a wrapper that logs, a retry on {@code QueueAlreadyBoundException}).
     * The receiver closes what the binder returns when the subscription ends.
     */
    public static PacketReceiver create(ReceiverOptions options, Function<QueueOptions, BoundQueue> binder) {
        return new PacketReceiver(Objects.requireNonNull(options, "options"), Objects.requireNonNull(binder, "binder"),
                Timings.DEFAULT);
    }

    /** A receiver with other clocks: for tests of this package that must not wait for the defaults. */
    static PacketReceiver create(ReceiverOptions options, Function<QueueOptions, BoundQueue> binder, Timings timings) {
        return new PacketReceiver(options, binder, timings);
    }

    public ReceiverOptions options() {
        return options;
    }

    /**
     * All queues of the range merged into one Flux, in order within each queue. Every packet you
     * take needs a verdict; a packet an operator drops (filter, onErrorContinue, ...) gets the
     * default verdict only at the verdict timeout, unless the chain ends with
     * {@code .transform(Verdicts.resolveDropped())}. {@link #receive(Function)} does that for you.
     */
    public Flux<Packet> receive() {
        return new ReceiveFlux(this, options);
    }

    /**
     * The safe form: runs {@code pipeline} over the packets and owns the end of the chain, so
     * that nothing it drops is stranded. Every packet an operator of the pipeline discards
     * ({@code filter}, {@code distinct}, {@code skip}, {@code sample}, buffers on cancel, ...) or
     * throws for gets the default verdict at once, and the pipeline goes on after such an error
     * instead of ending ({@link Verdicts#resolveDropped()}). The result is what the pipeline
     * emits; subscribing to it binds the queues, cancelling it unbinds them.
     *
     * <pre>{@code
     * Disposable running = receiver.receive(packets -> packets
     *                 .filter(p -> isAllowed(p))                  // the rest: default verdict, now
     *                 .doOnNext(Packet::accept))
     *         .subscribe();
     * }</pre>
     *
     * Compose inside the function: operators added to the result, after the end this method
     * owns, are not covered.
     */
    public <R> Flux<R> receive(Function<? super Flux<Packet>, ? extends Publisher<R>> pipeline) {
        Objects.requireNonNull(pipeline, "pipeline");
        return Flux.defer(() -> Flux.<R>from(Objects.requireNonNull(pipeline.apply(receive()),
                "the pipeline returned null"))).transform(Verdicts.resolveDropped());
    }

    /**
     * Runs this receiver's path ({@link #receive()}, its receive loop, emission, demand and
     * verdicts) over {@code packets} synthetic packets when subscribed, before any queue is bound,
     * with pipelines that accept every packet: see {@link #warmUp(int, Function)}.
     */
    public Mono<Duration> warmUp(int packets) {
        return warmUp(packets, WARM_UP_PIPELINES);
    }

    /**
     * Runs {@code pipeline} through {@link #receive(Function)} over {@code packets} synthetic
     * packets, when subscribed, so that the JIT has compiled the receive path (and the pipeline)
     * before the first real packet: a fresh JVM otherwise spends about twice the steady-state CPU
     * on each of its first 100 000-200 000 packets (docs/performance.md, "Warm-up"). Binds nothing
     * and needs no privilege: each queue of the range is replaced by
     * {@link BoundQueue#openSynthetic} with the options this receiver would bind it with, and the
     * packets are spread over them. The options' resolution listeners and bound/unbound hooks are
     * not called, {@link #counters()} and {@link ReceiverMetrics} do not count these packets.
     * Emits how long it took, then completes.
     *
     * <pre>{@code
     * PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(1));
     * Disposable running = receiver.warmUp(600_000)
     *         .thenMany(receiver.receive(packets -> packets.doOnNext(Packet::accept)))
     *         .subscribe();
     * }</pre>
     *
     * The pipeline must be safe to run on made-up packets (UDP and TCP between documentation
     * addresses; nothing with effects outside the packet) and give each packet a verdict; the
     * warm-up ends once every packet has one (or, for a pipeline that keeps some, after at most a
     * minute per round, with a warning, when they get the default verdict). A packet the pipeline
     * throws for gets the default verdict and the warm-up goes on, as in {@link #receive(Function)};
     * an error that ends the pipeline ends the warm-up with it. Run it before a restarted program's old
     * instance stops, or while traffic bypasses the queue: the time it takes is time the queue
     * would be unbound otherwise.
     *
     * @throws IllegalArgumentException if {@code packets} is not positive
     */
    public Mono<Duration> warmUp(int packets, Function<? super Flux<Packet>, ? extends Publisher<?>> pipeline) {
        Objects.requireNonNull(pipeline, "pipeline");
        return warmUp(packets, List.of(pipeline));
    }

    /**
     * The default warm-up's pipelines, one round each: three different first operators, so that
     * the receive loop's call to its subscriber has seen more classes than the JIT inlines (two)
     * and is compiled as a plain call; the program's own pipeline, a class it has not seen, then
     * does not undo the compiled loop. The first two rounds are short, the last has the rest.
     */
    private static final List<Function<? super Flux<Packet>, ? extends Publisher<?>>> WARM_UP_PIPELINES = List.of(
            packets -> packets.doOnNext(Packet::accept),
            packets -> packets.map(p -> {
                p.accept();
                return p;
            }),
            packets -> packets.filter(p -> {
                p.accept();
                return true;
            }));
    /**
     * Packets per queue of each short round of the default warm-up: few enough that the loop is
     * still profiled, not yet compiled by C2, when the next class comes.
     */
    private static final long PROFILE_ROUND_PACKETS = 3000;
    /** How long one warm-up round may wait for its pipeline's verdicts before it ends anyway. */
    private static final Duration WARM_UP_ROUND_LIMIT = Duration.ofMinutes(1);

    private Mono<Duration> warmUp(int packets, List<Function<? super Flux<Packet>, ? extends Publisher<?>>> pipelines) {
        if (packets < 1) {
            throw new IllegalArgumentException("warm-up packets must be at least 1: " + packets);
        }
        int queues = options.queueCount();
        int rounds = pipelines.size();
        // All rounds but the last are short: they only have to show the loop their subscriber's
        // class before the JIT compiles it for good; the last round, with the rest, does that.
        long total = Math.max(rounds, ((long) packets + queues - 1) / queues);
        long shortRound = rounds == 1 ? 0 : Math.max(1, Math.min(PROFILE_ROUND_PACKETS, total / (2L * rounds)));
        long lastRound = total - shortRound * (rounds - 1);
        return Mono.defer(() -> {
            long start = System.nanoTime();
            return Flux.range(0, rounds)
                    .concatMap(r -> warmUpRound(pipelines.get(r), r < rounds - 1 ? shortRound : lastRound))
                    .then(Mono.fromSupplier(() -> Duration.ofNanos(System.nanoTime() - start)));
        });
    }

    /**
     * One round: a receiver over synthetic queues of {@code perQueue} packets each, subscribed
     * with the pipeline until every packet has a verdict (the counters say so; a listener or an
     * operator counting at the source would make the warm-up's loop unlike the real one), then
     * cancelled: the queues close empty.
     */
    private Mono<Void> warmUpRound(Function<? super Flux<Packet>, ? extends Publisher<?>> pipeline, long perQueue) {
        long total = perQueue * options.queueCount();
        return Mono.create(sink -> {
            // Without the program's listeners and hooks: its metrics and "bound" signals are about real queues.
            PacketReceiver synthetic = new PacketReceiver(options.withoutListenersAndHooks(),
                    o -> BoundQueue.openSynthetic(o, perQueue), timings);
            long deadline = System.nanoTime() + WARM_UP_ROUND_LIMIT.toNanos();
            Function<Flux<Packet>, Publisher<Object>> typed = flux -> Flux.from(pipeline.apply(flux));
            Disposable.Composite both = Disposables.composite();
            sink.onDispose(both);
            both.add(synthetic.receive(typed).subscribe(x -> { }, sink::error, sink::success));
            both.add(Flux.interval(Duration.ofMillis(2))
                    .filter(tick -> synthetic.allResolved(total) || System.nanoTime() - deadline > 0)
                    .next()
                    .subscribe(tick -> {
                        if (!synthetic.allResolved(total)) {
                            System.getLogger("io.nfqueue.reactor").log(System.Logger.Level.WARNING, "warm-up: the pipeline "
                                    + "left packets without a verdict for " + WARM_UP_ROUND_LIMIT.toSeconds() + " s; "
                                    + "ending the round (they get the default verdict)");
                        }
                        both.dispose();
                        sink.success();
                    }, sink::error));
        });
    }

    /** Whether the current subscription's queues received {@code total} packets and resolved them all. */
    private boolean allResolved(long total) {
        long received = 0;
        for (QueueCounters c : counters()) {
            if (c.unresolved() > 0) {
                return false;
            }
            received += c.received();
        }
        return received >= total;
    }

    /** One rail per queue of the range, each with its own demand and receive thread. */
    public ParallelFlux<Packet> receiveParallel() {
        List<Flux<Packet>> rails = new ArrayList<>();
        for (int q = options.firstQueue(); q <= options.lastQueue(); q++) {
            rails.add(new ReceiveFlux(this, options.onlyQueue(q)));
        }
        @SuppressWarnings("unchecked")
        Flux<Packet>[] array = rails.toArray(new Flux[0]);
        return ParallelFlux.from(array);
    }

    /** The number of queues (and rails of {@link #receiveParallel()}). */
    public int parallelism() {
        return options.queueCount();
    }

    /**
     * The library's counters for each queue of the current subscription, or of the last one
     * once it ended (empty before the first); in queue order.
     */
    public List<QueueCounters> counters() {
        List<QueueCounters> all = new ArrayList<>();
        for (int q = options.firstQueue(); q <= options.lastQueue(); q++) {
            QueueCounters c = countersOf(q);
            if (c != null) {
                all.add(c);
            }
        }
        return all;
    }

    /** Counters of queue {@code number}: live, or the final ones of its last subscription, or null. */
    QueueCounters countersOf(int number) {
        BoundQueue q = live.get(number);
        return q != null ? q.counters() : ended.get(number);
    }

    /** The kernel's line for each queue of the current subscription (empty when none is active). */
    public List<QueueStats> stats() {
        List<QueueStats> all = new ArrayList<>();
        for (BoundQueue q : live.values()) {
            if (!q.isClosed()) {
                try {
                    all.add(q.stats());
                } catch (IllegalStateException closedMeanwhile) {
                    // the subscription ended while we read
                }
            }
        }
        return all;
    }

    /** Attaches a listener to later subscriptions ({@link ReceiverMetrics}). */
    void attach(ResolutionListener listener) {
        attached.add(listener);
    }

    void detach(ResolutionListener listener) {
        attached.remove(listener);
    }

    /**
     * What a new subscription tells of each verdict: the options' listeners and the attached
     * ones, each shielded from the others' exceptions; null when there are none (no cost per packet).
     */
    private ResolutionListener listeners() {
        List<ResolutionListener> all = new ArrayList<>(options.resolutionListeners());
        all.addAll(attached);
        if (all.isEmpty()) {
            return null;
        }
        ResolutionListener[] array = all.toArray(new ResolutionListener[0]);
        return (packet, verdict, cause) -> {
            for (ResolutionListener l : array) {
                try {
                    l.resolved(packet, verdict, cause);
                } catch (RuntimeException e) {
                    System.getLogger("io.nfqueue.reactor").log(System.Logger.Level.WARNING,
                            "a resolution listener threw; ignored", e);
                }
            }
        };
    }

    /** The queues of the current subscriptions (for metrics). */
    List<BoundQueue> boundQueues() {
        return new ArrayList<>(live.values());
    }

    /**
     * Each queue's backpressure now (kernel max-length, headroom, drain rate, unresolved packets,
     * outstanding demand, max-length changes), in queue order; empty when no subscription is active.
     */
    public List<QueueBackpressure> backpressure() {
        List<QueueBackpressure> all = new ArrayList<>();
        for (ReceiverSubscription s : subscriptions) {
            long demand = s.outstanding();
            for (ReceiverSubscription.ControlState c : s.controlStates()) {
                all.add(new QueueBackpressure(c.queue().queueNumber(), c.maxLength(), c.headroom(),
                        Double.isNaN(c.drainRate()) ? OptionalDouble.empty() : OptionalDouble.of(c.drainRate()),
                        c.queue().unresolvedCount(), demand, c.maxLengthChanges(), c.stalls()));
            }
        }
        all.sort(Comparator.comparingInt(QueueBackpressure::queueNumber));
        return all;
    }

    private void bound(ReceiverSubscription s) {
        subscriptions.add(s);
        for (BoundQueue q : s.queues()) {
            live.put(q.queueNumber(), q);
        }
    }

    /** A subscription over queues first..last ended: keep their final counters, free the queues. */
    private void ended(ReceiverSubscription s, int first, int last) {
        if (s != null) {
            subscriptions.remove(s);
        }
        ended(first, last);
    }

    private void ended(int first, int last) {
        for (int q = first; q <= last; q++) {
            BoundQueue b = live.get(q);
            if (b != null) {
                ended.put(q, b.counters()); // before the removal: counters() always finds one of them
                live.remove(q, b);
            }
        }
        release(first, last);
    }

    /**
     * Verdicts as return values: {@code decide} maps each packet to its verdict, which is
     * given before the result is emitted. An exception becomes the default verdict.
     */
    public Flux<ProcessedPacket> process(Function<? super Packet, Verdict> decide) {
        Objects.requireNonNull(decide, "decide");
        return receive().map(p -> VerdictGiver.give(p, () -> decide.apply(p), options.defaultVerdict()));
    }

    /**
     * Asynchronous verdicts: {@code decide} returns a publisher of the verdict (its first
     * element counts), at most {@code concurrency} at a time. An error, an empty publisher or,
     * with a verdict timeout, no verdict in time becomes the default verdict.
     */
    public Flux<ProcessedPacket> processAsync(Function<? super Packet, ? extends Publisher<Verdict>> decide,
                                             int concurrency) {
        Objects.requireNonNull(decide, "decide");
        if (concurrency < 1) {
            throw new IllegalArgumentException("concurrency must be positive: " + concurrency);
        }
        return receive().flatMap(p -> VerdictGiver.giveAsync(p, decide, options.verdictTimeout().orElse(null),
                options.defaultVerdict()),
                concurrency, 1);
    }

    /** The internal package's view of the options (it depends on nothing of this package). */
    private static SubscriptionConfig config(ReceiverOptions o, Timings timings) {
        return new SubscriptionConfig(o.firstQueue(), o.lastQueue(), o::queueOptionsFor,
                o.maxInFlight(), o.maxLengthFloor(), o.maxLengthCeiling(), o.maxLengthHysteresis(),
                o.maxQueueDelay().toNanos(), o.handoffScheduler().orElse(null), o.threadFactory(),
                o.timer().orElse(null), bindingHooks(o.boundHooks()), bindingHooks(o.unboundHooks()), timings);
    }

    /** The user's hooks, each told of a {@link QueueBinding} made from the queue. */
    private static List<Consumer<BoundQueue>> bindingHooks(
            List<Consumer<QueueBinding>> hooks) {
        List<Consumer<BoundQueue>> adapted = new ArrayList<>(hooks.size());
        for (Consumer<QueueBinding> hook : hooks) {
            adapted.add(q -> hook.accept(new QueueBinding(q.queueNumber(), q.options().networkNamespace(),
                    Integer.toUnsignedLong(q.portId()))));
        }
        return adapted;
    }

    /**
     * The source: each subscriber gets a {@link ReceiverSubscription} that binds the queues.
     * Scannable, so that {@code log()}, {@code tap(Micrometer.metrics(registry))} and
     * {@code checkpoint()} name it: name {@code nfqueue}, tags {@code queue} (the number, or
     * {@code first-last}) and {@code namespace} (the path, or {@code current}).
     */
    private static final class ReceiveFlux extends Flux<Packet> implements Scannable {
        private final PacketReceiver owner;
        private final ReceiverOptions options;

        ReceiveFlux(PacketReceiver owner, ReceiverOptions options) {
            this.owner = owner;
            this.options = options;
        }

        @Override
        public Object scanUnsafe(Attr key) {
            if (key == Attr.NAME) {
                return "nfqueue";
            }
            if (key == Attr.TAGS) {
                String queues = options.firstQueue() == options.lastQueue() ? String.valueOf(options.firstQueue())
                        : options.firstQueue() + "-" + options.lastQueue();
                String namespace = options.queueOptionsFor(options.firstQueue()).networkNamespace()
                        .map(Path::toString).orElse("current");
                return Stream.of(Tuples.of("queue", queues),
                        Tuples.of("namespace", namespace));
            }
            if (key == Attr.RUN_STYLE) {
                return Attr.RunStyle.ASYNC; // emits on its receive threads
            }
            if (key == Attr.PREFETCH) {
                return 0; // reads only against claimed demand
            }
            return null;
        }

        @Override
        public void subscribe(CoreSubscriber<? super Packet> actual) {
            int first = options.firstQueue();
            int last = options.lastQueue();
            if (!owner.claim(first, last)) {
                Operators.error(actual, new IllegalStateException("queues " + options.firstQueue() + ".."
                        + options.lastQueue() + " already have an active subscription on this receiver; "
                        + "a queue has one owner: cancel the first subscription or share it (Flux.share())"));
                return;
            }
            ReceiverSubscription[] self = new ReceiverSubscription[1];
            ReceiverSubscription.subscribe(actual, PacketReceiver.config(options, owner.timings), owner.binder, s -> {
                self[0] = s;
                owner.bound(s);
            }, () -> owner.ended(self[0], first, last), owner.listeners());
        }
    }
}
