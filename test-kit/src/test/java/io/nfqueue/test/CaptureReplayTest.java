package io.nfqueue.test;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Hook;
import io.nfqueue.Packet;
import io.nfqueue.Verdict;
import io.nfqueue.packet.PacketParser;
import io.nfqueue.reactor.ReceiverOptions;
import io.nfqueue.test.pcap.CaptureReader;
import io.nfqueue.test.pcap.CaptureRecord;
import io.nfqueue.test.pcap.Direction;
import io.nfqueue.test.pcap.LinkLayerDecoder;
import io.nfqueue.test.pcap.LinkTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replays of real tcpdump captures and of captures written here, through pipelines that decide,
 * forget, fail, end early or are slow: what each packet got, in capture order, and how the
 * replay ended.
 */
@Timeout(60)
class CaptureReplayTest {
    @TempDir
    Path dir;

    /** The UDP payload of a packet as text. */
    static String text(Packet p) {
        PacketParser parser = PacketParser.of(p.payloadBytes());
        byte[] b = new byte[parser.transportPayloadLength()];
        parser.transportPayload().get(b);
        return new String(b, StandardCharsets.US_ASCII);
    }

    private static int ipVersion(Packet p) {
        return (p.payloadBytes()[0] & 0xf0) >>> 4;
    }

    @Test
    void eachPacketOfARealCaptureGetsThePipelinesVerdictInCaptureOrder() throws Exception {
        // lo-udp.pcap: tcpdump -i lo, datagrams "nfqueue-pcap-0..2" over IPv4, "-3..4" over IPv6
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        ReplayReport report = CaptureReplay.of(TestCaptures.real("lo-udp.pcap")).run(packets -> packets.doOnNext(p -> {
            seen.add(text(p));
            p.verdict(ipVersion(p) == 6 ? Verdict.drop() : Verdict.accept().withMark(0x10));
        }));
        assertEquals(List.of("nfqueue-pcap-0", "nfqueue-pcap-1", "nfqueue-pcap-2", "nfqueue-pcap-3", "nfqueue-pcap-4"), seen);
        assertEquals(5, report.packets().size());
        assertEquals(5, report.recordCount());
        for (int i = 0; i < 5; i++) {
            ReplayedPacket p = report.packets().get(i);
            assertEquals(i + 1, p.captureIndex());
            assertEquals(i < 3 ? Verdict.accept().withMark(0x10) : Verdict.drop(), p.verdict().orElseThrow().verdict());
            assertTrue(p.verdict().get().byProgram());
            assertTrue(p.noVerdictReason().isEmpty());
        }
        assertEquals(CaptureReader.readAll(TestCaptures.real("lo-udp.pcap")).get(0).timestamp(),
                report.packets().get(0).timestamp());
        assertEquals(3, report.count(Verdict.Kind.ACCEPT));
        assertEquals(2, report.count(Verdict.Kind.DROP));
        assertEquals(0, report.defaultCount());
        assertEquals(0, report.noVerdictCount());
        assertEquals(Map.of("ACCEPT", 3L, "DROP", 2L), report.verdictCounts());
        List<String> lines = report.lines();
        assertEquals(5, lines.size());
        // an ETHERNET capture does not say which way a packet went: the standard mapping queues it at LOCAL_IN
        assertTrue(lines.get(0).matches("#1  \\+0\\.000000s  LOCAL_IN UDP 127\\.0\\.0\\.1:57177 -> 127\\.0\\.0\\.1:47114 len=42"
                + "  =>  ACCEPT mark 0x10 by the program"), lines.get(0));
        assertTrue(lines.get(4).matches("#5  \\+0\\.201518s  LOCAL_IN UDP \\[0:0:0:0:0:0:0:1]:56317 -> \\[0:0:0:0:0:0:0:1]:47114"
                + " len=62  =>  DROP by the program"), lines.get(4));
        assertTrue(report.summary().matches("5 packets replayed from .*lo-udp\\.pcap at maximum speed in \\d+\\.\\d s: "
                + "ACCEPT 3, DROP 2; the pipeline was cancelled by the replay at its end"), report.summary());
        assertEquals("was cancelled by the replay at its end", report.pipelineOutcome());
        assertTrue(report.pipelineError().isEmpty());
    }

