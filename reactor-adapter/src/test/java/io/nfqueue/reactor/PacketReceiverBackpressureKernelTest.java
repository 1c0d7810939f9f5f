package io.nfqueue.reactor;

import io.nfqueue.Packet;
import io.nfqueue.QueueStats;
import io.nfqueue.test.kernel.DatagramTally;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.reactivestreams.Subscription;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Backpressure into the kernel over time, with the default options: a subscriber that stops
 * requesting makes the kernel hold at most its unresolved packets plus the floor, the rest
 * dropped (DROP) or passed uninspected (FAIL_OPEN) and counted, and full delivery comes back when
 * it resumes; a subscriber slower than the traffic keeps the kernel queue within what it drains
 * in the budget (here the floor) and holds no more than its unresolved packets in the JVM.
 */
@KernelTest
@Timeout(90)
class PacketReceiverBackpressureKernelTest {
    private static final int PORT = 9100;
    private static final int QUEUE = 5;
    private static final int FLOOR = ReceiverOptions.DEFAULT_MAX_LENGTH_FLOOR;

    /** A namespace of its own for each test (JUnit makes an instance per test), removed after it. */
    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables("-A INPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);

    /** The most the length settles above a target: a shrink waits until it is a third above. */
    private static int settled(int target) {
        return target * 3 / 2;
    }

    @ParameterizedTest
    @EnumSource(OverflowPolicy.class)
    void aStoppedSubscriberHoldsUnresolvedPlusFloorTheRestIsCountedAndDeliveryResumes(OverflowPolicy policy)
            throws Exception {
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(QUEUE)
                .overflow(policy)
                .queueOptions(q -> q.networkNamespace(ns.path())));
        AtomicInteger got = new AtomicInteger();
        BaseSubscriber<Packet> subscriber = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription s) {
                s.request(50); // then nothing more, until resumed
            }

