package io.nfqueue.test;

import io.nfqueue.packet.IpProtocols;
import io.nfqueue.packet.PacketParser;
import io.nfqueue.packet.TcpView;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random packet settings for the property tests, kept beside the builder they make so that
 * what the parser reads back can be checked against what was set.
 */
final class RandomPackets {
    private RandomPackets() {
    }

    /** A random packet: its IP settings, its transport's, and a payload made from a size and a seed. */
    record Case(IpSpec ip, TransportSpec transport, int payloadSize, long payloadSeed) {
        /** The payload, cut so the packet fits its length fields (65 535 bytes of IPv4 packet or IPv6 payload). */
        byte[] payload() {
            int room = ip.maxUpperLength() - transport.headerLength(ip.version());
            byte[] p = new byte[Math.min(payloadSize, room)];
            new Random(payloadSeed).nextBytes(p);
            return p;
        }

        IpPacketBuilder<?> builder() {
            return ip.apply(transport.builder()).payload(payload());
        }

        /** The transport checksum the parser should find: VALID, ABSENT (UDP/IPv4 without one), UNVERIFIABLE (raw). */
        boolean hasComputedChecksum() {
            return transport.hasComputedChecksum(ip.version());
        }

        @Override
        public String toString() {
            return ip + " " + transport + " payload " + payload().length;
        }
    }

    /** The IP settings: IPv4 ones, or IPv6 ones (then dontFragment and ipv4Options are unused). */
    record IpSpec(int version, byte[] source, byte[] destination, int ttl, int trafficClass, long identification,
                  boolean dontFragment, int ipv4OptionBytes, int flowLabel, List<Integer> extensionData) {

        IpPacketBuilder<?> apply(IpPacketBuilder<?> builder) {
            IpPacketBuilder<?> b = builder.from(source).to(destination).ttl(ttl).trafficClass(trafficClass);
            if (version == 4) {
                byte[] nops = new byte[ipv4OptionBytes];
                Arrays.fill(nops, (byte) 1);
                return b.identification(identification).dontFragment(dontFragment).ipv4Options(nops);
            }
            b = b.flowLabel(flowLabel);
            for (int i = 0; i < extensionData.size(); i++) {
                b = b.ipv6ExtensionHeader(i == 0 ? IpProtocols.HOP_BY_HOP : IpProtocols.DESTINATION_OPTIONS,
                        new byte[extensionData.get(i)]);
            }
            return b;
        }

        int headerLength() {
            if (version == 4) {
                return 20 + ((ipv4OptionBytes + 3) & ~3);
            }
            int h = 40;
            for (int d : extensionData) {
                h += (2 + d + 7) & ~7;
            }
            return h;
        }

        /** Room for the transport: what the length field leaves after the headers it counts. */
        int maxUpperLength() {
            return version == 4 ? 0xFFFF - headerLength() : 0xFFFF - (headerLength() - 40);
        }

        void check(PacketParser p, int protocol, int length) {
            assertEquals(version, p.ipVersion());
            byte[] s = new byte[source.length];
            byte[] d = new byte[destination.length];
            p.copySourceAddress(s, 0);
            p.copyDestinationAddress(d, 0);
            assertArrayEquals(source, s);
            assertArrayEquals(destination, d);
            assertEquals(protocol, p.protocol());
            assertEquals(headerLength(), p.transportOffset());
            assertFalse(p.isFragment());
            if (version == 4) {
                assertEquals(ttl, p.ipv4().ttl());
                assertEquals(trafficClass, p.ipv4().dscp() << 2 | p.ipv4().ecn());
                assertEquals(identification, p.ipv4().identification());
                assertEquals(dontFragment, p.ipv4().dontFragment());
                assertEquals(length, p.ipv4().totalLength());
            } else {
                assertEquals(ttl, p.ipv6().hopLimit());
                assertEquals(trafficClass, p.ipv6().trafficClass());
                assertEquals(flowLabel, p.ipv6().flowLabel());
                assertEquals(extensionData.size(), p.ipv6().extensionHeaderCount());
                assertEquals(length - 40, p.ipv6().payloadLength());
            }
        }

        @Override
        public String toString() {
            return "IPv" + version + " ttl " + ttl + " tc " + trafficClass + (version == 4 ? " id " + identification + " df "
                    + dontFragment + " options " + ipv4OptionBytes : " flow " + flowLabel + " ext " + extensionData);
        }
    }

    /** A transport's settings. */
    interface TransportSpec {
        IpPacketBuilder<?> builder();

        int protocol(int version);

        /** The transport header's length (the payload follows). */
        int headerLength(int version);

        boolean hasComputedChecksum(int version);

        void check(PacketParser p);
    }

    record UdpSpec(int sourcePort, int destinationPort, boolean noChecksum) implements TransportSpec {
        @Override
        public IpPacketBuilder<?> builder() {
            UdpPacketBuilder b = Packets.udp().sourcePort(sourcePort).destinationPort(destinationPort);
            return noChecksum ? b.noChecksum() : b;
        }

