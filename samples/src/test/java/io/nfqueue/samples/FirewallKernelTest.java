package io.nfqueue.samples;

import io.nfqueue.NetfilterQueue;
import io.nfqueue.QueueOptions;
import io.nfqueue.Verdict;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;

@KernelTest
@Timeout(60)
class FirewallKernelTest {
    private static final int QUEUE = 11;
    private static final int N = 20;

    @Test
    void dropsWhatItsRulesSayAndNothingElse() throws Exception {
        FirewallRules rules = FirewallRules.parse("rules", List.of(
                "drop proto udp dport 7002",
                "drop proto udp dst 127.0.0.0/8 dport 7100-7200 dir out",
                "mark=0x10 proto udp dport 7003",
                "drop proto tcp",
                "accept proto udp dport 7001"));
        Firewall fw = new Firewall(rules, true);
        try (NetNamespace ns = NetNamespace.create()) {
            ns.iptables("-A OUTPUT -p udp -d 127.0.0.1 -j NFQUEUE --queue-num " + QUEUE + " --queue-bypass");
            int[] ports = {7001, 7002, 7003, 7150, 7300};
            Map<Integer, Integer> expected = Map.of(7001, N, 7002, 0, 7003, N, 7150, 0, 7300, N);
            DatagramChannel[] sinks = new DatagramChannel[ports.length];
            try (NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path())
                    .defaultVerdict(Verdict.accept()));
                 DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
                for (int i = 0; i < ports.length; i++) {
                    sinks[i] = ns.udpSocket("127.0.0.1", ports[i]);
                }
                AtomicBoolean stop = new AtomicBoolean();
                Thread poller = new Thread(() -> {
                    while (!stop.get()) {
                        queue.poll(fw, Duration.ofMillis(100));
                    }
                }, "firewall-test");
                poller.start();
                try {
                    for (int i = 0; i < N; i++) {
                        for (int p : ports) {
                            Udp.send(sender, "127.0.0.1", p, "fw-" + p + "-" + i);
                        }
                    }
                    for (int i = 0; i < ports.length; i++) {
                        int want = expected.get(ports[i]);
                        Duration quiet = Duration.ofMillis(want == 0 ? 500 : 2000);
                        List<byte[]> got = Udp.receive(sinks[i], N + 1, quiet, Duration.ofSeconds(10));
                        assertEquals(want, got.size(), "datagrams to port " + ports[i]);
                    }
                } finally {
                    stop.set(true);
                    poller.join(5000);
                    for (DatagramChannel s : sinks) {
                        if (s != null) {
                            s.close();
                        }
                    }
                }
            }
        }
        assertEquals(5 * N, fw.seen(), fw.report());
        List<FirewallRules.Rule> r = rules.rules();
        assertEquals(N, r.get(0).hits().get(), fw.report());
        assertEquals(N, r.get(1).hits().get(), fw.report());
        assertEquals(N, r.get(2).hits().get(), fw.report());
        assertEquals(0, r.get(3).hits().get(), fw.report());
        assertEquals(N, r.get(4).hits().get(), fw.report());
        assertEquals(N, fw.defaultHits(), fw.report());
    }
}
