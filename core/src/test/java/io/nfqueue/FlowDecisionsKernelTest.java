package io.nfqueue;

import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Tcp;
import io.nfqueue.test.kernel.Udp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link FlowDecisions#forget} against real conntrack entries in a test namespace: connections
 * (UDP and TCP, IPv4 and IPv6 on loopback) get their ct mark from {@code CONNMARK} rules on their
 * first packet only ({@code --ctstate NEW}), and the marks are read back without the conntrack
 * tool: each flow sends one more packet, and counting rules ({@code -m connmark --mark X}, full
 * 32-bit compare, placed before the marking rules) say which mark its entry holds now.
 */
@KernelTest
@Timeout(60)
class FlowDecisionsKernelTest {
    private static final int DECIDED = 0x00300000;
    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final Pattern COUNTED = Pattern.compile("^\\[(\\d+):\\d+\\] .*--comment \"?(cnt-[0-9a-z-]+)\"?");

    @RegisterExtension
    final NetNamespace ns = NetNamespace.create();

    /** One connection of the test: how it is marked, and the mark expected before and after forgetting. */
    private record Flow(boolean v6, String proto, int port, String setXmark, int before, int after, int zone) {
        String host() {
            return v6 ? "::1" : "127.0.0.1";
        }

        String counter(int mark) {
            return "cnt-" + (v6 ? "6" : "4") + "-" + port + "-" + Integer.toHexString(mark);
        }
    }

    private static final List<Flow> FLOWS = List.of(
            new Flow(false, "udp", 9101, "0x00100000/0x00300000", 0x00100000, 0, 0),
            new Flow(false, "tcp", 9102, "0x00200005/0x00f0000f", 0x00200005, 0x5, 0),
            new Flow(false, "udp", 9103, "0x5/0xf", 0x5, 0x5, 0),
            new Flow(true, "udp", 9104, "0x00300000/0x00300000", 0x00300000, 0, 0),
            new Flow(true, "tcp", 9105, "0x01100000/0x0ff00000", 0x01100000, 0x01000000, 0),
            // An entry in conntrack zone 7: found for the update only with its CTA_ZONE.
            new Flow(false, "udp", 9106, "0x00100009/0x0030000f", 0x00100009, 0x9, 7));

    @Test
    void clearsTheMaskBitsOnlyAndCountsTheConnectionsChanged() {
        for (Flow f : FLOWS) {
            for (int mark : new int[] {f.before(), f.after()}) {
                rule(f, "-A OUTPUT -p " + f.proto() + " --dport " + f.port() + " -m connmark --mark 0x"
                        + Integer.toHexString(mark) + "/0xffffffff -m comment --comment " + f.counter(mark));
            }
        }
        for (Flow f : FLOWS) {
            if (f.zone() != 0) {
                for (String direction : new String[] {"--dport", "--sport"}) {
                    ns.iptables("-t raw -A OUTPUT -p " + f.proto() + " " + direction + " " + f.port() + " -j CT --zone "
                            + f.zone());
                }
            }
            rule(f, "-A OUTPUT -p " + f.proto() + " --dport " + f.port() + " -m conntrack --ctstate NEW -j CONNMARK "
                    + "--set-xmark " + f.setXmark());
        }
        List<AutoCloseable> open = new ArrayList<>();
        try {
            List<Runnable> probes = new ArrayList<>();
            for (Flow f : FLOWS) {
                probes.add(connect(f, open));
            }
            probeAndExpect(probes, true);

            long changed = FLOWS.stream().filter(f -> f.before() != f.after()).count();
            assertEquals(changed, FlowDecisions.forget(DECIDED, ns.path()), "connections changed");
            probeAndExpect(probes, false);

            assertEquals(0, FlowDecisions.forget(DECIDED, ns.path()), "a second call finds nothing left to forget");
            probeAndExpect(probes, false);
        } finally {
            closeAll(open);
        }
    }

