package io.nfqueue.samples;

import io.nfqueue.test.Packets;
import io.nfqueue.test.pcap.CaptureReader;
import io.nfqueue.test.pcap.CaptureRecord;
import io.nfqueue.test.pcap.PcapngWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code replay --pcap FILE firewall|dns-block ...}: the live commands' pipelines over captures
 * written here, without root or a kernel queue; its output, its verdict file and its errors.
 */
@Timeout(60)
class ReplayCliTest {
    private static final Instant T0 = Instant.parse("2024-05-01T10:00:00Z");

    @TempDir
    Path dir;

    private static SamplesUnitTest.Result run(String... args) {
        return SamplesUnitTest.run(args);
    }

    /** A classic pcap of Ethernet frames (link type 1), one every 1 ms from T0, as tcpdump -i eth0 writes. */
    private static Path ethernetPcap(Path file, byte[]... frames) throws IOException {
        int size = 24;
        for (byte[] f : frames) {
            size += 16 + f.length;
        }
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0xa1b2c3d4).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(262144).putInt(1);
        for (int i = 0; i < frames.length; i++) {
            b.putInt((int) T0.getEpochSecond()).putInt(i * 1000).putInt(frames[i].length).putInt(frames[i].length)
                    .put(frames[i]);
        }
        return Files.write(file, b.array());
    }

    /** An Ethernet frame from 02:00:00:00:00:01 carrying {@code payload} of {@code ethertype}. */
    private static byte[] ethernet(int ethertype, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(14 + payload.length);
        b.put(new byte[] {2, 0, 0, 0, 0, 2}).put(new byte[] {2, 0, 0, 0, 0, 1}).putShort((short) ethertype).put(payload);
        return b.array();
    }

    private static byte[] udp(String from, String to, int port, String text) {
        return Packets.udp().from(from, 40000).to(to, port).payload(text).build();
    }

    @Test
    void theFirewallsVerdictsOneLineAPacketWithTheCountsAndTheRuleCounters() throws IOException {
        Path rules = Files.writeString(dir.resolve("rules.txt"), "drop proto udp dport 53\nmark=0x10 proto udp dport 5000\n"
                + "accept proto udp dport 6000 dir out\n");
        Path pcap = ethernetPcap(dir.resolve("capture.pcap"),
                ethernet(0x0800, udp("10.0.0.1", "10.0.0.2", 53, "dns")),
                ethernet(0x0806, new byte[28]),                                   // ARP: skipped
                ethernet(0x0800, udp("10.0.0.1", "10.0.0.2", 5000, "marked")),
                ethernet(0x86dd, udp("fd00::1", "fd00::2", 6000, "out only")),
                ethernet(0x0800, udp("10.0.0.1", "10.0.0.2", 7000, "default")));
        SamplesUnitTest.Result r = run("replay", "--pcap", pcap.toString(), "firewall", "--rules", rules.toString(),
                "--default", "drop");
        assertEquals(0, r.status(), r.err());
        assertEquals("", r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals("replaying " + pcap + " through firewall: 3 rules, default drop", lines.get(0));
        assertEquals("#1  +0.000000s  LOCAL_IN UDP 10.0.0.1:40000 -> 10.0.0.2:53 len=31  =>  DROP by the program",
                lines.get(1));
        assertEquals("#2  +0.001000s  skipped: ethertype 0x0806 (ARP)", lines.get(2));
        assertEquals("#3  +0.002000s  LOCAL_IN UDP 10.0.0.1:40000 -> 10.0.0.2:5000 len=34  =>  ACCEPT mark 0x10 by the program",
                lines.get(3));
        // a plain Ethernet capture does not say the direction: LOCAL_IN, where "dir out" does not match
        assertEquals("#4  +0.003000s  LOCAL_IN UDP [fd00::1]:40000 -> [fd00::2]:6000 len=56  =>  DROP by the program",
                lines.get(4));
        assertEquals("#5  +0.004000s  LOCAL_IN UDP 10.0.0.1:40000 -> 10.0.0.2:7000 len=35  =>  DROP by the program",
                lines.get(5));
        assertTrue(lines.get(6).matches("4 packets replayed from " + pcap.toString().replace(".", "\\.") + " at maximum speed "
                + "in \\d+\\.\\d s: ACCEPT 1, DROP 3; 1 record skipped: ethertype 0x0806 \\(ARP\\) 1; the pipeline was "
                + "cancelled by the replay at its end"), lines.get(6));
        assertEquals("packets: 4", lines.get(7));
        assertTrue(lines.get(8).matches(" +1  line 1: drop proto udp dport 53"), lines.get(8));
        assertTrue(lines.get(9).matches(" +1  line 2: mark=0x10 proto udp dport 5000"), lines.get(9));
        assertTrue(lines.get(10).matches(" +0  line 3: accept proto udp dport 6000 dir out"), lines.get(10));
        assertTrue(lines.get(11).matches(" +2  default: drop"), lines.get(11));
        assertEquals(12, lines.size(), r.out());

        // the rule that feeds the command sits in OUTPUT: every packet at LOCAL_OUT, and "dir out" matches
        SamplesUnitTest.Result out = run("replay", "--pcap", pcap.toString(), "--hook", "OUTPUT", "firewall", "--rules",
                rules.toString(), "--default", "drop");
        assertEquals(0, out.status(), out.err());
        assertTrue(out.out().contains("#4  +0.003000s  LOCAL_OUT UDP [fd00::1]:40000 -> [fd00::2]:6000 len=56  =>  ACCEPT by "
                + "the program"), out.out());
        assertTrue(out.out().contains(": ACCEPT 2, DROP 2; "), out.out());
    }

    @Test
    void dnsBlockDropsTheBlockedQueriesOfTheCaptureAndTheVerdictFileSaysSo() throws IOException {
        Path list = Files.writeString(dir.resolve("blocklist"), "ads.example\n0.0.0.0 tracker.test\n");
        Path pcap = dir.resolve("dns.pcapng");
        String[] names = {"www.ads.example", "example.org", "tracker.test", "ads.example.org"};
        try (PcapngWriter w = PcapngWriter.create(pcap)) {
            for (int i = 0; i < names.length; i++) {
                byte[] query = DnsQuery.encode(i, names[i]);
                byte[] ip = i % 2 == 0 ? Packets.udp().from("10.0.0.1", 5353).to("10.0.0.53", 53).payload(query).build()
                        : Packets.udp().from("fd00::1", 5353).to("fd00::53", 53).payload(query).build();
                w.write(T0.plusMillis(i * 10L), ip, null);
            }
            w.write(T0.plusMillis(40), udp("10.0.0.1", "10.0.0.53", 53, "not dns"), null);
        }
        Path verdicts = dir.resolve("verdicts.pcapng");
        SamplesUnitTest.Result r = run("replay", "--pcap", pcap.toString(), "--out", verdicts.toString(), "dns-block",
                "--blocklist", list.toString());
        assertEquals(0, r.status(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals("replaying " + pcap + " through dns-block: queries 0, blocked 0, other packets 0 (blocklist: 2 names)",
                lines.get(0));
        assertTrue(lines.get(1).endsWith("LOCAL_IN UDP 10.0.0.1:5353 -> 10.0.0.53:53 len=61  =>  DROP by the program"),
                lines.get(1));
        assertTrue(lines.get(2).startsWith("#2  +0.010000s  LOCAL_IN UDP [fd00::1]:5353 -> [fd00::53]:53 "), lines.get(2));
        assertTrue(lines.get(2).endsWith("=>  ACCEPT by the program"), lines.get(2));
        assertTrue(lines.get(3).endsWith("=>  DROP by the program"), lines.get(3));
        assertTrue(lines.get(4).endsWith("=>  ACCEPT by the program"), "ads.example.org is not under ads.example: "
                + lines.get(4));
        assertTrue(lines.get(5).endsWith("=>  ACCEPT by the program"), "not DNS: " + lines.get(5));
        assertTrue(lines.get(6).contains(" packets replayed from ") && lines.get(6).contains(": ACCEPT 3, DROP 2; the pipeline"),
                lines.get(6));
        assertEquals("queries 4, blocked 2, other packets 1 (blocklist: 2 names)", lines.get(7));
        assertEquals("wrote " + verdicts + ": 5 packets, each with its verdict as the packet comment", lines.get(8));

        List<CaptureRecord> back = CaptureReader.readAll(verdicts);
        assertEquals(5, back.size());
        assertEquals(List.of("capture record 1: DROP by the program"), back.get(0).comments());
        assertEquals(List.of("capture record 2: ACCEPT by the program"), back.get(1).comments());
        assertEquals(T0.plusMillis(10), back.get(1).timestamp().orElseThrow());
    }

    @Test
    void atRecordedSpeedTheGapsOfTheCaptureAreKept() throws IOException {
        Path pcap = dir.resolve("slow.pcapng");
        try (PcapngWriter w = PcapngWriter.create(pcap)) {
            w.write(T0, udp("10.0.0.1", "10.0.0.2", 9, "a"), null);
            w.write(T0.plusMillis(600), udp("10.0.0.1", "10.0.0.2", 9, "b"), null);
        }
        long start = System.nanoTime();
        SamplesUnitTest.Result r = run("replay", "--pcap", pcap.toString(), "--speed", "recorded", "firewall", "--rules",
                "/dev/null");
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(0, r.status(), r.err());
        assertTrue(millis >= 600, millis + " ms");
        assertTrue(r.out().contains(" at recorded speed in "), r.out());
        SamplesUnitTest.Result fast = run("replay", "--pcap", pcap.toString(), "--speed", "3", "firewall", "--rules",
                "/dev/null");
        assertTrue(fast.out().contains(" at 3x recorded speed in "), fast.out());
    }

    @Test
    void aCaptureThatCannotBeReplayedOrABadCommandLineIsOneErrorLine() throws IOException {
        Path rules = Files.writeString(dir.resolve("rules.txt"), "accept\n");
        Path wifi = Files.write(dir.resolve("wifi.pcap"), ByteBuffer.allocate(24 + 16 + 10).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(0xa1b2c3d4).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(65535).putInt(105)
                .putInt(1).putInt(0).putInt(10).putInt(10).array());
        Path pcap = ethernetPcap(dir.resolve("ok.pcap"), ethernet(0x0800, udp("10.0.0.1", "10.0.0.2", 9, "x")));
        String[][] cases = {
            {"replay", "--pcap", dir.resolve("none.pcap").toString(), "firewall", "--rules", rules.toString()},
            {"replay", "--pcap", rules.toString(), "firewall", "--rules", rules.toString()},
            {"replay", "--pcap", wifi.toString(), "dns-block", "--blocklist", rules.toString()},
            {"replay", "--pcap", pcap.toString(), "dns-block", "--blocklist", "/dev/null"},
            {"replay", "--pcap", pcap.toString()},
            {"replay", "--pcap", pcap.toString(), "--speed", "0", "firewall", "--rules", rules.toString()},
            {"replay", "--pcap", pcap.toString(), "--hook", "UNKNOWN", "firewall", "--rules", rules.toString()},
            {"replay", "--pcap", pcap.toString(), "firewall", "--queue", "1", "--rules", rules.toString()},
            {"replay", "--pcap", pcap.toString(), "firewall", "--rules", rules.toString(), "--default", "maybe"},
            {"replay", "firewall", "--rules", rules.toString()}};
        String[] expected = {
            "error: replay firewall: --pcap: no capture file at " + dir.resolve("none.pcap"),
            "error: replay firewall: --pcap: " + rules + ": at byte offset 0: text (\"acce...\", magic number 0x61636365) "
                + "is neither pcap",
            "error: replay dns-block: --pcap: " + wifi + ": nothing to replay: its record is of link type LINKTYPE 105, which "
                + "the replay does not decode (it reads NULL (0), ETHERNET (1),",
            "error: replay dns-block: blocklist /dev/null holds no domain name",
            "error: replay: a command to replay through is required: firewall or dns-block",
            "error: replay: --speed must be max, recorded or a positive factor such as 10 or 0.5: 0",
            "error: replay: --hook must be PRE_ROUTING, LOCAL_IN, FORWARD, LOCAL_OUT or POST_ROUTING",
            "error: replay firewall: Unknown options: '--queue'",
            "error: replay firewall: --default must be accept or drop: maybe",
            "error: replay: --pcap FILE is required: the capture to replay"};
        for (int i = 0; i < cases.length; i++) {
            SamplesUnitTest.Result r = run(cases[i]);
            String what = String.join(" ", cases[i]) + " -> " + r.err();
            assertEquals(Main.EXIT_USAGE, r.status(), what);
            assertTrue(r.err().startsWith(expected[i]), what);
            assertEquals(2, r.err().lines().count(), "one line and a hint: " + what);
            assertFalse(r.err().contains("Exception:") || r.err().contains("\tat "), what);
        }
    }

    @Test
    void itsHelpShowsTheSyntaxAndTheCommandsItReplaysThrough() {
        SamplesUnitTest.Result r = run("replay", "--help");
        assertEquals(0, r.status());
        String help = r.out().replaceAll("\\s+", " ");
        assertTrue(help.contains("replay --pcap capture.pcap firewall --rules rules.txt"), help);
        assertTrue(help.contains("firewall") && help.contains("dns-block") && help.contains("no root"), help);
        SamplesUnitTest.Result fw = run("replay", "firewall", "--help");
        assertEquals(0, fw.status());
        assertTrue(fw.out().contains("--rules=FILE") && !fw.out().contains("--queue="), fw.out());
        assertTrue(run("--help").out().contains("replay"));
    }
}
