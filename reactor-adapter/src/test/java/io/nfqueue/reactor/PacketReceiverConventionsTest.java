package io.nfqueue.reactor;

import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nfqueue.Packet;
import io.nfqueue.internal.fake.FakeTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.reactivestreams.Subscription;
import reactor.core.Disposable;
import reactor.core.Scannable;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.util.function.Tuple2;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a Reactor user looks for: a Scannable source that names itself, threads from a factory of
 * theirs, listeners and bound/unbound hooks as options, metrics that can be removed again.
 */
@Timeout(60)
class PacketReceiverConventionsTest {
    private static final int Q = 40;
    private final FakeQueues fakes = new FakeQueues();

    @AfterEach
    void tearDown() {
        assertEquals(List.of(), fakes.violations(), "transport threading contract");
    }

    @Test
    void theSourceIsScannableWithANameAndTags() {
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queues(Q, Q + 1)
                .queueOptions(q -> q.networkNamespace(Path.of("/var/run/netns/edge"))));
        Flux<Packet> source = receiver.receive();
        Scannable scannable = Scannable.from(source);
        assertEquals("nfqueue", scannable.name());
        Map<String, String> tags = scannable.tags().collect(Collectors.toMap(Tuple2::getT1, Tuple2::getT2));
        assertEquals(Map.of("queue", Q + "-" + (Q + 1), "namespace", "/var/run/netns/edge"), tags);
        assertEquals(Scannable.Attr.RunStyle.ASYNC, scannable.scan(Scannable.Attr.RUN_STYLE));
        // Downstream operators find it as their parent, as tap(Micrometer.metrics(...)) and log() do.
        Flux<Packet> chain = source.filter(p -> true).map(p -> p);
        assertTrue(Scannable.from(chain).parents().anyMatch(s -> "nfqueue".equals(s.name())));
    }

    @Test
    void theSubscriptionIsScannable() {
        fakes.next(Q).offerMany(1, 3, Q);
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        List<Subscription> upstream = new CopyOnWriteArrayList<>();
        List<Packet> held = new CopyOnWriteArrayList<>();
        BaseSubscriber<Packet> s = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription subscription) {
                upstream.add(subscription);
                subscription.request(10);
            }

            @Override
            protected void hookOnNext(Packet p) {
                held.add(p);
            }
        };
        receiver.receive().subscribe(s);
        try {
            Await.until(() -> held.size() == 3, () -> "3 delivered");
            Scannable sub = Scannable.from(upstream.get(0));
            assertEquals(s, sub.scanUnsafe(Scannable.Attr.ACTUAL));
            assertEquals(7L, sub.scan(Scannable.Attr.REQUESTED_FROM_DOWNSTREAM));
            assertEquals(3, sub.scan(Scannable.Attr.BUFFERED), "3 handed out, waiting for a verdict");
            assertEquals(0, sub.scan(Scannable.Attr.PREFETCH));
            assertFalse(sub.scan(Scannable.Attr.CANCELLED));
            s.dispose();
            assertTrue(sub.scan(Scannable.Attr.CANCELLED));
        } finally {
            s.dispose();
        }
    }

    @Test
    void threadsComeFromTheFactoryAndAreNamedAfterTheirJob() {
        fakes.next(Q);
        fakes.next(Q + 1);
        List<Thread> made = new CopyOnWriteArrayList<>();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            made.add(t);
            return t;
        };
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queues(Q, Q + 1).threadFactory(factory));
        Disposable running = receiver.receive().subscribe(Packet::accept);
        try {
            assertEquals(List.of("nfqueue-" + Q + "-rx", "nfqueue-" + (Q + 1) + "-rx", "nfqueue-" + Q + "-" + (Q + 1)
                    + "-watchdog"), made.stream().map(Thread::getName).toList());
        } finally {
            running.dispose();
        }
        for (Thread t : made) {
            Await.until(() -> !t.isAlive(), () -> t.getName() + " ended with the subscription");
        }
    }

    @Test
    void resolutionListenersAreOptionsAndOneThatThrowsDoesNotStopTheOthers() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 20, Q);
        AtomicInteger first = new AtomicInteger();
        AtomicInteger second = new AtomicInteger();
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q)
                .onResolution((p, v, cause) -> {
                    first.incrementAndGet();
                    throw new IllegalStateException("a listener that fails");
                })
                .onResolution((p, v, cause) -> second.incrementAndGet()));
        Disposable running = receiver.receive().subscribe(Packet::accept);
        try {
            assertTrue(fake.awaitVerdicts(20, Duration.ofSeconds(5)), "every verdict sent despite the listener");
            Await.until(() -> second.get() == 20, () -> "the second listener saw 20: " + second.get());
            assertEquals(20, first.get());
        } finally {
            running.dispose();
        }
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void boundAndUnboundHooksRunOncePerQueueAndUnboundAfterEveryPacketIsResolved() {
        FakeTransport a = fakes.next(Q).offerMany(1, 5, Q);
        FakeTransport b = fakes.next(Q + 1).offerMany(1001, 5, Q + 1);
        List<String> events = new CopyOnWriteArrayList<>();
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queues(Q, Q + 1)
                .doOnBound(q -> events.add("bound " + q.queueNumber() + " port " + q.portId()))
                .doOnBound(q -> {
                    throw new IllegalStateException("a hook that fails");
                })
                .doOnUnbound(q -> events.add("unbound " + q.queueNumber() + " held "
                        + (q.queueNumber() == Q ? a : b).held().size())));
        List<Packet> held = new CopyOnWriteArrayList<>();
        Disposable running = receiver.receive().subscribe(held::add); // resolves nothing
        Await.until(() -> held.size() == 10, () -> "10 held");
        List<String> bound = List.of("bound " + Q + " port " + a.portId(), "bound " + (Q + 1) + " port " + b.portId());
        assertEquals(bound, events);
        running.dispose();
        assertEquals(List.of(bound.get(0), bound.get(1), "unbound " + Q + " held 0", "unbound " + (Q + 1) + " held 0"),
                events);
        assertEquals("", fakes.exactlyOnceProblems());
    }

    @Test
    void metricsCarryTheirTagsAndCloseRemovesThem() {
        FakeTransport fake = fakes.next(Q).offerMany(1, 10, Q);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        PacketReceiver receiver = fakes.receiver(ReceiverOptions.queue(Q));
        ReceiverMetrics metrics = ReceiverMetrics.bind(receiver, registry, Tags.of("service", "test"));
        Disposable running = receiver.receive().subscribe(Packet::accept);
        try {
            assertTrue(fake.awaitVerdicts(10, Duration.ofSeconds(5)));
            Await.until(() -> registry.get("nfqueue.verdicts").tag("kind", "ACCEPT").tag("cause", "program")
                    .counter().count() == 10, () -> "10 accepts counted");
            assertTrue(registry.getMeters().stream().allMatch(m -> "test".equals(m.getId().getTag("service"))),
                    "every meter has the binding's tags");
            assertEquals(String.valueOf(Q), registry.get("nfqueue.queue.headroom").gauge().getId().getTag("queue"));
        } finally {
            running.dispose();
        }
        metrics.close();
        assertEquals(List.of(), registry.getMeters(), "close() removed every meter");
        metrics.close(); // idempotent
    }
}
