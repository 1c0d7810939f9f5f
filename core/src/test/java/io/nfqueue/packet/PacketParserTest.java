package io.nfqueue.packet;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PacketParserTest {
    private final PacketParser parser = new PacketParser();

    @Test
    void fiveTupleOfTcp4() throws Exception {
        parser.parse(ByteBuffer.wrap(TestPackets.tcp4(new byte[10])));
        assertEquals(4, parser.ipVersion());
        assertEquals(IpProtocols.TCP, parser.protocol());
        assertEquals(12345, parser.sourcePort());
        assertEquals(80, parser.destinationPort());
        assertEquals(InetAddress.getByName("10.0.0.1"), parser.sourceAddress());
        assertEquals(InetAddress.getByName("192.168.1.200"), parser.destinationAddress());
        byte[] raw = new byte[16];
        assertEquals(4, parser.copyDestinationAddress(raw, 0));
        assertArrayEquals(TestPackets.V4_B, Arrays.copyOf(raw, 4));
        assertEquals(ChecksumStatus.VALID, parser.ipChecksumStatus());
        assertEquals(ChecksumStatus.VALID, parser.transportChecksumStatus());
        assertTrue(parser.toString().contains("TCP 12345 > 80"), parser.toString());
    }

    @Test
    void fiveTupleOfUdp6() throws Exception {
        parser.parse(ByteBuffer.wrap(TestPackets.udp6(new byte[3])));
        assertEquals(6, parser.ipVersion());
        assertEquals(16, parser.addressLength());
        assertEquals(InetAddress.getByName("2001:db8::1"), parser.sourceAddress());
        assertEquals(53, parser.destinationPort());
        assertEquals(ChecksumStatus.ABSENT, parser.ipChecksumStatus());
        assertEquals(ChecksumStatus.VALID, parser.transportChecksumStatus());
        assertThrows(IllegalStateException.class, parser::ipv4);
        assertThrows(IllegalStateException.class, parser::tcp);
    }

    @Test
    void checksumStatusesAndComputation() {
        byte[] tcp = TestPackets.tcp4(new byte[33]);
        int stored = TestPackets.get16(tcp, 36);
        assertEquals(stored, PacketParser.of(tcp).computeTransportChecksum());
        tcp[60] ^= 1;
        assertEquals(ChecksumStatus.INVALID, PacketParser.of(tcp).transportChecksumStatus());
        tcp[10] ^= 1;
        assertEquals(ChecksumStatus.INVALID, PacketParser.of(tcp).ipChecksumStatus());

        byte[] udp = TestPackets.udp4(new byte[2]);
        udp[26] = 0;
        udp[27] = 0;
        assertEquals(ChecksumStatus.ABSENT, PacketParser.of(udp).transportChecksumStatus());
        byte[] udp6 = TestPackets.udp6(new byte[2]);
        udp6[46] = 0;
        udp6[47] = 0;
        assertEquals(ChecksumStatus.INVALID, PacketParser.of(udp6).transportChecksumStatus(),
                "IPv6 requires a UDP checksum");

        byte[] truncated = Arrays.copyOf(TestPackets.udp4(new byte[50]), 40);
        PacketParser t = PacketParser.of(truncated);
        assertTrue(t.isTruncated());
        assertEquals(12, t.transportPayloadLength());
        assertEquals(ChecksumStatus.UNVERIFIABLE, t.transportChecksumStatus());
        assertThrows(IllegalStateException.class, t::computeTransportChecksum);
    }

    @Test
    void otherProtocolsHaveAnUpperLayerButNoTransportView() {
        byte[] gre = TestPackets.ipv4(47, TestPackets.V4_A, TestPackets.V4_B, new byte[0], new byte[12]);
        parser.parse(ByteBuffer.wrap(gre));
        assertFalse(parser.hasTransportHeader());
        assertEquals(47, parser.protocol());
        assertEquals(20, parser.transportPayloadOffset());
        assertEquals(12, parser.transportPayloadLength());
        assertEquals(ChecksumStatus.UNVERIFIABLE, parser.transportChecksumStatus());
    }

    @Test
    void aFailedParseLeavesTheParserEmpty() {
        parser.parse(ByteBuffer.wrap(TestPackets.tcp4(new byte[1])));
        byte[] bad = TestPackets.tcp4(new byte[1]);
        bad[32] = 0x10;   // data offset 1
        assertThrows(MalformedPacketException.class, () -> parser.parse(ByteBuffer.wrap(bad)));
        assertEquals(0, parser.ipVersion());
        assertFalse(parser.isTcp());
        assertEquals(-1, parser.sourcePort());
        assertThrows(IllegalStateException.class, parser::protocol);
        assertThrows(MalformedPacketException.class, () -> parser.parse(ByteBuffer.allocate(0)));
        assertThrows(MalformedPacketException.class, () -> parser.parse(ByteBuffer.wrap(new byte[]{0x20})));
    }

    @Test
    void parsesFromThePositionOfAReadOnlyBuffer() {
        byte[] p = TestPackets.tcp4(new byte[3]);
        ByteBuffer b = ByteBuffer.wrap(TestPackets.concat(new byte[5], p)).asReadOnlyBuffer();
        b.position(5);
        parser.parse(b);
        assertEquals(5, parser.ipOffset());
        assertEquals(5, b.position(), "parsing does not move the position");
        assertEquals(ChecksumStatus.VALID, parser.transportChecksumStatus());
    }

    @Test
    void parsingAndReadingTheFiveTupleAllocateNothing() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        ByteBuffer b = ByteBuffer.wrap(TestPackets.tcp4(new byte[100]));
        ByteBuffer b6 = ByteBuffer.wrap(TestPackets.udp6(new byte[100]));
        byte[] src = new byte[16];
        long sink = 0;
        for (int i = 0; i < 20_000; i++) {
            sink += readTuple(b, src) + readTuple(b6, src);
        }
        long tid = Thread.currentThread().getId();
        long before = threads.getThreadAllocatedBytes(tid);
        for (int i = 0; i < 10_000; i++) {
            sink += readTuple(b, src) + readTuple(b6, src);
        }
        long allocated = threads.getThreadAllocatedBytes(tid) - before;
        assertTrue(sink != 0);
        // The measuring call itself may allocate a little; 20 000 parses allocating would be megabytes.
        assertTrue(allocated < 1024, "parsing allocated " + allocated + " bytes for 20 000 packets");
    }

    private long readTuple(ByteBuffer b, byte[] src) {
        parser.parse(b);
        int n = parser.copySourceAddress(src, 0);
        parser.copyDestinationAddress(src, 0);
        return n + parser.sourcePort() + parser.destinationPort() + parser.protocol();
    }
}
