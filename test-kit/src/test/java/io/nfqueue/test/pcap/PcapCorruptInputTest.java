package io.nfqueue.test.pcap;

import com.sun.management.ThreadMXBean;
import io.nfqueue.test.pcap.PcapTestFiles.Classic;
import io.nfqueue.test.pcap.PcapTestFiles.Pcapng;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

import static io.nfqueue.test.pcap.PcapTestFiles.ipv4Udp;
import static io.nfqueue.test.pcap.PcapTestFiles.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad files: each fault is reported as itself, at its offset, without reading past what is there. */
class PcapCorruptInputTest {
    private static final byte[] V4 = ipv4Udp(1000, 53, utf8("four"));
    private static final int SHB_LENGTH = 12 + 16 + 4 + 4 + 4;       // what PcapTestFiles writes: userappl "test" and the end
    /** An IDB without options but opt_endofopt. */
    private static final int IDB_LENGTH = 12 + 8 + 4;
    private static final int LIMIT = CaptureReader.MAX_BLOCK_BYTES;

    private static CaptureFormatException fails(byte[] file) {
        return assertThrows(CaptureFormatException.class, () -> CaptureReader.readAll(new ByteArrayInputStream(file)));
    }

    private static void assertFault(byte[] file, long offset, String problem) {
        CaptureFormatException e = fails(file);
        assertEquals(problem, e.problem());
        assertEquals(offset, e.offset(), e.getMessage());
    }

    private static byte[] putInt(byte[] file, int at, int value, ByteOrder order) {
        byte[] copy = file.clone();
        ByteBuffer.wrap(copy).order(order).putInt(at, value);
        return copy;
    }

    // ---- what no capture starts with ----

    @Test
    void neitherFormat() {
        assertInstanceOf(TruncatedCaptureException.class, fails(new byte[0]));
        assertFault(new byte[0], 0, "the file is empty: no pcap or pcapng header");
        assertFault(new byte[] {(byte) 0xd4, (byte) 0xc3}, 0, "the magic number needs 4 bytes but the file ends after 2");
        assertFault(utf8("GET / HTTP/1.1"), 0,
                "text (\"GET ...\", magic number 0x47455420) is neither pcap (a1b2c3d4 or a1b23c4d, either byte order)"
                        + " nor pcapng (0a0d0d0a)");
        assertFault(new byte[] {0x7f, 'E', 'L', 'F'}, 0,
                "magic number 0x7f454c46 is neither pcap (a1b2c3d4 or a1b23c4d, either byte order) nor pcapng (0a0d0d0a)");
        assertFault(new byte[] {0x1f, (byte) 0x8b, 8, 0}, 0, "gzip-compressed data (magic 1f 8b): decompress the capture first");
        assertTrue(fails(new byte[] {0x34, (byte) 0xcd, (byte) 0xb2, (byte) 0xa1}).problem().contains("modified (Kuznetzov)"));
    }

    // ---- classic pcap ----

    @Test
    void classicCutShortAnywhere() throws IOException {
        byte[] file = new Classic(ByteOrder.LITTLE_ENDIAN, false, LinkTypes.RAW, 0).record(1, 0, V4).record(2, 0, V4).bytes();
        assertFault(Arrays.copyOf(file, 14), 4, "the pcap file header needs 20 bytes but the file ends after 10");
        int second = 24 + 16 + V4.length;
        assertFault(Arrays.copyOf(file, second + 5), second, "the record header needs 16 bytes but the file ends after 5");
        assertFault(Arrays.copyOf(file, file.length - 1), second + 16,
                "the packet (" + V4.length + " captured bytes) needs " + V4.length + " bytes but the file ends after "
                        + (V4.length - 1));

        // the records before the cut are read; the failure then stays
        try (CaptureReader reader = CaptureReader.open(new ByteArrayInputStream(Arrays.copyOf(file, file.length - 1)))) {
            assertNotNull(reader.next());
            TruncatedCaptureException e = assertThrows(TruncatedCaptureException.class, reader::next);
            assertSame(e, assertThrows(TruncatedCaptureException.class, reader::next));
        }
    }

