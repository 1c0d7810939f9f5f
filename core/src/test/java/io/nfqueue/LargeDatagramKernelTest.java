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
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * A 60 000-byte UDP datagram on loopback (MTU 65 536, so the kernel sends it as one IP packet,
 * not fragments): the queue gets it whole (not truncated, copied length = original length =
 * datagram + headers), with GSO on and off, IPv4 and IPv6, and after ACCEPT the socket receives
 * all 60 000 bytes unchanged. Older bindings' 2 048- or 4 096-byte receive buffers fail here.
 */
@KernelTest
@Timeout(60)
class LargeDatagramKernelTest {
    private static final int PORT = 9700;
    private static final int QUEUE = 17;
    private static final int SIZE = 60_000;
    /** A namespace of its own for each test (JUnit makes an instance per test), removed after it. */
    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE)
            .withIp6tables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);

    @Test
    void wholeWithGsoIPv4() throws Exception {
        large("127.0.0.1", true, 20);
    }

    @Test
    void wholeWithoutGsoIPv4() throws Exception {
        large("127.0.0.1", false, 20);
    }

    @Test
    void wholeWithGsoIPv6() throws Exception {
        large("::1", true, 40);
    }

    @Test
    void wholeWithoutGsoIPv6() throws Exception {
        large("::1", false, 40);
    }

    private void large(String host, boolean gso, int ipHeader) throws Exception {
        byte[] data = pattern(SIZE);
        try (DatagramChannel sink = ns.udpSocket(host, PORT);
             DatagramChannel sender = ns.udpSocket(host, 0);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).gso(gso).networkNamespace(ns.path()))) {
            sink.socket().setReceiveBufferSize(1 << 20);
            Udp.send(sender, host, PORT, data);
            List<String> seen = new ArrayList<>();
            List<Packet> packets = new ArrayList<>();
            QueuePolling.handle(queue, p -> {
                seen.add(p + " copied=" + p.payloadLength() + " truncated=" + p.isTruncated() + " gso=" + p.isGso());
                packets.add(p);
                p.accept();
            }, 1, Duration.ofSeconds(5));
            // A second packet would mean the datagram was split (fragments): look briefly for one.
            queue.poll(p -> {
                seen.add(p + " copied=" + p.payloadLength());
                packets.add(p);
                p.accept();
            }, Duration.ofMillis(200));
            System.out.println("gso=" + gso + " " + host + ": " + seen);

            assertEquals(1, packets.size(), "one whole packet expected: " + seen);
            Packet p = packets.get(0);
            assertFalse(p.isTruncated(), seen.toString());
            assertEquals(ipHeader + 8 + SIZE, p.originalLength(), seen.toString());
            assertEquals(p.originalLength(), p.payloadLength(), "copied whole: " + seen);

            byte[] got = Udp.receiveOne(sink, Duration.ofSeconds(5));
            assertNotNull(got, "the datagram did not arrive");
            assertEquals(SIZE, got.length);
            assertArrayEquals(data, got);
            assertEquals(0, queue.counters().receiveBufferDrops());
            assertEquals(0, queue.counters().defaultVerdicts(DefaultVerdictCause.TRUNCATED_MESSAGE));
        }
    }

    /** Bytes that differ from position to position, so a shifted or repeated chunk shows. */
    private static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + (i >>> 8));
        }
        return b;
    }
}
