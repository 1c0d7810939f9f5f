package io.nfqueue;

import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.testing.Async;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the {@code gso} option changes, shown with TCP on a loopback whose MTU is cut to 1 500
 * (a UDP datagram is never a GSO packet, so {@link LargeDatagramKernelTest} looks the same
 * either way): with GSO on, the queue gets the stack's large segments whole (bigger than the
 * MTU, flagged GSO); with it off, the kernel cuts them to MTU-sized packets before queueing.
 * Either way every byte of the stream arrives unchanged.
 */
@KernelTest
@Timeout(60)
class GsoKernelTest {
    private static final int PORT = 9750;
    private static final int QUEUE = 18;
    private static final int MTU = 1500;
    private static final int SIZE = 60_000;
    private NetNamespace ns;

    @BeforeEach
    void setUp() {
        ns = NetNamespace.create();
        ns.ip("link", "set", "lo", "mtu", Integer.toString(MTU));
        // Only the data direction: client to server port.
        ns.iptables("-A OUTPUT -p tcp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);
    }

    @AfterEach
    void tearDown() {
        ns.close();
    }

    @Test
    void gsoOnDeliversLargeSegmentsWhole() throws Exception {
        List<Packet> seen = stream(true);
        assertTrue(seen.stream().anyMatch(p -> p.isGso() && p.originalLength() > MTU),
                "with GSO on, some packet should be a GSO packet larger than the MTU: " + describe(seen));
    }

    @Test
    void gsoOffDeliversMtuSizedPackets() throws Exception {
        List<Packet> seen = stream(false);
        assertTrue(seen.stream().noneMatch(Packet::isGso), describe(seen));
        assertTrue(seen.stream().allMatch(p -> p.originalLength() <= MTU),
                "with GSO off, the kernel segments before queueing: " + describe(seen));
    }

    /** Sends 60 000 bytes over TCP through the queue (which accepts everything); returns what it saw. */
    private List<Packet> stream(boolean gso) throws Exception {
        byte[] data = new byte[SIZE];
        for (int i = 0; i < SIZE; i++) {
            data[i] = (byte) (i * 7 + (i >>> 9));
        }
        List<Packet> seen = new CopyOnWriteArrayList<>();
        try (ServerSocketChannel server = ns.call(() -> ServerSocketChannel.open()
                .bind(new InetSocketAddress("127.0.0.1", PORT)));
             SocketChannel client = ns.call(SocketChannel::open);
             NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).gso(gso).networkNamespace(ns.path()))) {
            CompletableFuture<Void> running = CompletableFuture.runAsync(() -> queue.run(p -> {
                seen.add(p);
                p.accept();
            }), Async.THREAD_PER_TASK);
            client.setOption(StandardSocketOptions.TCP_NODELAY, false);
            client.connect(new InetSocketAddress("127.0.0.1", PORT));
            try (SocketChannel accepted = server.accept()) {
                CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> readAll(accepted),
                        Async.THREAD_PER_TASK);
                client.write(ByteBuffer.wrap(data));
                client.shutdownOutput();
                byte[] got = received.get(20, TimeUnit.SECONDS);
                assertArrayEquals(data, got, "the stream arrived changed (" + got.length + " bytes)");
            }
            queue.close();
            running.get(5, TimeUnit.SECONDS);
        }
        System.out.println("gso=" + gso + ": " + describe(seen));
        return seen;
    }

    private static byte[] readAll(SocketChannel ch) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(65536);
            while (ch.read(buf.clear()) >= 0) {
                out.write(buf.array(), 0, buf.position());
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String describe(List<Packet> seen) {
        StringBuilder s = new StringBuilder(seen.size() + " packets, lengths:");
        for (Packet p : seen) {
            s.append(' ').append(p.originalLength()).append(p.isGso() ? "G" : "");
        }
        return s.toString();
    }
}
