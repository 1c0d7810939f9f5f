package io.nfqueue.reactor;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.nfqueue.BoundQueue;
import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.QueueCounters;
import io.nfqueue.QueueStats;
import io.nfqueue.ResolutionListener;
import io.nfqueue.Ticker;
import io.nfqueue.Verdict;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * Micrometer meters for a {@link PacketReceiver}. Micrometer is an optional dependency: this
 * class is the only one that uses it, and only a program that calls {@link #bind} needs it.
 *
 * <pre>{@code
 * PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(1));
 * ReceiverMetrics metrics = ReceiverMetrics.bind(receiver, registry, Tags.of("service", "dns-guard")); // before subscribing
 * ...
 * metrics.close();   // removes its meters from the registry and stops counting
 * }</pre>
 *
 * <p>Per queue (tag {@code queue}): {@code nfqueue.packets.received}, {@code nfqueue.packets.inflight},
 * {@code nfqueue.queue.maxlength} (the kernel max-length now), {@code nfqueue.queue.headroom} (the
 * unread packets the subscriber's drain rate earns), {@code nfqueue.drain.rate} (packets per second
 * the subscriber takes while it has work; NaN until measured), {@code nfqueue.maxlength.changes}
 * (config messages that moved the max-length), {@code nfqueue.reading.stalls} (times reading stopped
 * for over a second with maxInFlight packets unresolved), {@code nfqueue.kernel.dropped}
 * (tag {@code reason}: {@code queue_full}, {@code socket_full}; read from
 * {@code /proc/net/netfilter/nfnetlink_queue} at each scrape). For all queues:
 * {@code nfqueue.verdicts} (tags {@code kind}, {@code cause}: {@code program} or a
 * {@link DefaultVerdictCause}) and the timer {@code nfqueue.verdict.latency} (receive to verdict).
 */
public final class ReceiverMetrics implements AutoCloseable {
    private final PacketReceiver receiver;
    private final MeterRegistry registry;
    private final List<Meter> meters = new ArrayList<>();
    private final ResolutionListener listener;
    private final Map<Verdict.Kind, Counter> programVerdicts = new EnumMap<>(Verdict.Kind.class);
    private final Map<DefaultVerdictCause, Counter> defaultVerdicts = new EnumMap<>(DefaultVerdictCause.class);
    private final Timer latency;

    private ReceiverMetrics(PacketReceiver receiver, MeterRegistry registry, Tags common) {
        this.receiver = receiver;
        this.registry = registry;
        for (Verdict.Kind kind : Verdict.Kind.values()) {
            programVerdicts.put(kind, keep(Counter.builder("nfqueue.verdicts").tag("kind", kind.name())
                    .tag("cause", "program").description("verdicts given").tags(common).register(registry)));
        }
        String defaultKind = receiver.options().defaultVerdict().kind().name();
        for (DefaultVerdictCause cause : DefaultVerdictCause.values()) {
            defaultVerdicts.put(cause, keep(Counter.builder("nfqueue.verdicts").tag("kind", defaultKind)
                    .tag("cause", cause.name()).description("verdicts given").tags(common).register(registry)));
        }
        latency = keep(Timer.builder("nfqueue.verdict.latency").description("time from receive to verdict")
                .tags(common).register(registry));
        // Attached to subscriptions that start after bind(); one that started before keeps counting
        // into these meters after close() only if it outlives it (verdicts of its last packets).
        Ticker ticker = receiver.options().queueOptionsFor(receiver.options().firstQueue()).ticker();
        this.listener = (packet, verdict, cause) -> {
            (cause == null ? programVerdicts.get(verdict.kind()) : defaultVerdicts.get(cause)).increment();
            latency.record(ticker.read() - packet.receivedNanos(), TimeUnit.NANOSECONDS);
        };
        for (int q = receiver.options().firstQueue(); q <= receiver.options().lastQueue(); q++) {
            int queue = q;
            Tags tags = common.and("queue", Integer.toString(q));
            keep(FunctionCounter.builder("nfqueue.packets.received", this, m -> m.counter(queue, c -> c.received()))
                    .tags(tags).register(registry));
            keep(Gauge.builder("nfqueue.packets.inflight", this, m -> m.counter(queue, c -> c.unresolved()))
                    .tags(tags).register(registry));
            keep(Gauge.builder("nfqueue.queue.maxlength", this, m -> m.maxLength(queue)).tags(tags).register(registry));
            keep(Gauge.builder("nfqueue.queue.headroom", this, m -> m.backpressure(queue, b -> b.headroom(), 0))
                    .tags(tags).register(registry));
            keep(Gauge.builder("nfqueue.drain.rate", this,
                            m -> m.backpressure(queue, b -> b.drainRate().orElse(Double.NaN), Double.NaN))
                    .tags(tags).baseUnit("packets/s").register(registry));
            keep(FunctionCounter.builder("nfqueue.maxlength.changes", this,
                    m -> m.backpressure(queue, b -> b.maxLengthChanges(), 0)).tags(tags).register(registry));
            keep(FunctionCounter.builder("nfqueue.reading.stalls", this,
                            m -> m.backpressure(queue, b -> b.readingStalls(), 0)).tags(tags)
                    .description("times reading stopped for over a second at maxInFlight unresolved packets")
                    .register(registry));
            keep(FunctionCounter.builder("nfqueue.kernel.dropped", this, m -> m.stat(queue, QueueStats::queueDropped))
                    .tags(tags.and("reason", "queue_full")).register(registry));
            keep(FunctionCounter.builder("nfqueue.kernel.dropped", this, m -> m.stat(queue, QueueStats::userDropped))
                    .tags(tags.and("reason", "socket_full")).register(registry));
        }
    }

