package io.nfqueue.packet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static io.nfqueue.packet.TestPackets.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Packets built and checksummed by the Linux kernel (6.18), captured from a queue with GSO off
 * by {@link PacketRewriteKernelTest#kernelBuiltPacketsVerify()}: an independent source of
 * right checksums, kept here so they are checked without root.
 */
class KernelCapturedVectorsTest {
    static final String UDP4 = "4500002753a340004011e9207f0000017f000001d7c024b80013031b766563746f722075647034";
    static final String UDP6 = "6004424c001311400000000000000000000000000000000100000000000000000000000000000001"
            + "d15324b800130589766563746f722075647036";
    /** The kernel's port unreachable for UDP4, quoting it. */
    static final String ICMP4 = "45c0004315440000400166b47f0000017f0000010303fb2300000000" + UDP4;
    /** The kernel's ICMPv6 port unreachable for UDP6, quoting it. */
    static final String ICMP6 = "6007966400433a400000000000000000000000000000000100000000000000000000000000000001"
            + "01044afd00000000" + UDP6;
    /** A data segment with the timestamps option. */
    static final String TCP6_DATA = "600f3be6002b06400000000000000000000000000000000100000000000000000000000000000001"
            + "bd6c251c4266609e2af7a0d580180040750c00000101080a38d9ec4251303685766563746f722074637036";
    static final String TCP6_ACK = "6008eb33002006400000000000000000000000000000000100000000000000000000000000000001"
            + "251cbd6c2af7a0d5426660a980100040738700000101080a51303b4338d9ec42";

    @ParameterizedTest
    @ValueSource(strings = {UDP4, UDP6, ICMP4, ICMP6, TCP6_DATA, TCP6_ACK})
    void checksumsVerifyAndRecomputeToTheKernelsValue(String vector) {
        byte[] p = hex(vector);
        PacketParser parsed = PacketParser.of(p);
        if (parsed.isIpv4()) {
            assertEquals(ChecksumStatus.VALID, parsed.ipChecksumStatus());
            assertEquals(parsed.ipv4().headerChecksum(), parsed.ipv4().computeHeaderChecksum());
        }
        assertEquals(ChecksumStatus.VALID, parsed.transportChecksumStatus(), parsed.toString());
        int field = parsed.checksumFieldOffset();
        assertEquals(TestPackets.get16(p, field), parsed.computeTransportChecksum());
        assertTrue(TestPackets.transportChecksumOk(p), "the test's reference implementation agrees");
        assertArrayEquals(p, PacketEditor.of(p).build(), "an edit of nothing changes nothing");
    }

    @ParameterizedTest
    @ValueSource(strings = {UDP4, UDP6, ICMP4, ICMP6, TCP6_DATA})
    void aTtlRoundTripGivesBackTheKernelsBytes(String vector) {
        byte[] p = hex(vector);
        int ttl = p[0] >> 4 == 4 ? p[8] : p[7];
        byte[] there = PacketEditor.of(p).ttl(1).dscp(63).build();
        byte[] back = PacketEditor.of(there).ttl(ttl).dscp(PacketParser.of(p).isIpv4()
                ? PacketParser.of(p).ipv4().dscp() : PacketParser.of(p).ipv6().dscp()).build();
        assertArrayEquals(p, back);
    }

    @Test
    void fieldsOfTheCapturedTcpSegment() {
        PacketParser parsed = PacketParser.of(hex(TCP6_DATA));
        TcpView tcp = parsed.tcp();
        assertEquals(48492, tcp.sourcePort());
        assertEquals(9500, tcp.destinationPort());
        assertEquals(1114005662L, tcp.sequenceNumber());
        assertTrue(tcp.psh() && tcp.ack());
        assertEquals(32, tcp.headerLength());
        assertTrue(tcp.findOption(TcpView.OPTION_TIMESTAMPS) > 0);
        assertEquals("vector tcp6", StandardCharsets.US_ASCII.decode(parsed.transportPayload()).toString());
    }

    @Test
    void theIcmpErrorQuotesTheDatagram() {
        PacketParser parsed = PacketParser.of(hex(ICMP4));
        assertEquals(IcmpView.DESTINATION_UNREACHABLE, parsed.icmp().type());
        assertEquals(3, parsed.icmp().code());
        byte[] quoted = new byte[parsed.icmp().payloadLength()];
        parsed.buffer().get(parsed.icmp().payloadOffset(), quoted);
        assertArrayEquals(hex(UDP4), quoted);
        PacketParser inner = PacketParser.of(quoted);
        assertEquals(9400, inner.destinationPort());
        assertEquals("vector udp4", StandardCharsets.US_ASCII.decode(inner.transportPayload()).toString());
    }

    @Test
    void aRewrittenKernelPacketMatchesTheReference() {
        byte[] p = hex(UDP6);
        byte[] edited = PacketEditor.of(p).transportPayload("longer payload, new checksum".getBytes(StandardCharsets.US_ASCII))
                .sourcePort(1).build();
        assertTrue(TestPackets.transportChecksumOk(edited));
        assertEquals(ChecksumStatus.VALID, PacketParser.of(edited).transportChecksumStatus());
        assertEquals(8 + 28, PacketParser.of(edited).udp().length());
    }
}
