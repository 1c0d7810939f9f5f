package io.nfqueue.test.pcap;

import io.nfqueue.test.pcap.PcapTestFiles.Classic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static io.nfqueue.test.pcap.PcapTestFiles.ipv4Udp;
import static io.nfqueue.test.pcap.PcapTestFiles.utf8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** libpcap's classic format: both byte orders, both timestamp resolutions, the header's fields. */
class PcapClassicReaderTest {
    private static final byte[] FRAME = ipv4Udp(1000, 53, utf8("hello"));

    @ParameterizedTest(name = "{0}, nanos={1}")
    @CsvSource({"BIG_ENDIAN, false", "LITTLE_ENDIAN, false", "BIG_ENDIAN, true", "LITTLE_ENDIAN, true"})
    void readsEitherByteOrderAndEitherResolution(String orderName, boolean nanos) throws IOException {
        ByteOrder order = orderName.equals("BIG_ENDIAN") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        long fraction = nanos ? 123_456_789 : 123_456;
        byte[] file = new Classic(order, nanos, LinkTypes.RAW, 65535)
                .record(1_700_000_000L, fraction, FRAME)
                .record(4_000_000_000L, 0, FRAME)          // past 2038: the seconds are unsigned
                .bytes();

        try (CaptureReader reader = CaptureReader.open(new ByteArrayInputStream(file))) {
            assertEquals(CaptureFormat.PCAP, reader.format());
            assertEquals(List.of(new CaptureInterface(0, LinkTypes.RAW, 65535, "", nanos ? 1_000_000_000L : 1_000_000L, 0)),
                    reader.interfaces());
            CaptureRecord first = reader.next();
            assertEquals(Instant.ofEpochSecond(1_700_000_000L, nanos ? 123_456_789 : 123_456_000), first.timestamp().get());
            assertEquals(0, first.interfaceIndex());
            assertEquals(LinkTypes.RAW, first.linkType());
            assertArrayEquals(FRAME, first.dataBytes());
            assertEquals(FRAME.length, first.originalLength());
            assertFalse(first.isTruncated());
            assertEquals(Direction.UNKNOWN, first.direction());
            assertEquals(List.of(), first.comments());
            assertEquals(Instant.ofEpochSecond(4_000_000_000L), reader.next().timestamp().get());
            assertNull(reader.next());
            assertNull(reader.next(), "the end stays the end");
        }
    }

    @Test
    void aRecordCutByTheSnapLengthKeepsItsOriginalLength() throws IOException {
        byte[] cut = Arrays.copyOf(FRAME, 20);
        List<CaptureRecord> records = CaptureReader.readAll(new ByteArrayInputStream(
                new Classic(ByteOrder.LITTLE_ENDIAN, false, LinkTypes.RAW, 20).record(1, 0, cut, FRAME.length).bytes()));
        assertEquals(20, records.get(0).capturedLength());
        assertEquals(FRAME.length, records.get(0).originalLength());
        assertTrue(records.get(0).isTruncated());
    }

    @Test
    void anOriginalLengthBelowTheCapturedOneIsRaisedToIt() throws IOException {
        List<CaptureRecord> records = CaptureReader.readAll(new ByteArrayInputStream(
                new Classic(ByteOrder.LITTLE_ENDIAN, false, LinkTypes.RAW, 0).record(1, 0, FRAME, 0).bytes()));
        assertEquals(FRAME.length, records.get(0).originalLength());
    }

    @Test
    void theLinkTypeFieldsUpperBitsAreFlagsNotTheType() throws IOException {
        // draft-ietf-opsawg-pcap: bit 28 says an FCS of (bits 29-31) 16-bit words follows each frame.
        int field = 1 << 28 | 2 << 29 | LinkTypes.ETHERNET;
        try (CaptureReader reader = CaptureReader.open(new ByteArrayInputStream(
                new Classic(ByteOrder.BIG_ENDIAN, false, field, 65535).bytes()))) {
            assertEquals(LinkTypes.ETHERNET, reader.interfaces().get(0).linkType());
            assertNull(reader.next(), "a header without records is an empty capture");
        }
    }

    @Test
    void aMicrosecondFieldOfASecondOrMoreCarriesIntoTheSeconds() throws IOException {
        List<CaptureRecord> records = CaptureReader.readAll(new ByteArrayInputStream(
                new Classic(ByteOrder.LITTLE_ENDIAN, false, LinkTypes.RAW, 0).record(10, 2_500_000, FRAME).bytes()));
        assertEquals(Instant.ofEpochSecond(12, 500_000_000), records.get(0).timestamp().get());
    }

    @Test
    void readsFromAPathAndNamesItInErrors(@TempDir Path dir) throws IOException {
        Path good = dir.resolve("good.pcap");
        Files.write(good, new Classic(ByteOrder.LITTLE_ENDIAN, true, LinkTypes.RAW, 0).record(1, 2, FRAME).bytes());
        assertEquals(1, CaptureReader.readAll(good).size());

        Path bad = dir.resolve("bad.pcap");
        Files.write(bad, utf8("hello, world"));
        CaptureFormatException e = assertThrows(CaptureFormatException.class, () -> CaptureReader.readAll(bad));
        assertTrue(e.getMessage().startsWith(bad + ": at byte offset 0: text (\"hell...\", magic number 0x68656c6c)"),
                e.getMessage());
    }

    @Test
    void streamsRecordsAndSurfacesErrorsAsUnchecked() throws IOException {
        byte[] file = new Classic(ByteOrder.BIG_ENDIAN, false, LinkTypes.RAW, 0).record(1, 0, FRAME).record(2, 0, FRAME).bytes();
        try (Stream<CaptureRecord> records = CaptureReader.open(new ByteArrayInputStream(file)).stream()) {
            assertEquals(List.of(1L, 2L), records.map(r -> r.timestamp().get().getEpochSecond()).collect(Collectors.toList()));
        }
        byte[] cut = Arrays.copyOf(file, file.length - 1);
        try (Stream<CaptureRecord> records = CaptureReader.open(new ByteArrayInputStream(cut)).stream()) {
            UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> records.forEach(r -> { }));
            assertInstanceOf(TruncatedCaptureException.class, e.getCause());
        }
    }

    @Test
    void anUnknownVersionIsRefusedByName() {
        byte[] file = new Classic(ByteOrder.BIG_ENDIAN, false, LinkTypes.RAW, 0).bytes();
        file[4] = 0;
        file[5] = 3;
        CaptureFormatException e = assertThrows(CaptureFormatException.class,
                () -> CaptureReader.readAll(new ByteArrayInputStream(file)));
        assertEquals(4, e.offset());
        assertEquals("pcap version 3.4 is not supported (only 2.x is defined)", e.problem());
    }
}
