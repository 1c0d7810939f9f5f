package io.nfqueue.samples;

import io.nfqueue.test.kernel.Commands;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.ChildProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ctrl-C (SIGINT) and SIGTERM on the long-running commands: each runs in a JVM of its own, bound
 * in a namespace of the test's, handles a few datagrams, gets the signal, and must print its
 * final counters (with those datagrams counted) before it exits as a JVM does on that signal.
 * Before the fix the shutdown hook closed the queue and the JVM halted before the main thread
 * printed: firewall and rewrite printed nothing, dns-block sometimes.
 */
@KernelTest
@Timeout(120)
class FinalCountersSignalKernelTest {
    private static final int QUEUE = 23;
    private static final int PORT = 7700;
    private static final int DATAGRAMS = 4;

    @Test
    void firewallOnSigterm(@TempDir Path dir) throws Exception {
        Path rules = Files.writeString(dir.resolve("rules"), "accept proto udp dport " + PORT + "\n");
        runSignalAndCheck("TERM", PORT, List.of("firewall", "--rules", rules.toString()), "firewall on queue",
                i -> "fw-" + i, "packets: " + DATAGRAMS);
    }

    @Test
    void firewallOnCtrlC(@TempDir Path dir) throws Exception {
        Path rules = Files.writeString(dir.resolve("rules"), "accept proto udp dport " + PORT + "\n");
        runSignalAndCheck("INT", PORT, List.of("firewall", "--rules", rules.toString()), "firewall on queue",
                i -> "fw-" + i, "packets: " + DATAGRAMS);
    }

    @Test
    void rewriteOnSigterm() throws Exception {
        runSignalAndCheck("TERM", PORT, List.of("rewrite", "--from", "cat", "--to", "dog"), "rewrite on queue",
                i -> "cat " + i, "rewritten " + DATAGRAMS + ", unchanged 0");
    }

    /**
     * Also what the guide's systemd unit promises on stop: exit status 143, and the rule stays, so
     * with --queue-bypass queries pass unfiltered, blocked names included, while nothing is bound.
     */
    @Test
    void dnsBlockOnSigterm(@TempDir Path dir) throws Exception {
        Path list = Files.writeString(dir.resolve("blocklist"), "0.0.0.0 blocked.test\n");
        runSignalAndCheck("TERM", 53, List.of("dns-block", "--blocklist", list.toString()), "dns-block on queue",
                i -> DnsQuery.encode(i, "allowed" + i + ".test"), "queries " + DATAGRAMS + ", blocked 0",
                (ns, sender, sink) -> {
                    assertTrue(ns.exec("iptables", "-S", "OUTPUT").contains("--queue-num " + QUEUE), "the rule stays");
                    Udp.send(sender, "127.0.0.1", 53, DnsQuery.encode(99, "blocked.test"));
                    assertEquals("blocked.test", DnsQuery.questionName(Udp.receiveOne(sink, Duration.ofSeconds(5))),
                            "with bypass and nothing bound, DNS passes unfiltered");
                });
    }

    private interface AfterExit {
        void check(NetNamespace ns, DatagramChannel sender, DatagramChannel sink) throws Exception;
    }

    private static void runSignalAndCheck(String signal, int port, List<String> commandArgs, String banner,
                                          Payload payload, String expected) throws Exception {
        runSignalAndCheck(signal, port, commandArgs, banner, payload, expected, (ns, sender, sink) -> { });
    }

    @Test
    void ratelimitOnSigterm() throws Exception {
        runSignalAndCheck("TERM", PORT, List.of("ratelimit", "--rate", "1000", "--burst", "100"), "ratelimit on queue",
                i -> "rl-" + i, "passed " + DATAGRAMS + ", dropped 0");
    }

    @Test
    void printOnSigterm() throws Exception {
        runSignalAndCheck("TERM", PORT, List.of("print"), "bound queue", i -> "p-" + i, DATAGRAMS + " packets printed");
    }

    private interface Payload {
        Object at(int i);
    }

    /**
     * Starts {@code nfqueue-samples COMMAND --queue Q --netns NS [--interval 600s] args} in a child
     * JVM, waits for {@code banner}, sends {@link #DATAGRAMS} datagrams to {@code port} through the
     * queue and waits until they arrive, sends SIGTERM or SIGINT, and checks the exit status and
     * that the last line of output is the final report with {@code expected} in it.
     */
    private static void runSignalAndCheck(String signal, int port, List<String> commandArgs, String banner,
                                          Payload payload, String expected, AfterExit afterExit) throws Exception {
        try (NetNamespace ns = NetNamespace.create();
             DatagramChannel sink = ns.udpSocket("127.0.0.1", port);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
            ns.iptables("-A OUTPUT -p udp --dport " + port + " -j NFQUEUE --queue-num " + QUEUE + " --queue-bypass");
            List<String> args = new ArrayList<>();
            args.add(commandArgs.get(0));
            args.addAll(List.of("--queue", Integer.toString(QUEUE), "--netns", ns.path().toString()));
            if (!commandArgs.get(0).equals("print")) {
                args.addAll(List.of("--interval", "600s"));
            }
            args.addAll(commandArgs.subList(1, commandArgs.size()));
            try (ChildProcess child = ChildProcess.java(List.of(), ChildProcess.testClassPath(), Main.class,
                    args.toArray(new String[0]))) {
                child.awaitLine(banner, Duration.ofSeconds(30));
                for (int i = 0; i < DATAGRAMS; i++) {
                    Object p = payload.at(i);
                    if (p instanceof byte[] b) {
                        Udp.send(sender, "127.0.0.1", port, b);
                    } else {
                        Udp.send(sender, "127.0.0.1", port, (String) p);
                    }
                }
                List<byte[]> got = Udp.receive(sink, DATAGRAMS, Duration.ofSeconds(5), Duration.ofSeconds(10));
                assertEquals(DATAGRAMS, got.size(), "through the queue\n" + child.transcriptText());

                Commands.run("kill", "-" + signal, Long.toString(child.pid()));
                int expectedExit = 128 + (signal.equals("TERM") ? 15 : 2);
                assertEquals(expectedExit, child.awaitExit(Duration.ofSeconds(30)), child.transcriptText());
                String output = child.transcriptText();
                List<String> lines = output.lines().filter(l -> !l.isBlank()).toList();
                String reportLines = String.join("\n", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
                assertTrue(reportLines.contains(expected), "final counters '" + expected + "' at the end of:\n" + output);
                assertFalse(output.contains("error:") || output.contains("\tat "), output);
            }
            afterExit.check(ns, sender, sink);
        }
    }
}
