package io.nfqueue.samples;

import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.Verdict;
import io.nfqueue.packet.PacketParser;
import io.nfqueue.reactor.PacketReceiver;
import io.nfqueue.reactor.ReceiverOptions;
import io.nfqueue.test.CaptureReplay;
import io.nfqueue.test.GivenVerdict;
import io.nfqueue.test.ReplayReport;
import io.nfqueue.test.ReplayedPacket;
import io.nfqueue.test.kernel.Commands;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;

import java.nio.channels.DatagramChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A sample's pipeline on a real queue with real traffic while tcpdump captures the same packets,
 * then the capture replayed through the same pipeline with the test kit: the verdicts must be the
 * live ones, packet by packet (matched by the UDP payload, unique per datagram), and the sample's
 * counters the same.
 *
 * <pre>
 *   client [c0] 10.201.0.1 fd00:201::1 ──veth── 10.201.0.2 fd00:201::2 [s0] server
 *                                                 INPUT/ip6 INPUT: -i s0 -p udp -j NFQUEUE
 *                                                 tcpdump -i s0 'udp or arp'
 * </pre>
 *
 * tcpdump on s0 sees every frame that arrives before netfilter does, so the capture holds every
 * packet the queue saw (queued at LOCAL_IN, where the replay's standard mapping puts packets of
 * unknown direction), plus the ARP exchange that comes before the first IPv4 datagram, which the
 * replay reports as skipped.
 */
@KernelTest
@Timeout(120)
class ReplayKernelTest {
    private static final int QUEUE = 25;
    private static final int ROUNDS = 5;

    @TempDir
    Path dir;

    /** One datagram the client sends: to the server's IPv4 or IPv6 address, a port, a payload. */
    private record Datagram(boolean ipv6, int port, byte[] payload) {
    }

    /** What a packet got, comparable between live and replay: the hook it was queued at and the verdict. */
    private static String outcome(String hook, Verdict verdict, DefaultVerdictCause cause) {
        return hook + " " + verdict + (cause == null ? " by the program" : " by default (" + cause + ")");
    }

    private static String key(byte[] ipPacket) {
        PacketParser parser = PacketParser.of(ipPacket);
        byte[] payload = new byte[parser.transportPayloadLength()];
        parser.transportPayload().get(payload);
        return HexFormat.of().formatHex(payload);
    }

