package io.nfqueue;

import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.Async;
import io.nfqueue.testing.Await;
import io.nfqueue.testing.QueuePolling;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A handler that throws: {@code run()} rethrows that very exception, the packet in hand gets
 * the default verdict (counted as HANDLER_ERROR), and the queue stays bound and usable.
 * A verdict the handler gave before throwing stands.
 */
@KernelTest
@Timeout(60)
class NetfilterQueueHandlerErrorKernelTest {
    private static final int PORT = 9900;
    private static final int QUEUE = 20;
    /** A namespace of its own for each test (JUnit makes an instance per test), removed after it. */
    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);

    @Test
    void withDefaultDropThePacketIsDropped() throws Exception {
        assertEquals(List.of(), throwingHandler(Verdict.drop(), false));
    }

    @Test
    void withDefaultAcceptThePacketArrives() throws Exception {
        assertEquals(List.of("victim"), throwingHandler(Verdict.accept(), false));
    }

    @Test
    void aVerdictGivenBeforeThrowingStands() throws Exception {
        // Default DROP, but the handler accepted before it threw: the packet arrives.
        assertEquals(List.of("victim"), throwingHandler(Verdict.drop(), true));
    }

    /** Runs a handler that throws on one packet; returns what the sink got. */
    private List<String> throwingHandler(Verdict defaultVerdict, boolean acceptFirst) throws Exception {
        RuntimeException boom = new IllegalStateException("boom from the handler");
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).defaultVerdict(defaultVerdict)
                     .networkNamespace(ns.path()))) {
            Udp.send(sender, "127.0.0.1", PORT, "victim");
            CompletableFuture<Void> running = CompletableFuture.runAsync(() -> queue.run(p -> {
                if (acceptFirst) {
                    p.accept();
                }
                throw boom;
            }), Async.THREAD_PER_TASK);
            ExecutionException e = assertThrows(ExecutionException.class, () -> running.get(10, TimeUnit.SECONDS),
                    "run() must end with the handler's exception");
            assertSame(boom, e.getCause(), "run() rethrows the handler's own exception");

            List<String> got = Udp.receive(sink, 2, Duration.ofSeconds(1), Duration.ofSeconds(5)).stream()
                    .map(Udp::text).toList();
            QueueCounters c = queue.counters();
            assertEquals(acceptFirst ? 0 : 1, c.defaultVerdicts(DefaultVerdictCause.HANDLER_ERROR), c.toString());
            assertEquals(1, c.verdictsSent(), c.toString());
            assertEquals(0, c.unresolved(), c.toString());
            assertEquals(0, queue.stats().queued(), "the kernel holds nothing");

            // Still bound and working.
            Udp.send(sender, "127.0.0.1", PORT, "after");
            assertEquals(1, QueuePolling.handle(queue, Packet::accept, 1, Duration.ofSeconds(5)));
            assertEquals("after", Udp.text(Udp.receiveOne(sink, Duration.ofSeconds(5))));
            return got;
        }
    }

    @Test
    void theRestOfTheBatchGetsTheDefaultVerdictToo() throws Exception {
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).defaultVerdict(Verdict.accept())
                     .networkNamespace(ns.path()))) {
            for (int i = 0; i < 5; i++) {
                Udp.send(sender, "127.0.0.1", PORT, "p" + i);
            }
            // Let all five wait in the socket so that one receive reads them as one batch.
            assertTrue(Await.until(
                    () -> queue.stats().queued() == 5, Duration.ofSeconds(5)), queue.stats().toString());
            RuntimeException boom = new IllegalStateException("first packet fails");
            RuntimeException thrown = assertThrows(RuntimeException.class,
                    () -> queue.poll(p -> { throw boom; }, Duration.ofSeconds(2)));
            assertSame(boom, thrown);
            QueueCounters c = queue.counters();
            // One receive read all five (batch size 32); the handler saw only the first: the
            // four it never saw got the default verdict too, none is left hanging.
            assertEquals(5, c.received(), c.toString());
            assertEquals(5, c.defaultVerdicts(DefaultVerdictCause.HANDLER_ERROR), c.toString());
            assertEquals(0, c.unresolved(), c.toString());
            List<String> got = Udp.receive(sink, 6, Duration.ofSeconds(1), Duration.ofSeconds(5)).stream()
                    .map(Udp::text).sorted().toList();
            assertEquals(List.of("p0", "p1", "p2", "p3", "p4"), got);
        }
    }
}
