package io.nfqueue.test;

import java.net.InetAddress;

/**
 * A builder of a TCP or UDP packet: ports besides the IP fields. Unset ports are 49152 (the
 * first dynamic port) to 9 (discard).
 *
 * <pre>{@code
 * Packets.udp().from("10.0.0.1", 5353).to("10.0.0.2", 53)
 * Packets.tcp().from("2001:db8::1", 40000).to("2001:db8::2", 443)
 * Packets.udp().destinationPort(53)               // documentation addresses
 * }</pre>
 *
 * @param <B> the concrete builder
 */
public abstract class PortPacketBuilder<B extends PortPacketBuilder<B>> extends TransportPacketBuilder<B> {
    int sourcePort = 49152;
    int destinationPort = 9;

    PortPacketBuilder() {
    }

    PortPacketBuilder(PortPacketBuilder<B> from) {
        super(from);
        this.sourcePort = from.sourcePort;
        this.destinationPort = from.destinationPort;
    }

    /** The source address (a literal) and port. */
    public B from(String address, int port) {
        return from(address).sourcePort(port);
    }

    /** The source address and port. */
    public B from(InetAddress address, int port) {
        return from(address).sourcePort(port);
    }

    /** The source address (4 or 16 bytes) and port. */
    public B from(byte[] address, int port) {
        return from(address).sourcePort(port);
    }

    /** The destination address (a literal) and port. */
    public B to(String address, int port) {
        return to(address).destinationPort(port);
    }

    /** The destination address and port. */
    public B to(InetAddress address, int port) {
        return to(address).destinationPort(port);
    }

    /** The destination address (4 or 16 bytes) and port. */
    public B to(byte[] address, int port) {
        return to(address).destinationPort(port);
    }

    /** The source port, 0..65535. */
    public B sourcePort(int port) {
        int v = checkRange("source port", port, 0, 0xFFFF);
        return with(b -> b.sourcePort = v);
    }

    /** The destination port, 0..65535. */
    public B destinationPort(int port) {
        int v = checkRange("destination port", port, 0, 0xFFFF);
        return with(b -> b.destinationPort = v);
    }
}