    @Test
    void recordsWithoutAnIpPacketAreReportedInTheirPlaceAndTheSourceAddressComesAlong() throws Exception {
        // veth-arp.pcap: an ARP request and reply, then three datagrams from 8e:98:c7:70:36:a1
        List<byte[]> hw = Collections.synchronizedList(new ArrayList<>());
        List<Integer> devices = Collections.synchronizedList(new ArrayList<>());
        ReplayReport report = CaptureReplay.of(TestCaptures.real("veth-arp.pcap")).run(packets -> packets.doOnNext(p -> {
            hw.add(p.hwAddress().orElse(null));
            devices.add(p.inDevice());
            p.accept();
        }));
        assertEquals(List.of(3L, 4L, 5L), report.packets().stream().map(ReplayedPacket::captureIndex).toList());
        assertEquals(List.of(1L, 2L), report.skipped().stream().map(SkippedRecord::captureIndex).toList());
        assertEquals(Map.of("ethertype 0x0806 (ARP)", 2L), report.skippedByReason());
        assertEquals(5, report.recordCount());
        List<String> lines = report.lines();
        assertEquals("#1  +0.000000s  skipped: ethertype 0x0806 (ARP)", lines.get(0));
        assertEquals("#2  +0.000012s  skipped: ethertype 0x0806 (ARP)", lines.get(1));
        assertTrue(lines.get(2).startsWith("#3  +0.000016s  LOCAL_IN UDP 10.78.0.1:44058 -> 10.78.0.2:47114"), lines.get(2));
        assertTrue(report.summary().contains(": ACCEPT 3; 2 records skipped: ethertype 0x0806 (ARP) 2; the pipeline"),
                report.summary());
        for (byte[] a : hw) {
            assertArrayEquals(new byte[] {(byte) 0x8e, (byte) 0x98, (byte) 0xc7, 0x70, 0x36, (byte) 0xa1}, a);
        }
        assertEquals(List.of(0, 0, 0), devices, "a plain Ethernet capture names no interface index");
    }

    @Test
    void aCookedCaptureGivesDirectionDeviceAndTimestampAndHooksFollowTheDirection() throws Exception {
        // any-udp-nano.pcap: tcpdump -i any, LINUX_SLL2, every datagram "In" on ifindex 1, nanosecond stamps
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        List<CaptureRecord> records = CaptureReader.readAll(TestCaptures.real("any-udp-nano.pcap"));
        ReplayReport report = CaptureReplay.of(TestCaptures.real("any-udp-nano.pcap"))
                .hook(Direction.INBOUND, Hook.PRE_ROUTING)
                .run(packets -> packets.doOnNext(p -> {
                    seen.add(p.hook() + " in=" + p.inDevice() + " out=" + p.outDevice() + " " + p.timestamp().orElseThrow());
                    p.accept();
                }));
        assertEquals(5, seen.size());
        for (int i = 0; i < 5; i++) {
            Instant t = records.get(i).timestamp().orElseThrow();
            // the kernel stamps packets in microseconds
            assertEquals("PRE_ROUTING in=1 out=0 " + t.minusNanos(t.getNano() % 1000), seen.get(i));
            assertEquals(t, report.packets().get(i).timestamp().orElseThrow(), "the report keeps the capture's nanoseconds");
        }

        // a packet the capture marks as sent: LOCAL_OUT, its interface the out-device, no source address reported
        byte[] sent = Packets.udp().from("10.0.0.1", 5000).to("10.0.0.2", 53).payload("q").build();
        CaptureRecord out = new CaptureRecord(Instant.EPOCH.plusSeconds(1), 0, LinkTypes.LINUX_SLL2, sll2(sent, 7, 4),
                sent.length + 20, Direction.UNKNOWN, List.of());
        CaptureMapping mapping = CaptureMapping.standard();
        QueuedPacket q = mapping.toQueuedPacket(new LinkLayerDecoder().decode(out).orElseThrow());
        TestQueue queue = TestQueue.create();
        queue.offer(q);
        List<String> got = Collections.synchronizedList(new ArrayList<>());
        Disposable d = queue.receive(packets -> packets.doOnNext(p -> {
            got.add(p.hook() + " in=" + p.inDevice() + " out=" + p.outDevice() + " hw=" + p.hwAddress().isPresent());
            p.accept();
        })).subscribe();
        try {
            assertTrue(queue.awaitVerdicts(1, Duration.ofSeconds(10)));
        } finally {
            d.dispose();
        }
        assertEquals(List.of("LOCAL_OUT in=0 out=7 hw=false"), got);
        assertEquals(Hook.FORWARD, mapping.hook(Hook.FORWARD).hookFor(Direction.OUTBOUND));
        assertEquals(Hook.LOCAL_IN, mapping.hookFor(Direction.UNKNOWN));
    }

