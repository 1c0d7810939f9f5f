package io.nfqueue.test.pcap;

import io.nfqueue.test.pcap.PcapTestFiles.Pcapng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

import static io.nfqueue.test.pcap.PcapTestFiles.ethernet;
import static io.nfqueue.test.pcap.PcapTestFiles.ipv4Udp;
import static io.nfqueue.test.pcap.PcapTestFiles.ipv6Udp;
import static io.nfqueue.test.pcap.PcapTestFiles.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** pcapng: sections, interfaces and their resolutions, the packet blocks, options, skipped blocks. */
class PcapngReaderTest {
    private static final byte[] V4 = ipv4Udp(1000, 53, utf8("four"));
    private static final byte[] V6 = ipv6Udp(1000, 53, utf8("six"));
    private static final long SECONDS = 1_700_000_000L;

    private static List<CaptureRecord> read(byte[] file) throws IOException {
        return CaptureReader.readAll(new ByteArrayInputStream(file));
    }

    @ParameterizedTest
    @ValueSource(strings = {"BIG_ENDIAN", "LITTLE_ENDIAN"})
    void twoInterfacesWithTheirOwnLinkTypeAndResolution(String orderName) throws IOException {
        ByteOrder order = orderName.equals("BIG_ENDIAN") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        byte[] file = new Pcapng(order)
                .idb(LinkTypes.ETHERNET, 262144, null, "eth0", null)       // default: microseconds
                .idb(LinkTypes.RAW, 0, 9, "nfqueue", null)                 // nanoseconds
                .epb(0, SECONDS * 1_000_000 + 250_000, ethernet(0x0800, V4), 14 + V4.length, null)
                .epb(1, SECONDS * 1_000_000_000 + 123_456_789, V6, V6.length, null)
                .bytes();

        try (CaptureReader reader = CaptureReader.open(new ByteArrayInputStream(file))) {
            assertEquals(CaptureFormat.PCAPNG, reader.format());
            CaptureRecord first = reader.next();
            assertEquals(List.of(new CaptureInterface(0, LinkTypes.ETHERNET, 262144, "eth0", 1_000_000, 0),
                    new CaptureInterface(1, LinkTypes.RAW, 0, "nfqueue", 1_000_000_000, 0)), reader.interfaces());
            assertEquals(0, first.interfaceIndex());
            assertEquals(LinkTypes.ETHERNET, first.linkType());
            assertEquals(Instant.ofEpochSecond(SECONDS, 250_000_000), first.timestamp().get());
            assertArrayEquals(ethernet(0x0800, V4), first.dataBytes());

            CaptureRecord second = reader.next();
            assertEquals(1, second.interfaceIndex());
            assertEquals(LinkTypes.RAW, second.linkType());
            assertEquals(Instant.ofEpochSecond(SECONDS, 123_456_789), second.timestamp().get());
            assertArrayEquals(V6, second.dataBytes());
            assertNull(reader.next());
        }
    }

    @Test
    void binaryAndFinerThanNanosecondResolutionsAndTheTimestampOffset() throws IOException {
        byte[] file = new Pcapng(ByteOrder.LITTLE_ENDIAN)
                .idb(LinkTypes.RAW, 0, 0x80 | 10, null, null)     // 2^-10 s
                .idb(LinkTypes.RAW, 0, 12, null, null)            // picoseconds
                .idb(LinkTypes.RAW, 0, 0, null, 3600L)            // whole seconds, one hour later
                .epb(0, SECONDS * 1024 + 512, V4)
                .epb(1, 1_000_000L * 1_000_000_000_000L + 987_654_321_999L, V4)   // 64-bit picoseconds reach 1970-08
                .epb(2, SECONDS, V4)
                .bytes();
        List<CaptureRecord> records = read(file);
        assertEquals(Instant.ofEpochSecond(SECONDS, 500_000_000), records.get(0).timestamp().get());
        assertEquals(Instant.ofEpochSecond(1_000_000, 987_654_321), records.get(1).timestamp().get());
        assertEquals(Instant.ofEpochSecond(SECONDS + 3600), records.get(2).timestamp().get());
    }

    @Test
    void commentsAndDirectionFromTheEnhancedPacketBlocksOptions() throws IOException {
        byte[] file = new Pcapng(ByteOrder.BIG_ENDIAN)
                .idb(LinkTypes.RAW)
                .epb(0, 1, V4, V4.length, 1, "ACCEPT mark=0x7", "second comment, ünïcode")
                .epb(0, 2, V4, V4.length, 2)
                .epb(0, 3, V4, V4.length, 0x10003, "flags 3: no direction")
                .bytes();
        List<CaptureRecord> records = read(file);
        assertEquals(List.of("ACCEPT mark=0x7", "second comment, ünïcode"), records.get(0).comments());
        assertEquals(Direction.INBOUND, records.get(0).direction());
        assertEquals(Direction.OUTBOUND, records.get(1).direction());
        assertEquals(List.of(), records.get(1).comments());
        assertEquals(Direction.UNKNOWN, records.get(2).direction());
    }

