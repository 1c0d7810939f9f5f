package io.nfqueue.samples;

import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code firewall --per-flow} as a user runs it, in a namespace of its own, with real UDP and TCP
 * on loopback (the input hook): the queue sees only each connection's first packet, an allowed
 * flow's every datagram and byte arrive, a blocked flow's none, and the rules are gone afterwards.
 */
@KernelTest
@Timeout(90)
class FirewallPerFlowKernelTest {
    private static final int QUEUE = 23;
    private static final int N = 50;
    private static final Pattern REACHED = Pattern.compile("packets that reached the queue: (\\d+); flows decided: "
            + "(\\d+) accepted, (\\d+) dropped");
    private static final Pattern CARRIED = Pattern.compile("flow rules: (\\d+) carried by accepted flows without the "
            + "queue, (\\d+) dropped in the kernel for dropped flows, (\\d+) sent to the queue");

    @Test
    void theQueueSeesTheFirstPacketOfEachConnectionOnly(@TempDir Path dir) throws Exception {
        Path rules = dir.resolve("rules");
        Files.writeString(rules, "drop proto udp dport 7002\ndrop proto tcp dport 8002\n");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        try (NetNamespace ns = NetNamespace.create();
             DatagramChannel allowed = ns.udpSocket("127.0.0.1", 7001);
             DatagramChannel blocked = ns.udpSocket("127.0.0.1", 7002);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             ServerSocketChannel open = ns.tcpServer("127.0.0.1", 8001);
             ServerSocketChannel closed = ns.tcpServer("127.0.0.1", 8002)) {
            int[] status = {-1};
            Thread firewall = new Thread(() -> status[0] = Main.run(new String[] {"firewall", "--queue",
                Integer.toString(QUEUE), "--netns", ns.path().toString(), "--rules", rules.toString(), "--per-flow",
                "--hook", "input", "--duration", "12s", "--interval", "600s"}, out, out), "firewall-per-flow");
            firewall.start();
            try {
                long until = System.nanoTime() + Duration.ofSeconds(40).toNanos();
                while (!bytes.toString(StandardCharsets.UTF_8).contains("firewall on queue") && firewall.isAlive()
                        && System.nanoTime() < until) {
                    Thread.sleep(50);
                }
                assertTrue(firewall.isAlive(), bytes.toString(StandardCharsets.UTF_8));

                // UDP: the first datagram of each flow, and only once it was decided the rest (a sender that
                // blasts before the first verdict lands has all of those queued: no connection mark yet).
                Udp.send(sender, "127.0.0.1", 7001, "first");
                assertEquals("first", Udp.text(Udp.receiveOne(allowed, Duration.ofSeconds(10))));
                Udp.send(sender, "127.0.0.1", 7002, "first");
                assertEquals(0, Udp.receive(blocked, 1, Duration.ofSeconds(1), Duration.ofSeconds(1)).size());
                for (int i = 1; i < N; i++) {
                    Udp.send(sender, "127.0.0.1", 7001, "a" + i);
                    Udp.send(sender, "127.0.0.1", 7002, "b" + i);
                }
                assertEquals(N - 1, Udp.receive(allowed, N, Duration.ofSeconds(2), Duration.ofSeconds(10)).size());
                assertEquals(0, Udp.receive(blocked, N, Duration.ofMillis(500), Duration.ofSeconds(2)).size());

                // TCP: every byte of the allowed connection, no connection at all to the blocked port.
                long received = 0;
                try (SocketChannel client = ns.tcpConnect("127.0.0.1", 8001, Duration.ofSeconds(10));
                     SocketChannel server = open.accept()) {
                    for (int i = 0; i < 20; i++) {
                        client.write(ByteBuffer.wrap(new byte[1000]));
                    }
                    client.shutdownOutput();
                    ByteBuffer buf = ByteBuffer.allocate(4096);
                    int n;
                    while ((n = server.read(buf)) >= 0) {
                        received += n;
                        buf.clear();
                    }
                }
                assertEquals(20_000, received);
                assertThrows(IllegalStateException.class, () -> ns.tcpConnect("127.0.0.1", 8002, Duration.ofSeconds(3)));
            } finally {
                firewall.join(40_000);
            }
            String text = bytes.toString(StandardCharsets.UTF_8);
            assertEquals(0, status[0], text);
            assertTrue(text.contains("connection mark set by: "), text);
            Matcher reached = last(REACHED, text);
            // One packet per connection: UDP 7001, UDP 7002, the SYN to 8001, the first SYN to 8002.
            assertEquals(4, Long.parseLong(reached.group(1)), text);
            assertEquals(2, Long.parseLong(reached.group(2)), text);
            assertEquals(2, Long.parseLong(reached.group(3)), text);
            Matcher carried = last(CARRIED, text);
            assertTrue(Long.parseLong(carried.group(1)) >= N - 1 + 20, "the allowed flows' packets passed by the rule: "
                    + text);
            assertTrue(Long.parseLong(carried.group(2)) >= N - 1 + 1, "the blocked flows' later packets (and the SYN's "
                    + "retry) died in the kernel: " + text);
            assertEquals(4, Long.parseLong(carried.group(3)), text);
            assertTrue(text.contains("removed the flow offload rules"), text);
            for (String tool : List.of("iptables", "ip6tables")) {
                String left = ns.exec(tool + "-save");
                assertFalse(left.contains("NFQ-FLOW"), left);
            }
        }
    }

    private static Matcher last(Pattern p, String text) {
        Matcher m = p.matcher(text);
        Matcher found = null;
        while (m.find()) {
            found = p.matcher(text);
            found.find(m.start());
        }
        assertTrue(found != null, p + " in " + text);
        return found;
    }
}
