package io.nfqueue.test.pcap;

import io.nfqueue.packet.PacketParser;
import io.nfqueue.test.pcap.PcapTestFiles.Classic;
import io.nfqueue.test.pcap.PcapTestFiles.Pcapng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static io.nfqueue.test.pcap.PcapTestFiles.MAC_A;
import static io.nfqueue.test.pcap.PcapTestFiles.concat;
import static io.nfqueue.test.pcap.PcapTestFiles.ethernet;
import static io.nfqueue.test.pcap.PcapTestFiles.ipv4Udp;
import static io.nfqueue.test.pcap.PcapTestFiles.ipv6Udp;
import static io.nfqueue.test.pcap.PcapTestFiles.loopback;
import static io.nfqueue.test.pcap.PcapTestFiles.sll2;
import static io.nfqueue.test.pcap.PcapTestFiles.sll;
import static io.nfqueue.test.pcap.PcapTestFiles.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** From link-layer frames to the IP packets NFQUEUE delivers, for every supported link type. */
class PcapLinkLayerDecoderTest {
    private static final byte[] V4 = ipv4Udp(1000, 53, utf8("four"));
    private static final byte[] V6 = ipv6Udp(1000, 53, utf8("six"));

    private final LinkLayerDecoder decoder = new LinkLayerDecoder();

    private static CaptureRecord record(int linkType, byte[] frame) {
        return new CaptureRecord(Instant.ofEpochSecond(1), 0, linkType, frame, frame.length);
    }

    private IpPacket decode(int linkType, byte[] frame) {
        Optional<IpPacket> ip = decoder.decode(record(linkType, frame));
        assertTrue(ip.isPresent(), () -> "skipped: " + decoder.lastSkipReason());
        return ip.get();
    }

    private String skipReason(int linkType, byte[] frame) {
        assertFalse(decoder.decode(record(linkType, frame)).isPresent());
        return decoder.lastSkipReason().orElseThrow();
    }

