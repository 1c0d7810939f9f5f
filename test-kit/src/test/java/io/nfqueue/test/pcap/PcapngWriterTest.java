package io.nfqueue.test.pcap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.nfqueue.test.pcap.PcapTestFiles.ipv4Udp;
import static io.nfqueue.test.pcap.PcapTestFiles.ipv6Udp;
import static io.nfqueue.test.pcap.PcapTestFiles.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pcapng writer: what it writes reads back the same, and its layout is the specification's. */
class PcapngWriterTest {
    private static final byte[] V4 = ipv4Udp(1000, 53, utf8("four"));
    private static final byte[] V6 = ipv6Udp(1000, 53, utf8("six!!"));
    private static final Instant T = Instant.parse("2024-05-01T10:00:00.123456789Z");

    private static List<CaptureRecord> readBack(ByteArrayOutputStream file) throws IOException {
        return CaptureReader.readAll(new ByteArrayInputStream(file.toByteArray()));
    }

    @Test
    void packetsCommentsTimestampsAndLengthsRoundTrip() throws IOException {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        Instant late = Instant.parse("2500-01-01T00:00:00.000000001Z");       // past 2262: beyond a signed count
        try (PcapngWriter out = PcapngWriter.create(file)) {
            out.write(T, V4, "ACCEPT mark=0x7");
            out.write(T.plusNanos(1), V6, "DROP (default: TIMEOUT)\nsecond line, ünïcode");
            out.write(late, Arrays.copyOf(V4, 21), V4.length, null);            // cut short, no comment
            out.write(Instant.EPOCH, V6, "");
            assertEquals(4, out.packetCount());
        }
        List<CaptureRecord> back = readBack(file);
        assertEquals(List.of(
                new CaptureRecord(T, 0, LinkTypes.RAW, V4, V4.length, Direction.UNKNOWN, List.of("ACCEPT mark=0x7")),
                new CaptureRecord(T.plusNanos(1), 0, LinkTypes.RAW, V6, V6.length, Direction.UNKNOWN,
                        List.of("DROP (default: TIMEOUT)\nsecond line, ünïcode")),
                new CaptureRecord(late, 0, LinkTypes.RAW, Arrays.copyOf(V4, 21), V4.length),
                new CaptureRecord(Instant.EPOCH, 0, LinkTypes.RAW, V6, V6.length)), back);

        LinkLayerDecoder decoder = new LinkLayerDecoder();
        assertEquals(IpPacket.IPV4, decoder.decode(back.get(0)).orElseThrow().hwProtocol());
        assertEquals(IpPacket.IPV6, decoder.decode(back.get(1)).orElseThrow().hwProtocol());
        IpPacket cut = decoder.decode(back.get(2)).orElseThrow();
        assertTrue(cut.isTruncated());
        assertEquals(V4.length, cut.originalLength());
    }

