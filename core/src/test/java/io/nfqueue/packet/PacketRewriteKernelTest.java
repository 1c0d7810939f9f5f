package io.nfqueue.packet;

import io.nfqueue.NetfilterQueue;
import io.nfqueue.Packet;
import io.nfqueue.PacketHandler;
import io.nfqueue.QueueOptions;
import io.nfqueue.Verdict;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.InetAddress;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Rewritten packets against real sockets on loopback in a fresh namespace, with the
 * namespace's checksum error counters (as {@code nstat -az UdpInCsumErrors TcpInCsumErrors}
 * shows them) as the judge: a rewrite that arrives with no new error is right, and the control
 * runs that skip the checksum fix show the counters do catch a wrong one.
 *
 * <p>What this kernel does on loopback, which these tests pin down: with GSO on (the default)
 * UDP and TCP packets are queued checksum-not-ready (CHECKSUM_PARTIAL: the field holds only the
 * pseudo-header sum), and after any payload verdict the kernel takes the checksum field as
 * complete, so even a TTL-only edit must compute the transport checksum in full; with
 * {@code gso(false)} the kernel completes checksums before queueing.
 */
@KernelTest
@Timeout(120)
class PacketRewriteKernelTest {
    private static final int QUEUE = 7;
    /** A namespace of its own for each test (JUnit makes an instance per test), removed after it. */
    @RegisterExtension
    final NetNamespace ns = NetNamespace.create();

    private NetfilterQueue open(boolean gso) {
        return NetfilterQueue.open(QueueOptions.queue(QUEUE).gso(gso).networkNamespace(ns.path()));
    }