    @Test
    void simplePacketBlocksHaveNoTimestampAndTheSnapLengthCutsThem() throws IOException {
        byte[] file = new Pcapng(ByteOrder.LITTLE_ENDIAN)
                .idb(LinkTypes.RAW, 24, null, null, null)
                .spb(V4.length, Arrays.copyOf(V4, 24))
                .bytes();
        CaptureRecord r = read(file).get(0);
        assertTrue(r.timestamp().isEmpty());
        assertEquals(0, r.interfaceIndex());
        assertArrayEquals(Arrays.copyOf(V4, 24), r.dataBytes());
        assertEquals(V4.length, r.originalLength());
        assertTrue(r.isTruncated());
    }

    @Test
    void theObsoletePacketBlockReadsLikeAnEnhancedOne() throws IOException {
        byte[] file = new Pcapng(ByteOrder.BIG_ENDIAN)
                .idb(LinkTypes.RAW).idb(LinkTypes.ETHERNET)
                .pb(1, SECONDS * 1_000_000, ethernet(0x0800, V4), "old")
                .bytes();
        CaptureRecord r = read(file).get(0);
        assertEquals(1, r.interfaceIndex());
        assertEquals(LinkTypes.ETHERNET, r.linkType());
        assertEquals(Instant.ofEpochSecond(SECONDS), r.timestamp().get());
        assertEquals(List.of("old"), r.comments());
    }

    @Test
    void blocksOfOtherTypesAreSkipped() throws IOException {
        byte[] file = new Pcapng(ByteOrder.LITTLE_ENDIAN)
                .other(PcapTestFiles.PCAPNG_NRB, 16)
                .idb(LinkTypes.RAW)
                .other(0x00000BAD, 40)                            // custom block
                .epb(0, 1, V4)
                .other(PcapTestFiles.PCAPNG_ISB, 0)
                .other(0x0000000A, 1 << 17)                       // decryption secrets, 128 KiB
                .epb(0, 2, V6)
                .bytes();
        List<CaptureRecord> records = read(file);
        assertEquals(2, records.size());
        assertArrayEquals(V6, records.get(1).dataBytes());
    }

    @Test
    void aNewSectionHasItsOwnByteOrderAndInterfaces() throws IOException {
        byte[] file = new Pcapng(ByteOrder.LITTLE_ENDIAN)
                .idb(LinkTypes.ETHERNET).idb(LinkTypes.RAW, 0, 9, "second", null)
                .epb(1, 5, V4)
                .section(ByteOrder.BIG_ENDIAN)
                .idb(LinkTypes.IPV6, 0, 9, "v6 only", null)
                .epb(0, 7, V6)
                .bytes();
        try (CaptureReader reader = CaptureReader.open(new ByteArrayInputStream(file))) {
            assertEquals(LinkTypes.RAW, reader.next().linkType());
            assertEquals(2, reader.interfaces().size());
            CaptureRecord r = reader.next();
            assertEquals(0, r.interfaceIndex());
            assertEquals(LinkTypes.IPV6, r.linkType());
            assertEquals(Instant.ofEpochSecond(0, 7), r.timestamp().get());
            assertEquals(List.of("v6 only"), reader.interfaces().stream().map(CaptureInterface::name).toList());
            assertNull(reader.next());
        }
    }

    @Test
    void interfacesDoNotCarryIntoTheNextSection() {
        byte[] file = new Pcapng(ByteOrder.LITTLE_ENDIAN)
                .idb(LinkTypes.RAW).idb(LinkTypes.RAW)
                .section(ByteOrder.LITTLE_ENDIAN)
                .idb(LinkTypes.RAW)
                .epb(1, 7, V6)
                .bytes();
        CaptureFormatException e = assertThrows(CaptureFormatException.class, () -> read(file));
        assertEquals("the Enhanced Packet Block refers to interface 1 but its section describes 1 interface", e.problem());
    }

    @Test
    void optionsMayEndWithoutEndOfOptionsAndStringsLoseTrailingNuls() throws IOException {
        // An IDB whose if_name ends in NULs and whose option list has no opt_endofopt.
        byte[] body = {1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 6, 0, 'l', 'o', 0, 0, 0, 0, 0, 0};
        byte[] idb = new byte[12 + body.length];
        idb[0] = 1;
        idb[4] = (byte) idb.length;
        System.arraycopy(body, 0, idb, 8, body.length);
        idb[idb.length - 4] = (byte) idb.length;
        byte[] file = new Pcapng(ByteOrder.LITTLE_ENDIAN).raw(idb).epb(0, 1, V4).bytes();
        try (CaptureReader reader = CaptureReader.open(new ByteArrayInputStream(file))) {
            assertEquals(LinkTypes.ETHERNET, reader.next().linkType());
            assertEquals("lo", reader.interfaces().get(0).name());
        }
    }
}
