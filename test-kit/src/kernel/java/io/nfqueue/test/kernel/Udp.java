package io.nfqueue.test.kernel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Sending and receiving datagrams in tests, with every wait bounded; the sockets come from
 * {@link NetNamespace#udpSocket}.
 *
 * <pre>{@code
 * try (DatagramChannel sink = ns.udpSocket("127.0.0.1", 9000);
 *      DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
 *     Udp.send(sender, "127.0.0.1", 9000, "hello");
 *     assertEquals("hello", Udp.text(Udp.receiveOne(sink, Duration.ofSeconds(2))));
 * }
 * }</pre>
 */
public final class Udp {
    private Udp() {
    }

    /** Sends {@code data} from {@code from} to {@code host:port} as one datagram. */
    public static void send(DatagramChannel from, String host, int port, byte[] data) {
        try {
            int n = from.send(ByteBuffer.wrap(data), new InetSocketAddress(host, port));
            if (n != data.length) {
                throw new IllegalStateException("sent " + n + " of " + data.length + " bytes");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Sends {@code text} (UTF-8) from {@code from} to {@code host:port} as one datagram. */
    public static void send(DatagramChannel from, String host, int port, String text) {
        send(from, host, port, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Receives datagrams until {@code max} arrived or {@code quiet} passes with none, at most {@code total}. */
    public static List<byte[]> receive(DatagramChannel ch, int max, Duration quiet, Duration total) {
        List<byte[]> got = new ArrayList<>();
        ByteBuffer buf = ByteBuffer.allocate(65536);
        long deadline = System.nanoTime() + total.toNanos();
        try (Selector sel = Selector.open()) {
            ch.configureBlocking(false);
            SelectionKey key = ch.register(sel, SelectionKey.OP_READ);
            try {
                while (got.size() < max) {
                    long left = Math.min(quiet.toMillis(), (deadline - System.nanoTime()) / 1_000_000);
                    if (left <= 0) {
                        break;
                    }
                    if (sel.select(left) == 0) {
                        break;
                    }
                    sel.selectedKeys().clear();
                    SocketAddress from;
                    while (got.size() < max && (from = ch.receive(buf.clear())) != null) {
                        got.add(Arrays.copyOf(buf.array(), buf.position()));
                    }
                }
            } finally {
                key.cancel();
                sel.selectNow();
                ch.configureBlocking(true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return got;
    }

    /** Receives one datagram within {@code timeout}, or null. */
    public static byte[] receiveOne(DatagramChannel ch, Duration timeout) {
        List<byte[]> got = receive(ch, 1, timeout, timeout);
        return got.isEmpty() ? null : got.get(0);
    }

    /** A datagram and the address it came from. */
    public record Datagram(byte[] data, SocketAddress source) {
    }

    /** Receives one datagram with its source address within {@code timeout}, or null. */
    public static Datagram receiveFrom(DatagramChannel ch, Duration timeout) {
        ByteBuffer buf = ByteBuffer.allocate(65536);
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Selector sel = Selector.open()) {
            ch.configureBlocking(false);
            SelectionKey key = ch.register(sel, SelectionKey.OP_READ);
            try {
                while (true) {
                    SocketAddress from = ch.receive(buf.clear());
                    if (from != null) {
                        return new Datagram(Arrays.copyOf(buf.array(), buf.position()), from);
                    }
                    long left = (deadline - System.nanoTime()) / 1_000_000;
                    if (left <= 0) {
                        return null;
                    }
                    sel.select(left);
                    sel.selectedKeys().clear();
                }
            } finally {
                key.cancel();
                sel.selectNow();
                ch.configureBlocking(true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The bytes as UTF-8 text; null for null (what {@link #receiveOne} returns when nothing came). */
    public static String text(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }
}
