package io.nfqueue.samples;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * The demo's client: sends UDP datagrams to a server from several source addresses, each flow
 * at its own rate, for a given time, then prints how many it sent per flow and exits.
 *
 * <pre>
 * java -cp nfqueue-samples.jar io.nfqueue.samples.UdpTrafficGenerator SERVER MILLIS SOURCE:PORT:RATE...
 * </pre>
 *
 * Output: {@code sending ...} when it starts, one {@code sent SOURCE:PORT N} line per flow, and
 * {@code done after N ms}. The demo runs it inside its client namespace ({@code ip netns exec}),
 * so its sockets and its traffic live there. It exits early when its standard input closes: a
 * demo that dies takes its generator with it.
 */
public final class UdpTrafficGenerator {
    static final String SENDING = "sending ";
    static final String SENT = "sent ";
    static final String DONE = "done after ";
    private static final int MAX_RATE = 100_000;
    private static final long MAX_MILLIS = 600_000;
    /** How long the sender may lag behind its schedule (a stalled machine) before it gives up. */
    private static final long LATE_LIMIT_NANOS = 10_000_000_000L;
    private static final long TICK_NANOS = 2_000_000L;

    private record Flow(String source, int port, int rate, InetSocketAddress to, DatagramChannel channel, long count,
                        long[] sent) {
    }

    private UdpTrafficGenerator() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            System.err.println("usage: UdpTrafficGenerator SERVER MILLIS SOURCE:PORT:RATE...");
            System.exit(2);
        }
        onInputEnd(() -> System.exit(3));
        String server = args[0];
        long millis = parse(args[1], "MILLIS", 1, MAX_MILLIS);
        List<Flow> flows = new ArrayList<>();
        try {
            for (int i = 2; i < args.length; i++) {
                String[] f = args[i].split(":");
                if (f.length != 3) {
                    System.err.println("a flow is SOURCE:PORT:RATE, not " + args[i]);
                    System.exit(2);
                }
                int port = (int) parse(f[1], "PORT", 1, 65535);
                int rate = (int) parse(f[2], "RATE", 1, MAX_RATE);
                DatagramChannel ch = DatagramChannel.open();
                ch.bind(new InetSocketAddress(f[0], 0));
                flows.add(new Flow(f[0], port, rate, new InetSocketAddress(server, port), ch, rate * millis / 1000,
                        new long[1]));
            }
            System.out.println(SENDING + flows.size() + " flows to " + server + " for " + millis + " ms");
            long start = System.nanoTime();
            send(flows, start);
            for (Flow f : flows) {
                System.out.println(SENT + f.source() + ":" + f.port() + " " + f.sent()[0]);
            }
            System.out.println(DONE + (System.nanoTime() - start) / 1_000_000 + " ms");
        } finally {
            for (Flow f : flows) {
                f.channel().close();
            }
        }
    }

    /**
     * Sends datagram k of a flow at {@code start + k / rate}: each flow keeps its own pace, and
     * a flow that fell behind (a busy machine) catches up at once, as real clients do.
     */
    private static void send(List<Flow> flows, long start) throws IOException {
        long total = flows.stream().mapToLong(Flow::count).sum();
        long done = 0;
        long lastDue = flows.stream().mapToLong(f -> f.count() * 1_000_000_000L / f.rate()).max().orElse(0);
        while (done < total && System.nanoTime() - start < lastDue + LATE_LIMIT_NANOS) {
            long elapsed = System.nanoTime() - start;
            for (Flow f : flows) {
                long due = Math.min(f.count(), elapsed * f.rate() / 1_000_000_000L + 1);
                while (f.sent()[0] < due) {
                    long n = ++f.sent()[0];
                    f.channel().send(ByteBuffer.wrap(("demo " + f.source() + " " + n)
                            .getBytes(StandardCharsets.US_ASCII)), f.to());
                    done++;
                }
            }
            LockSupport.parkNanos(TICK_NANOS);
        }
    }

    /**
     * Runs {@code atEnd} once standard input reaches its end: the demo closed it (it is done with
     * this program) or died. So no traffic program outlives the demo, whatever becomes of it.
     */
    static void onInputEnd(Runnable atEnd) {
        Thread t = new Thread(() -> {
            try {
                InputStream in = System.in;
                while (in.read() >= 0) {
                    // the demo writes nothing: only the end matters
                }
            } catch (IOException e) {
                // as good as the end
            }
            atEnd.run();
        }, "stdin-watch");
        t.setDaemon(true);
        t.start();
    }

    static long parse(String text, String what, long min, long max) {
        try {
            long n = Long.parseLong(text);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        System.err.println(what + " must be " + min + ".." + max + ": " + text);
        System.exit(2);
        return 0;
    }
}
