package io.nfqueue;

import io.nfqueue.test.kernel.KernelQueues;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.Await;
import io.nfqueue.testing.QueuePolling;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Options the kernel applies at bind (they travel in the one config message): copy range cuts
 * the copy but not the packet; max-length bounds what the kernel holds, the overflow is dropped
 * and counted, or with fail-open accepted uninspected.
 */
@KernelTest
@Timeout(60)
class QueueOptionsKernelTest {
    private static final int PORT = 9960;
    private static final int QUEUE = 22;
    /** A namespace of its own for each test (JUnit makes an instance per test), removed after it. */
    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);

    @Test
    void copyRangeCutsTheCopyNotThePacket() throws Exception {
        byte[] data = new byte[1000];
        Arrays.fill(data, (byte) 'x');
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).copyRange(64).networkNamespace(ns.path()))) {
            QueueStats s = KernelQueues.find(ns, QUEUE).orElseThrow();
            assertEquals(2, s.copyMode(), "COPY_PACKET");
            assertEquals(64, s.copyRange());
            Udp.send(sender, "127.0.0.1", PORT, data);
            List<Packet> got = QueuePolling.collect(queue, 1, Duration.ofSeconds(5));
            assertEquals(1, got.size());
            Packet p = got.get(0);
            assertEquals(64, p.payloadLength());
            assertEquals(20 + 8 + 1000, p.originalLength());
            assertTrue(p.isTruncated());
            p.accept();
            assertArrayEquals(data, Udp.receiveOne(sink, Duration.ofSeconds(5)), "the packet itself is whole");
        }
    }

    @Test
    void maxLengthDropsAndCountsTheOverflow() throws Exception {
        List<String> arrived = overflow(false);
        assertEquals(List.of("p0", "p1", "p2"), arrived, "only the three held and accepted");
    }

    @Test
    void failOpenAcceptsTheOverflowUninspected() throws Exception {
        List<String> arrived = overflow(true);
        assertEquals(List.of("p0", "p1", "p2", "p3", "p4"), arrived);
    }

    /** max-length 3, five packets sent, nothing read until all five were sent; returns what arrived, sorted. */
    private List<String> overflow(boolean failOpen) throws Exception {
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).maxLength(3).failOpen(failOpen)
                     .networkNamespace(ns.path()))) {
            for (int i = 0; i < 5; i++) {
                Udp.send(sender, "127.0.0.1", PORT, "p" + i);
            }
            QueueStats s = KernelQueues.find(ns, QUEUE).orElseThrow();
            assertEquals(3, s.queued(), s.toString());
            // Fail-open overflow is counted nowhere (see KERNEL-FACTS); drop overflow is.
            assertEquals(failOpen ? 0 : 2, s.queueDropped(), s.toString());
            List<String> arrived = new ArrayList<>();
            if (failOpen) {
                List<String> early = Udp.receive(sink, 2, Duration.ofSeconds(3), Duration.ofSeconds(5)).stream()
                        .map(Udp::text).sorted().toList();
                assertEquals(List.of("p3", "p4"), early, "overflow passes at once, before any verdict");
                arrived.addAll(early);
            }
            List<Packet> held = QueuePolling.collect(queue, 3, Duration.ofSeconds(5));
            assertEquals(3, held.size());
            held.forEach(Packet::accept);
            assertTrue(Await.until(() -> queue.stats().queued() == 0, Duration.ofSeconds(5)));
            Udp.receive(sink, 6, Duration.ofSeconds(1), Duration.ofSeconds(5)).forEach(d -> arrived.add(Udp.text(d)));
            Collections.sort(arrived);
            return arrived;
        }
    }

    /**
     * A receive buffer too small for what waits: the kernel drops what does not fit (counted in
     * the proc file's user-dropped field) and reports ENOBUFS once; the library counts that and
     * keeps receiving, so every packet that did fit is handled, and later ones too.
     */
    @Test
    void aFullReceiveBufferIsCountedAndReceivingGoesOn() throws Exception {
        int sent = 300;
        byte[] data = new byte[1400];
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).socketBufferSize(65536)
                     .networkNamespace(ns.path()))) {
            assertTrue(queue.handle().receiveBufferSize() < sent * data.length,
                    "the buffer must be too small for the test: " + queue.handle().receiveBufferSize());
            for (int i = 0; i < sent; i++) {
                Udp.send(sender, "127.0.0.1", PORT, data);
            }
            QueueStats before = queue.stats();
            assertTrue(before.userDropped() > 0, "the kernel should have dropped some: " + before);
            assertEquals(sent, before.queued() + before.userDropped(), before.toString());

            int handled = QueuePolling.handle(queue, Packet::accept, (int) before.queued(), Duration.ofSeconds(10));
            assertEquals(before.queued(), handled, "every packet that fitted is handled despite ENOBUFS");
            assertTrue(queue.counters().receiveBufferDrops() >= 1, queue.counters().toString());
            assertEquals(handled, Udp.receive(sink, sent, Duration.ofSeconds(1), Duration.ofSeconds(10)).size());

            // Still receiving afterwards.
            Udp.send(sender, "127.0.0.1", PORT, "after");
            assertEquals(1, QueuePolling.handle(queue, Packet::accept, 1, Duration.ofSeconds(5)));
            assertEquals("after", Udp.text(Udp.receiveOne(sink, Duration.ofSeconds(5))));
            assertEquals(0, queue.stats().queued());
        }
    }
}