    /** A LINUX_SLL2 frame around {@code ip}: IPv4, interface {@code ifindex}, packet type {@code packetType} (4: sent). */
    private static byte[] sll2(byte[] ip, int ifindex, int packetType) {
        byte[] f = new byte[20 + ip.length];
        f[0] = 0x08;                       // protocol IPv4
        f[7] = (byte) ifindex;
        f[9] = 1;                          // ARPHRD_ETHER
        f[10] = (byte) packetType;
        f[11] = 6;                         // address length
        f[12] = 0x02;
        System.arraycopy(ip, 0, f, 20, ip.length);
        return f;
    }

    @Test
    void packetsTheSnapLengthCutArriveTruncatedWithTheirOriginalLength() throws Exception {
        // lo-udp-snap48.pcap: tcpdump -s 48: 34 of each 42-byte IP packet
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        ReplayReport report = CaptureReplay.of(TestCaptures.real("lo-udp-snap48.pcap")).run(packets -> packets.doOnNext(p -> {
            seen.add(p.isTruncated() + " " + p.payloadLength() + "/" + p.originalLength());
            p.accept();
        }));
        assertEquals(List.of("true 34/42", "true 34/42", "true 34/42"), seen);
        assertTrue(report.packets().get(0).summary().endsWith(" len=42"), report.packets().get(0).summary());
    }

    @Test
    void aPipelineThatForgetsPacketsEndsWithTheirTimeoutVerdictsNotAHang() throws Exception {
        ReplayReport report = CaptureReplay.of(TestCaptures.real("lo-udp.pcap"))
                .receiverOptions(ReceiverOptions.queue(0).verdictTimeout(Duration.ofMillis(300)))
                .run(packets -> packets.doOnNext(p -> {
                    if (text(p).endsWith("-1")) {
                        p.accept();
                    }                                               // the others are forgotten
                }));
        assertEquals(1, report.count(Verdict.Kind.ACCEPT));
        assertEquals(4, report.defaultCount());
        assertEquals(Map.of("ACCEPT", 1L, "DROP by default (TIMEOUT)", 4L), report.verdictCounts());
        assertEquals("DROP by default (TIMEOUT)", report.packets().get(0).verdictText());
        assertEquals(DefaultVerdictCause.TIMEOUT, report.packets().get(4).verdict().orElseThrow().defaultCause().orElseThrow());
        assertTrue(report.elapsed().compareTo(Duration.ofMillis(300)) >= 0, report.elapsed().toString());
    }

    @Test
    void withoutATimeoutTheReplayCancelsThePipelineAfterTheSettleTimeoutAndSaysWhatIsLeft() throws Exception {
        ReplayReport report = CaptureReplay.of(TestCaptures.real("lo-udp.pcap"))
                .receiverOptions(ReceiverOptions.queue(0).noVerdictTimeout().maxInFlight(2))
                .settleTimeout(Duration.ofMillis(300))
                .run(packets -> packets.doOnNext(p -> { }));
        // two were read (maxInFlight) and get the default at the cancel; the library resolves the three it never
        // read as it unbinds (CLOSE), as it does with a kernel queue
        assertEquals(Map.of("DROP by default (CANCEL)", 2L, "DROP by default (CLOSE)", 3L), report.verdictCounts());
        assertEquals("was cancelled by the replay after 0.3 s without a new verdict (5 packets were waiting)",
                report.pipelineOutcome());
        assertEquals("DROP by default (CANCEL)", report.packets().get(0).verdictText());
        assertTrue(report.lines().get(4).endsWith("=>  DROP by default (CLOSE)"), report.lines().get(4));
        assertTrue(report.summary().endsWith("DROP by default (CANCEL) 2, DROP by default (CLOSE) 3; the pipeline was "
                + "cancelled by the replay after 0.3 s without a new verdict (5 packets were waiting)"), report.summary());
    }