    /** Every link type, each with IPv4 and IPv6: the frame, what it holds, its protocol. */
    static Stream<Arguments> frames() {
        return Stream.of(
                Arguments.of("ETHERNET v4", LinkTypes.ETHERNET, ethernet(0x0800, V4), V4, 0x0800),
                Arguments.of("ETHERNET v6", LinkTypes.ETHERNET, ethernet(0x86DD, V6), V6, 0x86DD),
                Arguments.of("ETHERNET 802.1Q", LinkTypes.ETHERNET, ethernet(0x0800, V4, 0x8100), V4, 0x0800),
                Arguments.of("ETHERNET QinQ", LinkTypes.ETHERNET, ethernet(0x86DD, V6, 0x88A8, 0x8100), V6, 0x86DD),
                Arguments.of("ETHERNET old QinQ", LinkTypes.ETHERNET, ethernet(0x0800, V4, 0x9100, 0x8100), V4, 0x0800),
                Arguments.of("RAW v4", LinkTypes.RAW, V4, V4, 0x0800),
                Arguments.of("RAW v6", LinkTypes.RAW, V6, V6, 0x86DD),
                Arguments.of("IPV4", LinkTypes.IPV4, V4, V4, 0x0800),
                Arguments.of("IPV6", LinkTypes.IPV6, V6, V6, 0x86DD),
                Arguments.of("LINUX_SLL v4", LinkTypes.LINUX_SLL, sll(0, 0x0800, V4), V4, 0x0800),
                Arguments.of("LINUX_SLL v6", LinkTypes.LINUX_SLL, sll(4, 0x86DD, V6), V6, 0x86DD),
                Arguments.of("LINUX_SLL VLAN", LinkTypes.LINUX_SLL, sll(0, 0x8100, concat(new byte[] {0, 100, 8, 0}, V4)), V4,
                        0x0800),
                Arguments.of("LINUX_SLL2 v4", LinkTypes.LINUX_SLL2, sll2(0x0800, 7, 0, V4), V4, 0x0800),
                Arguments.of("LINUX_SLL2 v6", LinkTypes.LINUX_SLL2, sll2(0x86DD, 7, 4, V6), V6, 0x86DD),
                Arguments.of("NULL little-endian v4", LinkTypes.NULL, loopback(2, ByteOrder.LITTLE_ENDIAN, V4), V4, 0x0800),
                Arguments.of("NULL big-endian v6 (macOS)", LinkTypes.NULL, loopback(30, ByteOrder.BIG_ENDIAN, V6), V6, 0x86DD),
                Arguments.of("NULL v6 (FreeBSD)", LinkTypes.NULL, loopback(28, ByteOrder.LITTLE_ENDIAN, V6), V6, 0x86DD),
                Arguments.of("LOOP v4", LinkTypes.LOOP, loopback(2, ByteOrder.BIG_ENDIAN, V4), V4, 0x0800),
                Arguments.of("LOOP v6 (OpenBSD)", LinkTypes.LOOP, loopback(24, ByteOrder.BIG_ENDIAN, V6), V6, 0x86DD));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("frames")
    void everyLinkTypeYieldsTheIpPacketAndItsProtocol(String name, int linkType, byte[] frame, byte[] ip, int protocol) {
        IpPacket packet = decode(linkType, frame);
        assertArrayEquals(ip, packet.payloadBytes());
        assertEquals(protocol, packet.hwProtocol());
        assertEquals(ip.length, packet.originalLength());
        assertFalse(packet.isTruncated());
        assertEquals(protocol == 0x0800 ? 4 : 6, PacketParser.of(packet.payloadBytes()).ipVersion());
    }

    /** The same frames in files: classic pcap in both byte orders and pcapng, read and decoded. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("frames")
    void everyLinkTypeSurvivesAFileOfEitherFormat(String name, int linkType, byte[] frame, byte[] ip, int protocol)
            throws IOException {
        List<byte[]> files = List.of(
                new Classic(ByteOrder.LITTLE_ENDIAN, false, linkType, 65535).record(1, 5, frame).bytes(),
                new Classic(ByteOrder.BIG_ENDIAN, true, linkType, 65535).record(1, 5_000, frame).bytes(),
                new Pcapng(ByteOrder.BIG_ENDIAN).idb(LinkTypes.RAW).idb(linkType).epb(1, 1_000_005, frame).bytes());
        for (byte[] file : files) {
            CaptureRecord r = CaptureReader.readAll(new ByteArrayInputStream(file)).get(0);
            assertEquals(linkType, r.linkType());
            assertEquals(Instant.ofEpochSecond(1, 5_000), r.timestamp().get());
            IpPacket packet = decoder.decode(r).orElseThrow();
            assertArrayEquals(ip, packet.payloadBytes());
            assertEquals(protocol, packet.hwProtocol());
            assertEquals(r.timestamp(), packet.timestamp());
        }
    }

    @Test
    void ethernetPaddingAndFrameCheckSequenceAreNotPartOfThePacket() {
        byte[] small = ipv4Udp(1, 2, new byte[0]);                          // 28 bytes: the frame is padded to 60
        byte[] padded = Arrays.copyOf(ethernet(0x0800, small), 60);
        assertArrayEquals(small, decode(LinkTypes.ETHERNET, padded).payloadBytes());

        byte[] withFcs = concat(ethernet(0x86DD, V6), new byte[] {1, 2, 3, 4});
        IpPacket packet = decode(LinkTypes.ETHERNET, withFcs);
        assertArrayEquals(V6, packet.payloadBytes());
        assertEquals(V6.length, packet.originalLength());
    }

    @Test
    void aFrameCutByTheSnapLengthTakesItsOriginalLengthFromTheIpHeader() {
        byte[] padded = Arrays.copyOf(ethernet(0x0800, ipv4Udp(1, 2, new byte[0])), 64);   // padding and FCS on the wire
        byte[] cut = Arrays.copyOf(padded, 34);
        IpPacket packet = decoder.decode(new CaptureRecord(null, 0, LinkTypes.ETHERNET, cut, 64)).orElseThrow();
        assertEquals(20, packet.payloadLength());
        assertEquals(28, packet.originalLength(), "the IP total length, not the frame's 64 less 14");
        assertTrue(packet.isTruncated());

        byte[] v6 = Arrays.copyOf(sll2(0x86DD, 1, 0, V6), 20 + 4);                    // not even the length field
        IpPacket cut6 = decoder.decode(new CaptureRecord(null, 0, LinkTypes.LINUX_SLL2, v6, 20 + V6.length)).orElseThrow();
        assertEquals(4, cut6.payloadLength());
        assertEquals(V6.length, cut6.originalLength(), "the frame's original length less the cooked header");
    }

    @Test
    void cookedHeadersGiveDirectionAddressAndDevice() {
        IpPacket in = decode(LinkTypes.LINUX_SLL2, sll2(0x0800, 42, 0, V4));
        assertEquals(Direction.INBOUND, in.direction());
        assertEquals(42, in.deviceIndex());
        assertArrayEquals(MAC_A, in.hwAddress().orElseThrow());

        IpPacket out = decode(LinkTypes.LINUX_SLL, sll(4, 0x0800, V4));
        assertEquals(Direction.OUTBOUND, out.direction());
        assertEquals(0, out.deviceIndex(), "LINUX_SLL carries no interface index");

        assertEquals(Direction.INBOUND, decode(LinkTypes.LINUX_SLL, sll(1, 0x0800, V4)).direction(), "broadcast");
        IpPacket ether = decode(LinkTypes.ETHERNET, ethernet(0x0800, V4));
        assertEquals(Direction.UNKNOWN, ether.direction());
        assertArrayEquals(MAC_A, ether.hwAddress().orElseThrow(), "the source address");
        assertTrue(decode(LinkTypes.RAW, V4).hwAddress().isEmpty());
    }

    @Test
    void theRecordsDirectionCarriesOverWhereTheLinkLayerHasNone() {
        CaptureRecord r = new CaptureRecord(null, 0, LinkTypes.RAW, V4, V4.length, Direction.OUTBOUND, List.of("c"));
        IpPacket packet = decoder.decode(r).orElseThrow();
        assertEquals(Direction.OUTBOUND, packet.direction());
        assertEquals(r, packet.record());
    }

    @Test
    void nonIpFramesAreSkippedAndCountedByReason() {
        byte[] arp = ethernet(0x0806, new byte[28]);
        assertEquals("ethertype 0x0806 (ARP)", skipReason(LinkTypes.ETHERNET, arp));
        assertEquals("ethertype 0x0806 (ARP)", skipReason(LinkTypes.ETHERNET, ethernet(0x0806, new byte[28], 0x8100)));
        assertEquals("802.3 or non-IP protocol 0x002e", skipReason(LinkTypes.ETHERNET, ethernet(46, new byte[46])));
        assertEquals("ethertype 0x88cc (LLDP)", skipReason(LinkTypes.LINUX_SLL2, sll2(0x88CC, 1, 0, new byte[10])));
        assertEquals("802.3 or non-IP protocol 0x0004", skipReason(LinkTypes.LINUX_SLL, sll(0, 4, new byte[10])));
        assertEquals("raw frame with IP version 5", skipReason(LinkTypes.RAW, new byte[] {0x50, 0, 0, 0}));
        assertEquals("empty frame", skipReason(LinkTypes.RAW, new byte[0]));
        assertEquals("protocol 0x0800 but IP version 6", skipReason(LinkTypes.IPV4, V6));
        assertEquals("protocol 0x86dd but IP version 4", skipReason(LinkTypes.ETHERNET, ethernet(0x86DD, V4)));
        assertEquals("no IP header after the link-layer header", skipReason(LinkTypes.ETHERNET, ethernet(0x0800, new byte[0])));
        assertEquals("Ethernet header cut short", skipReason(LinkTypes.ETHERNET, new byte[13]));
        assertEquals("VLAN tag cut short", skipReason(LinkTypes.ETHERNET, Arrays.copyOf(ethernet(0x0800, V4, 0x8100), 16)));
        assertEquals("LINUX_SLL header cut short", skipReason(LinkTypes.LINUX_SLL, new byte[15]));
        assertEquals("LINUX_SLL2 header cut short", skipReason(LinkTypes.LINUX_SLL2, new byte[19]));
        assertEquals("loopback header cut short", skipReason(LinkTypes.NULL, new byte[3]));
        assertEquals("loopback address family 7", skipReason(LinkTypes.NULL, loopback(7, ByteOrder.LITTLE_ENDIAN, V4)));
        assertEquals("unsupported link type LINKTYPE 105", skipReason(105, V4));

        decode(LinkTypes.RAW, V4);
        assertTrue(decoder.lastSkipReason().isEmpty());
        assertEquals(1, decoder.decodedCount());
        assertEquals(17, decoder.skippedCount());
        Map<String, Long> reasons = decoder.skippedByReason();
        assertEquals(2L, reasons.get("ethertype 0x0806 (ARP)"));
        assertEquals("ethertype 0x0806 (ARP)", reasons.keySet().iterator().next(), "first seen, first listed");
    }
}