    /**
     * Flow offload as the library does it: a decided connection is accepted by its ct mark before
     * the queue rule; once forgotten, its next packet is queued again.
     */
    @Test
    void aForgottenFlowGoesToTheQueueAgain() throws Exception {
        int queueNumber = 17;
        int port = 9111;
        ns.iptables("-t mangle -A OUTPUT -p udp --dport " + port + " -m conntrack --ctstate NEW -j CONNMARK "
                + "--set-xmark 0x00100000/0x00300000");
        ns.iptables("-A OUTPUT -p udp --dport " + port + " -m connmark ! --mark 0/0x00300000 -j ACCEPT");
        ns.iptables("-A OUTPUT -p udp --dport " + port + " -m connmark --mark 0/0x00300000 -j NFQUEUE --queue-num "
                + queueNumber);
        try (NetfilterQueue queue = NetfilterQueue.open(ns.queueOptions(queueNumber));
             DatagramChannel sink = ns.udpSocket("127.0.0.1", port);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
            Udp.send(sender, "127.0.0.1", port, "decided");
            reply(sink);
            Udp.send(sender, "127.0.0.1", port, "still-decided");
            assertEquals("still-decided", Udp.text(Udp.receiveOne(sink, WAIT)));
            assertEquals(0, queue.poll(Packet::accept, Duration.ofMillis(300)), "nothing queued while decided");

            // forget(mask) works in the calling thread's namespace: here a thread moved into the test's.
            assertEquals(1, ns.call(() -> FlowDecisions.forget(DECIDED)));

            Udp.send(sender, "127.0.0.1", port, "inspect-me");
            List<String> queued = new ArrayList<>();
            int handled = queue.poll(p -> {
                queued.add(new String(p.payloadBytes(), StandardCharsets.ISO_8859_1));
                p.accept();
            }, Duration.ofSeconds(2));
            assertEquals(1, handled, "the forgotten flow's next packet is queued: " + queued);
            assertTrue(queued.get(0).endsWith("inspect-me"), queued.toString());
            assertEquals("inspect-me", Udp.text(Udp.receiveOne(sink, WAIT)), "accepted after inspection");
        }
    }

