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
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;

@KernelTest
@Timeout(60)
class RewriteKernelTest {
    private static final int QUEUE = 14;
    private static final int PORT = 7500;

    @Test
    void theSinkReceivesTheNewBytes() throws Exception {
        Rewriter rewriter = new Rewriter("world".getBytes(StandardCharsets.UTF_8),
                "wide world of netfilter".getBytes(StandardCharsets.UTF_8));
        try (NetNamespace ns = NetNamespace.create();
             DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel client = ns.udpSocket("127.0.0.1", 0)) {
            ns.iptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE + " --queue-bypass");
            try (NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path())
                    .defaultVerdict(Verdict.accept()))) {
                AtomicBoolean stop = new AtomicBoolean();
                Thread poller = new Thread(() -> {
                    while (!stop.get()) {
                        queue.poll(rewriter, Duration.ofMillis(100));
                    }
                }, "rewrite-test");
                poller.start();
                try {
                    Udp.send(client, "127.0.0.1", PORT, "hello world");
                    Udp.send(client, "127.0.0.1", PORT, "nothing to see");
                    Udp.send(client, "127.0.0.1", PORT, "world, world");
                    List<byte[]> got = Udp.receive(sink, 3, Duration.ofSeconds(3), Duration.ofSeconds(10));
                    assertEquals(List.of("hello wide world of netfilter", "nothing to see",
                            "wide world of netfilter, wide world of netfilter"), got.stream().map(Udp::text).toList());
                } finally {
                    stop.set(true);
                    poller.join(5000);
                }
            }
        }
        assertEquals(2, rewriter.rewritten.get(), rewriter.report());
        assertEquals(1, rewriter.unchanged.get(), rewriter.report());
        assertEquals(0, rewriter.refused.get(), rewriter.report());
    }
}
