package io.nfqueue;

import io.nfqueue.test.kernel.KernelQueues;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import io.nfqueue.testing.Await;
import io.nfqueue.testing.QueuePolling;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ruleset is reloaded while the program holds packets. Removing the base chain that queued
 * them unregisters its netfilter hook, and the kernel then flushes every queue of the namespace
 * (nf_unregister_net_hook -> nf_queue_nf_hook_drop -> nfqnl_nf_hook_drop: NF_DROP for all held
 * entries). The program's late verdicts name ids the kernel no longer knows: each comes back as
 * an asynchronous ENOENT, counted in {@link QueueCounters#kernelErrors()}, and the queue goes on:
 * once the rule is back, new packets are received and verdicted as before.
 *
 * <p>Seen on this kernel (iptables-nft 1.8.9): {@code iptables -F OUTPUT} only removes rules and
 * leaves held packets alone (the hook stays); deleting the chain or its table does flush them.
 */
@KernelTest
@Timeout(60)
class RulesetReloadKernelTest {
    private static final int PORT = 9975;
    private static final int QUEUE = 24;
    private static final int HELD = 5;
    private static final String RULE = "-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE;
    /** A namespace of its own for each test (JUnit makes an instance per test), removed after it. */
    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables(RULE);

    @ParameterizedTest
    @ValueSource(strings = {"nft delete table ip filter", "nft delete chain ip filter OUTPUT", "nft flush ruleset"})
    void deletingTheTableDropsHeldPacketsAndLateVerdictsComeBackEnoent(String reload) throws Exception {
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path()))) {
            for (int i = 0; i < HELD; i++) {
                Udp.send(sender, "127.0.0.1", PORT, "held-" + i);
            }
            List<Packet> held = QueuePolling.collect(queue, HELD, Duration.ofSeconds(5));
            assertEquals(HELD, held.size());
            assertEquals(HELD, KernelQueues.find(ns, QUEUE).orElseThrow().queued(), "the kernel holds them");

            if (reload.equals("nft delete chain ip filter OUTPUT")) {
                ns.iptables("-F OUTPUT"); // a base chain with rules cannot be deleted
            }
            ns.exec(reload.split(" "));
            assertTrue(Await.until(() -> KernelQueues.find(ns, QUEUE).orElseThrow().queued() == 0, Duration.ofSeconds(5)),
                    "the reload did not flush the held packets: " + KernelQueues.all(ns));
            assertEquals(0, queue.counters().kernelErrors());

            // Late verdicts: DROP, one message per packet (plain ACCEPTs could share one batch
            // verdict and so one error); each names an id the kernel flushed.
            for (Packet p : held) {
                p.drop();
            }
            assertTrue(Await.until(() -> {
                queue.poll(p -> p.accept(), Duration.ofMillis(50));
                return queue.counters().kernelErrors() >= HELD;
            }, Duration.ofSeconds(5)), "kernel errors: " + queue.counters());
            QueueCounters c = queue.counters();
            assertEquals(HELD, c.kernelErrors(), c.toString());
            assertEquals(0, c.sendFailures(), c.toString());
            assertEquals(0, c.unresolved(), c.toString());
            assertEquals(List.of(), Udp.receive(sink, 1, Duration.ofMillis(300), Duration.ofSeconds(1)),
                    "the flushed packets were dropped, not released");

            // The stream goes on: the rule comes back and new packets are received and verdicted.
            ns.iptables(RULE);
            Udp.send(sender, "127.0.0.1", PORT, "after-reload");
            List<Packet> fresh = QueuePolling.collect(queue, 1, Duration.ofSeconds(5));
            assertEquals(1, fresh.size());
            fresh.get(0).accept();
            assertEquals("after-reload", Udp.text(Udp.receiveOne(sink, Duration.ofSeconds(5))));
            assertEquals(0, queue.poll(p -> p.accept(), Duration.ofMillis(100)));
            assertEquals(HELD, queue.counters().kernelErrors(), "the good verdict must not fail: " + queue.counters());
            assertTrue(Await.until(() -> queue.stats().queued() == 0, Duration.ofSeconds(5)));
        }
    }

    @org.junit.jupiter.api.Test
    void flushingTheChainLeavesHeldPacketsAlone() throws Exception {
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path()))) {
            for (int i = 0; i < HELD; i++) {
                Udp.send(sender, "127.0.0.1", PORT, "kept-" + i);
            }
            List<Packet> held = QueuePolling.collect(queue, HELD, Duration.ofSeconds(5));
            assertEquals(HELD, held.size());
            ns.iptables("-F OUTPUT");
            assertEquals(HELD, KernelQueues.find(ns, QUEUE).orElseThrow().queued(), "rules removed, hook kept: still held");
            for (Packet p : held) {
                p.accept();
            }
            List<String> got = Udp.receive(sink, HELD, Duration.ofSeconds(1), Duration.ofSeconds(5)).stream()
                    .map(Udp::text).sorted().toList();
            assertEquals(List.of("kept-0", "kept-1", "kept-2", "kept-3", "kept-4"), got);
            assertEquals(0, queue.poll(p -> p.accept(), Duration.ofMillis(100)));
            assertEquals(0, queue.counters().kernelErrors(), queue.counters().toString());
        }
    }
}
