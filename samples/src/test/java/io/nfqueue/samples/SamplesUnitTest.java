package io.nfqueue.samples;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The parts of the samples that need no kernel: capability bits, the CLI's errors, durations, /proc lines. */
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
        for (String cmd : List.of("demo", "print", "firewall", "ratelimit", "dns-block", "rewrite", "stats")) {
            Result r = run(cmd, "--colour", "red");
            assertEquals(2, r.status(), cmd);
            assertEquals(2, r.err().lines().count(), "one line and a hint: " + r.err());
            assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), r.err());
        }
    }

    @Test
    void eachCommandsHelpShowsTheRulesThatFeedIt() {
        for (String cmd : List.of("print", "demo", "firewall", "ratelimit", "dns-block", "rewrite", "stats")) {
            Result r = run(cmd, "--help");
            assertEquals(0, r.status(), cmd);
            assertTrue(r.out().contains("iptables -A") && r.out().contains("NFQUEUE --queue-num"), r.out());
            assertTrue(r.out().contains("nft add rule") && r.out().contains("CONFIG_NFT_QUEUE"), r.out());
        }
        assertEquals(0, run("--help").status());
    }

    @Test
    void durations() {
        assertEquals(java.time.Duration.ofSeconds(10), Main.parseDuration("10s"));
        assertEquals(java.time.Duration.ofMillis(500), Main.parseDuration("500ms"));
        assertEquals(java.time.Duration.ofMinutes(2), Main.parseDuration("2m"));
        assertEquals(java.time.Duration.ofSeconds(7), Main.parseDuration("7"));
        assertEquals(null, Main.parseDuration("2x"));
    }

    @Test
    void findsTheQueuesLine() {
        List<String> proc = List.of("    1  12345     0 2 65531     0     0        7  1", "   15  777     3 1 128     4     5       99  1");
        var s = ProcQueueStats.find(proc, 15).orElseThrow();
        assertEquals(777, s.portId());
        assertEquals(3, s.queued());
        assertTrue(ProcQueueStats.describe(15, ProcQueueStats.find(proc, 15)).contains("4 dropped (queue full), 5 dropped (socket full)"));
        assertEquals("queue 2: not bound", ProcQueueStats.describe(2, ProcQueueStats.find(proc, 2)));
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
