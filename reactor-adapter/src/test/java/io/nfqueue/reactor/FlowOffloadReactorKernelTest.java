package io.nfqueue.reactor;

import io.nfqueue.FlowOffload;
import io.nfqueue.FlowRules;
import io.nfqueue.Hook;
import io.nfqueue.QueueStats;
import io.nfqueue.Verdict;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Tcp;
import io.nfqueue.test.kernel.Udp;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.Disposable;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Flow offload (issue 15) through the Reactor adapter: {@code process(p -> Verdict.acceptFlow())}
 * on a receiver whose queue options carry the {@link FlowOffload}, with the iptables rules of
 * {@link FlowRules}, ACCEPT and REPEAT modes. The same topology as core's
 * {@code FlowOffloadKernelTest}: client and server namespaces over a veth pair whose client end
 * has {@code gso_max_segs 1} (one TCP segment per packet), rules and queue on the server's
 * LOCAL_IN; counted with kernel counters and socket byte counts, every wait bounded.
 */
@KernelTest
@Timeout(180)
class FlowOffloadReactorKernelTest {
    private static final int QUEUE = 48;
    private static final int TCP_PORT = 9657;
    private static final int UDP_PORT = 9658;
    private static final int MASK = 0x30;
    private static final String CLIENT = "10.231.48.1";
    private static final String SERVER = "10.231.48.2";
    private static final int SEGMENTS = 10_000;
    private static final int SEGMENT = 1448;
    private static final int DATAGRAMS = 10_000;
    private static final int HANDFUL = 5;

    private NetNamespace client;
    private NetNamespace server;

    @BeforeEach
    void link(NetNamespace clientNs, NetNamespace serverNs) {
        client = clientNs;
        server = serverNs;
        client.veth("fr0", CLIENT + "/24", server, "fr1", SERVER + "/24");
        client.ip("link", "set", "fr0", "gso_max_segs", "1");
        server.iptables("-t raw -A PREROUTING -p tcp --dport " + TCP_PORT + " -m comment --comment at-hook-tcp");
    }

