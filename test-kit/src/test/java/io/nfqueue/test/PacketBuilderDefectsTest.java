package io.nfqueue.test;

import io.nfqueue.packet.ChecksumStatus;
import io.nfqueue.packet.IpProtocols;
import io.nfqueue.packet.MalformedPacketException;
import io.nfqueue.packet.PacketParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The deliberately broken packets are broken as they say, and only so: the parser reports each defect. */
class PacketBuilderDefectsTest {
    private static final byte[] DATA = "some data".getBytes();

    /** One builder of each transport and version, with a payload. */
    static List<TransportPacketBuilder<?>> transports() {
        return List.of(Packets.udp().payload(DATA), Packets.udp().ipv6().payload(DATA),
                Packets.tcp().payload(DATA).mss(1400), Packets.tcp().ipv6().payload(DATA),
                Packets.icmp().payload(DATA), Packets.icmpv6().payload(DATA));
    }

    @ParameterizedTest
    @MethodSource("transports")
    void aBrokenTransportChecksumIsInvalidAndNothingElse(TransportPacketBuilder<?> builder) {
        byte[] right = builder.build();
        byte[] wrong = builder.brokenTransportChecksum().build();
        PacketParser p = PacketParser.of(wrong);
        assertEquals(ChecksumStatus.INVALID, p.transportChecksumStatus(), p.toString());
        assertEquals(p.isIpv4() ? ChecksumStatus.VALID : ChecksumStatus.ABSENT, p.ipChecksumStatus());
        int field = p.transportOffset() + (p.isTcp() ? 16 : p.isUdp() ? 6 : 2);
        for (int i = 0; i < right.length; i++) {
            if (i != field && i != field + 1) {
                assertEquals(right[i], wrong[i], "byte " + i + " is as in the right packet");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("transports")
    void aBrokenIpChecksumIsInvalidOverIpv4(TransportPacketBuilder<?> builder) {
        if (PacketParser.of(builder.build()).isIpv6()) {
            assertThrows(IllegalArgumentException.class, () -> builder.brokenIpChecksum().build(), "IPv6 has none");
            return;
        }
        PacketParser p = PacketParser.of(builder.brokenIpChecksum().build());
        assertEquals(ChecksumStatus.INVALID, p.ipChecksumStatus());
        assertEquals(ChecksumStatus.VALID, p.transportChecksumStatus());
    }

    @ParameterizedTest
    @MethodSource("transports")
    void aTruncatedCopyParsesAsOneAndCannotBeChecked(TransportPacketBuilder<?> builder) {
        byte[] whole = builder.build();
        byte[] cut = builder.buildTruncated(whole.length - 3);
        assertEquals(whole.length - 3, cut.length);
        PacketParser p = PacketParser.of(cut);
        assertTrue(p.isTruncated());
        assertEquals(ChecksumStatus.UNVERIFIABLE, p.transportChecksumStatus());
        assertEquals(DATA.length - 3, p.transportPayloadLength());
        assertThrows(MalformedPacketException.class, () -> PacketParser.of(builder.buildTruncated(p.transportOffset() + 7)),
                "no transport header is whole");
        assertThrows(MalformedPacketException.class, () -> PacketParser.of(builder.buildTruncated(0)));
        assertThrows(IllegalArgumentException.class, () -> builder.buildTruncated(whole.length));
    }

    @Test
    void udpWithoutAChecksumIsAbsentOverIpv4AndInvalidOverIpv6() {
        PacketParser v4 = PacketParser.of(Packets.udp().payload(DATA).noChecksum().build());
        assertEquals(0, v4.udp().checksum());
        assertEquals(ChecksumStatus.ABSENT, v4.transportChecksumStatus());
        PacketParser v6 = PacketParser.of(Packets.udp().ipv6().payload(DATA).noChecksum().build());
        assertEquals(ChecksumStatus.INVALID, v6.transportChecksumStatus());
    }

    @Test
    void anIpLengthAboveTheBytesReadsAsATruncatedCopy() {
        PacketParser v4 = PacketParser.of(Packets.udp().payload(DATA).brokenIpLength(1500).build());
        assertTrue(v4.isTruncated());
        assertEquals(1500, v4.ipv4().totalLength());
        assertEquals(ChecksumStatus.VALID, v4.ipChecksumStatus(), "the header checksum covers the broken length");
        assertEquals(ChecksumStatus.UNVERIFIABLE, v4.transportChecksumStatus());
        PacketParser v6 = PacketParser.of(Packets.tcp().ipv6().payload(DATA).brokenIpLength(1500).build());
        assertTrue(v6.isTruncated());
        assertEquals(1500, v6.ipv6().payloadLength());
    }

    @Test
    void anIpLengthBelowTheHeadersIsMalformed() {
        assertThrows(MalformedPacketException.class, () -> PacketParser.of(Packets.udp().brokenIpLength(19).build()));
        assertThrows(MalformedPacketException.class, () -> PacketParser.of(Packets.udp().brokenIpLength(27).build()),
                "the UDP header is cut off");
        assertThrows(MalformedPacketException.class, () -> PacketParser.of(Packets.tcp().ipv6().brokenIpLength(19).build()));
    }

    @Test
    void anIpLengthBelowThePacketLeavesTheRestAsPadding() {
        byte[] packet = Packets.ip(253).payload(DATA).brokenIpLength(24).build();
        PacketParser p = PacketParser.of(packet);
        assertEquals(24, p.end());
        assertEquals(4, p.transportPayloadLength());
        assertFalse(p.isTruncated());
    }

    @Test
    void aUdpLengthTheIpLengthDoesNotAllowIsMalformed() {
        assertThrows(MalformedPacketException.class, () -> PacketParser.of(Packets.udp().payload(DATA).brokenUdpLength(7)
                .build()));
        assertThrows(MalformedPacketException.class, () -> PacketParser.of(Packets.udp().ipv6().payload(DATA)
                .brokenUdpLength(8 + DATA.length + 1).build()));
        PacketParser shorter = PacketParser.of(Packets.udp().payload(DATA).brokenUdpLength(10).build());
        assertEquals(10, shorter.udp().length());
        assertEquals(2, shorter.transportPayloadLength());
        assertEquals(ChecksumStatus.VALID, shorter.transportChecksumStatus(), "over the datagram its length says");
    }

    @Test
    void aTcpDataOffsetBelowFiveOrPastTheBytesIsMalformed() {
        assertThrows(MalformedPacketException.class, () -> PacketParser.of(Packets.tcp().brokenDataOffset(4).build()));
        assertThrows(MalformedPacketException.class, () -> PacketParser.of(Packets.tcp().payload(new byte[39])
                .brokenDataOffset(15).build()));
        PacketParser moved = PacketParser.of(Packets.tcp().payload(DATA).brokenDataOffset(6).build());
        assertEquals(24, moved.tcp().headerLength());
        assertEquals(DATA.length - 4, moved.transportPayloadLength());
        assertEquals(ChecksumStatus.VALID, moved.transportChecksumStatus(), "the checksum covers the segment as built");
    }

    @Test
    void anIpv4FragmentCarriesOffsetAndMoreFragments() {
        UdpPacketBuilder datagram = Packets.udp().payload(new byte[100]).identification(77);
        PacketParser first = PacketParser.of(datagram.fragment(0, true).build());
        assertTrue(first.isFragment());
        assertTrue(first.ipv4().moreFragments());
        assertEquals(0, first.ipv4().fragmentOffset());
        assertEquals(77, first.ipv4().identification());
        assertTrue(first.isUdp(), "the first fragment has the transport header");
        assertEquals(ChecksumStatus.UNVERIFIABLE, first.transportChecksumStatus());
        assertEquals(ChecksumStatus.VALID, first.ipChecksumStatus());
        assertEquals(PacketParser.of(datagram.build()).udp().checksum(), first.udp().checksum(),
                "the checksum of the datagram as if this were all of it");
        PacketParser later = PacketParser.of(Packets.ip(IpProtocols.UDP).payload(DATA).fragment(1480, false).build());
        assertTrue(later.isFragment());
        assertFalse(later.ipv4().moreFragments());
        assertEquals(1480, later.ipv4().fragmentOffset());
        assertFalse(later.hasTransportHeader());
        assertEquals(-1, later.sourcePort());
    }

    @Test
    void anIpv6FragmentHasAFragmentHeaderLastInTheChain() {
        TcpPacketBuilder segment = Packets.tcp().ipv6().payload(DATA).identification(0xCAFEF00DL)
                .ipv6ExtensionHeader(IpProtocols.HOP_BY_HOP, new byte[6]);
        PacketParser p = PacketParser.of(segment.fragment(8, true).build());
        assertTrue(p.isFragment());
        assertEquals(2, p.ipv6().extensionHeaderCount());
        assertEquals(40 + 8, p.ipv6().fragmentHeaderOffset());
        assertEquals(8, p.ipv6().fragmentOffset());
        assertTrue(p.ipv6().moreFragments());
        assertEquals(0xCAFEF00DL, p.ipv6().fragmentIdentification());
        assertFalse(p.hasTransportHeader(), "a later fragment");
        PacketParser first = PacketParser.of(segment.fragment(0, true).build());
        assertTrue(first.isTcp());
        assertEquals(IpProtocols.TCP, first.protocol());
        assertEquals(ChecksumStatus.UNVERIFIABLE, first.transportChecksumStatus());
        assertEquals(PacketParser.of(segment.build()).tcp().checksum(), first.tcp().checksum());
    }

    @Test
    void brokenOptionBytesAreWrittenAsGiven() {
        PacketParser tcp = PacketParser.of(Packets.tcp().option(TcpOption.raw(new byte[] {2, 9, 5, (byte) 0xB4})).build());
        assertThrows(MalformedPacketException.class, tcp.tcp()::mss, "the MSS option's length runs past the header");
        PacketParser ip = PacketParser.of(Packets.udp().ipv4Options(new byte[] {7, 1}).build());
        assertThrows(MalformedPacketException.class, () -> ip.ipv4().findOption(0x44));
    }
}
