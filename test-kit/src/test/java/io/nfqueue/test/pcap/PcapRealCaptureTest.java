package io.nfqueue.test.pcap;

import io.nfqueue.packet.ChecksumStatus;
import io.nfqueue.packet.PacketParser;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Captures written by tcpdump and dumpcap (test resources; README.md there says how they were
 * made): the records, their timestamps as tcpdump prints them, and the IP packets inside, checked
 * with the library's own {@link PacketParser}.
 */
class PcapRealCaptureTest {
    private static final int PORT = 47114;

    private static CaptureReader open(String name) throws IOException {
        InputStream in = PcapRealCaptureTest.class.getResourceAsStream(name);
        assertNotNull(in, name);
        return CaptureReader.open(in, name);
    }

    private static List<CaptureRecord> read(String name) throws IOException {
        try (CaptureReader reader = open(name)) {
            return reader.readRemaining();
        }
    }

    private static List<IpPacket> decodeAll(List<CaptureRecord> records, LinkLayerDecoder decoder) {
        List<IpPacket> packets = new ArrayList<>();
        for (CaptureRecord r : records) {
            decoder.decode(r).ifPresent(packets::add);
        }
        return packets;
    }

    /** The datagrams the capture script sent: payload "nfqueue-pcap-i" to PORT, over IPv4 for i < 3. */
    private static void assertDatagram(IpPacket packet, int i) {
        PacketParser parser = PacketParser.of(packet.payloadBytes());
        int version = i < 3 ? 4 : 6;
        assertEquals(version, parser.ipVersion());
        assertEquals(version == 4 ? IpPacket.IPV4 : IpPacket.IPV6, packet.hwProtocol());
        assertTrue(parser.isUdp());
        assertEquals(PORT, parser.destinationPort());
        byte[] payload = new byte[parser.transportPayloadLength()];
        parser.transportPayload().get(payload);
        assertEquals("nfqueue-pcap-" + i, new String(payload, StandardCharsets.US_ASCII));
        if (version == 4) {
            assertEquals(ChecksumStatus.VALID, parser.ipChecksumStatus());
        }
        assertEquals(packet.payloadLength(), packet.originalLength());
    }

    private static Instant at(long seconds, long nanos) {
        return Instant.ofEpochSecond(seconds, nanos);
    }

    @Test
    void tcpdumpOnLoopback() throws IOException {
        try (CaptureReader reader = open("lo-udp.pcap")) {
            assertEquals(CaptureFormat.PCAP, reader.format());
            assertEquals(new CaptureInterface(0, LinkTypes.ETHERNET, 262144, "", 1_000_000, 0), reader.interfaces().get(0));
            List<CaptureRecord> records = reader.readRemaining();
            assertEquals(5, records.size());
            // as tcpdump --nano -tt -r prints them
            assertEquals(at(1796172668L, 486063000), records.get(0).timestamp().get());
            assertEquals(at(1796172668L, 687581000), records.get(4).timestamp().get());
            assertEquals(56, records.get(0).originalLength());
            List<IpPacket> packets = decodeAll(records, new LinkLayerDecoder());
            for (int i = 0; i < 5; i++) {
                assertDatagram(packets.get(i), i);
                assertArrayEquals(new byte[6], packets.get(i).hwAddress().orElseThrow(), "lo's address is all zeros");
            }
        }
    }

    @Test
    void tcpdumpWithASnapLength() throws IOException {
        List<CaptureRecord> records = read("lo-udp-snap48.pcap");
        assertEquals(3, records.size());
        for (IpPacket packet : decodeAll(records, new LinkLayerDecoder())) {
            assertTrue(packet.isTruncated());
            assertEquals(48 - 14, packet.payloadLength());
            assertEquals(20 + 8 + 14, packet.originalLength());
            PacketParser parser = PacketParser.of(packet.payloadBytes());
            assertTrue(parser.isTruncated());
            assertEquals(PORT, parser.destinationPort());
        }
    }

