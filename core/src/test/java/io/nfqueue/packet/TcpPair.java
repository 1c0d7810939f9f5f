package io.nfqueue.packet;

import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Tcp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Arrays;

/** A TCP connection over loopback inside a namespace: a client and the server's accepted end. */
final class TcpPair implements AutoCloseable {
    final ServerSocketChannel server;
    final SocketChannel client;
    final SocketChannel accepted;

    private TcpPair(ServerSocketChannel server, SocketChannel client, SocketChannel accepted) {
        this.server = server;
        this.client = client;
        this.accepted = accepted;
    }

    /** Connects {@code host:port} inside {@code ns}; the handshake must not be queued. */
    static TcpPair open(NetNamespace ns, String host, int port) throws IOException {
        ServerSocketChannel server = ns.tcpServer(host, port);
        SocketChannel client = ns.tcpConnect(host, port, Duration.ofSeconds(10));
        SocketChannel accepted = Tcp.accept(server, Duration.ofSeconds(10));
        accepted.configureBlocking(false);
        return new TcpPair(server, client, accepted);
    }

    void send(byte[] data) {
        Tcp.send(client, data);
    }

    /** What the server end reads until {@code n} bytes arrived or {@code timeout} passed. */
    byte[] receive(int n, Duration timeout) throws IOException, InterruptedException {
        ByteBuffer in = ByteBuffer.allocate(Math.max(n, 1) * 2);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (in.position() < n && System.nanoTime() < deadline) {
            if (accepted.read(in) == 0) {
                Thread.sleep(5);
            }
        }
        return Arrays.copyOf(in.array(), in.position());
    }

    @Override
    public void close() throws IOException {
        try (server; client; accepted) {
            // closes all three
        }
    }
}
