package io.nfqueue.samples;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.locks.LockSupport;

/**
 * Sends numbered datagrams ("demo-1", "demo-2", ...) to host:port at a bounded rate, counts how
 * many of them arrive at a socket it binds on that address, prints one result line, and exits.
 *
 * <pre>
 * java -cp nfqueue-samples.jar io.nfqueue.samples.UdpTrafficGenerator 127.0.0.1 9999 100 20
 * </pre>
 *
 * The demo runs it inside its network namespace ({@code ip netns exec}), so its sockets, and
 * the traffic, live there. The last line it prints is read by the demo: see {@link #RESULT}.
 */
public final class UdpTrafficGenerator {
    /** The result line: "sent N datagrams to HOST:PORT, M arrived" (M is "?" without a receiver). */
    static final String RESULT = "sent %d datagrams to %s:%d, %s arrived";

    private static final int MAX_COUNT = 1_000_000;
    private static final int MAX_RATE = 100_000;
    /** After the last send, wait this long without an arrival before counting is over. */
    private static final long QUIET_NANOS = 500_000_000L;
    /** ...but never longer than this. */
    private static final long DRAIN_LIMIT_NANOS = 3_000_000_000L;

    private UdpTrafficGenerator() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 4) {
            System.err.println("usage: UdpTrafficGenerator HOST PORT COUNT RATE_PER_SECOND");
            System.exit(2);
        }
        String host = args[0];
        int port = parse(args[1], "port", 1, 65535);
        int count = parse(args[2], "count", 1, MAX_COUNT);
        int rate = parse(args[3], "rate", 1, MAX_RATE);
        InetSocketAddress target = new InetSocketAddress(host, port);

        try (DatagramChannel receiver = openReceiver(target); DatagramChannel sender = DatagramChannel.open()) {
            long period = 1_000_000_000L / rate;
            long start = System.nanoTime();
            int arrived = 0;
            for (int n = 1; n <= count; n++) {
                LockSupport.parkNanos(start + (n - 1) * period - System.nanoTime());
                sender.send(ByteBuffer.wrap(("demo-" + n).getBytes(StandardCharsets.US_ASCII)), target);
                arrived += drain(receiver);
            }
            arrived += drainUntilQuiet(receiver);
            String got = receiver == null ? "?" : Integer.toString(arrived);
            System.out.println(String.format(RESULT, count, host, port, got));
        }
    }

    private static int parse(String text, String what, int min, int max) {
        try {
            int n = Integer.parseInt(text);
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

    /** A non-blocking socket on the target address, or null if the address is taken. */
    private static DatagramChannel openReceiver(InetSocketAddress target) {
        try {
            DatagramChannel ch = DatagramChannel.open();
            try {
                ch.bind(target);
                ch.configureBlocking(false);
                return ch;
            } catch (IOException e) {
                ch.close();
                System.out.println("cannot listen on " + target + " (" + e.getMessage() + "): not counting arrivals");
                return null;
            }
        } catch (IOException e) {
            return null;
        }
    }

    /** Reads whatever is waiting, without blocking. */
    private static int drain(DatagramChannel receiver) throws IOException {
        if (receiver == null) {
            return 0;
        }
        ByteBuffer buf = ByteBuffer.allocate(2048);
        int n = 0;
        while (receiver.receive(buf.clear()) != null) {
            n++;
        }
        return n;
    }

    /** Reads until nothing arrived for QUIET_NANOS, at most DRAIN_LIMIT_NANOS. */
    private static int drainUntilQuiet(DatagramChannel receiver) throws IOException {
        if (receiver == null) {
            return 0;
        }
        long end = System.nanoTime() + DRAIN_LIMIT_NANOS;
        long lastArrival = System.nanoTime();
        int total = 0;
        while (System.nanoTime() < end && System.nanoTime() - lastArrival < QUIET_NANOS) {
            int n = drain(receiver);
            if (n > 0) {
                total += n;
                lastArrival = System.nanoTime();
            } else {
                LockSupport.parkNanos(10_000_000L);
            }
        }
        return total;
    }
}
