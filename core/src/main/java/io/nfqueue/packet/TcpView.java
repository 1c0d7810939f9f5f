package io.nfqueue.packet;

import java.nio.ByteBuffer;

/**
 * A read view of a TCP header (RFC 9293) and its segment, without a copy; re-wrappable, and
 * reading allocates nothing except {@link #payload()}.
 *
 * <pre>{@code
 * TcpView tcp = new TcpView().wrap(buffer, ip.payloadOffset(), ip.end());
 * if (tcp.syn() && !tcp.ack()) {
 *     int mss = tcp.mss();                      // -1 if the SYN has no MSS option
 * }
 * int port = tcp.destinationPort();
 * }</pre>
 *
 * <p>{@link #wrap} checks that 20 bytes are present and that the data offset is 5..15 words
 * and fits; options are checked when {@link #findOption(int)} walks them.
 */
public final class TcpView {
    public static final int MIN_HEADER_LENGTH = 20;
    /** Flag bits of {@link #flags()}. */
    public static final int FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10, URG = 0x20, ECE = 0x40,
            CWR = 0x80, AE = 0x100;
    /** Option kinds. */
    public static final int OPTION_END = 0, OPTION_NOP = 1, OPTION_MSS = 2, OPTION_WINDOW_SCALE = 3,
            OPTION_SACK_PERMITTED = 4, OPTION_SACK = 5, OPTION_TIMESTAMPS = 8;

    private ByteBuffer buf;
    private int offset;
    private int headerLength;
    private int end;
    private int segmentLength;

    /** A view of no header yet: {@code wrap} one before reading. Reusable. */
    public TcpView() {
    }

    /** Wraps the header at the buffer's position; the segment ends at its limit. */
    public TcpView wrap(ByteBuffer buffer) {
        return wrap(buffer, buffer.position(), buffer.limit());
    }

    /**
     * Wraps the header at {@code offset}; the segment's bytes end at {@code limit}.
     *
     * @throws MalformedPacketException if the header is cut off or its data offset is impossible
     */
    public TcpView wrap(ByteBuffer buffer, int offset, int limit) {
        Bytes.checkRange(buffer, offset, limit);
        return wrap(buffer, offset, limit, limit - offset);
    }

    /** As {@link #wrap(ByteBuffer, int, int)} with the segment's full length per the IP header (≥ bytes present). */
    TcpView wrap(ByteBuffer buffer, int offset, int limit, int segmentLength) {
        int available = limit - offset;
        if (available < MIN_HEADER_LENGTH) {
            throw new MalformedPacketException("TCP header cut off: needs " + MIN_HEADER_LENGTH + " bytes, "
                    + available + " present", offset);
        }
        int doff = (Bytes.u8(buffer, offset + 12) >>> 4) * 4;
        if (doff < MIN_HEADER_LENGTH) {
            throw new MalformedPacketException("TCP data offset " + doff / 4 + " is below the minimum of 5", offset + 12);
        }
        if (doff > available) {
            throw new MalformedPacketException("TCP header of " + doff + " bytes cut off: " + available
                    + " bytes present", offset + 12);
        }
        this.buf = buffer;
        this.offset = offset;
        this.headerLength = doff;
        this.end = limit;
        this.segmentLength = segmentLength;
        return this;
    }

    public ByteBuffer buffer() {
        return buf;
    }

    /** Index of the header's first byte. */
    public int offset() {
        return offset;
    }

    /** Header length in bytes, options included (data offset * 4). */
    public int headerLength() {
        return headerLength;
    }

    /** Index one past the segment's last byte present. */
    public int end() {
        return end;
    }

    /** The whole segment's length (header and data) as the IP header gives it, present or not. */
    public int segmentLength() {
        return segmentLength;
    }

    public int sourcePort() {
        return Bytes.u16(buf, offset);
    }

    public int destinationPort() {
        return Bytes.u16(buf, offset + 2);
    }

    /** The sequence number, unsigned. */
    public long sequenceNumber() {
        return Bytes.u32(buf, offset + 4);
    }

    /** The acknowledgment number, unsigned. */
    public long acknowledgmentNumber() {
        return Bytes.u32(buf, offset + 8);
    }

    /** The flag bits: {@link #FIN} ... {@link #CWR} and {@link #AE} (the former NS bit). */
    public int flags() {
        return Bytes.u16(buf, offset + 12) & 0x1FF;
    }

    public boolean fin() {
        return (flags() & FIN) != 0;
    }

    public boolean syn() {
        return (flags() & SYN) != 0;
    }

    public boolean rst() {
        return (flags() & RST) != 0;
    }

    public boolean psh() {
        return (flags() & PSH) != 0;
    }

    public boolean ack() {
        return (flags() & ACK) != 0;
    }

    public boolean urg() {
        return (flags() & URG) != 0;
    }

    public boolean ece() {
        return (flags() & ECE) != 0;
    }

    public boolean cwr() {
        return (flags() & CWR) != 0;
    }

    public int window() {
        return Bytes.u16(buf, offset + 14);
    }

    /** The checksum field as stored. */
    public int checksum() {
        return Bytes.u16(buf, offset + 16);
    }

    public int urgentPointer() {
        return Bytes.u16(buf, offset + 18);
    }

    /** Index of the first option byte. */
    public int optionsOffset() {
        return offset + MIN_HEADER_LENGTH;
    }

    public int optionsLength() {
        return headerLength - MIN_HEADER_LENGTH;
    }

    /**
     * Index of the first option of {@code kind} (its kind byte), or -1 if absent; its length
     * is the next byte.
     *
     * @throws MalformedPacketException when an option before it has a length below 2 or past the header
     */
    public int findOption(int kind) {
        return Options.find(buf, optionsOffset(), offset + headerLength, kind, "TCP");
    }

    /** The MSS option's value, or -1 if absent or not 4 bytes long. */
    public int mss() {
        int at = findOption(OPTION_MSS);
        return at < 0 || Bytes.u8(buf, at + 1) != 4 ? -1 : Bytes.u16(buf, at + 2);
    }

    /** The window scale option's shift count, or -1 if absent or not 3 bytes long. */
    public int windowScale() {
        int at = findOption(OPTION_WINDOW_SCALE);
        return at < 0 || Bytes.u8(buf, at + 1) != 3 ? -1 : Bytes.u8(buf, at + 2);
    }

    public boolean sackPermitted() {
        return findOption(OPTION_SACK_PERMITTED) >= 0;
    }

    /** Index of the data (the TCP payload). */
    public int payloadOffset() {
        return offset + headerLength;
    }

    /** Bytes of data present. */
    public int payloadLength() {
        return end - payloadOffset();
    }

    /** The data present, as a slice (allocates; see {@link #payloadOffset()} for the no-allocation way). */
    public ByteBuffer payload() {
        return buf.slice(payloadOffset(), payloadLength());
    }

    @Override
    public String toString() {
        if (buf == null) {
            return "TcpView[unwrapped]";
        }
        return "TCP " + sourcePort() + " > " + destinationPort() + " seq " + sequenceNumber() + " flags 0x"
                + Integer.toHexString(flags()) + " data " + payloadLength();
    }
}
