package io.nfqueue.packet;

import java.nio.ByteBuffer;

/**
 * What ICMP (RFC 792) and ICMPv6 (RFC 4443) share: type, code, checksum, four bytes of
 * "rest of header" (identifier and sequence for echoes), then the body.
 */
abstract class IcmpMessage {
    /** Type, code, checksum and the four-byte rest of header: every message has them. */
    public static final int HEADER_LENGTH = 8;

    ByteBuffer buf;
    int offset;
    int end;
    int messageLength;

    final void doWrap(ByteBuffer buffer, int offset, int limit, int messageLength, String name) {
        int available = limit - offset;
        if (available < HEADER_LENGTH) {
            throw new MalformedPacketException(name + " header cut off: needs 8 bytes, " + available + " present",
                    offset);
        }
        this.buf = buffer;
        this.offset = offset;
        this.end = limit;
        this.messageLength = messageLength;
    }

    public final ByteBuffer buffer() {
        return buf;
    }

    public final int offset() {
        return offset;
    }

    /** Index one past the message's last byte present. */
    public final int end() {
        return end;
    }

    /** The whole message's length per the IP header, present or not. */
    public final int messageLength() {
        return messageLength;
    }

    public final int type() {
        return Bytes.u8(buf, offset);
    }

    public final int code() {
        return Bytes.u8(buf, offset + 1);
    }

    /** The checksum field as stored. */
    public final int checksum() {
        return Bytes.u16(buf, offset + 2);
    }

    /** The four bytes after the checksum, as an int. */
    public final int restOfHeader() {
        return Bytes.i32(buf, offset + 4);
    }

    /** Echo request/reply identifier (the rest of header's first half). */
    public final int identifier() {
        return Bytes.u16(buf, offset + 4);
    }

    /** Echo request/reply sequence number (the rest of header's second half). */
    public final int sequenceNumber() {
        return Bytes.u16(buf, offset + 6);
    }

    /** Index of the body, after the 8-byte header. */
    public final int payloadOffset() {
        return offset + HEADER_LENGTH;
    }

    /** Bytes of body present. */
    public final int payloadLength() {
        return end - payloadOffset();
    }

    /** The body present, as a slice (allocates). */
    public final ByteBuffer payload() {
        return buf.slice(payloadOffset(), payloadLength());
    }
}