    @Test
    void classicAbsurdLengths() {
        byte[] file = new Classic(ByteOrder.BIG_ENDIAN, false, LinkTypes.RAW, 0).record(1, 0, V4).bytes();
        assertFault(putInt(file, 24 + 8, -1, ByteOrder.BIG_ENDIAN), 24 + 8,
                "captured length 4294967295 exceeds the reader's limit of " + LIMIT + " bytes: not a real packet");
        assertFault(putInt(file, 24 + 12, 0x80000000, ByteOrder.BIG_ENDIAN), 24 + 12, "original length 2147483648 is impossible");
    }

    /** A length at the limit in a tiny file costs what the file holds, not what the length claims. */
    @Test
    void aClaimedLengthAllocatesNoMoreThanTheFileHolds() {
        byte[] classic = putInt(new Classic(ByteOrder.LITTLE_ENDIAN, false, LinkTypes.RAW, 0).record(1, 0, V4).bytes(),
                24 + 8, LIMIT, ByteOrder.LITTLE_ENDIAN);
        byte[] pcapng = putInt(new Pcapng(ByteOrder.LITTLE_ENDIAN).idb(LinkTypes.RAW).epb(0, 1, V4).bytes(),
                SHB_LENGTH + IDB_LENGTH + 4, LIMIT, ByteOrder.LITTLE_ENDIAN);
        ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (byte[] file : List.of(classic, pcapng)) {
            long before = threads.getCurrentThreadAllocatedBytes();
            assertInstanceOf(TruncatedCaptureException.class, fails(file));
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertTrue(allocated < 1024 * 1024, "allocated " + allocated + " bytes for a claimed " + LIMIT);
        }
    }

    // ---- pcapng ----

    @Test
    void pcapngSectionHeaderFaults() {
        byte[] file = new Pcapng(ByteOrder.LITTLE_ENDIAN).idb(LinkTypes.RAW).epb(0, 1, V4).bytes();
        assertFault(putInt(file, 8, 0x11223344, ByteOrder.BIG_ENDIAN), 8,
                "byte-order magic 0x11223344 is not 0x1a2b3c4d in either byte order");
        byte[] v2 = file.clone();
        v2[12] = 2;
        assertFault(v2, 12, "pcapng version 2.0 is not supported (only 1.x is defined)");
        assertFault(putInt(file, 4, 24, ByteOrder.LITTLE_ENDIAN), 4,
                "the Section Header Block's total length 24 is less than the 28 bytes such a block needs");
        assertFault(Arrays.copyOf(file, 10), 4,
                "the Section Header Block's total length and byte-order magic needs 8 bytes but the file ends after 6");
    }

    @Test
    void pcapngBlockLengthFaults() {
        byte[] file = new Pcapng(ByteOrder.BIG_ENDIAN).idb(LinkTypes.RAW).epb(0, 1, V4).bytes();
        int idb = SHB_LENGTH;
        assertFault(putInt(file, idb + 4, 8, ByteOrder.BIG_ENDIAN), idb + 4,
                "the Interface Description Block's total length 8 is less than the 20 bytes such a block needs");
        assertFault(putInt(file, idb + 4, 22, ByteOrder.BIG_ENDIAN), idb + 4,
                "the Interface Description Block's total length 22 is not a multiple of 4");
        assertFault(putInt(file, idb + 4, 0x7ffffff0, ByteOrder.BIG_ENDIAN), idb + 4,
                "the Interface Description Block's total length 2147483632 exceeds the reader's limit of " + LIMIT
                        + " bytes: not a real block");
        assertFault(putInt(file, idb + 4, 28, ByteOrder.BIG_ENDIAN), idb + 24,
                "the block starting at byte offset " + idb + " gives its total length as 28 at its start and 6 at its end");
        byte[] cut = Arrays.copyOf(file, file.length - 2);
        assertInstanceOf(TruncatedCaptureException.class, fails(cut));
        assertFault(Arrays.copyOf(file, file.length + 2), file.length, "a block type needs 4 bytes but the file ends after 2");
    }

