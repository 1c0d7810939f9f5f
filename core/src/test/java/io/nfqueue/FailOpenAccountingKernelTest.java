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
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Under FAIL_OPEN the kernel accepts what does not fit in the queue and counts it nowhere (not
 * in /proc, not in the packet ids). What a program can count: the queue rule's own packet
 * counter (every packet that reached the NFQUEUE target) minus the packets the library received
 * is the number accepted uninspected. This test shows that accounting holds, and that full
 * inspection resumes once the burst is over.
 */
@KernelTest
@Timeout(60)
class FailOpenAccountingKernelTest {
    private static final int PORT = 9990;
    private static final int QUEUE = 27;
    private static final int MAX_LENGTH = 4;
    private static final int BURST = 20;
    /** A namespace of its own for each test (JUnit makes an instance per test), removed after it. */
    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);

    @Test
    void uninspectedAcceptsAreTheRuleCounterMinusWhatWasReceived() throws Exception {
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).maxLength(MAX_LENGTH).failOpen(true)
                     .networkNamespace(ns.path()))) {
            for (int i = 0; i < BURST; i++) {
                Udp.send(sender, "127.0.0.1", PORT, "burst-" + i);
            }
            QueueStats s = KernelQueues.find(ns, QUEUE).orElseThrow();
            assertEquals(MAX_LENGTH, s.queued(), s.toString());
            assertEquals(0, s.queueDropped(), "fail-open overflow is not counted as dropped: " + s);
            assertEquals(MAX_LENGTH, s.lastPacketId(), "nor does it take an id: " + s);
            assertEquals(BURST, ruleCounter(), "every packet reached the queue rule");

            // The overflow went through at once, before any verdict.
            List<byte[]> early = Udp.receive(sink, BURST, Duration.ofMillis(500), Duration.ofSeconds(3));
            assertEquals(BURST - MAX_LENGTH, early.size());

            List<Packet> held = QueuePolling.collect(queue, MAX_LENGTH, Duration.ofSeconds(5));
            assertEquals(MAX_LENGTH, held.size());
            held.forEach(Packet::accept);
            assertEquals(MAX_LENGTH, Udp.receive(sink, MAX_LENGTH + 1, Duration.ofMillis(500), Duration.ofSeconds(3)).size());
            long uninspected = ruleCounter() - queue.counters().received();
            assertEquals(BURST - MAX_LENGTH, uninspected, queue.counters().toString());

            // The burst is over: every new packet is inspected again.
            for (int i = 0; i < MAX_LENGTH; i++) {
                Udp.send(sender, "127.0.0.1", PORT, "after-" + i);
                List<Packet> one = QueuePolling.collect(queue, 1, Duration.ofSeconds(5));
                assertEquals(1, one.size());
                one.get(0).accept();
            }
            assertEquals(MAX_LENGTH, Udp.receive(sink, MAX_LENGTH + 1, Duration.ofMillis(500), Duration.ofSeconds(3)).size());
            assertEquals(BURST - MAX_LENGTH, ruleCounter() - queue.counters().received(), "no new uninspected accept");
            assertTrue(Await.until(() -> queue.stats().queued() == 0, Duration.ofSeconds(5)));
            assertEquals(0, queue.counters().kernelErrors(), queue.counters().toString());
        }
    }

    /** Packets the NFQUEUE rule matched, read from {@code iptables -L -v -x}. */
    private long ruleCounter() {
        String out = ns.exec("iptables", "-w", "-L", "OUTPUT", "-v", "-x", "-n");
        for (String line : out.split("\n")) {
            if (line.contains("NFQUEUE")) {
                return Long.parseLong(line.trim().split("\\s+")[0]);
            }
        }
        throw new AssertionError("no NFQUEUE rule in:\n" + out);
    }
}