    private void rule(String host, String rule) {
        if (host.contains(":")) {
            ns.ip6tables(rule);
        } else {
            ns.iptables(rule);
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** Polls until {@code expected} packets were handled or 3 s passed; returns how many. */
    private static int handle(NetfilterQueue q, int expected, PacketHandler handler) {
        int n = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        while (n < expected && System.nanoTime() < deadline) {
            n += q.poll(handler, Duration.ofMillis(100));
        }
        return n;
    }

    @ParameterizedTest(name = "{0} gso={1}")
    @CsvSource({"127.0.0.1, true", "127.0.0.1, false", "::1, true", "::1, false"})
    void udpPayloadRewrittenLongerAndShorterArrivesIntact(String host, boolean gso) throws Exception {
        rule(host, "-A OUTPUT -p udp --dport 9100 -j NFQUEUE --queue-num " + QUEUE);
        try (DatagramChannel sink = ns.udpSocket(host, 9100);
             DatagramChannel sender = ns.udpSocket(host, 0);
             NetfilterQueue q = open(gso)) {
            ChecksumErrorCounters before = ChecksumErrorCounters.read(ns);
            Udp.send(sender, host, 9100, "grow");
            Udp.send(sender, host, 9100, "shrink: this datagram is long and comes out short");
            List<String> flags = new ArrayList<>();
            int n = handle(q, 2, p -> {
                flags.add("notReady=" + p.isChecksumNotReady() + " gso=" + p.isGso());
                if (!gso) {
                    assertFalse(p.isChecksumNotReady(), "gso(false): the kernel completes checksums before queueing");
                    assertEquals(ChecksumStatus.VALID, PacketParser.of(p).transportChecksumStatus());
                }
                String text = StandardCharsets.US_ASCII.decode(PacketParser.of(p).transportPayload()).toString();
                String replacement = text.equals("grow") ? "grow: now a much longer datagram than before" : "short";
                p.verdict(PacketEditor.of(p).transportPayload(ascii(replacement)).acceptVerdict());
            });
            assertEquals(2, n, "packets handled");
            Set<String> got = Udp.receive(sink, 2, Duration.ofMillis(500), Duration.ofSeconds(3)).stream()
                    .map(Udp::text).collect(Collectors.toSet());
            assertEquals(Set.of("grow: now a much longer datagram than before", "short"), got, "flags " + flags);
            assertEquals(new ChecksumErrorCounters(0, 0, 0), ChecksumErrorCounters.read(ns).minus(before));
        }
    }

    /** Control: the same kind of rewrite with lengths right but the old UDP checksum is dropped and counted. */
    @Test
    void udpControlWithoutTheChecksumFixIsCountedAsAnError() throws Exception {
        ns.iptables("-A OUTPUT -p udp --dport 9100 -j NFQUEUE --queue-num " + QUEUE);
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", 9100);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             NetfilterQueue q = open(false)) {
            ChecksumErrorCounters before = ChecksumErrorCounters.read(ns);
            Udp.send(sender, "127.0.0.1", 9100, "original");
            int n = handle(q, 1, p -> {
                PacketParser parsed = PacketParser.of(p);
                int stale = parsed.udp().checksum();
                byte[] edited = PacketEditor.of(p).transportPayload(ascii("replaced, checksum not fixed")).build();
                TestPackets.put16(edited, 26, stale);   // skip the fix: put the old checksum back
                p.verdict(Verdict.accept().withPayload(edited));
            });
            assertEquals(1, n);
            assertNull(Udp.receiveOne(sink, Duration.ofMillis(700)), "a datagram with a stale checksum is not delivered");
            assertEquals(1, ChecksumErrorCounters.read(ns).minus(before).udp(), "UdpInCsumErrors");
        }
    }

    /**
     * The checksum-not-ready trap: with GSO on, a TTL-only edit that fixes the IP header but
     * leaves the transport checksum field as queued (a partial sum) is counted as a UDP checksum
     * error, while the editor's TTL edit (which completes the transport checksum) arrives.
     */
    @Test
    void checksumNotReadyPacketsNeedTheTransportChecksumCompletedOnAnyEdit() throws Exception {
        ns.iptables("-A OUTPUT -p udp --dport 9100 -j NFQUEUE --queue-num " + QUEUE);
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", 9100);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             NetfilterQueue q = open(true)) {
            ChecksumErrorCounters before = ChecksumErrorCounters.read(ns);
            Udp.send(sender, "127.0.0.1", 9100, "raw ttl edit");
            Udp.send(sender, "127.0.0.1", 9100, "editor ttl edit");
            int n = handle(q, 2, p -> {
                assertTrue(p.isChecksumNotReady(), "loopback with GSO on queues UDP checksum-not-ready");
                String text = StandardCharsets.US_ASCII.decode(PacketParser.of(p).transportPayload()).toString();
                if (text.startsWith("raw")) {
                    byte[] b = p.payloadBytes();
                    b[8] = 9;
                    TestPackets.fixIpv4HeaderChecksum(b);
                    p.verdict(Verdict.accept().withPayload(b));
                } else {
                    p.verdict(PacketEditor.of(p).ttl(9).acceptVerdict());
                }
            });
            assertEquals(2, n);
            List<byte[]> got = Udp.receive(sink, 2, Duration.ofMillis(700), Duration.ofSeconds(3));
            assertEquals(List.of("editor ttl edit"), got.stream().map(Udp::text).collect(Collectors.toList()));
            assertEquals(1, ChecksumErrorCounters.read(ns).minus(before).udp(), "UdpInCsumErrors");
        }
    }

    @ParameterizedTest(name = "{0} gso={1}")
    @CsvSource({"127.0.0.1, true", "127.0.0.1, false", "::1, true", "::1, false"})
    void tcpPayloadRewrittenAtTheSameLengthArrivesIntact(String host, boolean gso) throws Exception {
        // Only client-to-server data segments (PSH set, to the server's port): the handshake and ACKs pass.
        rule(host, "-A OUTPUT -p tcp --dport 9200 --tcp-flags PSH PSH -j NFQUEUE --queue-num " + QUEUE);
        try (TcpPair tcp = TcpPair.open(ns, host, 9200); NetfilterQueue q = open(gso)) {
            ChecksumErrorCounters before = ChecksumErrorCounters.read(ns);
            tcp.send(ascii("hello over tcp"));
            int n = handle(q, 1, p -> p.verdict(PacketEditor.of(p).transportPayload(ascii("HELLO OVER TCP")).acceptVerdict()));
            assertEquals(1, n);
            assertEquals("HELLO OVER TCP", new String(tcp.receive(14, Duration.ofSeconds(3)), StandardCharsets.US_ASCII));
            tcp.send(ascii("and again"));
            handle(q, 1, p -> p.verdict(PacketEditor.of(p).transportPayload(ascii("AND AGAIN")).acceptVerdict()));
            assertEquals("AND AGAIN", new String(tcp.receive(9, Duration.ofSeconds(3)), StandardCharsets.US_ASCII),
                    "the connection goes on after a rewrite");
            assertEquals(new ChecksumErrorCounters(0, 0, 0), ChecksumErrorCounters.read(ns).minus(before));
        }
    }