    @Test
    void pcapngPacketFaults() {
        int epb = SHB_LENGTH + IDB_LENGTH;
        byte[] file = new Pcapng(ByteOrder.LITTLE_ENDIAN).idb(LinkTypes.RAW).epb(0, 1, V4).bytes();
        int room = (V4.length + 3) & ~3;
        assertFault(putInt(file, epb + 20, room + 1, ByteOrder.LITTLE_ENDIAN), epb + 20,
                "captured length " + (room + 1) + " runs past the end of its block (room for " + room + " bytes)");
        assertFault(putInt(file, epb + 8, 3, ByteOrder.LITTLE_ENDIAN), epb + 8,
                "the Enhanced Packet Block refers to interface 3 but its section describes 1 interface");
        assertFault(new Pcapng(ByteOrder.LITTLE_ENDIAN).epb(0, 1, V4).bytes(), SHB_LENGTH + 8,
                "the Enhanced Packet Block refers to interface 0 but its section describes 0 interfaces");
        assertFault(new Pcapng(ByteOrder.LITTLE_ENDIAN).spb(V4.length, V4).bytes(), SHB_LENGTH + 8,
                "the Simple Packet Block refers to interface 0 but its section describes 0 interfaces");
        byte[] withComment = new Pcapng(ByteOrder.LITTLE_ENDIAN).idb(LinkTypes.RAW).epb(0, 1, V4, V4.length, null, "hi").bytes();
        int option = epb + 8 + 20 + room;
        assertFault(putInt(withComment, option, 1 | 200 << 16, ByteOrder.LITTLE_ENDIAN), option,
                "option 1's length 200 runs past the end of its block (room for 8 bytes)");
    }

    @Test
    void pcapngInterfaceOptionFaults() {
        int tsresol = SHB_LENGTH + 8 + 8;
        byte[] file = new Pcapng(ByteOrder.BIG_ENDIAN).idb(LinkTypes.RAW, 0, 9, null, null).epb(0, 1, V4).bytes();
        assertFault(putInt(file, tsresol, 9 << 16 | 2, ByteOrder.BIG_ENDIAN), tsresol, "if_tsresol has length 2, not 1");
        assertFault(new Pcapng(ByteOrder.BIG_ENDIAN).idb(LinkTypes.RAW, 0, 19, null, null).bytes(), tsresol + 4,
                "if_tsresol 10^-19 is finer than a 64-bit count of units per second can hold");
        assertFault(new Pcapng(ByteOrder.BIG_ENDIAN).idb(LinkTypes.RAW, 0, 0x80 | 63, null, null).bytes(), tsresol + 4,
                "if_tsresol 2^-63 is finer than a 64-bit count of units per second can hold");
        // whole seconds: 2^64 - 1 of them is past any Instant
        assertFault(new Pcapng(ByteOrder.BIG_ENDIAN).idb(LinkTypes.RAW, 0, 0, null, null).epb(0, -1L, V4).bytes(),
                SHB_LENGTH + IDB_LENGTH + 8 + 12,
                "timestamp 18446744073709551615 units of 1/1 s (offset 0 s) is out of range");
        assertFault(new Pcapng(ByteOrder.BIG_ENDIAN).idb(LinkTypes.RAW, 0, 9, null, Long.MAX_VALUE).epb(0, 1L << 62, V4).bytes(),
                SHB_LENGTH + IDB_LENGTH + 8 + 12 + 12,
                "timestamp 4611686018427387904 units of 1/1000000000 s (offset 9223372036854775807 s) is out of range");
    }

    @Test
    void aSkippedBlockThatRunsPastTheEndIsTruncation() {
        byte[] file = new Pcapng(ByteOrder.LITTLE_ENDIAN).idb(LinkTypes.RAW).other(0xBAD, 4096).bytes();
        TruncatedCaptureException e = assertThrows(TruncatedCaptureException.class,
                () -> CaptureReader.readAll(new ByteArrayInputStream(Arrays.copyOf(file, file.length - 100))));
        assertEquals(SHB_LENGTH + IDB_LENGTH + 8, e.offset());
        assertEquals("block type 0x00000bad's body needs 4096 bytes but the file ends after 4000", e.problem());
    }
}