    @ParameterizedTest
    @EnumSource(FlowOffload.Mode.class)
    void processAcceptFlowLetsTheTcpFlowBypassTheQueue(FlowOffload.Mode mode) throws Exception {
        FlowOffload offload = FlowOffload.mask(MASK).mode(mode);
        install(FlowRules.forQueue(QUEUE).hook(Hook.LOCAL_IN).offload(offload).iptables());
        AtomicInteger processed = new AtomicInteger();
        AtomicReference<Throwable> error = new AtomicReference<>();
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(QUEUE)
                .queueOptions(q -> q.networkNamespace(server.path()).flowOffload(offload)));
        Disposable subscription = receiver.process(p -> Verdict.acceptFlow())
                .subscribe(done -> processed.incrementAndGet(), error::set);
        try (ServerSocketChannel listener = server.tcpServer(SERVER, TCP_PORT)) {
            waitFor(() -> QueueStats.find(server.path(), QUEUE).isPresent(), Duration.ofSeconds(10), "the binding");
            try (SocketChannel out = client.tcpConnect(SERVER, TCP_PORT, Duration.ofSeconds(10));
                 SocketChannel in = Tcp.accept(listener, Duration.ofSeconds(10))) {
                long bytes = (long) SEGMENTS * SEGMENT;
                long got = pump(out, in, bytes, Duration.ofSeconds(90));
                long atHook = counter("raw", "PREROUTING", "at-hook-tcp");
                long ids = QueueStats.find(server.path(), QUEUE).map(QueueStats::lastPacketId).orElse(-1L);
                System.out.printf("FlowOffloadReactorKernelTest TCP %s: %d of %d bytes, %d packets at the hook, "
                        + "processed %d (kernel ids %d)%n", mode, got, bytes, atHook, processed.get(), ids);
                assertNull(error.get(), () -> "the pipeline failed: " + error.get());
                assertEquals(bytes, got, "every byte arrives");
                assertTrue(atHook >= SEGMENTS, "the flow had at least " + SEGMENTS + " packets: " + atHook);
                assertTrue(processed.get() >= 1 && processed.get() <= HANDFUL, "processed a handful: " + processed.get());
                assertEquals(processed.get(), ids, "the kernel queued what the pipeline processed");
            }
        } finally {
            subscription.dispose();
        }
    }

    /** The first datagram gets a plain accept, the second {@code dropFlow}: nothing more arrives or is processed. */
    @ParameterizedTest
    @EnumSource(FlowOffload.Mode.class)
    void processDropFlowEndsTheUdpFlowInTheKernel(FlowOffload.Mode mode) throws Exception {
        FlowOffload offload = FlowOffload.mask(MASK).mode(mode);
        install(FlowRules.forQueue(QUEUE).hook(Hook.LOCAL_IN).offload(offload).iptables());
        AtomicInteger processed = new AtomicInteger();
        AtomicInteger decided = new AtomicInteger();
        AtomicReference<Throwable> error = new AtomicReference<>();
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(QUEUE)
                .queueOptions(q -> q.networkNamespace(server.path()).flowOffload(offload)));
        Disposable subscription = receiver.process(p -> decided.incrementAndGet() == 1 ? Verdict.accept() : Verdict.dropFlow())
                .subscribe(done -> processed.incrementAndGet(), error::set);
        try (DatagramChannel sink = server.udpSocket(SERVER, UDP_PORT);
             DatagramChannel sender = client.udpSocket(CLIENT, 0)) {
            waitFor(() -> QueueStats.find(server.path(), QUEUE).isPresent(), Duration.ofSeconds(10), "the binding");
            byte[] data = new byte[100];
            Udp.send(sender, SERVER, UDP_PORT, data);
            assertEquals(1, Udp.receive(sink, 1, Duration.ofSeconds(10), Duration.ofSeconds(10)).size(),
                    "the first datagram (plain accept) arrives");
            Udp.send(sender, SERVER, UDP_PORT, data);
            waitFor(() -> processed.get() == 2 && QueueStats.find(server.path(), QUEUE).map(s -> s.queued() == 0)
                    .orElse(false), Duration.ofSeconds(10), "the decision");
            for (int i = 2; i < DATAGRAMS; i++) {
                Udp.send(sender, SERVER, UDP_PORT, data);
            }
            long got = Udp.receive(sink, DATAGRAMS, Duration.ofMillis(500), Duration.ofSeconds(5)).size();
            System.out.printf("FlowOffloadReactorKernelTest UDP drop %s: %d arrived after the decision, processed %d%n",
                    mode, got, processed.get());
            assertNull(error.get(), () -> "the pipeline failed: " + error.get());
            assertEquals(0, got, "nothing after the decision arrives");
            assertTrue(processed.get() <= HANDFUL, "processed a handful: " + processed.get());
        } finally {
            subscription.dispose();
        }
    }

    private void install(FlowRules.RuleSet rules) {
        for (FlowRules.Rule rule : rules.install()) {
            server.exec(rule.argv().toArray(new String[0]));
        }
    }

    private long counter(String table, String chain, String tag) {
        String out = server.exec("iptables", "-w", "-t", table, "-L", chain, "-v", "-x", "-n");
        for (String line : out.split("\n")) {
            if (line.contains("/* " + tag + " */")) {
                return Long.parseLong(line.trim().split("\\s+")[0]);
            }
        }
        throw new AssertionError("no rule /* " + tag + " */ in " + table + " " + chain + ":\n" + out);
    }

    /** Writes n bytes to out (a thread of its own), reads them from in within timeout; closes out. */
    private static long pump(SocketChannel out, SocketChannel in, long n, Duration timeout) throws Exception {
        Thread writer = new Thread(() -> {
            ByteBuffer b = ByteBuffer.allocate(64 * 1024);
            long left = n;
            try {
                while (left > 0) {
                    b.clear();
                    if (left < b.capacity()) {
                        b.limit((int) left);
                    }
                    while (b.hasRemaining()) {
                        left -= out.write(b);
                    }
                }
            } catch (IOException e) {
                // closed below when the time is up
            }
        }, "flow-test-writer");
        writer.setDaemon(true);
        writer.start();
        long got = 0;
        ByteBuffer buf = ByteBuffer.allocate(256 * 1024);
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Selector selector = Selector.open()) {
            in.configureBlocking(false);
            SelectionKey key = in.register(selector, SelectionKey.OP_READ);
            try {
                while (got < n && System.nanoTime() < deadline) {
                    int r = in.read(buf.clear());
                    if (r < 0) {
                        break;
                    }
                    if (r == 0) {
                        selector.select(Math.max(1, Math.min(100, (deadline - System.nanoTime()) / 1_000_000)));
                        selector.selectedKeys().clear();
                    }
                    got += Math.max(r, 0);
                }
            } finally {
                key.cancel();
                selector.selectNow();
                in.configureBlocking(true);
            }
        } finally {
            out.close();
            writer.join(10_000);
        }
        return got;
    }

    private static void waitFor(BooleanSupplier condition, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            Thread.sleep(10);
        }
    }
}
