package io.nfqueue.packet;

import java.nio.ByteBuffer;

/**
 * A read view of a UDP header (RFC 768) and its datagram, without a copy; re-wrappable, and
 * reading allocates nothing except {@link #payload()}.
 *
 * <pre>{@code
 * UdpView udp = new UdpView().wrap(buffer, ip.payloadOffset(), ip.end());
 * if (udp.destinationPort() == 53) { ... }
 * }</pre>
 *
 * <p>{@link #wrap} checks that 8 bytes are present and that the length field is at least 8
 * and no more than the IP header leaves for it. The datagram is what the length field says;
 * bytes after it (a longer IP payload) are not part of it, as the kernel trims them too.
 */
public final class UdpView {
    public static final int HEADER_LENGTH = 8;

    private ByteBuffer buf;
    private int offset;
    private int length;
    private int end;

    /** A view of no header yet: {@code wrap} one before reading. Reusable. */
    public UdpView() {
    }

    /** Wraps the header at the buffer's position; the IP payload ends at its limit. */
    public UdpView wrap(ByteBuffer buffer) {
        return wrap(buffer, buffer.position(), buffer.limit());
    }

    /**
     * Wraps the header at {@code offset}; the IP payload's bytes end at {@code limit}.
     *
     * @throws MalformedPacketException if the header is cut off or its length field lies
     */
    public UdpView wrap(ByteBuffer buffer, int offset, int limit) {
        Bytes.checkRange(buffer, offset, limit);
        return wrap(buffer, offset, limit, limit - offset);
    }

    /** As {@link #wrap(ByteBuffer, int, int)} with the IP payload's full length (≥ bytes present). */
    UdpView wrap(ByteBuffer buffer, int offset, int limit, int ipPayloadLength) {
        int available = limit - offset;
        if (available < HEADER_LENGTH) {
            throw new MalformedPacketException("UDP header cut off: needs 8 bytes, " + available + " present", offset);
        }
        int len = Bytes.u16(buffer, offset + 4);
        if (len < HEADER_LENGTH) {
            throw new MalformedPacketException("UDP length " + len + " is below the header's 8 bytes", offset + 4);
        }
        if (len > ipPayloadLength) {
            throw new MalformedPacketException("UDP length " + len + " exceeds the " + ipPayloadLength
                    + " bytes the IP header leaves for it", offset + 4);
        }
        this.buf = buffer;
        this.offset = offset;
        this.length = len;
        this.end = offset + Math.min(len, available);
        return this;
    }

    public ByteBuffer buffer() {
        return buf;
    }

    public int offset() {
        return offset;
    }

    /** Index one past the datagram's last byte present. */
    public int end() {
        return end;
    }

    public int sourcePort() {
        return Bytes.u16(buf, offset);
    }

    public int destinationPort() {
        return Bytes.u16(buf, offset + 2);
    }

    /** The length field: header plus data. */
    public int length() {
        return length;
    }

    /** The checksum field as stored; 0 over IPv4 means the sender computed none. */
    public int checksum() {
        return Bytes.u16(buf, offset + 6);
    }

    /** Index of the data. */
    public int payloadOffset() {
        return offset + HEADER_LENGTH;
    }

    /** Bytes of data present (less than length - 8 in a truncated copy). */
    public int payloadLength() {
        return end - payloadOffset();
    }

    /** The data present, as a slice (allocates). */
    public ByteBuffer payload() {
        return buf.slice(payloadOffset(), payloadLength());
    }

    @Override
    public String toString() {
        if (buf == null) {
            return "UdpView[unwrapped]";
        }
        return "UDP " + sourcePort() + " > " + destinationPort() + " len " + length;
    }
}
