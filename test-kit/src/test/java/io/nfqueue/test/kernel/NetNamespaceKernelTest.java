package io.nfqueue.test.kernel;

import io.nfqueue.NetfilterQueue;
import io.nfqueue.QueueStats;
import io.nfqueue.Verdict;
import io.nfqueue.reactor.PacketReceiver;
import io.nfqueue.reactor.ReceiverOptions;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;

import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What {@link NetNamespace} offers a test, each against the real kernel. */
@KernelTest
class NetNamespaceKernelTest {

    @Test
    void aFreshNamespaceHasLoopbackUpAndIsListedUntilClosed(NetNamespace ns) {
        assertTrue(Commands.run("ip", "netns", "list").contains(ns.name()));
        assertTrue(ns.ip("-o", "link", "show", "dev", "lo").contains("UP"), "loopback up");
        assertEquals(1, ns.ifIndex("lo"));
        assertEquals(List.of("lo"), ns.exec("ls", "/sys/class/net").lines().toList(), "nothing but loopback");
        assertEquals(ns.path(), ns.queueOptions(7).networkNamespace().orElseThrow());

        try (NetNamespace other = NetNamespace.create()) {
            assertFalse(other.name().equals(ns.name()));
            other.close();
            assertFalse(Files.exists(other.path()));
            assertFalse(Commands.run("ip", "netns", "list").contains(other.name()));
        } // closing twice does nothing
    }

    @Test
    void aQueueBoundThereIsSeenByTheKernelThereOnly(NetNamespace ns) {
        try (NetfilterQueue queue = NetfilterQueue.open(ns.queueOptions(5))) {
            QueueStats line = KernelQueues.find(ns, 5).orElseThrow();
            assertEquals(0, line.queued());
            assertEquals(List.of(line.queueNumber()), KernelQueues.all(ns).stream().map(QueueStats::queueNumber).toList());
        }
        assertTrue(KernelQueues.find(ns, 5).isEmpty(), "unbound by close");
    }

    @Test
    void nftRulesApplyInsideTheNamespace(NetNamespace ns) throws Exception {
        ns.nft("""
                table inet test {
                    chain input {
                        type filter hook input priority 0; policy accept;
                        udp dport 9001 drop
                    }
                }
                """);
        try (DatagramChannel closed = ns.udpSocket("127.0.0.1", 9001);
             DatagramChannel open = ns.udpSocket("127.0.0.1", 9002);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
            Udp.send(sender, "127.0.0.1", 9001, "to the closed port");
            Udp.send(sender, "127.0.0.1", 9002, "to the open port");
            assertEquals("to the open port", Udp.text(Udp.receiveOne(open, Duration.ofSeconds(5))));
            assertNull(Udp.receiveOne(closed, Duration.ofMillis(300)));
        }
        assertTrue(ns.exec("nft", "list", "ruleset").contains("udp dport 9001 drop"));
        assertFalse(Commands.run("nft", "list", "ruleset").contains("table inet test"), "nothing added to the host");
    }

    /**
     * nft's queue statement works where the kernel has CONFIG_NFT_QUEUE; where it does not, the
     * error says so and names the way out (this project's CI kernel is such a one).
     */
    @Test
    void anNftQueueRuleQueuesOrSaysWhyNot(NetNamespace ns) throws Exception {
        try {
            ns.nft("""
                    table inet test {
                        chain output {
                            type filter hook output priority 0; policy accept;
                            udp dport 9003 queue num 3
                        }
                    }
                    """);
        } catch (IllegalStateException refused) {
            assertTrue(refused.getMessage().contains("CONFIG_NFT_QUEUE"), refused.getMessage());
            assertTrue(refused.getMessage().contains("NFQUEUE"), refused.getMessage());
            return;
        }
        try (NetfilterQueue queue = NetfilterQueue.open(ns.queueOptions(3));
             DatagramChannel sink = ns.udpSocket("127.0.0.1", 9003);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
            Udp.send(sender, "127.0.0.1", 9003, "through nft");
            AtomicInteger seen = new AtomicInteger();
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (seen.get() == 0 && System.nanoTime() < deadline) {
                queue.poll(p -> {
                    seen.incrementAndGet();
                    p.accept();
                }, Duration.ofMillis(100));
            }
            assertEquals(1, seen.get());
            assertEquals("through nft", Udp.text(Udp.receiveOne(sink, Duration.ofSeconds(5))));
        }
    }

