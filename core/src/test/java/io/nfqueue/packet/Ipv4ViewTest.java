package io.nfqueue.packet;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;

import static io.nfqueue.packet.TestPackets.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Ipv4ViewTest {
    private final Ipv4View ip = new Ipv4View();

    @Test
    void readsTheWikipediaHeader() throws Exception {
        ip.wrap(ByteBuffer.wrap(hex("45000073000040004011b861c0a80001c0a800c7")));
        assertEquals(20, ip.headerLength());
        assertEquals(115, ip.totalLength());
        assertTrue(ip.isTruncated(), "only the header of a 115-byte packet is present");
        assertTrue(ip.dontFragment());
        assertFalse(ip.isFragment());
        assertEquals(64, ip.ttl());
        assertEquals(IpProtocols.UDP, ip.protocol());
        assertEquals(0xB861, ip.headerChecksum());
        assertTrue(ip.isHeaderChecksumValid());
        assertEquals(0xB861, ip.computeHeaderChecksum());
        assertEquals(InetAddress.getByName("192.168.0.1"), ip.source());
        assertEquals(InetAddress.getByName("192.168.0.199"), ip.destination());
        assertEquals(0xC0A800C7, ip.destinationInt());
        byte[] raw = new byte[6];
        assertEquals(4, ip.copySource(raw, 2));
        assertArrayEquals(new byte[]{0, 0, (byte) 192, (byte) 168, 0, 1}, raw);
    }

    @Test
    void readsDscpEcnAndFragmentFields() {
        byte[] p = TestPackets.udp4(new byte[3]);
        p[1] = (byte) (46 << 2 | 2);
        TestPackets.put16(p, 6, 0x2000 | 185);   // MF, offset 185*8
        ip.wrap(ByteBuffer.wrap(p));
        assertEquals(46, ip.dscp());
        assertEquals(2, ip.ecn());
        assertTrue(ip.moreFragments());
        assertEquals(1480, ip.fragmentOffset());
        assertTrue(ip.isFragment());
    }

    @Test
    void findsOptionsAndRejectsBrokenOnes() {
        // Options: NOP, router alert (0x94, len 4), END.
        byte[] p = TestPackets.ipv4(17, TestPackets.V4_A, TestPackets.V4_B, hex("01940400 00000000"),
                TestPackets.udp(1, 2, new byte[0]));
        ip.wrap(ByteBuffer.wrap(p));
        assertEquals(28, ip.headerLength());
        assertEquals(8, ip.optionsLength());
        assertEquals(21, ip.findOption(0x94));
        assertEquals(-1, ip.findOption(0x44));
        assertTrue(ip.isHeaderChecksumValid());
        assertEquals(28, ip.payloadOffset());

        p[21 + 1] = 9;   // router alert claims 9 bytes: past the options
        ip.wrap(ByteBuffer.wrap(p));
        assertThrows(MalformedPacketException.class, () -> ip.findOption(0x44));
    }

    @Test
    void rejectsImpossibleHeaders() {
        byte[] p = TestPackets.udp4(new byte[4]);
        assertMalformed(Arrays.copyOf(p, 19), "cut off");
        byte[] v = p.clone();
        v[0] = 0x55;
        assertMalformed(v, "version 5");
        byte[] ihl = p.clone();
        ihl[0] = 0x44;
        assertMalformed(ihl, "IHL 4");
        byte[] longIhl = p.clone();
        longIhl[0] = 0x4F;
        assertMalformed(longIhl, "60 bytes");
        byte[] shortTotal = p.clone();
        TestPackets.put16(shortTotal, 2, 19);
        assertMalformed(shortTotal, "total length 19");
    }

    @Test
    void paddingAfterTheTotalLengthIsNotPartOfThePacket() {
        byte[] p = TestPackets.udp4(new byte[4]);
        byte[] padded = Arrays.copyOf(p, p.length + 10);
        ip.wrap(ByteBuffer.wrap(padded));
        assertEquals(p.length, ip.end());
        assertFalse(ip.isTruncated());
    }

    @Test
    void wrapsAtAnOffset() {
        byte[] p = TestPackets.udp4(new byte[4]);
        byte[] framed = TestPackets.concat(new byte[7], p);
        ip.wrap(ByteBuffer.wrap(framed), 7, framed.length);
        assertEquals(7, ip.offset());
        assertEquals(framed.length, ip.end());
        assertTrue(ip.isHeaderChecksumValid());
        assertThrows(IllegalArgumentException.class, () -> ip.wrap(ByteBuffer.wrap(framed), 7, framed.length + 1));
    }

    private void assertMalformed(byte[] p, String messagePart) {
        MalformedPacketException e = assertThrows(MalformedPacketException.class, () -> ip.wrap(ByteBuffer.wrap(p)));
        assertTrue(e.getMessage().contains(messagePart), e.getMessage());
    }
}