    /**
     * Receives the first datagram and answers it: the entry turns ESTABLISHED, so the marking
     * rule ({@code --ctstate NEW}) does not mark its later packets again (an unanswered UDP flow
     * stays NEW, and each of its packets would be marked anew).
     */
    private static void reply(DatagramChannel sink) {
        Udp.Datagram first = Udp.receiveFrom(sink, WAIT);
        assertNotNull(first, "first datagram");
        try {
            sink.send(ByteBuffer.wrap("reply".getBytes(StandardCharsets.UTF_8)), first.source());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * More entries than one dump datagram holds and than one datagram of updates carries (the
     * shim sends 64 per datagram and waits for their acks): every one is changed, counted once.
     */
    @Test
    void manyConnectionsAreAllForgotten() throws Exception {
        int first = 20000;
        int count = 1000;
        String ports = first + ":" + (first + count - 1);
        ns.iptables("-t mangle -A OUTPUT -p udp --dport " + ports + " -m connmark --mark 0/0x00300000 "
                + "-m comment --comment cnt-many-forgotten");
        ns.iptables("-t mangle -A OUTPUT -p udp --dport " + ports + " -m conntrack --ctstate NEW -j CONNMARK "
                + "--set-xmark 0x00200000/0x00300000");
        try (DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
            // Nobody listens on these ports: each datagram makes an unanswered entry (and an ICMP
            // error the unconnected sender never reads). The counting rule comes before the
            // marking one: it counts the packets that find their entry without the mask bits.
            sendOneToEach(sender, first, count);
            ns.exec("iptables", "-w", "-t", "mangle", "-Z", "OUTPUT");
            sendOneToEach(sender, first, count);
            assertEquals(0L, counters().getOrDefault("cnt-many-forgotten", 0L), "every entry holds a decision");

            assertEquals(count, FlowDecisions.forget(DECIDED, ns.path()));
            assertEquals(0, FlowDecisions.forget(DECIDED, ns.path()));
            sendOneToEach(sender, first, count);
            assertEquals((long) count, counters().getOrDefault("cnt-many-forgotten", 0L), "every entry forgot it");
        }
    }

    private static void sendOneToEach(DatagramChannel sender, int first, int count) throws IOException {
        for (int port = first; port < first + count; port++) {
            sender.send(ByteBuffer.wrap(new byte[] {1}), new InetSocketAddress("127.0.0.1", port));
        }
    }

    /** The mangle rule in the flow's family. */
    private void rule(Flow f, String rule) {
        if (f.v6()) {
            ns.ip6tables("-t mangle " + rule);
        } else {
            ns.iptables("-t mangle " + rule);
        }
    }

    /** Opens the flow (its first packet sets the mark) and returns what sends one more packet on it. */
    private Runnable connect(Flow f, List<AutoCloseable> open) {
        if (f.proto().equals("udp")) {
            DatagramChannel sink = ns.udpSocket(f.host(), f.port());
            open.add(sink);
            DatagramChannel sender = ns.udpSocket(f.host(), 0);
            open.add(sender);
            Runnable probe = () -> {
                Udp.send(sender, f.host(), f.port(), "probe");
                assertNotNull(Udp.receiveOne(sink, WAIT), "datagram of " + f);
            };
            Udp.send(sender, f.host(), f.port(), "first");
            reply(sink);
            return probe;
        }
        ServerSocketChannel server = ns.tcpServer(f.host(), f.port());
        open.add(server);
        SocketChannel client = ns.tcpConnect(f.host(), f.port(), WAIT);
        open.add(client);
        SocketChannel accepted = Tcp.accept(server, WAIT);
        open.add(accepted);
        Runnable probe = () -> {
            Tcp.send(client, "p");
            assertEquals(1, Tcp.receive(accepted, 1, WAIT).length, "byte of " + f);
        };
        probe.run();
        return probe;
    }

    /**
     * Zeroes the counters, sends one packet on each flow, and checks that every flow's packets
     * saw the expected mark and none saw the other one.
     */
    private void probeAndExpect(List<Runnable> probes, boolean beforeForget) {
        ns.exec("iptables", "-w", "-t", "mangle", "-Z", "OUTPUT");
        ns.exec("ip6tables", "-w", "-t", "mangle", "-Z", "OUTPUT");
        probes.forEach(Runnable::run);
        Map<String, Long> counts = counters();
        for (Flow f : FLOWS) {
            int expected = beforeForget ? f.before() : f.after();
            int other = beforeForget ? f.after() : f.before();
            String state = (beforeForget ? "before" : "after") + " forgetting, " + f + ": " + counts;
            assertTrue(counts.getOrDefault(f.counter(expected), 0L) >= 1,
                    "ct mark 0x" + Integer.toHexString(expected) + " expected " + state);
            if (other != expected) {
                assertEquals(0L, counts.getOrDefault(f.counter(other), 0L),
                        "no packet with ct mark 0x" + Integer.toHexString(other) + " " + state);
            }
        }
    }

    /** The packet count of every counting rule, by its comment. */
    private Map<String, Long> counters() {
        Map<String, Long> counts = new HashMap<>();
        for (String tool : new String[] {"iptables-save", "ip6tables-save"}) {
            for (String line : ns.exec(tool, "-c", "-t", "mangle").split("\n")) {
                Matcher m = COUNTED.matcher(line);
                if (m.find()) {
                    counts.put(m.group(2), Long.parseLong(m.group(1)));
                }
            }
        }
        return counts;
    }

    private static void closeAll(List<AutoCloseable> open) {
        for (AutoCloseable c : open) {
            try {
                c.close();
            } catch (Exception ignored) {
                // the namespace goes with the test
            }
        }
    }
}
