package io.nfqueue.packet;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.ByteBuffer;

import static io.nfqueue.packet.TestPackets.V6_A;
import static io.nfqueue.packet.TestPackets.V6_B;
import static io.nfqueue.packet.TestPackets.concat;
import static io.nfqueue.packet.TestPackets.extension;
import static io.nfqueue.packet.TestPackets.fragmentHeader;
import static io.nfqueue.packet.TestPackets.tcp;
import static io.nfqueue.packet.TestPackets.udp;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Ipv6ViewTest {
    private final Ipv6View ip = new Ipv6View();

    @Test
    void readsTheFixedHeader() throws Exception {
        byte[] p = TestPackets.udp6("hi".getBytes());
        ip.wrap(ByteBuffer.wrap(p));
        assertEquals(0xB8, ip.trafficClass());
        assertEquals(46, ip.dscp());
        assertEquals(0, ip.ecn());
        assertEquals(0x12345, ip.flowLabel());
        assertEquals(64, ip.hopLimit());
        assertEquals(10, ip.payloadLength());
        assertEquals(IpProtocols.UDP, ip.upperLayerProtocol());
        assertEquals(40, ip.upperLayerOffset());
        assertEquals(0, ip.extensionHeaderCount());
        assertEquals(InetAddress.getByName("2001:db8::1"), ip.source());
        assertEquals(InetAddress.getByName("2001:db8::ff"), ip.destination());
        assertFalse(ip.isTruncated());
        assertFalse(ip.isFragment());
    }

    @Test
    void walksHopByHopDestinationOptionsAndAh() {
        byte[] ah = new byte[16];
        ah[0] = IpProtocols.TCP;
        ah[1] = 2;   // (2 + 2) * 4 = 16 bytes
        byte[] chain = concat(extension(IpProtocols.DESTINATION_OPTIONS, 8), extension(IpProtocols.AH, 16), ah,
                tcp(1, 2, 3, 4, 0x10, new byte[0], new byte[5]));
        byte[] p = TestPackets.ipv6(IpProtocols.HOP_BY_HOP, V6_A, V6_B, chain);
        ip.wrap(ByteBuffer.wrap(p));
        assertEquals(3, ip.extensionHeaderCount());
        assertEquals(IpProtocols.TCP, ip.upperLayerProtocol());
        assertEquals(40 + 8 + 16 + 16, ip.upperLayerOffset());
        assertEquals(40 + 24, ip.authenticationHeaderOffset());
    }

    @Test
    void finalDestinationComesFromATypeTwoRoutingHeader() {
        byte[] rh = new byte[24];
        rh[0] = IpProtocols.UDP;
        rh[1] = 2;
        rh[2] = 2;      // type 2
        rh[3] = 1;      // segments left
        System.arraycopy(V6_A, 0, rh, 8, 16);
        byte[] p = TestPackets.ipv6(IpProtocols.ROUTING, V6_B, V6_A, concat(rh, udp(5, 6, new byte[3])));
        // The reference checksummed with destination field V6_A (the home address); now put another there.
        System.arraycopy(V6_B, 0, p, 24, 16);
        PacketParser parser = PacketParser.of(p);
        assertEquals(48, parser.ipv6().finalDestinationOffset());
        assertEquals(ChecksumStatus.VALID, parser.transportChecksumStatus());

        p[40 + 2] = 3;  // an RPL routing header: its final destination is compressed away
        PacketParser rpl = PacketParser.of(p);
        assertEquals(-1, rpl.ipv6().finalDestinationOffset());
        assertEquals(ChecksumStatus.UNVERIFIABLE, rpl.transportChecksumStatus());
    }

    @Test
    void aChainThatRepeatsItselfEndsWithTheDocumentedException() {
        byte[] chain = new byte[0];
        for (int i = 0; i < 11; i++) {
            chain = concat(chain, extension(IpProtocols.DESTINATION_OPTIONS, 8));
        }
        byte[] p = TestPackets.ipv6(IpProtocols.DESTINATION_OPTIONS, V6_A, V6_B, chain);
        MalformedPacketException e = assertThrows(MalformedPacketException.class, () -> ip.wrap(ByteBuffer.wrap(p)));
        assertTrue(e.getMessage().contains("longer than 10"), e.getMessage());
    }

    @Test
    void aHeaderRunningPastTheEndIsMalformed() {
        byte[] d = extension(IpProtocols.TCP, 8);
        d[1] = (byte) 255;   // claims 2048 bytes
        byte[] p = TestPackets.ipv6(IpProtocols.DESTINATION_OPTIONS, V6_A, V6_B, concat(d, new byte[20]));
        MalformedPacketException e = assertThrows(MalformedPacketException.class, () -> ip.wrap(ByteBuffer.wrap(p)));
        assertTrue(e.getMessage().contains("runs past the end"), e.getMessage());
        byte[] cut = TestPackets.ipv6(IpProtocols.DESTINATION_OPTIONS, V6_A, V6_B, new byte[4]);
        assertThrows(MalformedPacketException.class, () -> ip.wrap(ByteBuffer.wrap(cut)));
    }

    @Test
    void hopByHopMayOnlyComeFirst() {
        byte[] chain = concat(extension(IpProtocols.HOP_BY_HOP, 8), extension(IpProtocols.NO_NEXT_HEADER, 8));
        byte[] p = TestPackets.ipv6(IpProtocols.DESTINATION_OPTIONS, V6_A, V6_B, chain);
        MalformedPacketException e = assertThrows(MalformedPacketException.class, () -> ip.wrap(ByteBuffer.wrap(p)));
        assertTrue(e.getMessage().contains("hop-by-hop"), e.getMessage());
    }

    @Test
    void aLaterFragmentEndsTheWalk() {
        // The data after a later fragment's header may look like anything: here, another header.
        byte[] chain = concat(fragmentHeader(IpProtocols.DESTINATION_OPTIONS, 1232, false, 77),
                extension(IpProtocols.HOP_BY_HOP, 8));
        byte[] p = TestPackets.ipv6(IpProtocols.FRAGMENT, V6_A, V6_B, chain);
        ip.wrap(ByteBuffer.wrap(p));
        assertTrue(ip.isFragment());
        assertEquals(1232, ip.fragmentOffset());
        assertEquals(77, ip.fragmentIdentification());
        assertEquals(IpProtocols.DESTINATION_OPTIONS, ip.upperLayerProtocol());
        assertEquals(48, ip.upperLayerOffset());
        PacketParser parser = PacketParser.of(p);
        assertFalse(parser.hasTransportHeader());
        assertEquals(-1, parser.sourcePort());
    }

    @Test
    void aFirstFragmentHasItsTransportHeader() {
        byte[] chain = concat(fragmentHeader(IpProtocols.UDP, 0, true, 5), udp(7, 8, new byte[16]));
        byte[] p = TestPackets.ipv6(IpProtocols.FRAGMENT, V6_A, V6_B, chain);
        PacketParser parser = PacketParser.of(p);
        assertTrue(parser.isFragment());
        assertTrue(parser.isUdp());
        assertEquals(8, parser.destinationPort());
        assertEquals(ChecksumStatus.UNVERIFIABLE, parser.transportChecksumStatus());
    }

    @Test
    void truncatedCopyIsNotAnError() {
        byte[] p = TestPackets.udp6(new byte[100]);
        ip.wrap(ByteBuffer.wrap(p, 0, 60));
        assertTrue(ip.isTruncated());
        assertEquals(60, ip.end());
    }

    @Test
    void rejectsOtherVersions() {
        byte[] p = TestPackets.udp6(new byte[1]);
        p[0] = 0x40;
        assertThrows(MalformedPacketException.class, () -> ip.wrap(ByteBuffer.wrap(p)));
        assertThrows(MalformedPacketException.class, () -> ip.wrap(ByteBuffer.wrap(new byte[39])));
    }
}