    @Test
    void aRefusedRuleSaysWhatWasRefused(NetNamespace ns) {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ns.iptables("-A OUTPUT --no-such-option"));
        assertTrue(e.getMessage().contains("iptables -w -A OUTPUT --no-such-option"), e.getMessage());
        IllegalStateException nft = assertThrows(IllegalStateException.class, () -> ns.nft("add rule inet nowhere nothing drop"));
        assertTrue(nft.getMessage().contains("add rule inet nowhere nothing drop"), nft.getMessage());
    }

    @Test
    void tcpThroughAQueue(NetNamespace ns) throws Exception {
        ns.iptables("-A OUTPUT -p tcp --dport 9300 -j NFQUEUE --queue-num 4");
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(4)
                .queueOptions(q -> q.networkNamespace(ns.path())));
        AtomicInteger queued = new AtomicInteger();
        Disposable running = receiver.process(p -> {
            queued.incrementAndGet();
            return Verdict.accept();
        }).subscribe();
        try (ServerSocketChannel server = ns.tcpServer("127.0.0.1", 9300);
             SocketChannel client = ns.tcpConnect("127.0.0.1", 9300, Duration.ofSeconds(10));
             SocketChannel accepted = Tcp.accept(server, Duration.ofSeconds(10))) {
            Tcp.send(client, "over tcp, through the queue");
            assertEquals("over tcp, through the queue", Tcp.text(Tcp.receive(accepted, 27, Duration.ofSeconds(10))));
            Tcp.send(accepted, "and back");
            assertEquals("and back", Tcp.text(Tcp.receive(client, 8, Duration.ofSeconds(10))));
        } finally {
            running.dispose();
        }
        assertTrue(queued.get() >= 3, "SYN, ACK and data went through the queue: " + queued.get());
    }

    @Test
    void everyTcpWaitEndsAtItsTimeout(NetNamespace ns) throws Exception {
        ns.iptables("-A OUTPUT -p tcp --dport 9301 -j DROP");
        try (ServerSocketChannel server = ns.tcpServer("127.0.0.1", 9301)) {
            long start = System.nanoTime();
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> ns.tcpConnect("127.0.0.1", 9301, Duration.ofMillis(300)));
            assertTrue(e.getMessage().contains("no TCP connection to 127.0.0.1:9301"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> Tcp.accept(server, Duration.ofMillis(100)));
            assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos(), "bounded");
        }
    }

    @Test
    void twoNamespacesLinkedByVeth(NetNamespace a, NetNamespace b) throws Exception {
        a.veth("va", "10.201.0.1/24", b, "vb", "10.201.0.2/24");
        assertEquals(6, a.macAddress("va").length);
        try (DatagramChannel sink = b.udpSocket("10.201.0.2", 9400);
             DatagramChannel sender = a.udpSocket("10.201.0.1", 0)) {
            Udp.send(sender, "10.201.0.2", 9400, "across");
            Udp.Datagram got = Udp.receiveFrom(sink, Duration.ofSeconds(5));
            assertEquals("across", Udp.text(got.data()));
            assertTrue(got.source().toString().contains("10.201.0.1"), got.source().toString());
        }
    }

    @Test
    void aTallyCountsEachText(NetNamespace ns) throws Exception {
        try (DatagramTally sink = DatagramTally.start(ns.udpSocket("127.0.0.1", 9500));
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
            for (int i = 0; i < 10; i++) {
                Udp.send(sender, "127.0.0.1", 9500, "m" + (i % 5));
            }
            assertTrue(sink.awaitTotal(10, Duration.ofSeconds(5)));
            assertEquals(2, sink.count("m0"));
            assertEquals(0, sink.count("m9"));
            assertEquals(5, sink.counts(t -> true).size());
            assertNull(sink.failure());
        }
    }
}
