package io.nfqueue.samples;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Hook;
import io.nfqueue.NetfilterQueue;
import io.nfqueue.test.Packets;
import io.nfqueue.test.QueuedPacket;
import io.nfqueue.test.TestQueue;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import static io.nfqueue.test.VerdictExpectation.accepted;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The parts of the samples that need no kernel: capability bits, the CLI's errors, durations, /proc
 * lines, and the print command's loop on the test kit's queue.
 */
class SamplesUnitTest {

    @Test
    void readsEffectiveCapabilities() {
        long caps = Privileges.parseCapEff(List.of("Name:\tjava", "CapEff:\t0000000000201000"));
        assertTrue(Privileges.has(caps, Privileges.CAP_NET_ADMIN));
        assertTrue(Privileges.has(caps, Privileges.CAP_SYS_ADMIN));
        assertFalse(Privileges.has(Privileges.parseCapEff(List.of("CapEff:\t0000000000000000")),
                Privileges.CAP_NET_ADMIN));
    }

    @Test
    void aBadCommandLineIsOneLineAndStatusTwo() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"print", "--queue", "70000"}, new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(2, status);
        String text = err.toString(StandardCharsets.UTF_8);
        assertTrue(text.startsWith("error: print: --queue must be 0..65535: 70000"), text);
        assertFalse(text.contains("Exception"), text);
        assertEquals(2, Main.run(new String[] {"frobnicate"}, System.out, new PrintStream(new ByteArrayOutputStream())));
        assertEquals(2, run("print", "--queue", "x").status());
        assertEquals(2, run("print").status(), "--queue is required");
        assertEquals(2, run("demo", "--duration", "2x").status());
        assertEquals(2, run("demo", "--duration", "20m").status());
        assertEquals(2, run("firewall", "--queue", "1", "--rules", "/nonexistent/rules").status());
        assertEquals(2, run("ratelimit", "--queue", "1", "--rate", "0", "--burst", "5").status());
        assertEquals(2, run("ratelimit", "--queue", "1", "--rate", "5", "--burst", "5", "--mark", "zz").status());
        for (String[] stats : new String[][] {{"stats", "--queue", "1", "--demand", "0"},
            {"stats", "--queue", "1", "--read-only", "--demand", "8"}, {"stats", "--queue", "1", "--count", "0"},
            {"stats", "--queue", "1", "--interval", "10ms"}}) {
            Result r = run(stats);
            assertEquals(2, r.status(), String.join(" ", stats));
            assertEquals(2, r.err().lines().count(), "one line and a hint: " + r.err());
            assertTrue(r.err().startsWith("error: stats: --"), r.err());
        }
        for (String cmd : List.of("demo", "print", "firewall", "ratelimit", "dns-block", "rewrite", "stats", "rules")) {
            Result r = run(cmd, "--colour", "red");
            assertEquals(2, r.status(), cmd);
            assertEquals(2, r.err().lines().count(), "one line and a hint: " + r.err());
            assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), r.err());
        }
    }

    @Test
    void eachCommandsHelpShowsTheRulesThatFeedIt() {
        for (String cmd : List.of("print", "demo", "firewall", "ratelimit", "dns-block", "rewrite", "stats", "rules")) {
            Result r = run(cmd, "--help");
            assertEquals(0, r.status(), cmd);
            assertTrue(r.out().contains("iptables -A") && r.out().contains("NFQUEUE --queue-num"), r.out());
            assertTrue(r.out().contains("nft add rule") && r.out().contains("CONFIG_NFT_QUEUE"), r.out());
        }
        assertEquals(0, run("--help").status());
    }

    @Test
    void durations() {
        assertEquals(Duration.ofSeconds(10), Main.parseDuration("10s"));
        assertEquals(Duration.ofMillis(500), Main.parseDuration("500ms"));
        assertEquals(Duration.ofMinutes(2), Main.parseDuration("2m"));
        assertEquals(Duration.ofSeconds(7), Main.parseDuration("7"));
        assertEquals(null, Main.parseDuration("2x"));
    }

    @Test
    void findsTheQueuesLine() {
        List<String> proc = List.of("    1  12345     0 2 65531     0     0        7  1",
                "   15  777     3 1 128     4     5       99  1");
        var s = ProcQueueStats.find(proc, 15).orElseThrow();
        assertEquals(777, s.portId());
        assertEquals(3, s.queued());
        assertTrue(ProcQueueStats.describe(15, ProcQueueStats.find(proc,
                15)).contains("4 dropped (queue full), 5 dropped (socket full)"));
        assertEquals("queue 2: not bound", ProcQueueStats.describe(2, ProcQueueStats.find(proc, 2)));
    }

    /** Every error line has one form, "error: COMMAND: ...", whatever the kind of error. */
    @Test
    void everyErrorHasOneForm(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path binary = Files.write(dir.resolve("bin"), new byte[] {0x7f, 'E', 'L', 'F', 0, (byte) 0xc3});
        Path icmpPorts = Files.writeString(dir.resolve("rules"), "drop proto icmp dport 53\n");
        String[][] cases = {
            {"firewall", "--queue", "1", "--rules", "/nonexistent/rules"},
            {"firewall", "--queue", "1", "--rules", dir.toString()},
            {"firewall", "--queue", "1", "--rules", binary.toString()},
            {"firewall", "--queue", "1", "--rules", icmpPorts.toString()},
            {"dns-block", "--queue", "1", "--blocklist", binary.toString()},
            {"dns-block", "--queue", "1", "--blocklist", "/dev/null"},
            {"print", "--queue", "1", "--netns", "/nonexistent/ns"},
            {"stats", "--queue", "1", "--read-only", "--netns", "/nonexistent/ns"},
            {"ratelimit", "--queue", "1", "--rate", "0", "--burst", "5"},
            {"demo", "--duration", "2x"}};
        String[] expected = {"no rules file at /nonexistent/rules", dir + " is a directory, not a rules file",
            "rules file " + binary + " is not a text file", icmpPorts + " line 1: dport needs proto tcp, udp or any",
            "blocklist " + binary + " is not a text file", "blocklist /dev/null holds no domain name",
            "--netns: no network namespace at /nonexistent/ns", "--netns: no network namespace at /nonexistent/ns",
            "--rate must be positive", "Invalid value for option '--duration'"};
        for (int i = 0; i < cases.length; i++) {
            Result r = run(cases[i]);
            String what = String.join(" ", cases[i]) + " -> " + r.err();
            assertEquals(Main.EXIT_USAGE, r.status(), what);
            assertTrue(r.err().startsWith("error: " + cases[i][0] + ": " + expected[i]), what);
            assertEquals(2, r.err().lines().count(), what);
            assertFalse(r.err().contains("Input length") || r.err().contains("Exception"), what);
        }
        assertEquals("error: print: interrupted", Main.errorLine("print", "interrupted"));
        assertEquals("error: a command is required", Main.errorLine("nfqueue-samples", "a command is required"));
    }

    /** --help tells how to write TIME; dns-block shows rules for both families. */
    @Test
    void helpTextsSayWhatTheCommandsDo() {
        for (String cmd : List.of("demo", "firewall", "ratelimit", "dns-block", "rewrite", "stats")) {
            String help = run(cmd, "--help").out().replaceAll("\\s+", " ");
            assertTrue(help.contains("TIME is a number with ms, s or m (500ms, 10s, 2m), or a plain number of seconds"),
                    cmd + ": " + help);
        }
        String dns = run("dns-block", "--help").out();
        assertTrue(dns.contains("iptables -A OUTPUT -p udp --dport 53 -j NFQUEUE --queue-num N --queue-bypass"), dns);
        assertTrue(dns.contains("ip6tables -A OUTPUT -p udp --dport 53 -j NFQUEUE --queue-num N --queue-bypass"), dns);
        assertTrue(dns.replaceAll("\\s+", " ").contains("hosts format (0.0.0.0 example.com"), dns);
    }

    @Test
    void countsAreSingularOrPlural() {
        assertEquals("1 rule", Main.count(1, "rule"));
        assertEquals("0 rules", Main.count(0, "rule"));
        assertEquals("2 names", Main.count(2, "name"));
        assertEquals("queries 0, blocked 0, other packets 0 (blocklist: 1 name)",
                new DnsBlocker(Set.of("a.test")).report());
    }

    @Test
    void ipv6AddressesInTheirShortForm() {
        assertEquals("#1 q3 LOCAL_OUT UDP [::1]:5 -> [2001:db8::ff]:6 len=30",
                AddressText.compactIpv6("#1 q3 LOCAL_OUT UDP [0:0:0:0:0:0:0:1]:5 -> [2001:db8:0:0:0:0:0:ff]:6 len=30"));
        assertEquals("[::]", AddressText.compactIpv6("[0:0:0:0:0:0:0:0]"));
        assertEquals("[2001:db8::1:0:0:1]", AddressText.compactIpv6("[2001:db8:0:0:1:0:0:1]"), "the first of equal runs");
        assertEquals("[2001:db8:0:1:1:1:1:1]", AddressText.compactIpv6("[2001:db8:0:1:1:1:1:1]"), "one zero group stays");
        assertEquals("[::ffff:10.0.0.1]", AddressText.compactIpv6("[0:0:0:0:0:ffff:a00:1]"));
        assertEquals("UDP 10.0.0.1:5 -> 10.0.0.2:6", AddressText.compactIpv6("UDP 10.0.0.1:5 -> 10.0.0.2:6"));
        byte[] loop = new byte[16];
        loop[15] = 1;
        assertEquals("::1", AddressText.ipv6(loop));
    }

    /**
     * print --count 3 on five packets: three lines, IPv6 addresses in their short form, those three
     * accepted, and the two left of the batch accepted by the queue's default as print closes it.
     */
    @Test
    void printShowsCountPacketsAndAcceptsTheRestAsItStops() {
        TestQueue queue = TestQueue.create(3);
        queue.offer(QueuedPacket.of(Packets.udp().from("::1", 5).to("2001:db8::ff", 6).payload("hi").build())
                        .hook(Hook.LOCAL_OUT),
                QueuedPacket.of(Packets.tcp().from("10.0.0.1", 40000).to("10.0.0.2", 80).syn().build()).hook(Hook.LOCAL_OUT),
                QueuedPacket.of(Packets.udp().from("10.0.0.2", 53).to("10.0.0.1", 40000).build()),
                QueuedPacket.of(Packets.udp().build()),
                QueuedPacket.of(Packets.udp().build()));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        long[] seen = {0};
        try (NetfilterQueue q = queue.open(PrintCommand.queueOptions(3))) {
            PrintCommand.print(q, 3, seen, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        }
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(3, seen[0]);
        assertEquals(3, lines.size(), lines.toString());
        assertEquals("#1 q3 LOCAL_OUT UDP [::1]:5 -> [2001:db8::ff]:6 len=50", lines.get(0));
        assertTrue(lines.get(1).startsWith("#2 q3 LOCAL_OUT TCP 10.0.0.1:40000 -> 10.0.0.2:80 "), lines.get(1));
        assertTrue(lines.get(2).startsWith("#3 q3 LOCAL_IN UDP 10.0.0.2:53 -> 10.0.0.1:40000 len=28"), lines.get(2));
        queue.expectVerdicts(accepted(), accepted(), accepted(), accepted().byDefault(DefaultVerdictCause.CLOSE),
                accepted().byDefault(DefaultVerdictCause.CLOSE));
    }

    record Result(int status, String out, String err) {
    }

    static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
