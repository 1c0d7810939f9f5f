package io.nfqueue.samples;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The demo's server: listens for UDP on an address and some ports, counts the datagrams that
 * arrive per source address and port, and, once its standard input closes (the demo's signal
 * that the client is done) and nothing has arrived for a moment, prints the counts and exits.
 *
 * <pre>
 * java -cp nfqueue-samples.jar io.nfqueue.samples.UdpSink ADDRESS MAX_SECONDS PORT...
 * </pre>
 *
 * Output: {@code listening on ...} once every socket is bound, one {@code arrived SOURCE:PORT N}
 * line per flow that reached it, and {@code done}. It never runs longer than MAX_SECONDS.
 */
public final class UdpSink {
    static final String LISTENING = "listening on ";
    static final String ARRIVED = "arrived ";
    static final String DONE = "done";
    /** After the input closed, counting ends once nothing arrived for this long... */
    private static final long QUIET_NANOS = 300_000_000L;
    /** ...or after this long, whatever arrives. */
    private static final long DRAIN_LIMIT_NANOS = 3_000_000_000L;
    private static final long SELECT_MILLIS = 50;

    private static volatile long inputClosedAt;

    private UdpSink() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            System.err.println("usage: UdpSink ADDRESS MAX_SECONDS PORT...");
            System.exit(2);
        }
        long deadline = System.nanoTime() + UdpTrafficGenerator.parse(args[1], "MAX_SECONDS", 1, 3600) * 1_000_000_000L;
        Map<String, Long> arrived = new TreeMap<>();
        try (Selector selector = Selector.open()) {
            for (int i = 2; i < args.length; i++) {
                int port = (int) UdpTrafficGenerator.parse(args[i], "PORT", 1, 65535);
                DatagramChannel ch = DatagramChannel.open();
                // A sink on a busy machine may read late: ask for a large buffer (capped by rmem_max).
                ch.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
                ch.bind(new InetSocketAddress(args[0], port));
                ch.configureBlocking(false);
                ch.register(selector, SelectionKey.OP_READ, port);
            }
            UdpTrafficGenerator.onInputEnd(() -> inputClosedAt = System.nanoTime());
            System.out.println(LISTENING + args[0] + " ports " + String.join(",", List.of(args).subList(2,
                    args.length)));
            count(selector, arrived, deadline);
            for (SelectionKey k : selector.keys()) {
                k.channel().close();
            }
        }
        arrived.forEach((flow, n) -> System.out.println(ARRIVED + flow + " " + n));
        System.out.println(DONE);
    }

    private static void count(Selector selector, Map<String, Long> arrived, long deadline) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(2048);
        long lastArrival = System.nanoTime();
        while (true) {
            long now = System.nanoTime();
            long closed = inputClosedAt;
            if (now - deadline >= 0) {
                return;
            }
            if (closed != 0 && (now - Math.max(lastArrival, closed) >= QUIET_NANOS || now - closed >= DRAIN_LIMIT_NANOS)) {
                return;
            }
            selector.select(SELECT_MILLIS);
            for (SelectionKey k : selector.selectedKeys()) {
                DatagramChannel ch = (DatagramChannel) k.channel();
                InetSocketAddress from;
                while ((from = (InetSocketAddress) ch.receive(buf.clear())) != null) {
                    arrived.merge(from.getAddress().getHostAddress() + ":" + k.attachment(), 1L, Long::sum);
                    lastArrival = System.nanoTime();
                }
            }
            selector.selectedKeys().clear();
        }
    }
}
