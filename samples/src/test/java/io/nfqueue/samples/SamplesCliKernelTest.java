package io.nfqueue.samples;

import io.nfqueue.NetfilterQueue;
import io.nfqueue.QueueOptions;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.ChildProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a new user met with the commands against a real queue: bad --netns paths, the
 * read-only stats without root, ratelimit on a queue another program owns, IPv6 addresses in
 * print, an empty rules file, a hosts-format blocklist over IPv4 and IPv6.
 */
@KernelTest
@Timeout(120)
class SamplesCliKernelTest {
    private static final int QUEUE = 24;

    /** A directory is a bad command line; a regular file and a namespace of another type fail in one line, status 1. */
    @Test
    void aBadNetnsPathIsOneClearLineForEveryCommand(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("not-a-namespace"), "x");
        List<List<String>> commands = List.of(List.of("print", "--count", "1"),
                List.of("stats", "--count", "1"), List.of("rewrite", "--from", "a", "--to", "b", "--duration", "1s"),
                List.of("firewall", "--rules", "/dev/null", "--duration", "1s"),
                List.of("dns-block", "--blocklist", Files.writeString(dir.resolve("list"), "a.test\n").toString(),
                        "--duration", "1s"),
                List.of("ratelimit", "--rate", "5", "--burst", "5", "--duration", "1s"));
        for (List<String> c : commands) {
            String cmd = c.get(0);
            SamplesUnitTest.Result d = run(c, "--netns", dir.toString());
            assertEquals(Main.EXIT_USAGE, d.status(), cmd + ": " + d.err());
            assertTrue(d.err().startsWith("error: " + cmd + ": --netns: " + dir + " is a directory, not a network "
                    + "namespace file"), d.err());

            SamplesUnitTest.Result f = run(c, "--netns", file.toString());
            assertEquals(Main.EXIT_FAILED, f.status(), cmd + ": " + f.err());
            assertEquals(1, f.err().lines().count(), f.err());
            assertTrue(f.err().startsWith("error: " + cmd + ": " + file + " is not a network namespace file"), f.err());

            SamplesUnitTest.Result m = run(c, "--netns", "/proc/self/ns/mnt");
            assertEquals(Main.EXIT_FAILED, m.status(), cmd + ": " + m.err());
            assertTrue(m.err().startsWith("error: " + cmd + ": setns into network namespace /proc/self/ns/mnt failed: "
                    + "EINVAL"), m.err());
            for (SamplesUnitTest.Result r : List.of(d, f, m)) {
                assertFalse(r.err().contains("Can't overwrite cause") || r.err().contains("Exception"), r.err());
                assertEquals("", r.out(), "nothing printed before the error");
            }
        }
        SamplesUnitTest.Result missing = run(List.of("stats", "--read-only", "--count", "1"), "--netns",
                dir.resolve("nope").toString());
        assertEquals(Main.EXIT_USAGE, missing.status(), missing.err());
        assertTrue(missing.err().startsWith("error: stats: --netns: no network namespace at " + dir.resolve("nope")),
                missing.err());
    }

    private static SamplesUnitTest.Result run(List<String> command, String... more) {
        List<String> all = new ArrayList<>(command.subList(0, 1));
        all.addAll(List.of("--queue", Integer.toString(QUEUE)));
        all.addAll(List.of(more));
        all.addAll(command.subList(1, command.size()));
        return SamplesUnitTest.run(all.toArray(new String[0]));
    }

    /** As a user other than root the proc file cannot be read: the error says "permission denied". */
    @Test
    void readOnlyStatsWithoutRootSaysPermissionDenied() {
        List<String> nobody = List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all");
        try (ChildProcess child = ChildProcess.java(nobody, ReadableClassPath.get(), WithoutPrivilegeMain.class,
                "stats", "--queue", "3", "--read-only", "--count", "1")) {
            child.awaitLine("END", Duration.ofSeconds(40));
            String t = child.transcriptText();
            assertTrue(t.contains("STATUS " + Main.EXIT_FAILED), t);
            assertTrue(t.contains("ERR error: stats: cannot read /proc/net/netfilter/nfnetlink_queue: permission denied"), t);
            assertTrue(t.contains("run it as root"), t);
        }
        SamplesUnitTest.Result help = SamplesUnitTest.run("stats", "--help");
        assertTrue(help.out().replaceAll("\\s+", " ").contains("readable by root only (mode 0440)"), help.out());
        assertFalse(help.out().contains("needs no privilege"), help.out());
    }

    /** Another program owns the queue: ratelimit fails in one line and prints no banner first. */
    @Test
    void ratelimitOnABoundQueuePrintsNoBannerBeforeTheError() {
        try (NetNamespace ns = NetNamespace.create();
             NetfilterQueue owner = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path()))) {
            SamplesUnitTest.Result r = SamplesUnitTest.run("ratelimit", "--queue", Integer.toString(QUEUE), "--netns",
                    ns.path().toString(), "--rate", "5", "--burst", "5", "--duration", "5s");
            assertEquals(Main.EXIT_FAILED, r.status(), r.err());
            assertEquals("", r.out(), "no banner");
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().startsWith("error: ratelimit: queue " + QUEUE + " is already bound"), r.err());
            assertFalse(owner.handle().isClosed());
        }
    }

    /** print shows IPv6 addresses in their short form. */
    @Test
    void printShowsIpv6AddressesShort() throws Exception {
        try (NetNamespace ns = NetNamespace.create();
             DatagramChannel sink = ns.udpSocket("::1", 7801);
             DatagramChannel sender = ns.udpSocket("::1", 7802)) {
            ns.ip6tables("-A OUTPUT -p udp --dport 7801 -j NFQUEUE --queue-num " + QUEUE + " --queue-bypass");
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
            Thread printer = new Thread(() -> PrintCommand.run(QUEUE, ns.path(), 1, out), "print-v6");
            printer.start();
            try {
                // Until the queue is bound, bypass lets datagrams through unseen: send until one is printed.
                long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                while (printer.isAlive() && System.nanoTime() < until) {
                    Udp.send(sender, "::1", 7801, "v6");
                    printer.join(100);
                }
            } finally {
                printer.join(10_000);
            }
            String text = bytes.toString(StandardCharsets.UTF_8);
            assertFalse(printer.isAlive(), text);
            assertTrue(text.contains("UDP [::1]:7802 -> [::1]:7801"), text);
            assertTrue(text.contains("1 packet printed"), text);
            assertFalse(text.contains("0:0:0:0"), text);
        }
    }

    /** An empty rules file (/dev/null) is a firewall with no rules: the default decides. */
    @Test
    void firewallWithDevNullRulesRunsOnTheDefault() {
        try (NetNamespace ns = NetNamespace.create()) {
            SamplesUnitTest.Result r = SamplesUnitTest.run("firewall", "--queue", Integer.toString(QUEUE), "--netns",
                    ns.path().toString(), "--rules", "/dev/null", "--duration", "1s");
            assertEquals(0, r.status(), r.err());
            assertTrue(r.out().contains(": 0 rules, default accept"), r.out());
        }
    }

    /**
     * A hosts-format blocklist blocks its names over IPv4 and IPv6 (with the ip6tables rule the help
     * shows), after a warm-up that leaves its counters alone.
     */
    @Test
    void dnsBlockReadsAHostsFileAndBlocksOverBothFamilies(@TempDir Path dir) throws Exception {
        Path list = Files.writeString(dir.resolve("hosts"), String.join("\n", "# a hosts file", "127.0.0.1 localhost",
                "::1 localhost ip6-localhost", "0.0.0.0 blocked.example", "127.0.0.1 tracker.test  # comment",
                "*.wild.test", "") );
        try (NetNamespace ns = NetNamespace.create();
             DatagramChannel sink4 = ns.udpSocket("127.0.0.1", 53);
             DatagramChannel sink6 = ns.udpSocket("::1", 53);
             DatagramChannel client4 = ns.udpSocket("127.0.0.1", 0);
             DatagramChannel client6 = ns.udpSocket("::1", 0)) {
            String rule = "-A OUTPUT -p udp --dport 53 -j NFQUEUE --queue-num " + QUEUE + " --queue-bypass";
            ns.iptables(rule);
            ns.ip6tables(rule);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
            int[] status = {-1};
            Thread blocker = new Thread(() -> status[0] = Main.run(new String[] {"dns-block", "--queue",
                Integer.toString(QUEUE), "--netns", ns.path().toString(), "--blocklist", list.toString(),
                "--duration", "6s", "--interval", "600s", "--warm-up", "20000"}, out, out), "dns-block");
            blocker.start();
            try {
                long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                while (!bytes.toString(StandardCharsets.UTF_8).contains("dns-block on queue") && blocker.isAlive()
                        && System.nanoTime() < until) {
                    Thread.sleep(50);
                }
                String[] names = {"blocked.example", "www.blocked.example", "tracker.test", "allowed.example", "localhost"};
                for (int i = 0; i < names.length; i++) {
                    Udp.send(client4, "127.0.0.1", 53, DnsQuery.encode(i, names[i]));
                    Udp.send(client6, "::1", 53, DnsQuery.encode(100 + i, names[i]));
                }
                for (DatagramChannel sink : List.of(sink4, sink6)) {
                    List<String> arrived = Udp.receive(sink, 10, Duration.ofSeconds(1), Duration.ofSeconds(5)).stream()
                            .map(DnsQuery::questionName).toList();
                    assertEquals(List.of("allowed.example", "localhost"), arrived, bytes.toString(StandardCharsets.UTF_8));
                }
            } finally {
                blocker.join(15_000);
            }
            String text = bytes.toString(StandardCharsets.UTF_8);
            assertEquals(0, status[0], text);
            assertTrue(text.contains("(blocklist: 2 names); skipped 1 line that is not domain names (first: line 6: "
                    + "'*.wild.test')"), text);
            // The warm-up ran before binding and its synthetic packets never reached the blocker's counters.
            assertTrue(text.contains("dns-block: warmed up on 20000 synthetic packets in "), text);
            assertTrue(text.indexOf("warmed up on") < text.indexOf("dns-block on queue"), text);
            assertTrue(text.contains("queries 10, blocked 6"), text);
        }
    }

    @Test
    void aNegativeWarmUpIsRefused() {
        SamplesUnitTest.Result r = SamplesUnitTest.run("firewall", "--queue", Integer.toString(QUEUE), "--rules", "/dev/null",
                "--warm-up", "-1");
        assertEquals(2, r.status(), r.out() + r.err());
        assertTrue(r.err().contains("--warm-up must not be negative: -1"), r.err());
    }
}
