package io.nfqueue.packet;

import java.nio.ByteBuffer;

/**
 * A read view of an ICMPv6 message, without a copy; re-wrappable, allocation-free except
 * {@link #payload()}. The checksum covers an IPv6 pseudo-header too (see {@link PacketParser}).
 *
 * <pre>{@code
 * Icmpv6View icmp = parser.icmpv6();
 * boolean ndp = icmp.type() >= Icmpv6View.ROUTER_SOLICITATION && icmp.type() <= Icmpv6View.REDIRECT;
 * }</pre>
 */
public final class Icmpv6View extends IcmpMessage {
    public static final int DESTINATION_UNREACHABLE = 1, PACKET_TOO_BIG = 2, TIME_EXCEEDED = 3,
            PARAMETER_PROBLEM = 4, ECHO_REQUEST = 128, ECHO_REPLY = 129, ROUTER_SOLICITATION = 133,
            ROUTER_ADVERTISEMENT = 134, NEIGHBOR_SOLICITATION = 135, NEIGHBOR_ADVERTISEMENT = 136, REDIRECT = 137;

    /** A view of no message yet: {@code wrap} one before reading. Reusable. */
    public Icmpv6View() {
    }

    /** Wraps the message at the buffer's position; it ends at the limit. */
    public Icmpv6View wrap(ByteBuffer buffer) {
        return wrap(buffer, buffer.position(), buffer.limit());
    }

    /**
     * Wraps the message at {@code offset}, ending at {@code limit}.
     *
     * @throws MalformedPacketException if fewer than 8 bytes are present
     */
    public Icmpv6View wrap(ByteBuffer buffer, int offset, int limit) {
        Bytes.checkRange(buffer, offset, limit);
        doWrap(buffer, offset, limit, limit - offset, "ICMPv6");
        return this;
    }

    Icmpv6View wrap(ByteBuffer buffer, int offset, int limit, int messageLength) {
        doWrap(buffer, offset, limit, messageLength, "ICMPv6");
        return this;
    }

    @Override
    public String toString() {
        return buf == null ? "Icmpv6View[unwrapped]" : "ICMPv6 type " + type() + " code " + code();
    }
}
