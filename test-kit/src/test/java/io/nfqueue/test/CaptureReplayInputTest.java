package io.nfqueue.test;

import io.nfqueue.Hook;
import io.nfqueue.Packet;
import io.nfqueue.reactor.ReceiverOptions;
import io.nfqueue.test.pcap.CaptureFormatException;
import io.nfqueue.test.pcap.CaptureReader;
import io.nfqueue.test.pcap.CaptureRecord;
import io.nfqueue.test.pcap.LinkTypes;
import io.nfqueue.test.pcap.TruncatedCaptureException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.scheduler.VirtualTimeScheduler;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a replay reads and writes: files that are not captures fail first with what was found; the verdict file reads back. */
@Timeout(60)
class CaptureReplayInputTest {
    @TempDir
    Path dir;

    private static ReplayReport acceptAll(Path file) throws IOException {
        return CaptureReplay.of(file).run(packets -> packets.doOnNext(Packet::accept));
    }

    @Test
    void aMissingFileADirectoryAndAFileThatIsNoCaptureFailBeforeThePipelineRuns() throws IOException {
        Path missing = dir.resolve("nope.pcap");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> acceptAll(missing));
        assertEquals(missing + ": no such capture file", e.getMessage());

        IOException d = assertThrows(IOException.class, () -> acceptAll(dir));
        assertEquals(dir + ": a directory, not a capture file", d.getMessage());

        Path rules = Files.writeString(dir.resolve("rules.txt"), "drop proto udp dport 53\n");
        CaptureFormatException f = assertThrows(CaptureFormatException.class, () -> acceptAll(rules));
        assertEquals(rules + ": at byte offset 0: text (\"drop...\", magic number 0x64726f70) is neither pcap (a1b2c3d4"
                + " or a1b23c4d, either byte order) nor pcapng (0a0d0d0a)", f.getMessage());

        Path empty = Files.write(dir.resolve("empty.pcap"), new byte[0]);
        assertThrows(TruncatedCaptureException.class, () -> acceptAll(empty));

        // a capture cut inside its last record: the replay refuses it rather than replaying a part silently
        byte[] whole = Files.readAllBytes(TestCaptures.real("lo-udp.pcap"));
        Path cut = Files.write(dir.resolve("cut.pcap"), Arrays.copyOf(whole, whole.length - 3));
        TruncatedCaptureException t = assertThrows(TruncatedCaptureException.class, () -> acceptAll(cut));
        assertTrue(t.getMessage().startsWith(cut + ": at byte offset "), t.getMessage());
    }

    @Test
    void aCaptureOfALinkTypeNothingDecodesSaysWhichTypeItFoundAndWhichItReads() throws IOException {
        Path wifi = TestCaptures.classic(dir.resolve("wifi.pcap"), 105, new byte[24], new byte[30]);
        UnsupportedLinkTypeException e = assertThrows(UnsupportedLinkTypeException.class, () -> acceptAll(wifi));
        assertEquals(wifi + ": nothing to replay: all 2 records are of link type LINKTYPE 105, which the replay does not "
                + "decode (it reads NULL (0), ETHERNET (1), RAW (101), LOOP (108), LINUX_SLL (113), IPV4 (228), IPV6 (229), "
                + "LINUX_SLL2 (276))", e.getMessage());
        assertEquals(Set.of(105), e.linkTypes());

        // one that holds IP packets beside them is replayed, the others skipped with the reason
        byte[] ip = Packets.udp().from("10.0.0.1", 1).to("10.0.0.2", 2).build();
        Path raw = TestCaptures.classic(dir.resolve("raw.pcap"), LinkTypes.RAW, ip, new byte[] {0x10, 0, 0, 0});
        ReplayReport report = acceptAll(raw);
        assertEquals(1, report.packets().size());
        assertEquals(List.of(new SkippedRecord(2, report.skipped().get(0).timestamp(), LinkTypes.RAW,
                "raw frame with IP version 1")), report.skipped());

        // a capture with no record is an empty report, not an error
        ReplayReport none = acceptAll(TestCaptures.classic(dir.resolve("none.pcap"), LinkTypes.ETHERNET));
        assertEquals(0, none.recordCount());
        assertTrue(none.summary().startsWith("0 packets replayed from "), none.summary());
        assertEquals(List.of(), none.lines());
    }

    @Test
    void optionsOutOfRangeAndVirtualTimeAreRefused() {
        CaptureReplay r = CaptureReplay.of(dir.resolve("x.pcap"));
        assertThrows(IllegalArgumentException.class, () -> r.atSpeed(0));
        assertThrows(IllegalArgumentException.class, () -> r.atSpeed(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> r.receiverOptions(ReceiverOptions.queues(1, 2)));
        assertThrows(IllegalArgumentException.class, () -> r.hook(Hook.UNKNOWN));
        VirtualTimeScheduler.getOrSet();
        try {
            Path file = TestCaptures.real("lo-udp.pcap");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> acceptAll(file));
            assertTrue(e.getMessage().startsWith("a capture replay runs in real time"), e.getMessage());
        } finally {
            VirtualTimeScheduler.reset();
        }
    }

    @Test
    void theVerdictFileHoldsEachReplayedPacketWithItsVerdictAsItsComment() throws IOException {
        ReplayReport report = CaptureReplay.of(TestCaptures.real("veth-arp.pcap")).run(packets -> packets.index()
                .doOnNext(t -> {
                    if (t.getT1() == 1) {
                        t.getT2().drop();
                    } else {
                        t.getT2().accept();
                    }
                }));
        Path out = dir.resolve("verdicts.pcapng");
        report.writePcapng(out);
        List<CaptureRecord> back = CaptureReader.readAll(out);
        assertEquals(3, back.size(), "the two ARP records hold no IP packet and are not written");
        assertEquals(List.of("capture record 3: ACCEPT by the program"), back.get(0).comments());
        assertEquals(List.of("capture record 4: DROP by the program"), back.get(1).comments());
        assertEquals(List.of("capture record 5: ACCEPT by the program"), back.get(2).comments());
        for (int i = 0; i < 3; i++) {
            ReplayedPacket p = report.packets().get(i);
            assertEquals(LinkTypes.RAW, back.get(i).linkType());
            assertEquals(p.timestamp(), back.get(i).timestamp());
            assertArrayEquals(p.captured().payloadBytes(), back.get(i).dataBytes());
        }

        ReplayReport cut = acceptAll(TestCaptures.real("lo-udp-snap48.pcap"));
        Path cutOut = dir.resolve("cut.pcapng");
        cut.writePcapng(cutOut);
        List<CaptureRecord> cutBack = CaptureReader.readAll(cutOut);
        assertEquals(3, cutBack.size());
        for (int i = 0; i < 3; i++) {
            assertEquals(34, cutBack.get(i).capturedLength());
            assertEquals(42, cutBack.get(i).originalLength(), "the original length stays");
            assertEquals(List.of("capture record " + (i + 1) + ": ACCEPT by the program"), cutBack.get(i).comments());
        }
        assertTrue(new String(Files.readAllBytes(cutOut), StandardCharsets.UTF_8).contains("ACCEPT by the program"));
    }
}