    @Test
    void theSectionAndInterfaceAreWhatTheSpecificationAndWiresharkExpect() throws IOException {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        try (PcapngWriter out = PcapngWriter.create(file)) {
            out.write(T, V4, "ok");
        }
        ByteBuffer b = ByteBuffer.wrap(file.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0x0A0D0D0A, b.getInt(0), "Section Header Block");
        int shbLength = b.getInt(4);
        assertEquals(0x1A2B3C4D, b.getInt(8), "byte-order magic, little-endian");
        assertEquals(1, b.getShort(12), "major version");
        assertEquals(0, b.getShort(14), "minor version");
        assertEquals(-1L, b.getLong(16), "section length unknown");
        assertEquals(shbLength, b.getInt(shbLength - 4), "trailing length");

        int idb = shbLength;
        assertEquals(1, b.getInt(idb), "Interface Description Block");
        int idbLength = b.getInt(idb + 4);
        assertEquals(LinkTypes.RAW, b.getShort(idb + 8));
        assertEquals(0, b.getInt(idb + 12), "snap length: no limit");
        try (CaptureReader reader = CaptureReader.open(new ByteArrayInputStream(file.toByteArray()))) {
            reader.next();
            assertEquals(List.of(new CaptureInterface(0, LinkTypes.RAW, 0, "nfqueue", 1_000_000_000, 0)), reader.interfaces());
        }

        int epb = idb + idbLength;
        assertEquals(6, b.getInt(epb), "Enhanced Packet Block");
        int epbLength = b.getInt(epb + 4);
        assertEquals(12 + 20 + 32 + 4 + 4 + 4, epbLength, "fixed fields, 32 bytes of packet, the comment padded, end of options");
        assertEquals(0, b.getInt(epb + 8), "interface 0");
        long ticks = (b.getInt(epb + 12) & 0xffffffffL) << 32 | (b.getInt(epb + 16) & 0xffffffffL);
        assertEquals(T.getEpochSecond() * 1_000_000_000L + T.getNano(), ticks, "nanoseconds since 1970");
        assertEquals(V4.length, b.getInt(epb + 20));
        assertEquals(V4.length, b.getInt(epb + 24));
        int option = epb + 28 + 32;
        assertEquals(1, b.getShort(option), "opt_comment");
        assertEquals(2, b.getShort(option + 2));
        assertEquals("ok", new String(file.toByteArray(), option + 4, 2, StandardCharsets.UTF_8));
        assertEquals(0, b.getInt(option + 8), "opt_endofopt");
        assertEquals(epb + epbLength, file.size());
    }

    @Test
    void packetsWithoutATimestampTakeTheClocksTime() throws IOException {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        try (PcapngWriter out = PcapngWriter.create(file, Clock.fixed(T, ZoneOffset.UTC))) {
            out.write(V4, "now");
            IpPacket spb = new LinkLayerDecoder().decode(new CaptureRecord(null, 0, LinkTypes.RAW, V6, V6.length)).orElseThrow();
            out.write(spb, "no timestamp in the capture");
        }
        List<CaptureRecord> back = readBack(file);
        assertEquals(T, back.get(0).timestamp().get());
        assertEquals(T, back.get(1).timestamp().get());
    }

    @Test
    void writesAFile(@TempDir Path dir) throws IOException {
        Path path = dir.resolve("verdicts.pcapng");
        try (PcapngWriter out = PcapngWriter.create(path)) {
            out.write(T, V4, "ACCEPT");
        }
        assertEquals(List.of("ACCEPT"), CaptureReader.readAll(path).get(0).comments());
        assertTrue(Files.size(path) > 0);
    }

    @Test
    void verdictsFromManyThreadsEachLandWhole() throws Exception {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (PcapngWriter out = PcapngWriter.create(file)) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    for (int i = 0; i < 250; i++) {
                        out.write(T, thread % 2 == 0 ? V4 : V6, "thread " + thread + " packet " + i);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        List<CaptureRecord> back = readBack(file);
        assertEquals(1000, back.size());
        Set<String> comments = new HashSet<>();
        back.forEach(r -> comments.addAll(r.comments()));
        assertEquals(1000, comments.size());
    }

    @Test
    void refusesWhatTheFormatCannotHold() throws IOException {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        PcapngWriter out = PcapngWriter.create(file);
        assertThrows(IllegalArgumentException.class, () -> out.write(Instant.parse("1969-12-31T23:59:59Z"), V4, "x"));
        assertThrows(IllegalArgumentException.class, () -> out.write(Instant.parse("2554-07-22T00:00:00Z"), V4, "x"));
        assertThrows(IllegalArgumentException.class, () -> out.write(T, V4, V4.length - 1, "x"));
        assertThrows(IllegalArgumentException.class, () -> out.write(T, V4, "x".repeat(65_536)));
        out.write(T, V4, "é".repeat(32_767));                                   // 65,534 bytes of UTF-8: fits
        out.close();
        assertThrows(IllegalStateException.class, () -> out.write(T, V4, "after close"));
        assertEquals(1, readBack(file).size(), "the refused writes left nothing behind");
    }
}
