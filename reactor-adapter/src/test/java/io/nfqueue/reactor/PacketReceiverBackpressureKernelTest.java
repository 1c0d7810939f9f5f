package io.nfqueue.reactor;

import io.nfqueue.Packet;
import io.nfqueue.QueueStats;
import io.nfqueue.internal.ProcNetfilterQueue;
import io.nfqueue.testing.KernelTest;
import io.nfqueue.testing.NetNamespace;
import io.nfqueue.testing.Udp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;

import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Demand reaches the kernel: a subscriber that requests 8 and resolves nothing holds about 8 packets. */
@KernelTest
@Timeout(60)
class PacketReceiverBackpressureKernelTest {
    private static final int PORT = 9100;
    private static final int QUEUE = 5;
    private static final int HYSTERESIS = 8;
    /** A namespace of its own for each test (JUnit makes an instance per test), removed after it. */
    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);

    @Test
    void requestEightHoldsAboutEightAndDropPolicyCountsTheRest() throws Exception {
        Result r = run(OverflowPolicy.DROP);
        assertEquals(8, r.delivered, "packets delivered to a subscriber that requested 8");
        assertTrue(r.held.queued() >= 8 && r.held.queued() <= 8 + HYSTERESIS,
                "kernel holds about 8 packets: " + r.held);
        assertEquals(100 - r.held.queued(), r.held.queueDropped(), "the rest were dropped and counted: " + r.held);
        assertEquals(0, r.arrived, "nothing was accepted, nothing arrives");
        assertTrue(r.afterCancel.isEmpty(), "queue unbound after cancel: " + r.afterCancel);
    }

    @Test
    void failOpenAcceptsWhatDoesNotFit() throws Exception {
        Result r = run(OverflowPolicy.FAIL_OPEN);
        assertEquals(8, r.delivered);
        assertTrue(r.held.queued() >= 8 && r.held.queued() <= 8 + HYSTERESIS, "kernel holds about 8: " + r.held);
        assertEquals(0, r.held.queueDropped(), "fail-open drops nothing: " + r.held);
        // Every packet not held was accepted uninspected; the held ones got the default verdict
        // (DROP) at cancel.
        assertEquals(100 - r.held.queued(), r.arrived, "uninspected accepts reach the sink");
        assertTrue(r.afterCancel.isEmpty(), "queue unbound after cancel: " + r.afterCancel);
    }

    private Result run(OverflowPolicy policy) throws Exception {
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(QUEUE)
                .overflow(policy)
                .maxLengthHysteresis(HYSTERESIS)
                .queueOptions(q -> q.networkNamespace(ns.path())));
        ConcurrentLinkedQueue<Packet> got = new ConcurrentLinkedQueue<>();
        BaseSubscriber<Packet> subscriber = new BaseSubscriber<>() {
            @Override
            protected void hookOnSubscribe(Subscription s) {
                s.request(8);
            }

            @Override
            protected void hookOnNext(Packet p) {
                got.add(p); // resolves nothing
            }
        };
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
            receiver.receive().subscribe(subscriber);
            waitFor(() -> maxLengthSettled(), Duration.ofSeconds(5));
            for (int i = 0; i < 100; i++) {
                Udp.send(sender, "127.0.0.1", PORT, "p" + i);
            }
            waitFor(() -> got.size() >= 8, Duration.ofSeconds(5));
            Thread.sleep(200); // nothing more may arrive: demand is exhausted
            QueueStats held = ProcNetfilterQueue.find(ns.path(), QUEUE).orElseThrow();
            int delivered = got.size();
            subscriber.dispose();
            List<byte[]> arrived = Udp.receive(sink, 200, Duration.ofMillis(500), Duration.ofSeconds(5));
            Optional<QueueStats> afterCancel = ProcNetfilterQueue.find(ns.path(), QUEUE);
            return new Result(delivered, held, arrived.size(), afterCancel);
        }
    }

    private boolean maxLengthSettled() {
        return ProcNetfilterQueue.find(ns.path(), QUEUE).isPresent();
    }

    private static void waitFor(java.util.function.BooleanSupplier condition, Duration max) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + max);
            }
            Thread.sleep(10);
        }
    }

    private record Result(int delivered, QueueStats held, int arrived, Optional<QueueStats> afterCancel) {
    }
}
