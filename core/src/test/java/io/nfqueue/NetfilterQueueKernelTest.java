package io.nfqueue;

import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@KernelTest
@Timeout(60)
class NetfilterQueueKernelTest {
    private static final int PORT = 9000;
    /** A namespace of its own for each test (JUnit makes an instance per test), removed after it. */
    @RegisterExtension
    final NetNamespace ns = NetNamespace.create();

    @Test
    void acceptDeliversAndDropBlocksByPayloadIPv4() throws Exception {
        acceptDeliversAndDropBlocks("127.0.0.1", false);
    }

    @Test
    void acceptDeliversAndDropBlocksByPayloadIPv6() throws Exception {
        acceptDeliversAndDropBlocks("::1", true);
    }

    private void acceptDeliversAndDropBlocks(String host, boolean v6) throws Exception {
        String rule = "-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num 3";
        if (v6) {
            ns.ip6tables(rule);
        } else {
            ns.iptables(rule);
        }
        try (DatagramChannel sink = ns.udpSocket(host, PORT);
             DatagramChannel sender = ns.udpSocket(host, 0);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(3).networkNamespace(ns.path()))) {
            for (int i = 0; i < 10; i++) {
                Udp.send(sender, host, PORT, (i % 2 == 0 ? "pass-" : "block-") + i);
            }
            Set<String> seen = ConcurrentHashMap.newKeySet();
            int handled = queue.poll(p -> {
                String text = new String(p.payloadBytes(), 0, p.payloadLength());
                seen.add(p.toString());
                if (text.contains("pass-")) {
                    p.accept();
                } else {
                    p.drop();
                }
            }, Duration.ofSeconds(2));
            assertEquals(10, handled, "packets handled; seen " + seen);
            List<byte[]> got = Udp.receive(sink, 20, Duration.ofMillis(500), Duration.ofSeconds(5));
            Set<String> texts = got.stream().map(Udp::text).collect(Collectors.toSet());
            assertEquals(Set.of("pass-0", "pass-2", "pass-4", "pass-6", "pass-8"), texts);
            assertEquals(0, queue.stats().queued(), "kernel still holds packets");
            assertTrue(seen.iterator().next().contains("UDP"), seen.toString());
        }
    }
}
