package io.nfqueue.samples;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.QueueAlreadyBoundException;
import io.nfqueue.QueueCounters;
import io.nfqueue.QueueOptions;
import io.nfqueue.QueueStats;
import io.nfqueue.Verdict;
import io.nfqueue.reactor.OverflowPolicy;
import io.nfqueue.reactor.PacketReceiver;
import io.nfqueue.reactor.ReceiverMetrics;
import io.nfqueue.reactor.ReceiverOptions;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The stats command's default mode: binds the queue through a Reactor {@link PacketReceiver},
 * accepts every packet (a pass-through, default verdict accept) and lets the kernel accept what
 * does not fit in the queue uninspected ({@link OverflowPolicy#FAIL_OPEN}): watching a queue must
 * never cut its traffic. It reports both sides of the queue: the kernel's line ({@link QueueStats})
 * and the library's counters ({@link QueueCounters}, and {@link ReceiverMetrics} read from a
 * Micrometer registry, as a monitoring system would: verdicts by kind), plus the backpressure
 * ({@link PacketReceiver#backpressure()}: the kernel max-length, the headroom the subscriber's
 * drain rate earns, the demand it holds out in windows of {@link DemandWindowSubscriber}).
 */
final class PassthroughStats implements AutoCloseable {
    private final int queue;
    private final PacketReceiver receiver;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final DemandWindowSubscriber subscriber;

    private PassthroughStats(int queue, PacketReceiver receiver, DemandWindowSubscriber subscriber) {
        this.queue = queue;
        this.receiver = receiver;
        this.subscriber = subscriber;
    }

    /**
     * Binds {@code options}' queue (with its namespace, if any) and starts accepting.
     *
     * @throws IllegalStateException when another program owns the queue, saying to use --read-only
     */
    static PassthroughStats start(QueueOptions options, int demandWindow) {
        int queue = options.queueNumber();
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(queue)
                .defaultVerdict(Verdict.accept())
                .overflow(OverflowPolicy.FAIL_OPEN)
                .queueOptions(o -> options.networkNamespace().map(o::networkNamespace).orElse(o)));
        PassthroughStats stats = new PassthroughStats(queue, receiver, new DemandWindowSubscriber(demandWindow));
        ReceiverMetrics.bind(receiver, stats.registry);
        // Subscribing binds the queue on this thread; a failed bind has arrived as an error on return.
        receiver.receive().subscribe(stats.subscriber);
        Throwable failure = stats.subscriber.failure();
        if (failure instanceof QueueAlreadyBoundException e) {
            throw new IllegalStateException("queue " + queue + " is bound by another program"
                    + e.ownerPid().stream().mapToObj(pid -> " (pid " + pid + ")").findFirst().orElse("")
                    + ": watch it with --read-only, which reads the kernel's counters without binding", e);
        }
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure != null) {
            throw new IllegalStateException(failure.toString(), failure);
        }
        return stats;
    }

    /** The error that ended the subscription since it started, or null. */
    Throwable failure() {
        return subscriber.failure();
    }

    /** Two lines: the kernel's side and the library's. */
    List<String> report() {
        String kernel = receiver.stats().stream().findFirst()
                .map(k -> ProcQueueStats.counters(k) + ", port id " + k.portId()).orElse("queue " + queue + " not bound");
        QueueCounters c = receiver.counters().stream().findFirst().orElse(null);
        String library = c == null ? "no counters yet" : c.received() + " received, " + c.verdictsSent()
                + " verdicts sent (" + verdictsByKind() + "), " + c.unresolved() + " unresolved, "
                + c.totalDefaultVerdicts() + " default verdicts" + defaultCauses(c) + ", " + c.receiveBufferDrops()
                + " ENOBUFS, " + c.kernelErrors() + " kernel errors, " + c.sendFailures() + " failed sends";
        return List.of("  kernel   " + kernel,
                "  library  " + library,
                "  flow     " + flow());
    }

    /** The backpressure line: what the kernel may hold, what the drain rate earns, the demand. */
    private String flow() {
        String demand = subscriber.outstanding() + " outstanding of a window of " + subscriber.window() + " ("
                + subscriber.requested() + " requested so far)";
        return receiver.backpressure().stream().findFirst()
                .map(b -> "kernel max-length " + b.kernelMaxLength() + " (" + b.maxLengthChanges() + " changes), headroom "
                        + b.headroom() + ", drain rate " + (b.drainRate().isPresent()
                        ? String.format(Locale.ROOT, "%.0f/s", b.drainRate().getAsDouble()) : "not measured yet")
                        + ", demand " + demand)
                .orElse("not bound, demand " + demand);
    }

    /** Verdicts the program gave, by kind, from the registry's nfqueue.verdicts counters. */
    private String verdictsByKind() {
        Map<String, Long> byKind = new TreeMap<>();
        for (Counter c : registry.find("nfqueue.verdicts").tag("cause", "program").counters()) {
            long n = (long) c.count();
            if (n > 0) {
                byKind.merge(c.getId().getTag("kind").toLowerCase(Locale.ROOT), n, Long::sum);
            }
        }
        return byKind.isEmpty() ? "none by the program" : byKind.entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue()).reduce((a, b) -> a + ", " + b).orElseThrow();
    }

    private static String defaultCauses(QueueCounters c) {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<DefaultVerdictCause, Long> e : c.defaultVerdicts().entrySet()) {
            if (e.getValue() > 0) {
                b.append(b.length() == 0 ? " (" : ", ").append(e.getKey().name().toLowerCase(Locale.ROOT))
                        .append(' ').append(e.getValue());
            }
        }
        return b.length() == 0 ? "" : b.append(')').toString();
    }

    /** Unbinds: packets still unresolved get the default verdict, accept. */
    @Override
    public void close() {
        subscriber.dispose();
    }
}
