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
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;

@KernelTest
@Timeout(60)
class DnsBlockKernelTest {
    private static final int QUEUE = 13;

    @Test
    void blockedNamesNeverArriveOthersDo() throws Exception {
        DnsBlocker blocker = new DnsBlocker(Set.of("ads.example", "tracker.test"));
        List<String> names = List.of("ads.example", "www.ads.example", "tracker.test", "example.org",
                "notads.example", "www.example.com");
        Set<String> blocked = Set.of("ads.example", "www.ads.example", "tracker.test");
        try (NetNamespace ns = NetNamespace.create();
             DatagramChannel sink = ns.udpSocket("127.0.0.1", 53);
             DatagramChannel client = ns.udpSocket("127.0.0.1", 0)) {
            ns.iptables("-A OUTPUT -p udp --dport 53 -j NFQUEUE --queue-num " + QUEUE + " --queue-bypass");
            try (NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path())
                    .defaultVerdict(Verdict.accept()))) {
                AtomicBoolean stop = new AtomicBoolean();
                Thread poller = new Thread(() -> {
                    while (!stop.get()) {
                        queue.poll(blocker, Duration.ofMillis(100));
                    }
                }, "dns-block-test");
                poller.start();
                try {
                    for (int round = 0; round < 5; round++) {
                        for (int i = 0; i < names.size(); i++) {
                            Udp.send(client, "127.0.0.1", 53, DnsQuery.encode(round * 100 + i, names.get(i)));
                        }
                    }
                    Udp.send(client, "127.0.0.1", 53, "not dns");
                    List<byte[]> got = Udp.receive(sink, 100, Duration.ofSeconds(2), Duration.ofSeconds(10));
                    long notDns = got.stream().filter(b -> DnsQuery.questionName(b) == null).count();
                    List<String> arrived = got.stream().map(DnsQuery::questionName).filter(n -> n != null).toList();
                    assertEquals(1, notDns, "what is not DNS passes");
                    for (String n : names) {
                        long count = arrived.stream().filter(n::equals).count();
                        assertEquals(blocked.contains(n) ? 0 : 5, count, n);
                    }
                } finally {
                    stop.set(true);
                    poller.join(5000);
                }
            }
        }
        assertEquals(30, blocker.queries.get(), blocker.report());
        assertEquals(15, blocker.dropped.get(), blocker.report());
        assertEquals(1, blocker.other.get(), blocker.report());
    }
}
