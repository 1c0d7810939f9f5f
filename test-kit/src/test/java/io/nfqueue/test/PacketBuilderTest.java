package io.nfqueue.test;

import io.nfqueue.packet.ChecksumStatus;
import io.nfqueue.packet.Checksums;
import io.nfqueue.packet.IcmpView;
import io.nfqueue.packet.Icmpv6View;
import io.nfqueue.packet.IpProtocols;
import io.nfqueue.packet.Ipv4View;
import io.nfqueue.packet.Ipv6View;
import io.nfqueue.packet.PacketParser;
import io.nfqueue.packet.TcpView;
import io.nfqueue.packet.UdpView;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each builder, field by field, read back by the project's parser. */
class PacketBuilderTest {
    private static final byte[] HELLO = "hello".getBytes(StandardCharsets.US_ASCII);

    /** Parses and checks what every right packet has: both checksums, lengths that add up. */
    static PacketParser parseValid(byte[] packet) {
        PacketParser p = parseWhole(packet);
        if (p.hasTransportHeader()) {
            assertEquals(ChecksumStatus.VALID, p.transportChecksumStatus(), p.toString());
        }
        return p;
    }

    /** Parses and checks the IP layer of a whole packet: lengths that add up, the IPv4 header checksum. */
    static PacketParser parseWhole(byte[] packet) {
        PacketParser p = PacketParser.of(packet);
        assertFalse(p.isTruncated(), p.toString());
        assertEquals(packet.length, p.end(), "no byte past the IP length");
        if (p.isIpv4()) {
            assertEquals(packet.length, p.ipv4().totalLength());
            assertEquals(ChecksumStatus.VALID, p.ipChecksumStatus());
            assertEquals(0xFFFF, Checksums.sum(packet, 0, p.ipv4().headerLength()), "header sums to -0");
        } else {
            assertEquals(packet.length - Ipv6View.HEADER_LENGTH, p.ipv6().payloadLength());
            assertEquals(ChecksumStatus.ABSENT, p.ipChecksumStatus());
        }
        return p;
    }

    static byte[] payloadOf(PacketParser p) {
        byte[] b = new byte[p.transportPayloadLength()];
        p.transportPayload().get(b);
        return b;
    }

    @Test
    void udpOverIpv4CarriesEveryField() throws Exception {
        byte[] packet = Packets.udp().from("10.0.0.1", 5353).to("10.0.0.2", 53)
                .ttl(7).dscp(46).ecn(1).identification(0xBEEF).dontFragment().payload(HELLO).build();
        PacketParser p = parseValid(packet);
        Ipv4View ip = p.ipv4();
        assertEquals(InetAddress.getByName("10.0.0.1"), ip.source());
        assertEquals(InetAddress.getByName("10.0.0.2"), ip.destination());
        assertEquals(7, ip.ttl());
        assertEquals(46, ip.dscp());
        assertEquals(1, ip.ecn());
        assertEquals(0xBEEF, ip.identification());
        assertTrue(ip.dontFragment());
        assertFalse(ip.isFragment());
        assertEquals(IpProtocols.UDP, ip.protocol());
        assertEquals(20, ip.headerLength());
        UdpView udp = p.udp();
        assertEquals(5353, udp.sourcePort());
        assertEquals(53, udp.destinationPort());
        assertEquals(8 + HELLO.length, udp.length());
        assertArrayEquals(HELLO, payloadOf(p));
        assertEquals(20 + 8 + HELLO.length, packet.length);
    }

    @Test
    void udpOverIpv6CarriesEveryField() throws Exception {
        byte[] packet = Packets.udp().from("2001:db8::1", 1).to("2001:db8::ff", 65535)
                .hopLimit(255).trafficClass(0xB9).flowLabel(0xABCDE).payload(HELLO).build();
        PacketParser p = parseValid(packet);
        Ipv6View ip = p.ipv6();
        assertEquals(InetAddress.getByName("2001:db8::1"), ip.source());
        assertEquals(InetAddress.getByName("2001:db8::ff"), ip.destination());
        assertEquals(255, ip.hopLimit());
        assertEquals(0xB9, ip.trafficClass());
        assertEquals(0xABCDE, ip.flowLabel());
        assertEquals(IpProtocols.UDP, ip.nextHeader());
        assertEquals(0, ip.extensionHeaderCount());
        assertEquals(1, p.sourcePort());
        assertEquals(65535, p.destinationPort());
        assertArrayEquals(HELLO, payloadOf(p));
        assertEquals(40 + 8 + HELLO.length, packet.length);
    }