    @Test
    void theFirewallsReplayedVerdictsAreItsLiveOnes() throws Exception {
        Supplier<Firewall> firewall = () -> new Firewall(FirewallRules.parse("rules", List.of(
                "drop proto udp dport 7002",
                "mark=0x10 proto udp dport 7003",
                "drop proto udp src fd00:201::1/128 dport 7004",
                "accept proto udp dport 7000-7010 dir in")), false);    // the rest (7020): the default, drop
        List<Datagram> traffic = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            for (int port : new int[] {7001, 7002, 7003, 7004, 7020}) {
                for (boolean v6 : new boolean[] {false, true}) {
                    traffic.add(new Datagram(v6, port, ("fw-" + port + "-" + round + (v6 ? "-v6" : "-v4")).getBytes()));
                }
            }
        }
        Firewall live = firewall.get();
        Firewall replayed = firewall.get();
        Map<String, Long> kinds = liveThenReplay(live.sample(), replayed.sample(), traffic);
        assertEquals(Map.of("ACCEPT", 25L, "DROP", 25L), kinds, "7001, 7003 and 7004 over IPv4 pass; the rest drop");
        assertEquals(live.report(), replayed.report(), "the same rules hit as often");
        assertEquals(50, replayed.seen());
    }

    @Test
    void dnsBlocksReplayedVerdictsAreItsLiveOnes() throws Exception {
        Set<String> blocklist = Set.of("ads.example", "tracker.test");
        List<String> names = List.of("ads.example", "www.ads.example", "tracker.test", "example.org", "notads.example");
        List<Datagram> traffic = new ArrayList<>();
        int id = 0;
        for (int round = 0; round < ROUNDS; round++) {
            for (String name : names) {
                for (boolean v6 : new boolean[] {false, true}) {
                    traffic.add(new Datagram(v6, 53, DnsQuery.encode(id++, name)));   // ids make each payload unique
                }
            }
            traffic.add(new Datagram(false, 53, ("not dns " + round).getBytes()));
        }
        DnsBlocker live = new DnsBlocker(blocklist);
        DnsBlocker replayed = new DnsBlocker(blocklist);
        Map<String, Long> kinds = liveThenReplay(live.sample(), replayed.sample(), traffic);
        assertEquals(Map.of("ACCEPT", 25L, "DROP", 30L), kinds);
        assertEquals(live.report(), replayed.report());
        assertEquals(30, replayed.dropped.get(), replayed.report());
    }

    /**
     * Sends {@code traffic} from the client while {@code live}'s pipeline decides on the server's
     * queue and tcpdump captures on its interface; replays the capture through {@code replayed}'s
     * pipeline; asserts that every packet has the same outcome in both and returns the count per
     * verdict kind.
     */
    private Map<String, Long> liveThenReplay(SamplePipeline live, SamplePipeline replayed, List<Datagram> traffic)
            throws Exception {
        Path capture = dir.resolve("live.pcap");
        Map<String, String> liveOutcomes = new ConcurrentHashMap<>();
        String tcpdumpSaid;
        try (NetNamespace client = NetNamespace.create(); NetNamespace server = NetNamespace.create()) {
            client.veth("c0", "10.201.0.1/24", server, "s0", "10.201.0.2/24");
            client.ip("-6", "addr", "add", "fd00:201::1/64", "dev", "c0", "nodad");
            server.ip("-6", "addr", "add", "fd00:201::2/64", "dev", "s0", "nodad");
            server.iptables("-A INPUT -i s0 -p udp -j NFQUEUE --queue-num " + QUEUE);
            server.ip6tables("-A INPUT -i s0 -p udp -j NFQUEUE --queue-num " + QUEUE);

            AtomicReference<Throwable> failure = new AtomicReference<>();
            PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(QUEUE)
                    .defaultVerdict(live.defaultVerdict())
                    .queueOptions(o -> o.networkNamespace(server.path()))
                    .onResolution((p, v, cause) -> liveOutcomes.put(key(p.payloadBytes()), outcome(p.hook().name(), v, cause))));
            try (Tcpdump tcpdump = Tcpdump.start(server, "s0", capture, "udp or arp");
                 DatagramChannel v4 = client.udpSocket("10.201.0.1", 0);
                 DatagramChannel v6 = client.udpSocket("fd00:201::1", 0)) {
                // the very function the live command runs, on a kernel queue
                Disposable running = receiver.receive(live.pipeline()).subscribe(p -> { }, failure::set);
                try {
                    for (Datagram d : traffic) {
                        Udp.send(d.ipv6() ? v6 : v4, d.ipv6() ? "fd00:201::2" : "10.201.0.2", d.port(), d.payload());
                    }
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (liveOutcomes.size() < traffic.size() && System.nanoTime() - deadline < 0 && failure.get() == null) {
                        TimeUnit.MILLISECONDS.sleep(10);
                    }
                } finally {
                    running.dispose();
                }
                assertNull(failure.get(), "the live pipeline failed");
                assertEquals(traffic.size(), liveOutcomes.size(), "every datagram was queued and decided live");
                tcpdumpSaid = tcpdump.stop();
            }
        }
        assertTrue(tcpdumpSaid.lines().anyMatch("0 packets dropped by kernel"::equals), tcpdumpSaid);

        // the capture through the same pipeline function on the test kit's queue
        ReplayReport report = CaptureReplay.of(capture)
                .receiverOptions(ReceiverOptions.queue(0).defaultVerdict(replayed.defaultVerdict()))
                .run(replayed.pipeline());
        Map<String, String> replayOutcomes = new TreeMap<>();
        for (ReplayedPacket p : report.packets()) {
            GivenVerdict g = p.verdict().orElseThrow(() -> new AssertionError("no verdict in the replay: " + p));
            String previous = replayOutcomes.put(key(p.captured().payloadBytes()), outcome(p.offered().packet().hook().name(),
                    g.verdict(), g.defaultCause().orElse(null)));
            assertNull(previous, "a datagram twice in the capture: " + p);
        }
        assertEquals(new TreeMap<>(liveOutcomes), replayOutcomes, "outcome per datagram (hex UDP payload), live vs replay; "
                + "tcpdump said: " + tcpdumpSaid + "; the replay: " + report);
        assertTrue(report.skippedByReason().getOrDefault("ethertype 0x0806 (ARP)", 0L) >= 2,
                "the ARP request and reply before the first IPv4 datagram: " + report.summary());
        assertTrue(report.skipped().stream().allMatch(s -> s.reason().startsWith("ethertype 0x0806")), report.summary());

        // the verdict file opens in tcpdump (libpcap reads pcapng) with one packet per datagram
        Path verdicts = dir.resolve("verdicts.pcapng");
        report.writePcapng(verdicts);
        String read = Commands.run("tcpdump", "-r", verdicts.toString(), "-n", "-q");   // -q: "UDP, length N" whatever the port
        assertEquals(traffic.size(), read.lines().filter(l -> l.contains(": UDP, length ")).count(), read);

        Map<String, Long> kinds = new TreeMap<>();
        for (Verdict.Kind k : Verdict.Kind.values()) {
            if (report.count(k) > 0) {
                kinds.put(k.name(), report.count(k));
            }
        }
        return kinds;
    }
}
