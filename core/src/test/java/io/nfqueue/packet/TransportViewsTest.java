package io.nfqueue.packet;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static io.nfqueue.packet.TestPackets.hex;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TransportViewsTest {
    @Test
    void tcpFieldsAndOptions() {
        PacketParser p = PacketParser.of(TestPackets.tcp4("GET /".getBytes(StandardCharsets.US_ASCII)));
        TcpView tcp = p.tcp();
        assertEquals(12345, tcp.sourcePort());
        assertEquals(80, tcp.destinationPort());
        assertEquals(0x01020304L, tcp.sequenceNumber());
        assertEquals(0xA0B0C0D0L, tcp.acknowledgmentNumber());
        assertEquals(32, tcp.headerLength());
        assertTrue(tcp.ack());
        assertTrue(tcp.psh());
        assertFalse(tcp.syn());
        assertFalse(tcp.fin() || tcp.rst() || tcp.urg() || tcp.ece() || tcp.cwr());
        assertEquals(TcpView.ACK | TcpView.PSH, tcp.flags());
        assertEquals(65535, tcp.window());
        assertEquals(1460, tcp.mss());
        assertEquals(10, tcp.windowScale());
        assertTrue(tcp.sackPermitted());
        assertEquals(-1, tcp.findOption(TcpView.OPTION_TIMESTAMPS));
        assertEquals(5, tcp.payloadLength());
        assertEquals("GET /", StandardCharsets.US_ASCII.decode(tcp.payload()).toString());
        assertEquals(tcp.payloadOffset(), p.transportPayloadOffset());
    }

    @Test
    void tcpRejectsBadDataOffsetsAndOptions() {
        byte[] p = TestPackets.tcp4(new byte[0]);
        byte[] low = p.clone();
        low[20 + 12] = 0x40;
        assertThrows(MalformedPacketException.class, () -> PacketParser.of(low));
        byte[] high = p.clone();
        high[20 + 12] = (byte) 0xF0;   // 60 bytes, only 32 present
        assertThrows(MalformedPacketException.class, () -> PacketParser.of(high));
        byte[] badOption = p.clone();
        badOption[20 + 20 + 1] = 1;    // MSS option length 1
        TcpView tcp = PacketParser.of(badOption).tcp();
        assertThrows(MalformedPacketException.class, tcp::mss);
        assertThrows(MalformedPacketException.class, () -> new TcpView().wrap(ByteBuffer.wrap(new byte[19])));
    }

    @Test
    void udpLengthMustFit() {
        byte[] p = TestPackets.udp4("abc".getBytes());
        UdpView udp = PacketParser.of(p).udp();
        assertEquals(11, udp.length());
        assertEquals(3, udp.payloadLength());
        assertEquals(ChecksumStatus.VALID, PacketParser.of(p).transportChecksumStatus());

        byte[] lies = p.clone();
        TestPackets.put16(lies, 24, 12);   // one more than the IP header leaves
        MalformedPacketException e = assertThrows(MalformedPacketException.class, () -> PacketParser.of(lies));
        assertTrue(e.getMessage().contains("UDP length 12"), e.getMessage());
        byte[] tooShort = p.clone();
        TestPackets.put16(tooShort, 24, 7);
        assertThrows(MalformedPacketException.class, () -> PacketParser.of(tooShort));

        byte[] shorter = p.clone();        // UDP length 9 in an 11-byte IP payload: the datagram is 1 byte
        TestPackets.put16(shorter, 24, 9);
        PacketParser parsed = PacketParser.of(shorter);
        assertEquals(1, parsed.transportPayloadLength());
    }

    @Test
    void icmpEcho() {
        PacketParser p = PacketParser.of(TestPackets.icmp4Echo(new byte[12]));
        assertTrue(p.isIcmp());
        assertEquals(IcmpView.ECHO_REQUEST, p.icmp().type());
        assertEquals(0, p.icmp().code());
        assertEquals(0x4242, p.icmp().identifier());
        assertEquals(1, p.icmp().sequenceNumber());
        assertEquals(12, p.icmp().payloadLength());
        assertEquals(-1, p.sourcePort());
        assertEquals(ChecksumStatus.VALID, p.transportChecksumStatus());
        assertThrows(IllegalStateException.class, p::icmpv6);

        PacketParser p6 = PacketParser.of(TestPackets.icmp6Echo(new byte[3]));
        assertTrue(p6.isIcmpv6());
        assertEquals(Icmpv6View.ECHO_REQUEST, p6.icmpv6().type());
        assertEquals(ChecksumStatus.VALID, p6.transportChecksumStatus());
    }

    @Test
    void icmpNeedsEightBytes() {
        byte[] p = TestPackets.ipv4(1, TestPackets.V4_A, TestPackets.V4_B, new byte[0], hex("08000000"));
        assertThrows(MalformedPacketException.class, () -> PacketParser.of(p));
    }
}