    @Test
    void defaultsAreDocumentationAddressesOverIpv4() throws Exception {
        PacketParser p = parseValid(Packets.udp().build());
        assertEquals(InetAddress.getByName("192.0.2.1"), p.sourceAddress());
        assertEquals(InetAddress.getByName("192.0.2.2"), p.destinationAddress());
        assertEquals(49152, p.sourcePort());
        assertEquals(9, p.destinationPort());
        assertEquals(64, p.ipv4().ttl());
        assertEquals(0, p.ipv4().identification());
        assertFalse(p.ipv4().dontFragment());
        PacketParser v6 = parseValid(Packets.udp().ipv6().build());
        assertEquals(InetAddress.getByName("2001:db8::1"), v6.sourceAddress());
        assertEquals(InetAddress.getByName("2001:db8::2"), v6.destinationAddress());
        PacketParser oneSet = parseValid(Packets.udp().to("2001:db8::77", 53).build());
        assertEquals(InetAddress.getByName("2001:db8::1"), oneSet.sourceAddress(), "the other address follows");
    }

    @Test
    void addressesComeAsTextInetAddressOrBytes() throws Exception {
        byte[] a = Packets.udp().from("::ffff:10.1.2.3").to("::ffff:10.1.2.4").build();
        PacketParser p = parseValid(a);
        byte[] dst = new byte[16];
        p.copyDestinationAddress(dst, 0);
        assertEquals("00000000000000000000ffff0a010204", HexFormat.of().formatHex(dst), "a mapped address stays IPv6");
        byte[] fromObjects = Packets.udp().from(InetAddress.getByName("10.1.2.3")).to(new byte[] {10, 1, 2, 4}).build();
        assertArrayEquals(Packets.udp().from("10.1.2.3").to("10.1.2.4").build(), fromObjects);
    }

    @Test
    void settingsTheVersionLacksOrMixedFamiliesThrow() {
        assertThrows(IllegalArgumentException.class, () -> Packets.udp().from("10.0.0.1").to("2001:db8::1").build());
        assertThrows(IllegalArgumentException.class, () -> Packets.udp().ipv6().from("10.0.0.1").build());
        assertThrows(IllegalArgumentException.class, () -> Packets.udp().flowLabel(1).build());
        assertThrows(IllegalArgumentException.class, () -> Packets.udp().ipv6().dontFragment().build());
        assertThrows(IllegalArgumentException.class, () -> Packets.udp().ipv6().ipv4Options(new byte[] {1}).build());
        assertThrows(IllegalArgumentException.class, () -> Packets.udp().identification(0x10000).build());
        assertThrows(IllegalArgumentException.class,
                () -> Packets.udp().ipv6ExtensionHeader(IpProtocols.DESTINATION_OPTIONS, new byte[6]).build());
    }

    @Test
    void badArgumentsThrowAtOnce() {
        assertThrows(IllegalArgumentException.class, () -> Packets.udp().from("localhost"), "a name is not looked up");
        assertThrows(IllegalArgumentException.class, () -> Packets.udp().from("10.0.0.256"));
        assertThrows(IllegalArgumentException.class, () -> Packets.udp().from("2001:db8::g"));
        assertThrows(IllegalArgumentException.class, () -> Packets.udp().from(new byte[5]));
        assertThrows(IllegalArgumentException.class, () -> Packets.udp().sourcePort(65536));
        assertThrows(IllegalArgumentException.class, () -> Packets.udp().ttl(256));
        assertThrows(IllegalArgumentException.class, () -> Packets.udp().dscp(64));
        assertThrows(IllegalArgumentException.class, () -> Packets.udp().flowLabel(0x100000));
        assertThrows(IllegalArgumentException.class, () -> Packets.udp().fragment(12, true));
        assertThrows(IllegalArgumentException.class, () -> Packets.tcp().seq(1L << 32));
        assertThrows(IllegalArgumentException.class, () -> Packets.tcp().flags(0x200));
        assertThrows(IllegalArgumentException.class, () -> Packets.ip(256));
        assertThrows(IllegalArgumentException.class, () -> Packets.udp().ipv4Options(new byte[41]));
        assertThrows(IllegalArgumentException.class, () -> Packets.udp().ipv6ExtensionHeader(IpProtocols.FRAGMENT, new byte[6]));
    }