        @Override
        public int protocol(int version) {
            return IpProtocols.UDP;
        }

        @Override
        public int headerLength(int version) {
            return 8;
        }

        @Override
        public boolean hasComputedChecksum(int version) {
            return !noChecksum;
        }

        @Override
        public void check(PacketParser p) {
            assertEquals(sourcePort, p.udp().sourcePort());
            assertEquals(destinationPort, p.udp().destinationPort());
            assertEquals(p.end() - p.transportOffset(), p.udp().length());
            if (noChecksum) {
                assertEquals(0, p.udp().checksum());
            }
        }
    }

    record TcpSpec(int sourcePort, int destinationPort, long seq, long ack, int flags, int window, int urgentPointer,
                   List<TcpOption> options) implements TransportSpec {
        @Override
        public IpPacketBuilder<?> builder() {
            TcpPacketBuilder b = Packets.tcp().sourcePort(sourcePort).destinationPort(destinationPort).seq(seq)
                    .ackNumber(ack).flags(flags).window(window).urgentPointer(urgentPointer);
            for (TcpOption o : options) {
                b = b.option(o);
            }
            return b;
        }

        @Override
        public int protocol(int version) {
            return IpProtocols.TCP;
        }

        int optionBytes() {
            int n = 0;
            for (TcpOption o : options) {
                n += o.length();
            }
            return n;
        }

        @Override
        public int headerLength(int version) {
            return 20 + ((optionBytes() + 3) & ~3);
        }

        @Override
        public boolean hasComputedChecksum(int version) {
            return true;
        }

        @Override
        public void check(PacketParser p) {
            TcpView tcp = p.tcp();
            assertEquals(sourcePort, tcp.sourcePort());
            assertEquals(destinationPort, tcp.destinationPort());
            assertEquals(seq, tcp.sequenceNumber());
            assertEquals(ack, tcp.acknowledgmentNumber());
            assertEquals(flags, tcp.flags());
            assertEquals(window, tcp.window());
            assertEquals(urgentPointer, tcp.urgentPointer());
            assertEquals(headerLength(0), tcp.headerLength());
            ByteBuffer written = ByteBuffer.allocate(tcp.optionsLength());
            for (TcpOption o : options) {
                written.put(o.bytes());
            }
            byte[] present = new byte[tcp.optionsLength()];
            tcp.buffer().get(tcp.optionsOffset(), present);
            assertArrayEquals(written.array(), present, "the options in order, then END bytes");
            assertEquals(first(TcpView.OPTION_MSS, 2), tcp.mss());
            assertEquals(first(TcpView.OPTION_WINDOW_SCALE, 1), tcp.windowScale());
            assertEquals(first(TcpView.OPTION_SACK_PERMITTED, 0) >= 0, tcp.sackPermitted());
        }

        /** The value (of {@code size} bytes) of the first option of {@code kind}, -1 if none; 0 for a sizeless one. */
        private int first(int kind, int size) {
            for (TcpOption o : options) {
                byte[] b = o.bytes();
                if ((b[0] & 0xFF) == kind) {
                    return size == 2 ? (b[2] & 0xFF) << 8 | (b[3] & 0xFF) : size == 1 ? b[2] & 0xFF : 0;
                }
            }
            return -1;
        }
    }

    /** kind 0: echo request, 1: echo reply, 2: the type and code as numbers. */
    record IcmpSpec(int kind, int type, int code, int restOfHeader) implements TransportSpec {
        @Override
        public IpPacketBuilder<?> builder() {
            switch (kind) {
                case 0: return Packets.icmp().echoRequest(restOfHeader >>> 16, restOfHeader & 0xFFFF);
                case 1: return Packets.icmp().echoReply(restOfHeader >>> 16, restOfHeader & 0xFFFF);
                default: return Packets.icmp().type(type, code).restOfHeader(restOfHeader);
            }
        }

        @Override
        public int protocol(int version) {
            return version == 4 ? IpProtocols.ICMP : IpProtocols.ICMPV6;
        }

        @Override
        public int headerLength(int version) {
            return 8;
        }

        @Override
        public boolean hasComputedChecksum(int version) {
            return true;
        }

        @Override
        public void check(PacketParser p) {
            boolean v4 = p.isIpv4();
            int t = v4 ? p.icmp().type() : p.icmpv6().type();
            int expected = kind == 0 ? (v4 ? 8 : 128) : kind == 1 ? (v4 ? 0 : 129) : type;
            assertEquals(expected, t);
            assertEquals(kind == 2 ? code : 0, v4 ? p.icmp().code() : p.icmpv6().code());
            assertEquals(restOfHeader, v4 ? p.icmp().restOfHeader() : p.icmpv6().restOfHeader());
        }
    }

    /** A protocol the parser has no transport view of. */
    record RawSpec(int protocol) implements TransportSpec {
        @Override
        public IpPacketBuilder<?> builder() {
            return Packets.ip(protocol);
        }

