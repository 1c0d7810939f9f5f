package io.nfqueue.test.kernel;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

/**
 * Accepting, sending and receiving over TCP in tests, with every wait bounded; the sockets come
 * from {@link NetNamespace#tcpServer} and {@link NetNamespace#tcpConnect}.
 *
 * <pre>{@code
 * try (ServerSocketChannel server = ns.tcpServer("127.0.0.1", 8080);
 *      SocketChannel client = ns.tcpConnect("127.0.0.1", 8080, Duration.ofSeconds(5));
 *      SocketChannel accepted = Tcp.accept(server, Duration.ofSeconds(5))) {
 *     Tcp.send(client, "GET / HTTP/1.0\r\n\r\n");
 *     assertEquals("GET / HTTP/1.0\r\n\r\n", Tcp.text(Tcp.receive(accepted, 18, Duration.ofSeconds(5))));
 * }
 * }</pre>
 *
 * A connection whose packets a queue holds (or drops) waits: the kernel retransmits for minutes,
 * so every wait here ends at its timeout instead.
 */
public final class Tcp {
    private Tcp() {
    }

    /**
     * The next connection to {@code server}, in blocking mode.
     *
     * @throws IllegalStateException if none comes within {@code timeout}
     */
    public static SocketChannel accept(ServerSocketChannel server, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean blocking = server.isBlocking();
        try (Selector selector = Selector.open()) {
            server.configureBlocking(false);
            SelectionKey key = server.register(selector, SelectionKey.OP_ACCEPT);
            try {
                while (true) {
                    SocketChannel accepted = server.accept();
                    if (accepted != null) {
                        accepted.configureBlocking(true);
                        return accepted;
                    }
                    long left = (deadline - System.nanoTime()) / 1_000_000;
                    if (left <= 0) {
                        throw new IllegalStateException("no TCP connection accepted on " + server.getLocalAddress()
                                + " within " + timeout);
                    }
                    selector.select(left);
                    selector.selectedKeys().clear();
                }
            } finally {
                key.cancel();
                selector.selectNow();
                server.configureBlocking(blocking);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes all of {@code data} to {@code channel} (in blocking mode: what the socket buffer does not take waits). */
    public static void send(SocketChannel channel, byte[] data) {
        try {
            ByteBuffer b = ByteBuffer.wrap(data);
            while (b.hasRemaining()) {
                channel.write(b);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes {@code text} (UTF-8) to {@code channel}. */
    public static void send(SocketChannel channel, String text) {
        send(channel, text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Reads from {@code channel} until {@code n} bytes came, the peer closed, or {@code timeout}
     * passed; returns what came (fewer than {@code n} bytes when it stopped early, perhaps none).
     */
    public static byte[] receive(SocketChannel channel, int n, Duration timeout) {
        ByteBuffer in = ByteBuffer.allocate(n);
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean blocking = channel.isBlocking();
        try (Selector selector = Selector.open()) {
            channel.configureBlocking(false);
            SelectionKey key = channel.register(selector, SelectionKey.OP_READ);
            try {
                while (in.hasRemaining()) {
                    int read = channel.read(in);
                    if (read < 0) {
                        break;
                    }
                    long left = (deadline - System.nanoTime()) / 1_000_000;
                    if (left <= 0) {
                        break;
                    }
                    if (read == 0) {
                        selector.select(left);
                        selector.selectedKeys().clear();
                    }
                }
            } finally {
                key.cancel();
                selector.selectNow();
                channel.configureBlocking(blocking);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Arrays.copyOf(in.array(), in.position());
    }

    /** The bytes as UTF-8 text. */
    public static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