    @Test
    void buildersAreImmutableTemplates() {
        UdpPacketBuilder base = Packets.udp().from("10.0.0.1", 1000).to("10.0.0.2", 2000);
        byte[] before = base.build();
        byte[] one = base.ttl(1).payload(HELLO).build();
        byte[] two = base.ttl(2).build();
        assertArrayEquals(before, base.build(), "the template did not change");
        assertEquals(1, PacketParser.of(one).ipv4().ttl());
        assertEquals(0, PacketParser.of(two).transportPayloadLength());
        assertEquals(2, PacketParser.of(two).ipv4().ttl());
        byte[] payload = HELLO.clone();
        UdpPacketBuilder withPayload = base.payload(payload);
        payload[0] = 'j';
        assertArrayEquals(HELLO, payloadOf(PacketParser.of(withPayload.build())), "the payload was copied");
    }

    @Test
    void dscpAndEcnKeepEachOther() {
        PacketParser p = PacketParser.of(Packets.udp().ecn(3).dscp(10).build());
        assertEquals(10, p.ipv4().dscp());
        assertEquals(3, p.ipv4().ecn());
        PacketParser q = PacketParser.of(Packets.udp().ipv6().tos(0xFF).dscp(0).build());
        assertEquals(3, q.ipv6().trafficClass());
    }

    @Test
    void tcpCarriesFlagsNumbersAndOptions() {
        byte[] packet = Packets.tcp().from("10.0.0.1", 40000).to("10.0.0.2", 443)
                .syn().ack(0xFFFF_FFFFL).fin().rst().psh().urg().ece().cwr()
                .seq(0xDEAD_BEEFL).window(1234).urgentPointer(77)
                .mss(1460).sackPermitted().timestamps(0x01020304L, 0xF0F0F0F0L).nop().windowScale(7)
                .payload(HELLO).build();
        PacketParser p = parseValid(packet);
        TcpView tcp = p.tcp();
        assertEquals(40000, tcp.sourcePort());
        assertEquals(443, tcp.destinationPort());
        assertEquals(0xFF, tcp.flags());
        assertTrue(tcp.syn() && tcp.ack() && tcp.fin() && tcp.rst() && tcp.psh() && tcp.urg() && tcp.ece() && tcp.cwr());
        assertEquals(0xDEAD_BEEFL, tcp.sequenceNumber());
        assertEquals(0xFFFF_FFFFL, tcp.acknowledgmentNumber());
        assertEquals(1234, tcp.window());
        assertEquals(77, tcp.urgentPointer());
        assertEquals(1460, tcp.mss());
        assertEquals(7, tcp.windowScale());
        assertTrue(tcp.sackPermitted());
        int ts = tcp.findOption(TcpView.OPTION_TIMESTAMPS);
        assertEquals(10, tcp.buffer().get(ts + 1));
        assertEquals(0x01020304, tcp.buffer().getInt(ts + 2));
        assertEquals(0xF0F0F0F0, tcp.buffer().getInt(ts + 6));
        assertEquals(20 + 20, tcp.headerLength(), "4 + 2 + 10 + 1 + 3 bytes of options: Linux's SYN");
        assertArrayEquals(HELLO, payloadOf(p));
    }

    @Test
    void tcpOptionsArePaddedWithEndBytesToAWord() {
        PacketParser p = parseValid(Packets.tcp().windowScale(2).payload(HELLO).build());
        TcpView tcp = p.tcp();
        assertEquals(24, tcp.headerLength());
        ByteBuffer b = tcp.buffer();
        int o = tcp.optionsOffset();
        assertArrayEquals(new byte[] {3, 3, 2, 0}, new byte[] {b.get(o), b.get(o + 1), b.get(o + 2), b.get(o + 3)});
        assertEquals(2, tcp.windowScale());
        assertArrayEquals(HELLO, payloadOf(p));
        assertEquals(60, PacketParser.of(Packets.tcp().option(TcpOption.of(99, new byte[38])).build()).tcp()
                .headerLength(), "40 bytes of options fit");
        assertThrows(IllegalArgumentException.class, () -> Packets.tcp().option(TcpOption.of(99, new byte[38])).nop().build());
    }

    @Test
    void theAeFlagAndSackBlocks() {
        PacketParser p = parseValid(Packets.tcp().ipv6().flags(TcpView.AE | TcpView.ACK)
                .option(TcpOption.nop()).option(TcpOption.nop()).option(TcpOption.sack(1, 2, 0xFFFF_FFF0L, 0xFFFF_FFFFL))
                .build());
        assertEquals(TcpView.AE | TcpView.ACK, p.tcp().flags());
        int sack = p.tcp().findOption(TcpView.OPTION_SACK);
        assertEquals(18, p.tcp().buffer().get(sack + 1));
        assertEquals(40, p.tcp().headerLength());
    }

