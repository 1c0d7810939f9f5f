package io.nfqueue.test.kernel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

/**
 * A sink that counts, on its own thread, how many times each datagram text arrived, so a test
 * that numbers its datagrams can check "every accepted one exactly once, no dropped one" while
 * the sink's socket buffer never fills up. {@link #close()} closes the channel and stops the thread.
 *
 * <pre>{@code
 * try (DatagramTally sink = DatagramTally.start(ns.udpSocket("127.0.0.1", 9000))) {
 *     ... send "m0" .. "m99", accept the even ones, drop the odd ones ...
 *     assertTrue(sink.awaitTotal(50, Duration.ofSeconds(5)));
 *     assertEquals(1, sink.count("m0"));
 *     assertEquals(0, sink.count("m1"));
 * }
 * }</pre>
 */
public final class DatagramTally implements AutoCloseable {
    private final DatagramChannel channel;
    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    private final AtomicLong total = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Thread reader;

    private DatagramTally(DatagramChannel channel) {
        this.channel = channel;
        this.reader = new Thread(this::read, "datagram-tally");
        reader.setDaemon(true);
    }

    /** Starts counting what arrives on {@code channel} (a bound socket, e.g. {@link NetNamespace#udpSocket}). */
    public static DatagramTally start(DatagramChannel channel) {
        DatagramTally t = new DatagramTally(channel);
        t.reader.start();
        return t;
    }

    private void read() {
        ByteBuffer buf = ByteBuffer.allocate(65536);
        try {
            channel.configureBlocking(true);
            while (true) {
                buf.clear();
                channel.receive(buf);
                String text = new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
                counts.computeIfAbsent(text, k -> new AtomicInteger()).incrementAndGet();
                total.incrementAndGet();
            }
        } catch (ClosedChannelException closed) {
            // close(): done
        } catch (IOException | RuntimeException e) {
            failure.compareAndSet(null, e);
        }
    }

    /** How many times {@code text} arrived so far. */
    public int count(String text) {
        AtomicInteger n = counts.get(text);
        return n == null ? 0 : n.get();
    }

    /** Datagrams arrived so far. */
    public long total() {
        return total.get();
    }

    /** Waits (bounded) until {@code text} arrived at least once; returns whether it did. */
    public boolean awaitArrival(String text, Duration max) {
        // Polled every 50 µs, not every 10 ms: a paced sender waits for each datagram.
        long deadline = System.nanoTime() + max.toNanos();
        while (count(text) == 0) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            LockSupport.parkNanos(50_000);
        }
        return true;
    }

    /** Waits (bounded) until at least {@code n} datagrams arrived in all; returns whether they did. */
    public boolean awaitTotal(long n, Duration max) {
        long deadline = System.nanoTime() + max.toNanos();
        while (total.get() < n) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            LockSupport.parkNanos(1_000_000);
        }
        return true;
    }

    /** Texts matching {@code filter} with their arrival counts, sorted (for assertions and messages). */
    public Map<String, Integer> counts(Predicate<String> filter) {
        Map<String, Integer> m = new TreeMap<>();
        counts.forEach((k, v) -> {
            if (filter.test(k)) {
                m.put(k, v.get());
            }
        });
        return m;
    }

    /** The error that stopped the reading thread, or null. */
    public Throwable failure() {
        return failure.get();
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing a datagram channel does not fail in practice
        }
        try {
            reader.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