    @Test
    void aPipelineThatFailsOrEndsEarlyIsReportedSoAndItsPacketsToo() throws Exception {
        ReplayReport failed = CaptureReplay.of(TestCaptures.real("lo-udp.pcap"))
                .run(packets -> Flux.error(new IllegalStateException("no rules loaded")));
        String ise = IllegalStateException.class.getName();
        assertEquals("failed: " + ise + ": no rules loaded", failed.pipelineOutcome());
        assertEquals("no rules loaded", failed.pipelineError().orElseThrow().getMessage());
        assertEquals(5, failed.noVerdictCount());
        assertEquals("none: offered after the pipeline failed: " + ise + ": no rules loaded, so no "
                + "program held the queue", failed.packets().get(0).verdictText());

        ReplayReport two = CaptureReplay.of(TestCaptures.real("lo-udp.pcap"))
                .run(packets -> packets.doOnNext(Packet::accept).take(2));
        assertEquals("completed by itself", two.pipelineOutcome());
        assertEquals("ACCEPT by the program", two.packets().get(0).verdictText());
        assertEquals("ACCEPT by the program", two.packets().get(1).verdictText());
        for (ReplayedPacket p : two.packets().subList(2, 5)) {
            // read before take(2) cancelled: the default (COMPLETE or CANCEL); not read: none
            assertTrue(p.verdict().map(v -> !v.byProgram()).orElse(true), p.toString());
        }
    }

    @Test
    void atMaximumSpeedASlowPipelineLosesNoPacket() throws Exception {
        int n = 3000;
        List<Instant> times = new ArrayList<>();
        List<byte[]> packets = new ArrayList<>();
        Instant t0 = Instant.parse("2024-05-01T10:00:00Z");
        for (int i = 0; i < n; i++) {
            times.add(t0.plusMillis(i));
            packets.add(Packets.udp().from("10.0.0.1", 40000).to("10.0.0.2", 9000).payload("p" + i).build());
        }
        Path file = TestCaptures.pcapng(dir.resolve("many.pcapng"), times, packets);
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        ReplayReport report = CaptureReplay.of(file)
                .receiverOptions(ReceiverOptions.queue(0).maxInFlight(8))
                .run(in -> in.publishOn(Schedulers.boundedElastic(), 4)
                        .concatMap(p -> Mono.fromRunnable(() -> {
                            order.add(text(p));
                            p.accept();
                        })));
        assertEquals(n, report.count(Verdict.Kind.ACCEPT), report.summary());
        assertEquals(0, report.defaultCount());
        assertEquals(n, order.size());
        for (int i = 0; i < n; i++) {
            assertEquals("p" + i, order.get(i));
        }
    }

    @Test
    void atRecordedSpeedTheGapsAreKeptScaledAndCapped() throws Exception {
        Instant t0 = Instant.parse("2024-05-01T10:00:00Z");
        List<byte[]> packets = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            packets.add(Packets.udp().from("10.0.0.1", 40000).to("10.0.0.2", 9000).payload("p" + i).build());
        }
        // gaps of 0.4 s, 0.4 s and an hour (a paused capture)
        Path file = TestCaptures.pcapng(dir.resolve("gaps.pcapng"),
                List.of(t0, t0.plusMillis(400), t0.plusMillis(800), t0.plusSeconds(3600)), packets);

        List<Long> at = Collections.synchronizedList(new ArrayList<>());
        CaptureReplay replay = CaptureReplay.of(file).maxGap(Duration.ofMillis(400));
        ReplayReport recorded = replay.atRecordedSpeed().run(in -> in.doOnNext(p -> {
            at.add(System.nanoTime());
            p.accept();
        }));
        assertEquals(4, recorded.count(Verdict.Kind.ACCEPT));
        for (int i = 1; i < 4; i++) {
            long gapMillis = (at.get(i) - at.get(i - 1)) / 1_000_000;
            // a packet is offered no earlier than due; a late first read shortens the first gap a little
            assertTrue(gapMillis >= 300, "gap " + i + ": " + gapMillis + " ms");
        }
        assertTrue(recorded.elapsed().compareTo(Duration.ofMillis(1200)) >= 0, recorded.elapsed().toString());
        assertTrue(recorded.elapsed().compareTo(Duration.ofSeconds(30)) < 0, "the hour was cut to 0.4 s: " + recorded.elapsed());
        assertTrue(recorded.summary().contains(" at recorded speed in "), recorded.summary());

        at.clear();
        ReplayReport fast = replay.atSpeed(4).run(in -> in.doOnNext(p -> {
            at.add(System.nanoTime());
            p.accept();
        }));
        long total = (at.get(3) - at.get(0)) / 1_000_000;
        assertTrue(total >= 250, "three gaps of 0.1 s: " + total + " ms");
        assertTrue(fast.summary().contains(" at 4x recorded speed in "), fast.summary());

        at.clear();
        replay.run(in -> in.doOnNext(p -> {
            at.add(System.nanoTime());
            p.accept();
        }));
        assertFalse((at.get(3) - at.get(0)) / 1_000_000 >= 1200, "maximum speed waits for no gap");
    }
}
