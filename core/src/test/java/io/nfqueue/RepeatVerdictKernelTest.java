package io.nfqueue;

import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.QueuePolling;
import io.nfqueue.testing.UdpPackets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * REPEAT with a mark: the rule queues only packets whose mark is not {@value #PASSES}; the
 * handler repeats each packet with its mark plus one, so the hook runs again and queues it
 * again until the mark reaches {@value #PASSES}, then the chain's ACCEPT policy lets it through.
 * The queue must see it exactly {@value #PASSES} times, with marks 0, 1, 2, ..., and it must
 * arrive once.
 */
@KernelTest
@Timeout(60)
class RepeatVerdictKernelTest {
    private static final int PORT = 9500;
    private static final int QUEUE = 15;
    private static final int PASSES = 5;
    private NetNamespace ns;

    @BeforeEach
    void setUp() {
        ns = NetNamespace.create();
        String rule = "-A OUTPUT -p udp --dport " + PORT + " -m mark ! --mark " + PASSES + " -j NFQUEUE --queue-num " + QUEUE;
        ns.iptables(rule);
        ns.ip6tables(rule);
    }

    @AfterEach
    void tearDown() {
        ns.close();
    }

    @Test
    void repeatWithIncrementingMarkIPv4() throws Exception {
        repeat("127.0.0.1");
    }

    @Test
    void repeatWithIncrementingMarkIPv6() throws Exception {
        repeat("::1");
    }

    private void repeat(String host) throws Exception {
        try (DatagramChannel sink = ns.udpSocket(host, PORT);
             DatagramChannel sender = ns.udpSocket(host, 0);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path()))) {
            Udp.send(sender, host, PORT, "repeat-me");
            List<Integer> marks = new ArrayList<>();
            List<Integer> ids = new ArrayList<>();
            PacketHandler handler = p -> {
                marks.add(p.mark());
                ids.add(p.id());
                if (marks.size() > PASSES) {
                    p.drop(); // seen too often: end the loop here, the assertion below reports it
                    return;
                }
                assertEquals("repeat-me", UdpPackets.udpText(p.payloadBytes()));
                p.verdict(Verdict.repeat().withMark(p.mark() + 1));
            };
            // Bounded by count and time, then a short look for a pass too many.
            QueuePolling.handle(queue, handler, PASSES, Duration.ofSeconds(5));
            queue.poll(handler, Duration.ofMillis(300));

            assertEquals(List.of(0, 1, 2, 3, 4), marks, "marks seen on each pass");
            assertEquals(PASSES, new HashSet<>(ids).size(), "each pass is a new queued packet with its own id: " + ids);
            List<byte[]> got = Udp.receive(sink, 2, Duration.ofSeconds(1), Duration.ofSeconds(5));
            assertEquals(List.of("repeat-me"), got.stream().map(Udp::text).toList(), "arrives once");
            assertEquals(0, queue.stats().queued());
        }
    }
}
