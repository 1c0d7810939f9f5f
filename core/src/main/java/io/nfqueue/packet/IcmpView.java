package io.nfqueue.packet;

import java.nio.ByteBuffer;

/**
 * A read view of an ICMP (IPv4) message, without a copy; re-wrappable, allocation-free
 * except {@link #payload()}. The checksum covers the message alone (no pseudo-header).
 *
 * <pre>{@code
 * IcmpView icmp = parser.icmp();
 * if (icmp.type() == IcmpView.ECHO_REQUEST) {
 *     int id = icmp.identifier();
 * }
 * }</pre>
 */
public final class IcmpView extends IcmpMessage {
    public static final int ECHO_REPLY = 0, DESTINATION_UNREACHABLE = 3, REDIRECT = 5, ECHO_REQUEST = 8,
            TIME_EXCEEDED = 11, PARAMETER_PROBLEM = 12;

    /** A view of no message yet: {@code wrap} one before reading. Reusable. */
    public IcmpView() {
    }

    /** Wraps the message at the buffer's position; it ends at the limit. */
    public IcmpView wrap(ByteBuffer buffer) {
        return wrap(buffer, buffer.position(), buffer.limit());
    }

    /**
     * Wraps the message at {@code offset}, ending at {@code limit}.
     *
     * @throws MalformedPacketException if fewer than 8 bytes are present
     */
    public IcmpView wrap(ByteBuffer buffer, int offset, int limit) {
        Bytes.checkRange(buffer, offset, limit);
        doWrap(buffer, offset, limit, limit - offset, "ICMP");
        return this;
    }

    IcmpView wrap(ByteBuffer buffer, int offset, int limit, int messageLength) {
        doWrap(buffer, offset, limit, messageLength, "ICMP");
        return this;
    }

    @Override
    public String toString() {
        return buf == null ? "IcmpView[unwrapped]" : "ICMP type " + type() + " code " + code();
    }
}
