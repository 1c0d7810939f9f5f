package io.nfqueue.test.kernel;

import io.nfqueue.NetfilterQueue;
import io.nfqueue.Packet;
import io.nfqueue.Verdict;
import io.nfqueue.packet.PacketParser;
import io.nfqueue.reactor.PacketReceiver;
import io.nfqueue.reactor.ReceiverOptions;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;

import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The kernel-test kit used the way a user would: the program under test is {@link #decide}, a
 * filter that lets through the datagrams whose text starts with "allow". Each test gets a
 * network namespace of its own, queues UDP to port 9000 there, sends datagrams, lets the filter
 * give the verdicts, and checks what reached the sink. Nothing touches the host's network.
 */
@KernelTest
class UdpFilterExampleKernelTest {
    private static final int QUEUE = 1;
    private static final int PORT = 9000;
    private static final List<String> SENT = List.of("allow 1", "deny 2", "allow 3", "deny 4");

    /** The program under test. */
    static Verdict decide(Packet packet) {
        String text = StandardCharsets.UTF_8.decode(PacketParser.of(packet).transportPayload()).toString();
        return text.startsWith("allow") ? Verdict.accept() : Verdict.drop();
    }

    // The iptables NFQUEUE target. With nft, on a kernel built with CONFIG_NFT_QUEUE (this
    // project's CI kernel is not), the same rule is:
    //     ns.nft("""
    //             table inet t {
    //                 chain out {
    //                     type filter hook output priority 0; policy accept;
    //                     udp dport 9000 queue num 1
    //                 }
    //             }
    //             """);
    // snippet:kernel-test
    @Test
    void theBlockingQueueLetsThroughWhatTheFilterAccepts(NetNamespace ns) throws Exception {
        ns.iptables("-A OUTPUT -p udp --dport 9000 -j NFQUEUE --queue-num 1");
        try (NetfilterQueue queue = NetfilterQueue.open(ns.queueOptions(1));   // bound inside ns
             DatagramChannel sink = ns.udpSocket("127.0.0.1", 9000);           // sockets inside ns
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
            SENT.forEach(text -> Udp.send(sender, "127.0.0.1", 9000, text));   // "allow 1", "deny 2", ...

            int handled = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (handled < SENT.size() && System.nanoTime() < deadline) {
                handled += queue.poll(packet -> packet.verdict(decide(packet)), Duration.ofMillis(100));
            }

            assertEquals(SENT.size(), handled, "packets the queue got");
            assertEquals(List.of("allow 1", "allow 3"), texts(sink));
        }
    }
    // end-snippet

    @Test
    void theReactorReceiverLetsThroughWhatTheFilterAccepts(NetNamespace ns) throws Exception {
        ns.iptables("-A OUTPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(QUEUE)
                .queueOptions(q -> q.networkNamespace(ns.path())));
        try (DatagramChannel sink = ns.udpSocket("127.0.0.1", PORT);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
            Disposable running = receiver.process(UdpFilterExampleKernelTest::decide).subscribe();
            try {
                SENT.forEach(text -> Udp.send(sender, "127.0.0.1", PORT, text));
                assertEquals(List.of("allow 1", "allow 3"), texts(sink));
            } finally {
                running.dispose();
            }
        }
    }

    /** What the sink received: up to all that was sent, until nothing more came for half a second. */
    private static List<String> texts(DatagramChannel sink) {
        return Udp.receive(sink, SENT.size(), Duration.ofMillis(500), Duration.ofSeconds(10)).stream().map(Udp::text).toList();
    }
}