    /** Control: a same-length TCP rewrite that keeps the old checksum never arrives and is counted. */
    @Test
    void tcpControlWithoutTheChecksumFixIsCountedAsAnError() throws Exception {
        ns.iptables("-A OUTPUT -p tcp --dport 9200 --tcp-flags PSH PSH -j NFQUEUE --queue-num " + QUEUE);
        try (TcpPair tcp = TcpPair.open(ns, "127.0.0.1", 9200); NetfilterQueue q = open(false)) {
            ChecksumErrorCounters before = ChecksumErrorCounters.read(ns);
            tcp.send(ascii("hello over tcp"));
            // The first try and a retransmission or two: each gets the same broken rewrite.
            int n = q.poll(p -> {
                int stale = PacketParser.of(p).tcp().checksum();
                byte[] edited = PacketEditor.of(p).transportPayload(ascii("HELLO OVER TCP")).build();
                TestPackets.put16(edited, 20 + 16, stale);
                p.verdict(Verdict.accept().withPayload(edited));
            }, Duration.ofMillis(800));
            assertTrue(n >= 1);
            assertEquals(0, tcp.receive(1, Duration.ofMillis(200)).length, "nothing delivered");
            assertTrue(ChecksumErrorCounters.read(ns).minus(before).tcp() >= 1, "TcpInCsumErrors rose");
        }
    }

