package io.nfqueue.test;

/**
 * Packets for tests, as NFQUEUE delivers them: from the IP header on, with every length and
 * checksum right unless a {@code broken...} method says otherwise. Each method returns an
 * immutable builder (see {@link IpPacketBuilder}).
 *
 * <pre>{@code
 * byte[] dns = Packets.udp().from("10.0.0.1", 5353).to("10.0.0.2", 53).payload(query).build();
 * byte[] syn = Packets.tcp().from("2001:db8::1", 40000).to("2001:db8::2", 443)
 *         .syn().seq(1000).mss(1440).sackPermitted().timestamps(1, 0).nop().windowScale(7)
 *         .build();
 * byte[] ping = Packets.icmp().to("10.0.0.2").echoRequest(1, 1).payload("abc").build();
 * byte[] gre = Packets.ip(47).to("10.0.0.2").payload(greBytes).build();
 *
 * // Deliberately broken, for error paths:
 * byte[] badSum = Packets.udp().brokenTransportChecksum().build();
 * byte[] cut = Packets.tcp().payload(new byte[1000]).buildTruncated(60);
 * byte[] firstFragment = Packets.udp().payload(new byte[100]).fragment(0, true).build();
 * }</pre>
 *
 * <p>The tests of this module check every field of such packets with
 * {@link io.nfqueue.packet.PacketParser} and their checksums with
 * {@link io.nfqueue.packet.Checksums}, and compare them with packets the Linux kernel built.
 */
public final class Packets {
    private Packets() {
    }

    /** A UDP datagram: 49152 to 9, empty, over IPv4 unless the addresses say IPv6. */
    public static UdpPacketBuilder udp() {
        return new UdpPacketBuilder();
    }

    /** A TCP segment: 49152 to 9, no flags, sequence 0, window 65535, empty. */
    public static TcpPacketBuilder tcp() {
        return new TcpPacketBuilder();
    }

    /** An ICMP message over IPv4, or an ICMPv6 message when the addresses are IPv6: by default an echo request. */
    public static IcmpPacketBuilder icmp() {
        return new IcmpPacketBuilder();
    }

    /** An ICMPv6 message: {@link #icmp()} set to IPv6. */
    public static IcmpPacketBuilder icmpv6() {
        return icmp().ipv6();
    }

    /** A packet of IP protocol (IPv6 next header) {@code protocol}, 0..255, with the payload as given. */
    public static RawIpPacketBuilder ip(int protocol) {
        return new RawIpPacketBuilder(protocol);
    }
}
