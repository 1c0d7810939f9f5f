package io.nfqueue;

import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.QueuePolling;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code verdictTimeout}: a packet the program forgets gets the default verdict once the
 * timeout passes (while the queue is being polled), is counted as TIMEOUT, and a verdict given
 * after that throws, so the kernel never waits forever for it.
 */
@KernelTest
@Timeout(60)
class VerdictTimeoutKernelTest {
    private static final int PORT = 9980;
    private static final int QUEUE = 24;
    /** A namespace of its own for each test (JUnit makes an instance per test), removed after it. */
    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);

    @Test
    void aForgottenPacketGetsTheDefaultVerdictAfterTheTimeout() throws Exception {
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).verdictTimeout(Duration.ofMillis(300))
                     .defaultVerdict(Verdict.accept()).networkNamespace(ns.path()))) {
            long t0 = System.nanoTime();
            Udp.send(sender, "127.0.0.1", PORT, "forgotten");
            List<Packet> got = QueuePolling.collect(queue, 1, Duration.ofSeconds(5));
            assertEquals(1, got.size());
            Packet forgotten = got.get(0);
            // Keep the queue polled until the packet expires (bounded).
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (!forgotten.isResolved() && System.nanoTime() < deadline) {
                queue.poll(p -> { }, Duration.ofMillis(50));
            }
            long afterMillis = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(forgotten.isResolved(), "not expired after 5 s");
            assertTrue(afterMillis >= 300, "expired too early: " + afterMillis + " ms");
            assertEquals(1, queue.counters().defaultVerdicts(DefaultVerdictCause.TIMEOUT), queue.counters().toString());
            assertThrows(IllegalStateException.class, forgotten::drop);
            assertEquals("forgotten", Udp.text(Udp.receiveOne(sink, Duration.ofSeconds(5))), "default ACCEPT delivers it");
            assertEquals(0, queue.stats().queued());
        }
    }
}
