package io.nfqueue.packet;

import io.nfqueue.BoundQueue;
import io.nfqueue.CopyMode;
import io.nfqueue.Packet;
import io.nfqueue.QueueOptions;
import io.nfqueue.internal.access.TransportBinding;
import io.nfqueue.internal.fake.FakePacket;
import io.nfqueue.internal.fake.FakeTransport;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static io.nfqueue.packet.TestPackets.V4_A;
import static io.nfqueue.packet.TestPackets.V4_B;
import static io.nfqueue.packet.TestPackets.V6_A;
import static io.nfqueue.packet.TestPackets.V6_B;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class FlowKeyTest {
    private static final byte[] NONE = new byte[0];

    private static FlowKey key(byte[] packet) {
        return FlowKey.of(ByteBuffer.wrap(packet));
    }

    private static InetAddress ip(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }

    // Protocols, ports, addresses, text.

    @Test
    void udpAndTcpOverIpv4() throws Exception {
        FlowKey udp = key(TestPackets.udp4(new byte[5]));
        assertEquals(4, udp.ipVersion());
        assertEquals(IpProtocols.UDP, udp.protocol());
        assertTrue(udp.isUdp());
        assertFalse(udp.isTcp());
        assertEquals(40000, udp.sourcePort());
        assertEquals(53, udp.destinationPort());
        assertEquals(ip("10.0.0.1"), udp.sourceAddress());
        assertEquals(ip("192.168.1.200"), udp.destinationAddress());
        assertEquals("udp 10.0.0.1:40000 -> 192.168.1.200:53", udp.toString());

        FlowKey tcp = key(TestPackets.tcp4(new byte[5]));
        assertTrue(tcp.isTcp());
        assertEquals(12345, tcp.sourcePort());
        assertEquals(80, tcp.destinationPort());
        assertEquals("tcp 10.0.0.1:12345 -> 192.168.1.200:80", tcp.toString());
    }

    @Test
    void udpAndTcpOverIpv6() throws Exception {
        FlowKey tcp = key(TestPackets.tcp6(new byte[5]));
        assertEquals(6, tcp.ipVersion());
        assertEquals(IpProtocols.TCP, tcp.protocol());
        assertEquals(12345, tcp.sourcePort());
        assertEquals(443, tcp.destinationPort());
        assertEquals(ip("2001:db8::1"), tcp.sourceAddress());
        assertEquals(ip("2001:db8::ff"), tcp.destinationAddress());
        assertEquals("tcp [2001:db8::1]:12345 -> [2001:db8::ff]:443", tcp.toString());

        FlowKey udp = key(TestPackets.udp6(new byte[5]));
        assertEquals("udp [2001:db8::1]:40000 -> [2001:db8::ff]:53", udp.toString());
        assertEquals(FlowKey.of(IpProtocols.UDP, ip("2001:db8::1"), 40000, ip("2001:db8::ff"), 53), udp);
    }

    @Test
    void afterIpv4OptionsAndIpv6ExtensionHeaders() {
        byte[] options = {1, 1, 1, 0};
        FlowKey v4 = key(TestPackets.ipv4(IpProtocols.UDP, V4_A, V4_B, options, TestPackets.udp(7, 9, NONE)));
        assertEquals(7, v4.sourcePort());
        assertEquals(9, v4.destinationPort());
        byte[] chain = TestPackets.concat(TestPackets.extension(IpProtocols.DESTINATION_OPTIONS, 8),
                TestPackets.extension(IpProtocols.TCP, 16), TestPackets.tcp(7, 9, 1, 2, 0x02, NONE, NONE));
        FlowKey v6 = key(TestPackets.ipv6(IpProtocols.HOP_BY_HOP, V6_A, V6_B, chain));
        assertEquals(IpProtocols.TCP, v6.protocol());
        assertEquals(7, v6.sourcePort());
        assertEquals(9, v6.destinationPort());
    }

    @Test
    void pingsAreKeyedByTheirEchoIdentifierAndRepliesByTheReversedKey() {
        FlowKey request = key(TestPackets.icmp4Echo(new byte[8]));
        assertEquals(IpProtocols.ICMP, request.protocol());
        assertEquals(0x4242, request.sourcePort());
        assertEquals(0x4242, request.destinationPort());
        assertEquals("icmp 10.0.0.1 -> 192.168.1.200 id 16962", request.toString());
        FlowKey reply = key(TestPackets.ipv4(IpProtocols.ICMP, V4_B, V4_A, NONE,
                TestPackets.icmpEcho(IcmpView.ECHO_REPLY, 0x4242, 1, new byte[8])));
        assertEquals(request.reversed(), reply);
        assertEquals(request.canonical(), reply.canonical());
        FlowKey otherPing = key(TestPackets.ipv4(IpProtocols.ICMP, V4_A, V4_B, NONE,
                TestPackets.icmpEcho(IcmpView.ECHO_REQUEST, 0x4243, 1, NONE)));
        assertNotEquals(request, otherPing);

        FlowKey request6 = key(TestPackets.icmp6Echo(NONE));
        assertEquals(IpProtocols.ICMPV6, request6.protocol());
        assertEquals(0x4242, request6.sourcePort());
        assertEquals("icmpv6 2001:db8::1 -> 2001:db8::ff id 16962", request6.toString());
        FlowKey reply6 = key(TestPackets.ipv6(IpProtocols.ICMPV6, V6_B, V6_A,
                TestPackets.icmpEcho(Icmpv6View.ECHO_REPLY, 0x4242, 9, NONE)));
        assertEquals(request6.reversed(), reply6);
    }

    @Test
    void otherIcmpMessagesHavePortsZero() {
        // The rest of header of an unreachable is unused, of a neighbor solicitation reserved: not identifiers.
        byte[] unreachable = TestPackets.icmpEcho(IcmpView.DESTINATION_UNREACHABLE, 0x1234, 0x5678, new byte[28]);
        FlowKey v4 = key(TestPackets.ipv4(IpProtocols.ICMP, V4_A, V4_B, NONE, unreachable));
        assertEquals(0, v4.sourcePort());
        assertEquals(0, v4.destinationPort());
        assertEquals("icmp 10.0.0.1 -> 192.168.1.200", v4.toString());
        byte[] solicitation = TestPackets.icmpEcho(Icmpv6View.NEIGHBOR_SOLICITATION, 0x1234, 0x5678, new byte[16]);
        FlowKey v6 = key(TestPackets.ipv6(IpProtocols.ICMPV6, V6_A, V6_B, solicitation));
        assertEquals(0, v6.sourcePort());
        assertEquals(0, v6.destinationPort());
        // ICMP's echo types mean nothing under the other IP version's protocol number.
        FlowKey icmp4In6 = key(TestPackets.ipv6(IpProtocols.ICMP, V6_A, V6_B,
                TestPackets.icmpEcho(IcmpView.ECHO_REQUEST, 0x1234, 1, NONE)));
        assertEquals(0, icmp4In6.sourcePort());
    }

    @Test
    void protocolsWithoutPortsHavePortsZero() {
        FlowKey gre = key(TestPackets.ipv4(47, V4_A, V4_B, NONE, new byte[12]));
        assertEquals(47, gre.protocol());
        assertEquals(0, gre.sourcePort());
        assertEquals(0, gre.destinationPort());
        assertEquals("proto 47 10.0.0.1 -> 192.168.1.200", gre.toString());
        FlowKey esp = key(TestPackets.ipv6(IpProtocols.ESP, V6_A, V6_B, new byte[2]));
        assertEquals("esp 2001:db8::1 -> 2001:db8::ff", esp.toString());
        assertEquals(0, esp.sourcePort());
        FlowKey sctp = key(TestPackets.ipv4(132, V4_A, V4_B, NONE, TestPackets.udp(5000, 6000, NONE)));
        assertEquals(0, sctp.sourcePort(), "SCTP's ports are not read");
        FlowKey nothing = key(TestPackets.ipv6(IpProtocols.NO_NEXT_HEADER, V6_A, V6_B, NONE));
        assertEquals(IpProtocols.NO_NEXT_HEADER, nothing.protocol());
        assertEquals(0, nothing.destinationPort());
    }

    @Test
    void ipv4MappedAddressesStayIpv6() throws Exception {
        byte[] mapped = TestPackets.hex("00000000000000000000ffff0a000001");
        FlowKey k = key(TestPackets.ipv6(IpProtocols.UDP, mapped, V6_B, TestPackets.udp(1, 2, NONE)));
        assertEquals(6, k.ipVersion());
        assertTrue(k.sourceAddress() instanceof Inet6Address, "not turned into an Inet4Address");
        assertArrayEquals(mapped, k.sourceAddress().getAddress());
        assertEquals("udp [::ffff:10.0.0.1]:1 -> [2001:db8::ff]:2", k.toString());
        assertNotEquals(FlowKey.of(IpProtocols.UDP, ip("10.0.0.1"), 1, ip("10.0.0.2"), 2),
                FlowKey.of(IpProtocols.UDP, k.sourceAddress(), 1, Inet6Address.getByAddress(null,
                        TestPackets.hex("00000000000000000000ffff0a000002"), -1), 2));
        assertEquals(k, FlowKey.of(IpProtocols.UDP, k.sourceAddress(), 1, k.destinationAddress(), 2));
    }

    @Test
    void aLittleEndianBufferReadsTheSame() {
        byte[] p = TestPackets.tcp6(NONE);
        assertEquals(key(p), FlowKey.of(ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN)));
    }

    @Test
    void theBufferPositionIsWhereThePacketStartsAndIsNotMoved() {
        byte[] p = TestPackets.udp4(new byte[3]);
        ByteBuffer b = ByteBuffer.allocate(p.length + 10);
        b.position(7);
        b.put(p);
        b.position(7).limit(7 + p.length);
        assertEquals(key(p), FlowKey.of(b));
        assertEquals(7, b.position());
    }

    @Test
    void ipv6TextIsRfc5952() {
        String[][] cases = {
                {"20010db8000000000000000000000001", "2001:db8::1"},
                {"20010db8000000010001000100010001", "2001:db8:0:1:1:1:1:1"},   // one zero group stays
                {"20010000000000010000000000000001", "2001:0:0:1::1"},          // the longest run
                {"20010db8000000000001000000000001", "2001:db8::1:0:0:1"},       // the first of equal runs
                {"00000000000000000000000000000000", "::"},
                {"00000000000000000000000000000001", "::1"},
                {"00010000000000000000000000000000", "1::"},
                {"fe800000000000000000000000abcdef", "fe80::ab:cdef"},
                {"00000000000000000000ffffc0000201", "::ffff:192.0.2.1"},
                {"000100020003000400050006000700ff", "1:2:3:4:5:6:7:ff"},
        };
        for (String[] c : cases) {
            ByteBuffer b = ByteBuffer.wrap(TestPackets.hex(c[0]));
            StringBuilder s = new StringBuilder();
            Addresses.appendIpv6(s, b.getLong(0), b.getLong(8));
            assertEquals(c[1], s.toString(), c[0]);
        }
    }

    @Provide
    Arbitrary<byte[]> sparseIpv6Addresses() {
        // Groups of mostly zeros, so runs of every length and position come up.
        return Arbitraries.integers().between(0, 0xFFFF).list().ofSize(8)
                .map(groups -> {
                    byte[] a = new byte[16];
                    for (int i = 0; i < 8; i++) {
                        TestPackets.put16(a, 2 * i, groups.get(i) % 3 == 0 ? groups.get(i) : 0);
                    }
                    return a;
                });
    }

    @Property(tries = 500, seed = PropertySeeds.SEED)
    void ipv6TextReadsBackAndIsCompressed(@ForAll("sparseIpv6Addresses") byte[] address) throws Exception {
        ByteBuffer b = ByteBuffer.wrap(address);
        StringBuilder s = new StringBuilder();
        Addresses.appendIpv6(s, b.getLong(0), b.getLong(8));
        String text = s.toString();
        byte[] back = InetAddress.getByName(text).getAddress();
        if (back.length == 4) {   // InetAddress turns ::ffff:a.b.c.d into an Inet4Address
            back = TestPackets.concat(TestPackets.hex("00000000000000000000ffff"), back);
        }
        assertArrayEquals(address, back, text);
        assertFalse(text.matches(".*(^|:)0[0-9a-f].*"), "leading zero in " + text);
        assertFalse(text.contains(":::") || text.indexOf("::") != text.lastIndexOf("::"), text);
        if (text.contains(".")) {
            return;
        }
        // The run "::" stands for is the longest of at least two zero groups, and the first of equals.
        int at = text.indexOf("::");
        if (at < 0) {
            assertTrue(longestZeroRun(text) < 2, "an uncompressed zero run in " + text);
        } else {
            String before = text.substring(0, at);
            String after = text.substring(at + 2);
            int compressed = 8 - groups(before) - groups(after);
            assertTrue(compressed >= 2, text);
            assertTrue(longestZeroRun(before) < compressed && longestZeroRun(after) <= compressed, text);
        }
    }

    private static int groups(String part) {
        return part.isEmpty() ? 0 : part.split(":").length;
    }

    private static int longestZeroRun(String part) {
        int longest = 0;
        int run = 0;
        for (String g : part.split(":")) {
            run = g.equals("0") ? run + 1 : 0;
            longest = Math.max(longest, run);
        }
        return longest;
    }

    // Equality, direction.

    @Test
    void packetsOfOneFlowHaveEqualKeys() {
        byte[] a = TestPackets.ipv4(IpProtocols.TCP, V4_A, V4_B, NONE, TestPackets.tcp(1000, 80, 1, 0, 0x02, NONE, NONE));
        byte[] b = TestPackets.ipv4(IpProtocols.TCP, V4_A, V4_B, new byte[] {1, 1, 1, 1},
                TestPackets.tcp(1000, 80, 99, 7, 0x18, new byte[] {1, 1, 1, 1}, new byte[300]));
        assertEquals(key(a), key(b));
        assertEquals(key(a).hashCode(), key(b).hashCode());
        assertEquals(0, key(a).compareTo(key(b)));
        assertEquals(key(a), FlowKey.of(PacketParser.of(b)));
    }

    @Test
    void everyFieldTellsKeysApart() throws Exception {
        InetAddress a = ip("10.0.0.1");
        InetAddress b = ip("10.0.0.2");
        FlowKey base = FlowKey.of(IpProtocols.UDP, a, 1000, b, 53);
        List<FlowKey> others = List.of(
                FlowKey.of(IpProtocols.TCP, a, 1000, b, 53),
                FlowKey.of(IpProtocols.UDP, ip("10.0.0.3"), 1000, b, 53),
                FlowKey.of(IpProtocols.UDP, a, 1000, ip("10.0.0.3"), 53),
                FlowKey.of(IpProtocols.UDP, a, 1001, b, 53),
                FlowKey.of(IpProtocols.UDP, a, 1000, b, 54),
                FlowKey.of(IpProtocols.UDP, b, 1000, a, 53),
                FlowKey.of(IpProtocols.UDP, a, 53, b, 1000),
                FlowKey.of(IpProtocols.UDP, ip("::ffff:10.0.0.1"), 1000, b, 53),   // an Inet4Address: the same
                FlowKey.of(IpProtocols.UDP, ip("::a00:1"), 1000, ip("::a00:2"), 53)); // IPv4-compatible IPv6
        assertEquals(base, others.get(7));
        for (int i = 0; i < others.size(); i++) {
            if (i != 7) {
                assertNotEquals(base, others.get(i), others.get(i).toString());
                assertNotEquals(0, base.compareTo(others.get(i)));
            }
        }
        assertEquals(6, others.get(8).ipVersion());
        assertNotEquals(base, null);
        assertNotEquals(base, "udp 10.0.0.1:1000 -> 10.0.0.2:53");
    }

    @Test
    void reversedAndCanonical() throws Exception {
        FlowKey out = FlowKey.of(IpProtocols.TCP, ip("192.168.1.9"), 50000, ip("10.0.0.1"), 443);
        FlowKey back = key(TestPackets.ipv4(IpProtocols.TCP, new byte[] {10, 0, 0, 1},
                new byte[] {(byte) 192, (byte) 168, 1, 9}, NONE, TestPackets.tcp(443, 50000, 1, 1, 0x10, NONE, NONE)));
        assertEquals(back, out.reversed());
        assertEquals(out, out.reversed().reversed());
        assertEquals(out.canonical(), back.canonical());
        assertTrue(out.isCanonical() != back.isCanonical());
        assertTrue(back.isCanonical(), "10.0.0.1 < 192.168.1.9");
        assertTrue(back.canonical() == back, "a canonical key is its own canonical()");
        assertTrue(out.canonical().isCanonical());

        // Same address both ways (loopback): the port decides; equal endpoints are both canonical.
        FlowKey loop = FlowKey.of(IpProtocols.UDP, ip("127.0.0.1"), 5000, ip("127.0.0.1"), 4000);
        assertFalse(loop.isCanonical());
        assertEquals(loop.reversed(), loop.canonical());
        FlowKey self = FlowKey.of(IpProtocols.UDP, ip("127.0.0.1"), 5000, ip("127.0.0.1"), 5000);
        assertEquals(self, self.reversed());
        assertTrue(self.isCanonical());
        // Addresses compare unsigned: 200.x is above 10.x, and fe80:: above 2001::.
        assertTrue(FlowKey.of(17, ip("10.0.0.1"), 9, ip("200.0.0.1"), 1).isCanonical());
        assertTrue(FlowKey.of(17, ip("2001:db8::1"), 9, ip("fe80::1"), 1).isCanonical());
    }

    @Provide
    Arbitrary<FlowKey> keys() {
        // Small domains, so that equal keys come up often.
        Arbitrary<InetAddress> addresses = Arbitraries.of("10.0.0.1", "10.0.0.2", "200.0.0.1", "::1", "2001:db8::1",
                "fe80::1").map(s -> {
                    try {
                        return InetAddress.getByName(s);
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
        Arbitrary<Integer> ports = Arbitraries.of(0, 1, 53, 65535);
        return Combinators.combine(Arbitraries.of(IpProtocols.TCP, IpProtocols.UDP, 0, 255), addresses, ports,
                addresses, ports).filter((p, s, sp, d, dp) -> s.getClass() == d.getClass())
                .as(FlowKey::of);
    }

    @Property(tries = 2000, seed = PropertySeeds.SEED)
    void equalsHashCodeAndCompareToAgree(@ForAll("keys") FlowKey a, @ForAll("keys") FlowKey b) {
        boolean sameFields = a.ipVersion() == b.ipVersion() && a.protocol() == b.protocol()
                && a.sourceAddress().equals(b.sourceAddress()) && a.sourcePort() == b.sourcePort()
                && a.destinationAddress().equals(b.destinationAddress()) && a.destinationPort() == b.destinationPort();
        assertEquals(sameFields, a.equals(b));
        assertEquals(a.equals(b), b.equals(a));
        assertEquals(sameFields, a.compareTo(b) == 0);
        assertEquals(Integer.signum(a.compareTo(b)), -Integer.signum(b.compareTo(a)));
        if (sameFields) {
            assertEquals(a.hashCode(), b.hashCode());
        }
        assertEquals(a, a.reversed().reversed());
        assertEquals(a.canonical(), a.reversed().canonical());
        assertTrue(a.isCanonical() || a.reversed().isCanonical());
        assertEquals(a, FlowKey.of(a.protocol(), a.sourceAddress(), a.sourcePort(), a.destinationAddress(),
                a.destinationPort()));
    }

    @Test
    void hashesSpreadOverHashMapBuckets() throws Exception {
        // What HashMap does with a hash: spread the high bits down, keep the low ones.
        int buckets = 1024;
        int[] byPort = new int[buckets];
        int[] byAddress = new int[buckets];
        Set<Integer> distinct = new HashSet<>();
        InetAddress server = ip("10.0.0.1");
        for (int i = 0; i < 65536; i++) {
            int h = FlowKey.of(IpProtocols.TCP, ip("192.168.0.1"), i, server, 443).hashCode();
            byPort[(h ^ h >>> 16) & buckets - 1]++;
            distinct.add(h);
            byte[] client = {10, 1, (byte) (i >> 8), (byte) i};
            int g = FlowKey.of(IpProtocols.TCP, InetAddress.getByAddress(client), 40000, server, 443).hashCode();
            byAddress[(g ^ g >>> 16) & buckets - 1]++;
        }
        // 64 keys a bucket on average; a binomial spread stays far below 128 (8 standard deviations).
        assertTrue(Arrays.stream(byPort).max().getAsInt() < 128, "ports crowd a bucket");
        assertTrue(Arrays.stream(byAddress).max().getAsInt() < 128, "addresses crowd a bucket");
        assertTrue(distinct.size() > 65_500, distinct.size() + " distinct hashes of 65 536 keys");
    }

    // Against the parser.

    @Provide
    Arbitrary<byte[]> valid() {
        return PacketArbitraries.validPackets();
    }

    @Property(tries = 1000, seed = PropertySeeds.SEED)
    void aKeyHoldsWhatTheParserReads(@ForAll("valid") byte[] packet) {
        PacketParser p = PacketParser.of(packet);
        FlowKey k = FlowKey.of(p);
        assertEquals(p.ipVersion(), k.ipVersion());
        assertEquals(p.protocol(), k.protocol());
        byte[] address = new byte[16];
        int n = p.copySourceAddress(address, 0);
        assertArrayEquals(Arrays.copyOf(address, n), k.sourceAddress().getAddress());
        n = p.copyDestinationAddress(address, 0);
        assertArrayEquals(Arrays.copyOf(address, n), k.destinationAddress().getAddress());
        if (p.isTcp() || p.isUdp()) {
            assertEquals(p.sourcePort(), k.sourcePort());
            assertEquals(p.destinationPort(), k.destinationPort());
        } else {
            IcmpMessage icmp = p.isIcmp() ? p.icmp() : p.icmpv6();
            boolean echo = p.isIcmp() ? icmp.type() == IcmpView.ECHO_REQUEST || icmp.type() == IcmpView.ECHO_REPLY
                    : icmp.type() == Icmpv6View.ECHO_REQUEST || icmp.type() == Icmpv6View.ECHO_REPLY;
            assertEquals(echo ? icmp.identifier() : 0, k.sourcePort());
            assertEquals(echo ? icmp.identifier() : 0, k.destinationPort());
        }
        assertEquals(k, key(packet));
        assertEquals(k.hashCode(), key(packet).hashCode());
        assertEquals(k, FlowKey.of(k.protocol(), k.sourceAddress(), k.sourcePort(), k.destinationAddress(),
                k.destinationPort()));
    }

    /** A truncated copy gives the whole packet's key, or none: never another one. */
    @Property(tries = 300, seed = PropertySeeds.SEED)
    void aCopyCutAnywhereGivesTheSameKeyOrNone(@ForAll("valid") byte[] packet) {
        FlowKey whole = key(packet);
        PacketParser p = PacketParser.of(packet);
        int needed = p.transportOffset() + (p.isTcp() || p.isUdp() ? 4 : 8);
        for (int length = 0; length <= packet.length; length++) {
            byte[] copy = Arrays.copyOf(packet, length);
            if (length < needed) {
                assertThrows(MalformedPacketException.class, () -> key(copy), "cut to " + length);
            } else {
                assertEquals(whole, key(copy), "cut to " + length);
            }
        }
    }

    @Provide
    Arbitrary<byte[]> noise() {
        return Arbitraries.oneOf(PacketArbitraries.noise(), PacketArbitraries.extensionChainSoup());
    }

    /** Whatever the bytes: a key or MalformedPacketException, and the parser's key whenever it parses them. */
    @Property(tries = 3000, seed = PropertySeeds.SEED)
    void anyBytesGiveAKeyOrAreMalformed(@ForAll("noise") byte[] bytes) {
        FlowKey k;
        try {
            k = key(bytes);
        } catch (MalformedPacketException e) {
            k = null;
        }
        PacketParser p = new PacketParser();
        try {
            p.parse(ByteBuffer.wrap(bytes));
        } catch (MalformedPacketException e) {
            return;
        }
        assertEquals(FlowKey.of(p), k);
    }

    // Fragments, truncated copies, bad input.

    private static byte[] ipv4Fragment(byte[] packet, int offsetBytes, boolean more) {
        byte[] f = packet.clone();
        TestPackets.put16(f, 6, (more ? 0x2000 : 0) | offsetBytes / 8);
        TestPackets.fixIpv4HeaderChecksum(f);
        return f;
    }

    @Test
    void allFragmentsOfADatagramShareAPortlessKey() {
        byte[] whole = TestPackets.udp4(new byte[40]);
        FlowKey unfragmented = key(whole);
        FlowKey first = key(ipv4Fragment(whole, 0, true));
        FlowKey later = key(ipv4Fragment(TestPackets.ipv4(IpProtocols.UDP, V4_A, V4_B, NONE, new byte[24]), 1480, true));
        FlowKey last = key(ipv4Fragment(TestPackets.ipv4(IpProtocols.UDP, V4_A, V4_B, NONE, new byte[3]), 2960, false));
        assertEquals(IpProtocols.UDP, later.protocol());
        assertEquals(0, first.sourcePort());
        assertEquals(0, first.destinationPort());
        assertEquals(first, later);
        assertEquals(first, last);
        assertNotEquals(unfragmented, first);
        assertEquals(FlowKey.of(PacketParser.of(ipv4Fragment(whole, 0, true))), first);
        assertEquals("udp 10.0.0.1:0 -> 192.168.1.200:0", first.toString());

        byte[] firstIcmp = ipv4Fragment(TestPackets.icmp4Echo(new byte[40]), 0, true);
        assertEquals(0, key(firstIcmp).sourcePort(), "a fragmented ping too");

        byte[] firstV6 = TestPackets.ipv6(IpProtocols.FRAGMENT, V6_A, V6_B, TestPackets.concat(
                TestPackets.fragmentHeader(IpProtocols.TCP, 0, true, 77), TestPackets.tcp(1, 2, 3, 4, 0x10, NONE, NONE)));
        byte[] laterV6 = TestPackets.ipv6(IpProtocols.FRAGMENT, V6_A, V6_B, TestPackets.concat(
                TestPackets.fragmentHeader(IpProtocols.TCP, 1232, false, 77), new byte[2]));
        FlowKey f6 = key(firstV6);
        assertEquals(IpProtocols.TCP, f6.protocol());
        assertEquals(0, f6.sourcePort());
        assertEquals(f6, key(laterV6));
        assertEquals(f6, FlowKey.of(PacketParser.of(laterV6)));
        assertNotEquals(key(TestPackets.ipv6(IpProtocols.TCP, V6_A, V6_B, TestPackets.tcp(1, 2, 3, 4, 0x10, NONE, NONE))),
                f6);
    }

    @Test
    void aCopyRangeThatCutsTcpOptionsStillGivesAKey() {
        // IPv6 SYN with 20 bytes of options: 80 bytes of headers. A 64-byte copy range keeps the ports.
        byte[] options = TestPackets.hex("020405a0 0402080a 00000001 00000000 01030307");
        byte[] syn = TestPackets.ipv6(IpProtocols.TCP, V6_A, V6_B, TestPackets.tcp(33000, 22, 1, 0, 0x02, options, NONE));
        byte[] copy = Arrays.copyOf(syn, 64);
        assertThrows(MalformedPacketException.class, () -> PacketParser.of(copy), "the parser wants the whole header");
        assertEquals(key(syn), key(copy));
        assertEquals(33000, key(copy).sourcePort());

        byte[] udp = TestPackets.udp4(new byte[100]);
        assertEquals(key(udp), key(Arrays.copyOf(udp, 24)));
        MalformedPacketException e = assertThrows(MalformedPacketException.class, () -> key(Arrays.copyOf(udp, 23)));
        assertEquals(20, e.offset());
        assertTrue(e.getMessage().contains("UDP ports cut off"), e.getMessage());
        byte[] ping = TestPackets.icmp4Echo(new byte[100]);
        assertEquals(key(ping), key(Arrays.copyOf(ping, 28)));
        assertThrows(MalformedPacketException.class, () -> key(Arrays.copyOf(ping, 27)));
    }

    @Test
    void badInput() {
        assertThrows(MalformedPacketException.class, () -> key(NONE));
        assertThrows(MalformedPacketException.class, () -> key(new byte[] {0x55, 0, 0, 0}), "version 5");
        assertThrows(MalformedPacketException.class, () -> key(Arrays.copyOf(TestPackets.udp6(NONE), 39)));
        byte[] shortIhl = TestPackets.udp4(NONE);
        shortIhl[0] = 0x44;
        assertThrows(MalformedPacketException.class, () -> key(shortIhl));
        byte[] loopingChain = TestPackets.ipv6(IpProtocols.DESTINATION_OPTIONS, V6_A, V6_B,
                TestPackets.extension(IpProtocols.HOP_BY_HOP, 8));
        assertThrows(MalformedPacketException.class, () -> key(loopingChain), "hop-by-hop not first");

        PacketParser empty = new PacketParser();
        assertThrows(IllegalStateException.class, () -> FlowKey.of(empty));
        assertThrows(MalformedPacketException.class, () -> empty.parse(ByteBuffer.wrap(shortIhl)));
        assertThrows(IllegalStateException.class, () -> FlowKey.of(empty), "after a failed parse");

        InetAddress v4 = InetAddress.getLoopbackAddress();
        assertThrows(IllegalArgumentException.class, () -> FlowKey.of(256, v4, 1, v4, 1));
        assertThrows(IllegalArgumentException.class, () -> FlowKey.of(-1, v4, 1, v4, 1));
        assertThrows(IllegalArgumentException.class, () -> FlowKey.of(6, v4, 65536, v4, 1));
        assertThrows(IllegalArgumentException.class, () -> FlowKey.of(6, v4, 1, v4, -1));
        assertThrows(IllegalArgumentException.class, () -> FlowKey.of(6, v4, 1, ip("::1"), 1));
    }

    // Queued packets.

    @Test
    void queuedPacketsGroupByFlow() {
        FakeTransport fake = new FakeTransport();
        List<Packet> packets = new ArrayList<>();
        try (BoundQueue queue = TransportBinding.open(QueueOptions.queue(3), fake)) {
            fake.offer(1, 3, TestPackets.udp4(new byte[1]));
            fake.offer(2, 3, TestPackets.tcp6(new byte[1]));
            fake.offer(3, 3, TestPackets.udp4(new byte[2]));
            queue.receive(packets::add, 3);
            assertEquals(3, packets.size());
            assertEquals(key(TestPackets.udp4(NONE)), FlowKey.of(packets.get(0)));
            // FlowKey::of picks the Packet overload where a Function<? super Packet, K> is wanted, as in groupBy.
            Map<FlowKey, List<Packet>> flows = packets.stream().collect(Collectors.groupingBy(FlowKey::of));
            assertEquals(2, flows.size());
            assertEquals(2, flows.get(key(TestPackets.udp4(NONE))).size());
            packets.forEach(Packet::accept);
        }
    }

    @Test
    void aMetadataOnlyPacketHasNoKey() {
        FakeTransport fake = new FakeTransport();
        List<Packet> packets = new ArrayList<>();
        try (BoundQueue queue = TransportBinding.open(QueueOptions.queue(3).copyMode(CopyMode.META), fake)) {
            fake.offer(FakePacket.of(1, 3));
            queue.receive(packets::add, 1);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> FlowKey.of(packets.get(0)));
            assertTrue(e.getMessage().contains("CopyMode.META"), e.getMessage());
            packets.get(0).accept();
        }
    }

    // Allocation.

    /**
     * Bytes this thread allocates per key, over 100 000 keys kept in an array so that escape
     * analysis cannot remove them: the key object itself (56 bytes with compressed class
     * pointers, 64 without), nothing else. Warmed up first, so class loading and the
     * ThreadLocal's first views are not counted; compiled or interpreted, nothing else may
     * allocate, so the count does not depend on what the JIT manages.
     */
    @Test
    void computingAKeyAllocatesOnlyTheKey() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled());
        PacketParser parser = PacketParser.of(TestPackets.tcp6(new byte[100]));
        ByteBuffer v4 = ByteBuffer.wrap(TestPackets.udp4(new byte[100]));
        FlowKey[] kept = new FlowKey[100_000];
        for (int round = 0; round < 3; round++) {
            fromParser(parser, kept);
            fromBuffer(v4, kept);
        }
        long tid = Thread.currentThread().getId();
        long before = threads.getThreadAllocatedBytes(tid);
        fromParser(parser, kept);
        long fromParser = threads.getThreadAllocatedBytes(tid) - before;
        before = threads.getThreadAllocatedBytes(tid);
        fromBuffer(v4, kept);
        long fromBuffer = threads.getThreadAllocatedBytes(tid) - before;
        assertEquals(key(TestPackets.udp4(NONE)), kept[kept.length - 1]);
        // The measuring calls allocate a little themselves: hence the division, not an exact sum.
        assertTrue(fromParser / kept.length <= 64, fromParser / (double) kept.length + " bytes per key from a parser");
        assertTrue(fromBuffer / kept.length <= 64, fromBuffer / (double) kept.length + " bytes per key from a buffer");
    }

    private static void fromParser(PacketParser parser, FlowKey[] kept) {
        for (int i = 0; i < kept.length; i++) {
            kept[i] = FlowKey.of(parser);
        }
    }

    private static void fromBuffer(ByteBuffer packet, FlowKey[] kept) {
        for (int i = 0; i < kept.length; i++) {
            kept[i] = FlowKey.of(packet);
        }
    }
}