    @Test
    void icmpEchoesOverBothVersions() {
        PacketParser v4 = parseValid(Packets.icmp().to("10.0.0.9").echoRequest(0x4242, 7).payload(HELLO).build());
        assertTrue(v4.isIcmp());
        assertEquals(IcmpView.ECHO_REQUEST, v4.icmp().type());
        assertEquals(0, v4.icmp().code());
        assertEquals(0x4242, v4.icmp().identifier());
        assertEquals(7, v4.icmp().sequenceNumber());
        assertArrayEquals(HELLO, payloadOf(v4));
        PacketParser v6 = parseValid(Packets.icmp().to("2001:db8::9").echoReply(1, 65535).build());
        assertTrue(v6.isIcmpv6());
        assertEquals(IpProtocols.ICMPV6, v6.protocol());
        assertEquals(Icmpv6View.ECHO_REPLY, v6.icmpv6().type());
        assertEquals(65535, v6.icmpv6().sequenceNumber());
        assertEquals(Icmpv6View.ECHO_REQUEST, parseValid(Packets.icmpv6().build()).icmpv6().type(), "the default");
        assertEquals(IcmpView.ECHO_REPLY, parseValid(Packets.icmp().echoReply(0, 0).build()).icmp().type());
    }

    @Test
    void icmpErrorsQuoteThePacket() {
        byte[] datagram = Packets.udp().from("10.0.0.1", 40000).to("10.0.0.2", 9).payload(HELLO).build();
        PacketParser v4 = parseValid(Packets.icmp().from("10.0.0.2").to("10.0.0.1").portUnreachable(datagram).build());
        assertEquals(IcmpView.DESTINATION_UNREACHABLE, v4.icmp().type());
        assertEquals(3, v4.icmp().code());
        assertEquals(0, v4.icmp().restOfHeader());
        assertArrayEquals(datagram, payloadOf(v4));
        byte[] datagram6 = Packets.udp().from("2001:db8::1", 40000).to("2001:db8::2", 9).build();
        PacketParser v6 = parseValid(Packets.icmpv6().portUnreachable(datagram6).build());
        assertEquals(Icmpv6View.DESTINATION_UNREACHABLE, v6.icmpv6().type());
        assertEquals(4, v6.icmpv6().code());
        assertArrayEquals(datagram6, payloadOf(v6));
        PacketParser hostUnreachable = parseValid(Packets.icmp().destinationUnreachable(1, datagram).build());
        assertEquals(1, hostUnreachable.icmp().code());
        PacketParser expired = parseValid(Packets.icmpv6().timeExceeded(0, datagram6).build());
        assertEquals(Icmpv6View.TIME_EXCEEDED, expired.icmpv6().type());
        assertEquals(IcmpView.TIME_EXCEEDED, parseValid(Packets.icmp().timeExceeded(1, datagram).build()).icmp().type());
    }

    @Test
    void icmpOfAnyTypeAndRestOfHeader() {
        PacketParser p = parseValid(Packets.icmpv6().type(Icmpv6View.PACKET_TOO_BIG, 0).restOfHeader(1280)
                .payload(new byte[48]).build());
        assertEquals(Icmpv6View.PACKET_TOO_BIG, p.icmpv6().type());
        assertEquals(1280, p.icmpv6().restOfHeader());
        PacketParser q = parseValid(Packets.icmp().type(IcmpView.REDIRECT, 1).restOfHeader(0x0A000001).build());
        assertEquals(IcmpView.REDIRECT, q.icmp().type());
        assertEquals(1, q.icmp().code());
        assertEquals(0x0A000001, q.icmp().restOfHeader());
    }

    @Test
    void rawIpCarriesAnyProtocolAndItsBytes() {
        byte[] gre = {0, 0, 0x08, 0x00, 1, 2, 3};
        byte[] packet = Packets.ip(47).from("10.0.0.1").to("10.0.0.2").payload(gre).build();
        PacketParser p = parseValid(packet);
        assertEquals(47, p.protocol());
        assertFalse(p.hasTransportHeader());
        assertArrayEquals(gre, payloadOf(p));
        assertEquals(ChecksumStatus.UNVERIFIABLE, p.transportChecksumStatus());
        PacketParser none = parseValid(Packets.ip(IpProtocols.NO_NEXT_HEADER).ipv6().build());
        assertEquals(IpProtocols.NO_NEXT_HEADER, none.protocol());
        assertEquals(40, none.end());
        byte[] handMade = Packets.udp().payload(HELLO).build();
        byte[] udpHeaderAndData = Arrays.copyOfRange(handMade, 20, handMade.length);
        assertArrayEquals(handMade, Packets.ip(IpProtocols.UDP).payload(udpHeaderAndData).build(),
                "a raw packet is written as given, checksum included");
    }

