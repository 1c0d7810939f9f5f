package io.nfqueue.packet;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

import java.util.Arrays;
import java.util.List;

/** jqwik generators of valid packets (built by {@link TestPackets}) and of near-packets. */
final class PacketArbitraries {
    private PacketArbitraries() {
    }

    static Arbitrary<byte[]> payloads() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(120);
    }

    static Arbitrary<byte[]> addresses(int length) {
        return Arbitraries.bytes().array(byte[].class).ofSize(length);
    }

    /** IPv4 options: NOPs, a router alert, an END, padded to a multiple of 4 (0..40 bytes). */
    static Arbitrary<byte[]> ipv4Options() {
        return Arbitraries.integers().between(0, 10).map(words -> {
            byte[] o = new byte[words * 4];
            for (int i = 0; i < o.length; i++) {
                o[i] = 1;
            }
            if (words >= 2) {
                o[0] = (byte) 0x94;
                o[1] = 4;
                o[2] = 0;
                o[3] = 0;
                o[o.length - 1] = 0;
            }
            return o;
        });
    }

    static Arbitrary<byte[]> transport(int protocol, boolean v6) {
        Arbitrary<Integer> port = Arbitraries.integers().between(0, 65535);
        switch (protocol) {
            case IpProtocols.TCP:
                return Combinators.combine(port, port, Arbitraries.longs().between(0, 0xFFFF_FFFFL),
                        Arbitraries.integers().between(0, 0x1FF), Arbitraries.integers().between(0, 10), payloads())
                        .as((s, d, seq, flags, optWords, data) -> {
                            byte[] options = new byte[optWords * 4];
                            Arrays.fill(options, (byte) 1);
                            return TestPackets.tcp(s, d, seq, seq ^ 0x5555, flags, options, data);
                        });
            case IpProtocols.UDP:
                return Combinators.combine(port, port, payloads()).as(TestPackets::udp);
            default:
                return Combinators.combine(Arbitraries.integers().between(0, 255), port, port, payloads())
                        .as((type, id, seq, data) -> TestPackets.icmpEcho(type, id, seq, data));
        }
    }

    /** A valid IPv4 packet: TCP, UDP or ICMP, with options, correct checksums. */
    static Arbitrary<byte[]> ipv4Packets() {
        return Arbitraries.of(IpProtocols.TCP, IpProtocols.UDP, IpProtocols.ICMP).flatMap(proto ->
                Combinators.combine(addresses(4), addresses(4), ipv4Options(), transport(proto, false))
                        .as((s, d, o, t) -> TestPackets.ipv4(proto, s, d, o, t)));
    }

    /** A valid IPv6 packet: TCP, UDP or ICMPv6, maybe after hop-by-hop and destination options. */
    static Arbitrary<byte[]> ipv6Packets() {
        return Arbitraries.of(IpProtocols.TCP, IpProtocols.UDP, IpProtocols.ICMPV6).flatMap(proto ->
                Combinators.combine(addresses(16), addresses(16), Arbitraries.integers().between(0, 3),
                        Arbitraries.integers().between(1, 4), transport(proto, true))
                        .as((s, d, extCount, extWords, t) -> {
                            byte[] chain = t;
                            int next = proto;
                            for (int i = 0; i < extCount; i++) {
                                int type = i == extCount - 1 ? IpProtocols.HOP_BY_HOP : IpProtocols.DESTINATION_OPTIONS;
                                chain = TestPackets.concat(TestPackets.extension(next, extWords * 8), chain);
                                next = type;
                            }
                            return TestPackets.ipv6(next, s, d, chain);
                        }));
    }

    static Arbitrary<byte[]> validPackets() {
        return Arbitraries.oneOf(ipv4Packets(), ipv6Packets());
    }

    /**
     * IPv6 headers followed by bytes where every eighth byte is likely an extension-header
     * type: chains that loop, run past the end, or put hop-by-hop in the middle.
     */
    static Arbitrary<byte[]> extensionChainSoup() {
        List<Integer> types = List.of(0, 43, 44, 51, 60, 60, 60, 6, 17, 58, 59);
        return Combinators.combine(Arbitraries.bytes().array(byte[].class).ofMinSize(0).ofMaxSize(300),
                Arbitraries.of(types), Arbitraries.integers().between(0, 400)).as((tail, first, plen) -> {
            byte[] p = new byte[40 + tail.length];
            p[0] = 0x60;
            TestPackets.put16(p, 4, plen);
            p[6] = (byte) (int) first;
            System.arraycopy(tail, 0, p, 40, tail.length);
            for (int i = 40; i < p.length; i += 8) {
                if ((p[i] & 3) != 0) {
                    p[i] = (byte) (int) types.get((p[i] & 0x7F) % types.size());
                }
                if (i + 1 < p.length && (p[i + 1] & 0xC0) != 0) {
                    p[i + 1] &= 0x03;   // mostly short headers, so chains get long
                }
            }
            return p;
        });
    }

    /** Random bytes whose first byte is usually a plausible IPv4 or IPv6 start. */
    static Arbitrary<byte[]> noise() {
        return Combinators.combine(Arbitraries.bytes().array(byte[].class).ofMaxSize(200),
                Arbitraries.of((byte) 0x45, (byte) 0x46, (byte) 0x4F, (byte) 0x44, (byte) 0x60, (byte) 0x6F, (byte) 0x00))
                .as((b, first) -> {
                    if (b.length > 0 && (b[b.length - 1] & 1) == 0) {
                        b[0] = first;
                    }
                    return b;
                });
    }
}