            @Override
            protected void hookOnNext(Packet p) {
                p.accept();
                got.incrementAndGet();
            }
        };
        try (DatagramChannel sinkChannel = ns.udpSocket("127.0.0.1", PORT);
             DatagramTally sink = DatagramTally.start(sinkChannel);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
            receiver.receive().subscribe(subscriber);
            KernelWait.until(() -> QueueStats.find(ns.path(), QUEUE).isPresent(), Duration.ofSeconds(5), "bound");
            send(sender, "warm", 50);
            KernelWait.until(() -> sink.total() == 50, Duration.ofSeconds(5), () -> "50 delivered: " + sink.total());

            // Stopped: no demand, nothing unresolved. The rate decays, the length falls to the floor.
            KernelWait.until(() -> receiver.backpressure().get(0).kernelMaxLength() <= settled(FLOOR),
                    Duration.ofSeconds(5), () -> "max-length down to the floor: " + receiver.backpressure());
            int maxLength = receiver.backpressure().get(0).kernelMaxLength();
            assertTrue(maxLength >= FLOOR, "room for the floor at least: " + maxLength);
            send(sender, "stopped", 1000);
            KernelWait.until(() -> settledAfter(policy, sink, 1000), Duration.ofSeconds(5),
                    () -> "the kernel's counters settle: " + stats() + ", arrived " + sink.total());
            QueueStats held = stats();
            assertEquals(maxLength, held.queued(), "the kernel holds what the max-length allows, no more: " + held);
            if (policy == OverflowPolicy.DROP) {
                assertEquals(1000 - held.queued(), held.queueDropped(), "the rest dropped and counted: " + held);
                assertEquals(50, sink.total(), "nothing passed uninspected");
            } else {
                assertEquals(0, held.queueDropped(), held.toString());
                assertEquals(50 + 1000 - held.queued(), sink.total(), "the rest passed uninspected");
            }
            assertEquals(50, got.get(), "no demand, nothing delivered");

            // Resumed: the held packets come, and bursts are whole again.
            long before = sink.total();
            subscriber.request(Long.MAX_VALUE);
            KernelWait.until(() -> sink.total() == before + held.queued(), Duration.ofSeconds(5),
                    () -> "the held packets delivered: " + (sink.total() - before) + " of " + held.queued());
            long dropsBefore = stats().queueDropped();
            for (int b = 0; b < 5; b++) {
                send(sender, "small-" + b, FLOOR - 28); // within the floor: whole at once
                Thread.sleep(20);
            }
            long expected = before + held.queued() + 5L * (FLOOR - 28);
            KernelWait.until(() -> sink.total() >= expected, Duration.ofSeconds(5),
                    () -> "bursts within the floor whole after the resume: " + sink.total() + " of " + expected);
            // The rate comes back as the subscriber works: the headroom grows past 500.
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            int trickle = 0;
            while (receiver.backpressure().get(0).headroom() < 600 && System.nanoTime() < deadline) {
                send(sender, "trickle-" + trickle++, 20);
                Thread.sleep(10);
            }
            assertTrue(receiver.backpressure().get(0).headroom() >= 600, "the headroom recovered: "
                    + receiver.backpressure());
            for (int b = 0; b < 5; b++) {
                send(sender, "big-" + b, 500);
                Thread.sleep(50);
            }
            long all = expected + 20L * trickle + 2500;
            KernelWait.until(() -> sink.total() >= all, Duration.ofSeconds(10),
                    () -> "bursts of 500 whole again: " + sink.total() + " of " + all + ", " + stats());
            assertEquals(dropsBefore, stats().queueDropped(), "no drop since the resume");
        } finally {
            subscriber.dispose();
        }
        assertTrue(QueueStats.find(ns.path(), QUEUE).isEmpty(), "unbound after cancel");
    }

    /** plain subscribe() whose onNext takes 5 ms: unbounded demand, a rate of at most 200/s. */
    @Test
    void aSlowPlainSubscriberKeepsTheKernelQueueWithinItsBudget() throws Exception {
        slowSubscriber(f -> f.subscribe(p -> {
            sleep(5);
            p.accept();
        }), 32);
    }

    /** concatMap over a 5 ms asynchronous step: one request at a time, a rate of at most 200/s. */
    @Test
    void aSlowConcatMapKeepsTheKernelQueueWithinItsBudget() throws Exception {
        slowSubscriber(f -> f.concatMap(p -> Mono.delay(Duration.ofMillis(5)).thenReturn(p))
                .subscribe(Packet::accept), 1);
    }

    /**
     * Offers 400 packets/s, twice what the subscriber drains, for 3 s. Once its rate is measured
     * the kernel queue holds at most unresolved + headroom, where the headroom is 200/s * 50 ms =
     * 10 packets, so the floor; the rest is dropped and counted. The JVM holds at most the
     * packets read and unresolved: a batch of a plain subscriber, one for concatMap.
     */
    private void slowSubscriber(Function<Flux<Packet>, Disposable> pipeline, int mostUnresolved) throws Exception {
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(QUEUE)
                .queueOptions(q -> q.networkNamespace(ns.path())));
        try (DatagramChannel sinkChannel = ns.udpSocket("127.0.0.1", PORT);
             DatagramTally sink = DatagramTally.start(sinkChannel);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
            Disposable running = pipeline.apply(receiver.receive());
            try {
                KernelWait.until(() -> QueueStats.find(ns.path(), QUEUE).isPresent(), Duration.ofSeconds(5),
                        "bound");
                int mostQueued = 0;
                int mostHeld = 0;
                double rate = Double.NaN;
                long start = System.nanoTime();
                int sent = 0;
                for (int tick = 0; tick < 300; tick++) { // 4 packets every 10 ms for 3 s
                    send(sender, "t" + tick, 4);
                    sent += 4;
                    Thread.sleep(10);
                    QueueBackpressure b = receiver.backpressure().get(0);
                    mostHeld = Math.max(mostHeld, b.unresolved());
                    if (System.nanoTime() - start > 500_000_000L) { // the rate is measured by now
                        rate = b.drainRate().orElse(Double.NaN);
                        mostQueued = (int) Math.max(mostQueued, stats().queued());
                    }
                }
                assertTrue(rate > 50 && rate <= 210, "the measured rate is the subscriber's, at most 200/s: " + rate);
                int target = mostUnresolved + FLOOR;
                assertTrue(mostQueued <= settled(target), "the kernel queue stayed within unresolved + floor ("
                        + target + ", settled at most " + settled(target) + "): held " + mostQueued);
                assertTrue(mostHeld <= mostUnresolved, "the JVM held at most " + mostUnresolved + ": " + mostHeld);
                assertTrue(stats().queueDropped() > 0, "the excess was dropped by the kernel and counted: " + stats());
                // The sender stopped: the subscriber drains what the kernel held (under a second).
                int all = sent;
                KernelWait.until(() -> receiver.counters().get(0).received() + stats().queueDropped() == all,
                        Duration.ofSeconds(10), () -> "sent " + all + " = received + dropped: " + receiver.counters()
                                + " " + stats());
            } finally {
                running.dispose();
            }
        }
    }

    private QueueStats stats() {
        return QueueStats.find(ns.path(), QUEUE).orElseThrow();
    }

    private boolean settledAfter(OverflowPolicy policy, DatagramTally sink, int burst) {
        QueueStats s = stats();
        long accounted = policy == OverflowPolicy.DROP ? s.queueDropped() : sink.total() - 50;
        return s.queued() + accounted >= burst;
    }

    private static void send(DatagramChannel sender, String tag, int count) {
        for (int i = 0; i < count; i++) {
            Udp.send(sender, "127.0.0.1", PORT, tag + "-" + i);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
