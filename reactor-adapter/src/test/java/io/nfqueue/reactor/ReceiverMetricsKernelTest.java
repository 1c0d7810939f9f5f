package io.nfqueue.reactor;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.Disposable;

import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@KernelTest
@Timeout(60)
class ReceiverMetricsKernelTest {
    private static final int PORT = 9400;
    private static final int QUEUE = 31;
    /** A namespace of its own for each test (JUnit makes an instance per test), removed after it. */
    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);

    @Test
    void metersCountPacketsVerdictsAndKernelState() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(QUEUE)
                .maxLengthBounds(1, 256)
                .queueOptions(q -> q.networkNamespace(ns.path())));
        ReceiverMetrics.bind(receiver, registry);
        AtomicInteger seen = new AtomicInteger();
        Disposable running = receiver.receive().subscribe(p -> {
            if (seen.get() % 2 == 0) { // onNext is serial: no other thread moves seen meanwhile
                p.accept();
            } else {
                p.drop();
            }
            // Counted after the verdict: the meters are read as soon as seen reaches 10.
            seen.incrementAndGet();
        });
        try (DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
            for (int i = 0; i < 10; i++) {
                Udp.send(sender, "127.0.0.1", PORT, "m" + i);
            }
            KernelWait.until(() -> seen.get() == 10, Duration.ofSeconds(5), () -> "10 packets seen (seen "
                    + seen.get() + ", counters " + receiver.counters() + ", stats " + receiver.stats() + ")");
            String q = Integer.toString(QUEUE);
            assertEquals(10.0, registry.get("nfqueue.packets.received").tag("queue", q).functionCounter().count());
            assertEquals(5.0, registry.get("nfqueue.verdicts").tag("kind", "ACCEPT").tag("cause", "program").counter().count());
            assertEquals(5.0, registry.get("nfqueue.verdicts").tag("kind", "DROP").tag("cause", "program").counter().count());
            assertEquals(10, registry.get("nfqueue.verdict.latency").timer().count());
            assertEquals(0.0, registry.get("nfqueue.packets.inflight").tag("queue", q).gauge().value());
            assertEquals(256.0, registry.get("nfqueue.queue.maxlength").tag("queue", q).gauge().value(),
                    "unbounded demand means the ceiling");
            assertEquals(0.0, registry.get("nfqueue.kernel.dropped").tag("queue", q).tag("reason", "queue_full")
                    .functionCounter().count());
        } finally {
            running.dispose();
        }
        assertTrue(registry.get("nfqueue.verdicts").tag("cause", "CANCEL").counter().count() == 0,
                "nothing was unresolved at cancel");
    }
}