    private <M extends Meter> M keep(M meter) {
        meters.add(meter);
        return meter;
    }

    /** Registers the meters and starts counting verdicts of the receiver's later subscriptions. */
    public static ReceiverMetrics bind(PacketReceiver receiver, MeterRegistry registry) {
        return bind(receiver, registry, Tags.empty());
    }

    /**
     * Registers the meters, each with {@code tags} besides its own, and starts counting verdicts
     * of the receiver's later subscriptions. {@link #close()} undoes both.
     */
    public static ReceiverMetrics bind(PacketReceiver receiver, MeterRegistry registry, Iterable<Tag> tags) {
        Objects.requireNonNull(receiver, "receiver");
        Objects.requireNonNull(registry, "registry");
        ReceiverMetrics metrics = new ReceiverMetrics(receiver, registry, Tags.of(tags));
        receiver.attach(metrics.listener);
        return metrics;
    }

    /** Removes this binding's meters from the registry and stops counting verdicts. Idempotent. */
    @Override
    public void close() {
        receiver.detach(listener);
        synchronized (meters) {
            for (Meter m : meters) {
                registry.remove(m);
            }
            meters.clear();
        }
    }

    private BoundQueue queue(int number) {
        for (BoundQueue q : receiver.boundQueues()) {
            if (q.queueNumber() == number) {
                return q;
            }
        }
        return null;
    }

    private double counter(int number, ToDoubleFunction<QueueCounters> f) {
        QueueCounters c = receiver.countersOf(number);
        return c == null ? 0 : f.applyAsDouble(c);
    }

    private double maxLength(int number) {
        BoundQueue q = queue(number);
        return q == null || q.isClosed() ? 0 : q.maxLength();
    }

    /** A figure of queue {@code number}'s backpressure, or {@code none} while it is not bound. */
    private double backpressure(int number, ToDoubleFunction<QueueBackpressure> f, double none) {
        for (QueueBackpressure b : receiver.backpressure()) {
            if (b.queueNumber() == number) {
                return f.applyAsDouble(b);
            }
        }
        return none;
    }

    private double stat(int number, ToDoubleFunction<QueueStats> f) {
        BoundQueue q = queue(number);
        if (q == null || q.isClosed()) {
            return 0;
        }
        try {
            return f.applyAsDouble(q.stats());
        } catch (RuntimeException closedMeanwhile) {
            return 0;
        }
    }
}
