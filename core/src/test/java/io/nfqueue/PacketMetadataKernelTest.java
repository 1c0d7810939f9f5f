package io.nfqueue;

import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.RoutedNamespaces;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.QueuePolling;
import io.nfqueue.testing.RxTimestamps;
import io.nfqueue.testing.UdpPackets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What a packet says about where it was queued: hook, devices, link-layer source address, mark
 * and timestamp, on the three paths a packet can take (sent locally, received, forwarded).
 * (uid/gid: {@link PacketOwnerKernelTest}.)
 *
 * <p>Timestamps, as seen on kernel 6.18 and read in the kernel: NFQUEUE reports
 * {@code skb->tstamp}, the receive time, which the kernel sets only while some socket on the
 * host asked for receive timestamps (the global netstamp switch; {@link RxTimestamps} turns it
 * on). With the switch on, packets at PRE_ROUTING, LOCAL_IN and FORWARD carry their receive time
 * (the FORWARD one is the time it came in, same as at PRE_ROUTING); a locally sent packet at
 * LOCAL_OUT carries none (UDP and TCP alike: TCP's departure time is not reported). With the
 * switch off, no hook gets one: {@link Packet#timestamp()} is then empty.
 */
@KernelTest
@Timeout(60)
class PacketMetadataKernelTest {
    private static final int PORT = 9100;
    private static final int QUEUE = 11;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
        toClose.clear();
    }

    /** Closed in reverse order of registration, after the test, even when it failed. */
    private <T extends AutoCloseable> T closeLater(T c) {
        toClose.add(0, c);
        return c;
    }

    @Test
    void sentLocallyIsLocalOutOnLoopbackWithoutHwAddressOrTimestamp() throws Exception {
        NetNamespace ns = closeLater(NetNamespace.create());
        closeLater(RxTimestamps.enable(ns)); // even with receive stamping on, LOCAL_OUT has no time
        ns.iptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);
        DatagramChannel sink = closeLater(ns.udpSocket("127.0.0.1", PORT));
        DatagramChannel sender = closeLater(ns.udpSocket("127.0.0.1", 0));
        NetfilterQueue queue = closeLater(NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path())));

        Udp.send(sender, "127.0.0.1", PORT, "local-out");
        Packet p = one(queue);

        assertEquals(Hook.LOCAL_OUT, p.hook(), p.toString());
        assertEquals(0x0800, p.hwProtocol());
        assertEquals(QUEUE, p.queueNumber());
        assertEquals(0, p.inDevice(), "no input device for a locally sent packet");
        assertEquals(ns.ifIndex("lo"), p.outDevice(), "routed out on lo");
        assertEquals(0, p.physInDevice());
        assertEquals(0, p.physOutDevice());
        assertTrue(p.hwAddress().isEmpty(), "a locally sent packet has no link-layer source");
        assertTrue(p.timestamp().isEmpty(), "the kernel stamps no locally sent UDP packet: " + p.timestamp());
        assertEquals(0, p.mark());
        assertEquals("local-out", UdpPackets.udpText(p.payloadBytes()));
        p.accept();
        assertEquals("local-out", Udp.text(Udp.receiveOne(sink, Duration.ofSeconds(5))));
    }

    @Test
    void receivedOverVethIsLocalInWithSendersMacAndReceiveTime() throws Exception {
        NetNamespace ns = closeLater(NetNamespace.create());
        NetNamespace peer = closeLater(NetNamespace.create());
        ns.veth("v0", "10.199.3.1/24", peer, "v1", "10.199.3.2/24");
        closeLater(RxTimestamps.enable(ns));
        ns.iptables("-A INPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);
        DatagramChannel sink = closeLater(ns.udpSocket("10.199.3.1", PORT));
        DatagramChannel sender = closeLater(peer.udpSocket("10.199.3.2", 0));
        NetfilterQueue queue = closeLater(NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path())));

        Packet p = stampedPacket(queue, () -> Udp.send(sender, "10.199.3.1", PORT, "local-in"));

        assertEquals(Hook.LOCAL_IN, p.hook(), p.toString());
        assertEquals(ns.ifIndex("v0"), p.inDevice(), "came in on v0");
        assertEquals(0, p.outDevice(), "delivered locally: no output device");
        assertArrayEquals(peer.macAddress("v1"), p.hwAddress().orElseThrow(), "source MAC is the sender's");
        p.accept();
        assertEquals("local-in", Udp.text(Udp.receiveOne(sink, Duration.ofSeconds(5))));
    }

    @Test
    void forwardedIPv4HasBothDevicesClientsMacAndReceiveTime() throws Exception {
        forwarded(RoutedNamespaces.CLIENT_V4, RoutedNamespaces.SERVER_V4, false);
    }

    @Test
    void forwardedIPv6HasBothDevicesClientsMacAndReceiveTime() throws Exception {
        forwarded(RoutedNamespaces.CLIENT_V6, RoutedNamespaces.SERVER_V6, true);
    }

    private void forwarded(String clientAddress, String serverAddress, boolean v6) throws Exception {
        RoutedNamespaces net = closeLater(RoutedNamespaces.create());
        closeLater(RxTimestamps.enable(net.router));
        String rule = "-A FORWARD -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE;
        if (v6) {
            net.router.ip6tables(rule);
        } else {
            net.router.iptables(rule);
        }
        DatagramChannel sink = closeLater(net.server.udpSocket(serverAddress, PORT));
        DatagramChannel sender = closeLater(net.client.udpSocket(clientAddress, 0));
        NetfilterQueue queue = closeLater(NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(net.router.path())));

        Packet p = stampedPacket(queue, () -> Udp.send(sender, serverAddress, PORT, "forward"));

        assertEquals(Hook.FORWARD, p.hook(), p.toString());
        assertEquals(v6 ? 0x86DD : 0x0800, p.hwProtocol());
        assertEquals(net.router.ifIndex("r1"), p.inDevice(), "came in from the client side");
        assertEquals(net.router.ifIndex("r2"), p.outDevice(), "goes out to the server side");
        assertArrayEquals(net.client.macAddress("c0"), p.hwAddress().orElseThrow(), "source MAC is the client's");
        p.accept();
        // (Earlier unstamped probes, if any, were accepted too and carry the same text.) The
        // first IPv6 packet to the server waits for neighbour discovery, up to about a second.
        assertEquals("forward", Udp.text(Udp.receiveOne(sink, Duration.ofSeconds(5))));
    }

    @Test
    void markSetBeforeTheQueueRuleIsReported() throws Exception {
        NetNamespace ns = closeLater(NetNamespace.create());
        ns.iptables("-t mangle -A OUTPUT -p udp --dport " + PORT + " -j MARK --set-mark 0x8000002a");
        ns.iptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);
        DatagramChannel sink = closeLater(ns.udpSocket("127.0.0.1", PORT));
        DatagramChannel sender = closeLater(ns.udpSocket("127.0.0.1", 0));
        NetfilterQueue queue = closeLater(NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path())));

        Udp.send(sender, "127.0.0.1", PORT, "marked");
        Packet p = one(queue);
        // All 32 bits, the top one included (an int that reads as negative).
        assertEquals(0x8000002a, p.mark(), "mark 0x" + Integer.toHexString(p.mark()));
        p.accept();
        assertEquals("marked", Udp.text(Udp.receiveOne(sink, Duration.ofSeconds(5))));
    }

    private static Packet one(NetfilterQueue queue) {
        List<Packet> got = QueuePolling.collect(queue, 1, Duration.ofSeconds(5));
        assertEquals(1, got.size(), "packets queued: " + got);
        return got.get(0);
    }

    /**
     * Sends with {@code send} until a packet arrives stamped (the kernel switches stamping on
     * asynchronously, so the first may not be), at most 20 times; checks its time lies between
     * just before the send and just after it was received; returns it unresolved. The earlier,
     * unstamped probes are accepted.
     */
    private static Packet stampedPacket(NetfilterQueue queue, Runnable send) {
        List<String> seen = new ArrayList<>();
        for (int attempt = 0; attempt < 20; attempt++) {
            Instant before = Instant.now().truncatedTo(ChronoUnit.MICROS); // the kernel gives microseconds
            send.run();
            Packet p = one(queue);
            Instant after = Instant.now();
            if (p.timestamp().isPresent()) {
                Instant t = p.timestamp().get();
                assertTrue(!t.isBefore(before) && !t.isAfter(after),
                        "timestamp " + t + " outside the send window [" + before + ", " + after + "]");
                return p;
            }
            seen.add(p.toString());
            p.accept();
        }
        return fail("no packet carried a timestamp although a socket asked for receive timestamps: " + seen);
    }
}