    @Test
    void tcpdumpOnAnyWithNanosecondsIsCookedV2() throws IOException {
        try (CaptureReader reader = open("any-udp-nano.pcap")) {
            assertEquals(1_000_000_000, reader.interfaces().get(0).timestampUnitsPerSecond());
            List<CaptureRecord> records = reader.readRemaining();
            assertEquals(LinkTypes.LINUX_SLL2, records.get(0).linkType());
            assertEquals(at(1796172672L, 475590187), records.get(0).timestamp().get());
            assertEquals(at(1796172672L, 680306523), records.get(4).timestamp().get());
            List<IpPacket> packets = decodeAll(records, new LinkLayerDecoder());
            assertEquals(5, packets.size());
            for (int i = 0; i < 5; i++) {
                assertDatagram(packets.get(i), i);
                assertEquals(1, packets.get(i).deviceIndex(), "lo");
                assertEquals(Direction.INBOUND, packets.get(i).direction());
            }
        }
    }

    @Test
    void tcpdumpOnAnyAsCookedV1() throws IOException {
        List<CaptureRecord> records = read("any-udp-sll.pcap");
        assertEquals(LinkTypes.LINUX_SLL, records.get(0).linkType());
        assertEquals(at(1796172676L, 779783000), records.get(4).timestamp().get());
        List<IpPacket> packets = decodeAll(records, new LinkLayerDecoder());
        for (int i = 0; i < 5; i++) {
            assertDatagram(packets.get(i), i);
            assertEquals(Direction.INBOUND, packets.get(i).direction());
            assertEquals(0, packets.get(i).deviceIndex());
        }
    }

    @Test
    void dumpcapOnTwoInterfacesWritesPcapng() throws IOException {
        try (CaptureReader reader = open("lo-any.pcapng")) {
            assertEquals(CaptureFormat.PCAPNG, reader.format());
            List<CaptureRecord> records = reader.readRemaining();
            assertEquals(List.of(new CaptureInterface(0, LinkTypes.ETHERNET, 262144, "lo", 1_000_000_000, 0),
                    new CaptureInterface(1, LinkTypes.LINUX_SLL, 262144, "any", 1_000_000_000, 0)), reader.interfaces());
            assertEquals(10, records.size());
            // as tshark -T fields -e frame.interface_id -e frame.time_epoch prints them
            assertEquals(List.of(0, 0, 0, 0, 1, 1, 1, 1, 0, 1), records.stream().map(CaptureRecord::interfaceIndex).toList());
            assertEquals(at(1796172680L, 411472739), records.get(0).timestamp().get());
            assertEquals(at(1796172680L, 411472739), records.get(4).timestamp().get());
            assertEquals(at(1796172680L, 613123439), records.get(9).timestamp().get());
            List<IpPacket> packets = decodeAll(records, new LinkLayerDecoder());
            int[] datagram = {0, 1, 2, 3, 0, 1, 2, 3, 4, 4};
            for (int i = 0; i < 10; i++) {
                assertDatagram(packets.get(i), datagram[i]);
            }
        }
    }

    @Test
    void arpOnARealEthernetLinkIsSkippedAndCounted() throws IOException {
        LinkLayerDecoder decoder = new LinkLayerDecoder();
        List<IpPacket> packets = decodeAll(read("veth-arp.pcap"), decoder);
        assertEquals(Map.of("ethertype 0x0806 (ARP)", 2L), decoder.skippedByReason());
        assertEquals(3, packets.size());
        for (int i = 0; i < 3; i++) {
            assertDatagram(packets.get(i), i);
            assertArrayEquals(new byte[] {(byte) 0x8e, (byte) 0x98, (byte) 0xc7, 0x70, 0x36, (byte) 0xa1},
                    packets.get(i).hwAddress().orElseThrow());
        }
    }

    @Test
    void theVerdictsOfARealCaptureSurviveTheWriter() throws IOException {
        List<IpPacket> packets = decodeAll(read("any-udp-nano.pcap"), new LinkLayerDecoder());
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        try (PcapngWriter out = PcapngWriter.create(file)) {
            for (int i = 0; i < packets.size(); i++) {
                out.write(packets.get(i), i % 2 == 0 ? "ACCEPT" : "DROP");
            }
        }
        List<CaptureRecord> back = CaptureReader.readAll(new ByteArrayInputStream(file.toByteArray()));
        assertEquals(5, back.size());
        for (int i = 0; i < 5; i++) {
            assertEquals(packets.get(i).timestamp(), back.get(i).timestamp(), "the original frame's time, to the nanosecond");
            assertEquals(List.of(i % 2 == 0 ? "ACCEPT" : "DROP"), back.get(i).comments());
            assertEquals(Direction.INBOUND, back.get(i).direction(), "from the cooked header, kept as epb_flags");
            assertArrayEquals(packets.get(i).payloadBytes(), back.get(i).dataBytes());
        }
    }
}