    /** A one-packet NAT: the destination address and port change; the packet reaches the new socket. */
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"127.0.0.1, 127.0.0.2", "::1, ::1"})
    void udpNatReachesTheNewDestination(String from, String to) throws Exception {
        rule(from, "-A OUTPUT -p udp --dport 9300 -j NFQUEUE --queue-num " + QUEUE);
        try (DatagramChannel oldSink = ns.udpSocket(from, 9300);
             DatagramChannel newSink = ns.udpSocket(to, 9301);
             DatagramChannel sender = ns.udpSocket(from, 0);
             NetfilterQueue q = open(true)) {
            ChecksumErrorCounters before = ChecksumErrorCounters.read(ns);
            Udp.send(sender, from, 9300, "redirected");
            InetAddress target = InetAddress.getByName(to);
            int n = handle(q, 1, p -> p.verdict(PacketEditor.of(p).destinationAddress(target).destinationPort(9301)
                    .acceptVerdict()));
            assertEquals(1, n);
            assertEquals("redirected", Udp.text(Udp.receiveOne(newSink, Duration.ofSeconds(2))));
            assertNull(Udp.receiveOne(oldSink, Duration.ofMillis(200)));
            assertEquals(new ChecksumErrorCounters(0, 0, 0), ChecksumErrorCounters.read(ns).minus(before));
        }
    }

    /**
     * With loopback's MTU lowered to 1500, a 20 000-byte write leaves as GSO super-packets: the
     * editor refuses them (GSO), and with gso(false) the kernel segments them first and each
     * segment can be rewritten.
     */
    @Test
    void gsoSuperPacketsAreRefusedAndSegmentsAreEditable() throws Exception {
        ns.ip("link", "set", "lo", "mtu", "1500");
        ns.iptables("-A OUTPUT -p tcp --dport 9200 --tcp-flags PSH PSH -j NFQUEUE --queue-num " + QUEUE);
        byte[] data = new byte[20_000];
        Arrays.fill(data, (byte) 'a');
        byte[] upper = new byte[20_000];
        Arrays.fill(upper, (byte) 'A');
        try (TcpPair tcp = TcpPair.open(ns, "127.0.0.1", 9200)) {
            List<PacketEditRefusedException.Reason> refusals = new ArrayList<>();
            try (NetfilterQueue q = open(true)) {
                tcp.send(data);
                q.poll(p -> {
                    if (p.isGso()) {
                        try {
                            PacketEditor.of(p);
                        } catch (PacketEditRefusedException e) {
                            refusals.add(e.reason());
                        }
                    }
                    p.accept();
                }, Duration.ofMillis(1000));
                assertArrayEquals(data, tcp.receive(20_000, Duration.ofSeconds(3)));
            }
            assertFalse(refusals.isEmpty(), "GSO super-packets were queued and refused");
            assertTrue(refusals.stream().allMatch(r -> r == PacketEditRefusedException.Reason.GSO));

            ChecksumErrorCounters before = ChecksumErrorCounters.read(ns);
            try (NetfilterQueue q = open(false)) {
                tcp.send(data);
                q.poll(p -> {
                    assertFalse(p.isGso());
                    assertTrue(p.payloadLength() <= 1500);
                    PacketParser parsed = PacketParser.of(p);
                    p.verdict(PacketEditor.of(p).transportPayload(new String(new char[parsed.transportPayloadLength()])
                            .replace('\0', 'A').getBytes(StandardCharsets.US_ASCII)).acceptVerdict());
                }, Duration.ofMillis(1500));
                assertArrayEquals(upper, tcp.receive(20_000, Duration.ofSeconds(3)));
            }
            assertEquals(new ChecksumErrorCounters(0, 0, 0), ChecksumErrorCounters.read(ns).minus(before));
        }
    }

    /**
     * Packets the kernel built and checksummed (GSO off, so complete) verify with this package:
     * UDP, ICMP errors, over IPv4 and IPv6, and TCP over IPv6. Their bytes are printed so they can be kept as
     * vectors in {@link KernelCapturedVectorsTest}.
     */
    @Test
    void kernelBuiltPacketsVerify() throws Exception {
        List<Packet> seen = new ArrayList<>();
        try (TcpPair tcp = TcpPair.open(ns, "::1", 9500);
             DatagramChannel sender4 = ns.udpSocket("127.0.0.1", 0);
             DatagramChannel sender6 = ns.udpSocket("::1", 0);
             NetfilterQueue q = open(false)) {
            // Connected before the rules: from here on everything sent is queued.
            ns.iptables("-A OUTPUT -j NFQUEUE --queue-num " + QUEUE);
            ns.ip6tables("-A OUTPUT -j NFQUEUE --queue-num " + QUEUE);
            // To closed ports: the datagram, then the kernel's ICMP port unreachable.
            Udp.send(sender4, "127.0.0.1", 9400, "vector udp4");
            Udp.send(sender6, "::1", 9400, "vector udp6");
            tcp.send(ascii("vector tcp6"));
            handle(q, 6, p -> {
                seen.add(p);
                p.accept();
            });
            assertEquals("vector tcp6", new String(tcp.receive(11, Duration.ofSeconds(2)), StandardCharsets.US_ASCII));
        }
        assertTrue(seen.size() >= 6, "queued: " + seen);
        Set<Integer> protocols = new TreeSet<>();
        for (Packet p : seen) {
            PacketParser parsed = PacketParser.of(p);
            protocols.add(parsed.protocol());
            System.out.println("kernel-built " + parsed + ": " + TestPackets.hex(p.payloadBytes()));
            assertFalse(p.isChecksumNotReady());
            if (parsed.isIpv4()) {
                assertEquals(ChecksumStatus.VALID, parsed.ipChecksumStatus(), parsed.toString());
            }
            assertEquals(ChecksumStatus.VALID, parsed.transportChecksumStatus(), parsed.toString());
            int stored = parsed.isUdp() ? parsed.udp().checksum() : parsed.isIcmp() ? parsed.icmp().checksum()
                    : parsed.isTcp() ? parsed.tcp().checksum() : parsed.icmpv6().checksum();
            assertEquals(stored, parsed.computeTransportChecksum(), parsed.toString());
        }
        assertEquals(Set.of(IpProtocols.ICMP, IpProtocols.TCP, IpProtocols.UDP, IpProtocols.ICMPV6), protocols);
    }
}