        @Override
        public int protocol(int version) {
            return protocol;
        }

        @Override
        public int headerLength(int version) {
            return 0;
        }

        @Override
        public boolean hasComputedChecksum(int version) {
            return false;
        }

        @Override
        public void check(PacketParser p) {
            assertFalse(p.hasTransportHeader());
            assertTrue(p.sourcePort() < 0);
        }
    }

    static Arbitrary<Case> cases() {
        return Combinators.combine(ipSpecs(), transports(), payloadSizes(), Arbitraries.longs()).as(Case::new);
    }

    static Arbitrary<IpSpec> ipSpecs() {
        Arbitrary<Integer> ttl = Arbitraries.integers().between(0, 255);
        Arbitrary<Integer> tc = Arbitraries.integers().between(0, 255);
        Arbitrary<IpSpec> v4 = Combinators.combine(address(4), address(4), ttl, tc, Arbitraries.longs().between(0, 0xFFFF),
                Arbitraries.of(true, false), Arbitraries.integers().between(0, 40))
                .as((s, d, t, c, id, df, opts) -> new IpSpec(4, s, d, t, c, id, df, opts, 0, List.of()));
        Arbitrary<IpSpec> v6 = Combinators.combine(address(16), address(16), ttl, tc,
                Arbitraries.integers().between(0, 0xF_FFFF), Arbitraries.integers().between(0, 30).list().ofMaxSize(3))
                .as((s, d, t, c, flow, ext) -> new IpSpec(6, s, d, t, c, 0, false, 0, flow, ext));
        return Arbitraries.oneOf(v4, v6);
    }

    static Arbitrary<byte[]> address(int length) {
        return Arbitraries.bytes().array(byte[].class).ofSize(length);
    }

    static Arbitrary<Integer> ports() {
        return Arbitraries.integers().between(0, 0xFFFF);
    }

    /** Mostly small, often up to the most the length fields allow (the case cuts them to fit). */
    static Arbitrary<Integer> payloadSizes() {
        return Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.integers().between(0, 300)),
                Tuple.of(1, Arbitraries.integers().between(0, 0xFFFF)),
                Tuple.of(1, Arbitraries.just(0xFFFF)));
    }

    static Arbitrary<TransportSpec> transports() {
        Arbitrary<Long> u32 = Arbitraries.longs().between(0, 0xFFFF_FFFFL);
        Arbitrary<TransportSpec> udp = Combinators.combine(ports(), ports(), Arbitraries.integers().between(0, 9))
                .as((s, d, none) -> new UdpSpec(s, d, none == 0));
        Arbitrary<TransportSpec> tcp = Combinators.combine(ports(), ports(), u32, u32, Arbitraries.integers().between(0, 0x1FF),
                ports(), ports(), tcpOptions()).as(TcpSpec::new);
        Arbitrary<TransportSpec> icmp = Combinators.combine(Arbitraries.integers().between(0, 2),
                Arbitraries.integers().between(0, 255), Arbitraries.integers().between(0, 255), Arbitraries.integers())
                .as(IcmpSpec::new);
        // Not TCP, UDP, ICMP, ICMPv6 (they have builders) nor what IPv6 walks as extension headers.
        Arbitrary<TransportSpec> raw = Arbitraries.integers().between(0, 255)
                .filter(p -> !List.of(0, 1, 6, 17, 43, 44, 51, 58, 60).contains(p)).map(RawSpec::new);
        return Arbitraries.frequencyOf(Tuple.of(3, udp), Tuple.of(4, tcp),
                Tuple.of(2, icmp), Tuple.of(1, raw));
    }

    /** Up to 40 bytes of options, in any order, the well-known ones and NOPs. */
    static Arbitrary<List<TcpOption>> tcpOptions() {
        Arbitrary<Long> u32 = Arbitraries.longs().between(0, 0xFFFF_FFFFL);
        Arbitrary<TcpOption> one = Arbitraries.oneOf(
                Arbitraries.integers().between(0, 0xFFFF).map(TcpOption::mss),
                Arbitraries.integers().between(0, 255).map(TcpOption::windowScale),
                Arbitraries.just(TcpOption.sackPermitted()),
                Arbitraries.just(TcpOption.nop()),
                Combinators.combine(u32, u32).as(TcpOption::timestamps),
                u32.list().ofMinSize(1).ofMaxSize(4).map(l -> {
                    long[] edges = new long[l.size() * 2];
                    for (int i = 0; i < l.size(); i++) {
                        edges[2 * i] = l.get(i);
                        edges[2 * i + 1] = l.get(i) ^ 0xFFFF;
                    }
                    return TcpOption.sack(edges);
                }));
        return one.list().ofMaxSize(10).map(list -> {
            List<TcpOption> fit = new ArrayList<>();
            int used = 0;
            for (TcpOption o : list) {
                if (used + o.length() <= 40) {
                    fit.add(o);
                    used += o.length();
                }
            }
            return fit;
        });
    }
}