    @Test
    void ipv4OptionsArePaddedAndCovered() {
        byte[] routerAlert = {(byte) 0x94, 4, 0, 0};
        PacketParser p = parseValid(Packets.udp().ipv4Options(new byte[] {1, (byte) 0x94, 4, 0, 0}).payload(HELLO).build());
        assertEquals(28, p.ipv4().headerLength());
        assertEquals(21, p.ipv4().findOption(0x94));
        assertArrayEquals(HELLO, payloadOf(p));
        assertEquals(24, PacketParser.of(Packets.tcp().ipv4Options(routerAlert).build()).ipv4().headerLength());
    }

    @Test
    void ipv6ExtensionHeadersComeInTheOrderAdded() {
        byte[] packet = Packets.tcp().ipv6().payload(HELLO)
                .ipv6ExtensionHeader(IpProtocols.HOP_BY_HOP, new byte[4])
                .ipv6ExtensionHeader(IpProtocols.DESTINATION_OPTIONS, new byte[13])
                .build();
        PacketParser p = parseValid(packet);
        Ipv6View ip = p.ipv6();
        assertEquals(IpProtocols.HOP_BY_HOP, ip.nextHeader());
        assertEquals(2, ip.extensionHeaderCount());
        assertEquals(IpProtocols.TCP, ip.upperLayerProtocol());
        assertEquals(40 + 8 + 16, ip.upperLayerOffset(), "6 and 15 bytes padded to 8 and 16");
        assertArrayEquals(HELLO, payloadOf(p));
    }

    @Test
    void aRoutingHeaderWithSegmentsLeftIsCheckedAgainstTheFinalDestination() throws Exception {
        // Type 2 (mobile IPv6): reserved word, then the home address, which is the final destination.
        ByteBuffer data = ByteBuffer.allocate(22);
        data.put((byte) 2).put((byte) 1).putInt(0).put(InetAddress.getByName("2001:db8::99").getAddress());
        byte[] packet = Packets.udp().to("2001:db8::2").ipv6ExtensionHeader(IpProtocols.ROUTING, data.array())
                .payload(HELLO).build();
        PacketParser p = parseValid(packet);
        assertEquals(InetAddress.getByName("2001:db8::2"), p.destinationAddress());
        byte[] sameAtTheEnd = Packets.udp().to("2001:db8::99").payload(HELLO).build();
        assertEquals(PacketParser.of(sameAtTheEnd).udp().checksum(), p.udp().checksum(),
                "the checksum is the one the final destination verifies");
    }

    @Test
    void aUdpChecksumComputedAsZeroIsSentAsAllOnes() {
        for (UdpPacketBuilder udp : List.of(Packets.udp(), Packets.udp().ipv6())) {
            // A payload word equal to the checksum of the packet with a zero word brings the sum to -0.
            int c = PacketParser.of(udp.payload(new byte[2]).build()).udp().checksum();
            byte[] packet = udp.payload(new byte[] {(byte) (c >>> 8), (byte) c}).build();
            PacketParser p = parseValid(packet);
            assertEquals(0xFFFF, p.udp().checksum(), "RFC 768: 0 would mean no checksum");
            byte[] tcp = Packets.tcp().ipVersion(p.ipVersion()).payload(new byte[2]).build();
            int t = PacketParser.of(tcp).tcp().checksum();
            PacketParser zero = parseValid(Packets.tcp().ipVersion(p.ipVersion()).payload(new byte[] {(byte) (t >>> 8), (byte) t})
                    .build());
            assertEquals(0, zero.tcp().checksum(), "TCP keeps a computed 0");
        }
    }

    @Test
    void anAllZeroEchoReplyHasChecksumAllOnes() {
        PacketParser p = parseValid(Packets.icmp().echoReply(0, 0).payload(new byte[8]).build());
        assertEquals(0xFFFF, p.icmp().checksum(), "the one message summing to +0: only -0 verifies");
    }

    @Test
    void theLargestPacketsEachVersionAllows() {
        byte[] v4 = Packets.udp().payload(new byte[65535 - 28]).build();
        assertEquals(65535, parseValid(v4).ipv4().totalLength());
        assertThrows(IllegalArgumentException.class, () -> Packets.udp().payload(new byte[65535 - 27]).build());
        byte[] v6 = Packets.udp().ipv6().payload(new byte[65535 - 8]).build();
        assertEquals(65535, parseValid(v6).ipv6().payloadLength());
        assertEquals(65535, PacketParser.of(v6).udp().length());
        assertThrows(IllegalArgumentException.class, () -> Packets.udp().ipv6().payload(new byte[65535 - 7]).build());
        assertNotEquals(0, PacketParser.of(v6).udp().checksum());
    }
}
