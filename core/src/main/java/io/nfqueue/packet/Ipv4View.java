package io.nfqueue.packet;

import java.net.InetAddress;
import java.nio.ByteBuffer;

/**
 * A read view of an IPv4 header (RFC 791) in a buffer, without a copy: re-wrap it for each
 * packet and reading allocates nothing (except the {@link InetAddress} accessors and
 * {@link #options()}, which say so).
 *
 * <pre>{@code
 * Ipv4View ip = new Ipv4View();                 // keep one per thread
 * ip.wrap(buffer);                              // IPv4 header at buffer.position()
 * int ttl = ip.ttl();
 * byte[] src = new byte[4];
 * ip.copySource(src, 0);
 * }</pre>
 *
 * <p>{@link #wrap} checks what every accessor relies on: 20 bytes present, version 4, a header
 * length (IHL) of 5..15 words that fits, a total length no smaller than the header. A total
 * length larger than the bytes present is a truncated copy ({@link #isTruncated()}), not an
 * error: NFQUEUE's copy range cuts packets so. Bytes past the total length (padding) are not
 * part of the packet. Options are checked when {@link #findOption(int)} walks them.
 *
 * <p>All offsets are absolute indexes into the wrapped buffer. The view reads the buffer when
 * asked, so it must not change between {@code wrap} and the reads.
 */
public final class Ipv4View {
    /** Length of a header without options. */
    public static final int MIN_HEADER_LENGTH = 20;
    /** Option type 0: end of the option list. */
    public static final int OPTION_END = 0;
    /** Option type 1: one byte of padding. */
    public static final int OPTION_NOP = 1;

    private ByteBuffer buf;
    private int offset;
    private int headerLength;
    private int totalLength;
    private int end;

    /** A view of no header yet: {@code wrap} one before reading. Reusable. */
    public Ipv4View() {
    }

    /** Wraps the header at the buffer's position; the packet ends at its limit. */
    public Ipv4View wrap(ByteBuffer buffer) {
        return wrap(buffer, buffer.position(), buffer.limit());
    }

    /**
     * Wraps the header at {@code offset}; the bytes present end at {@code limit}.
     *
     * @throws MalformedPacketException if the bytes are not an IPv4 header (see class doc)
     * @throws IllegalArgumentException if the range is not inside the buffer
     */
    public Ipv4View wrap(ByteBuffer buffer, int offset, int limit) {
        Bytes.checkRange(buffer, offset, limit);
        int available = limit - offset;
        if (available < MIN_HEADER_LENGTH) {
            throw new MalformedPacketException("IPv4 header cut off: needs " + MIN_HEADER_LENGTH + " bytes, "
                    + available + " present", offset);
        }
        int b0 = Bytes.u8(buffer, offset);
        if (b0 >>> 4 != 4) {
            throw new MalformedPacketException("not IPv4: version " + (b0 >>> 4), offset);
        }
        int hl = (b0 & 0x0F) * 4;
        if (hl < MIN_HEADER_LENGTH) {
            throw new MalformedPacketException("IPv4 IHL " + (b0 & 0x0F) + " is below the minimum of 5", offset);
        }
        if (hl > available) {
            throw new MalformedPacketException("IPv4 header of " + hl + " bytes (IHL " + (b0 & 0x0F)
                    + ") cut off: " + available + " bytes present", offset);
        }
        int total = Bytes.u16(buffer, offset + 2);
        if (total < hl) {
            throw new MalformedPacketException("IPv4 total length " + total + " is smaller than its header length "
                    + hl, offset + 2);
        }
        this.buf = buffer;
        this.offset = offset;
        this.headerLength = hl;
        this.totalLength = total;
        this.end = offset + Math.min(total, available);
        return this;
    }

    /** The wrapped buffer. */
    public ByteBuffer buffer() {
        return buf;
    }

    /** Index of the header's first byte. */
    public int offset() {
        return offset;
    }

    /** Header length in bytes, options included (IHL * 4). */
    public int headerLength() {
        return headerLength;
    }

    /** The total length field: header plus payload, as the sender wrote it. */
    public int totalLength() {
        return totalLength;
    }

    /** Index one past the packet's last byte present: offset + total length, or less if truncated. */
    public int end() {
        return end;
    }

    /** True when fewer bytes are present than the total length says (a truncated copy). */
    public boolean isTruncated() {
        return end - offset < totalLength;
    }

    /** Differentiated services code point: the upper six bits of the former TOS byte. */
    public int dscp() {
        return Bytes.u8(buf, offset + 1) >>> 2;
    }

    /** Explicit congestion notification: the lower two bits of the former TOS byte. */
    public int ecn() {
        return Bytes.u8(buf, offset + 1) & 0x03;
    }

    public int identification() {
        return Bytes.u16(buf, offset + 4);
    }

    /** The DF (don't fragment) flag. */
    public boolean dontFragment() {
        return (Bytes.u8(buf, offset + 6) & 0x40) != 0;
    }

    /** The MF (more fragments) flag. */
    public boolean moreFragments() {
        return (Bytes.u8(buf, offset + 6) & 0x20) != 0;
    }

    /** The fragment's offset in the original datagram, in bytes (the field times 8). */
    public int fragmentOffset() {
        return (Bytes.u16(buf, offset + 6) & 0x1FFF) * 8;
    }

    /** True for any fragment: more fragments follow or this is not the first. */
    public boolean isFragment() {
        return moreFragments() || fragmentOffset() != 0;
    }

    public int ttl() {
        return Bytes.u8(buf, offset + 8);
    }

    /** The payload's protocol ({@link IpProtocols}). */
    public int protocol() {
        return Bytes.u8(buf, offset + 9);
    }

    /** The header checksum field as stored. */
    public int headerChecksum() {
        return Bytes.u16(buf, offset + 10);
    }

    /** True when the header checksum is right (the header sums to 0xFFFF). */
    public boolean isHeaderChecksumValid() {
        return Checksums.sum(buf, offset, headerLength) == 0xFFFF;
    }

    /** The header checksum the header should carry (computed as if the field were zero). */
    public int computeHeaderChecksum() {
        return ~headerSumWithoutChecksum() & 0xFFFF;
    }

    /** The header's sum with the checksum field taken as zero. */
    int headerSumWithoutChecksum() {
        return Checksums.add(Checksums.sum(buf, offset, 10), Checksums.sum(buf, offset + 12, headerLength - 12));
    }

    /** The source address as a big-endian int (e.g. 0x7F000001 for 127.0.0.1). */
    public int sourceInt() {
        return Bytes.i32(buf, offset + 12);
    }

    /** The destination address as a big-endian int. */
    public int destinationInt() {
        return Bytes.i32(buf, offset + 16);
    }

    /** Copies the 4 source address bytes into {@code dst} at {@code dstOffset}; returns 4. */
    public int copySource(byte[] dst, int dstOffset) {
        return Bytes.copy(buf, offset + 12, dst, dstOffset, 4);
    }

    /** Copies the 4 destination address bytes into {@code dst} at {@code dstOffset}; returns 4. */
    public int copyDestination(byte[] dst, int dstOffset) {
        return Bytes.copy(buf, offset + 16, dst, dstOffset, 4);
    }

    /** The source address (allocates). */
    public InetAddress source() {
        return Bytes.address(buf, offset + 12, 4);
    }

    /** The destination address (allocates). */
    public InetAddress destination() {
        return Bytes.address(buf, offset + 16, 4);
    }

    /** Index of the first option byte (= offset + 20). */
    public int optionsOffset() {
        return offset + MIN_HEADER_LENGTH;
    }

    /** Bytes of options (0..40). */
    public int optionsLength() {
        return headerLength - MIN_HEADER_LENGTH;
    }

    /** The options as a slice (allocates; see {@link #optionsOffset()} for the no-allocation way). */
    public ByteBuffer options() {
        return buf.slice(optionsOffset(), optionsLength());
    }

    /**
     * Index of the first option of {@code type} (its type byte), or -1 if absent; its length is
     * the byte after it (options other than END and NOP). E.g. 0x44 timestamp, 0x07 record route.
     *
     * @throws MalformedPacketException when an option before it has a length below 2 or past the header
     */
    public int findOption(int type) {
        return Options.find(buf, optionsOffset(), offset + headerLength, type, "IPv4");
    }

    /** Index of the payload (the transport header): offset + header length. */
    public int payloadOffset() {
        return offset + headerLength;
    }

    @Override
    public String toString() {
        if (buf == null) {
            return "Ipv4View[unwrapped]";
        }
        return "IPv4 " + Addresses.ipv4(sourceInt()) + " > " + Addresses.ipv4(destinationInt()) + " proto "
                + IpProtocols.name(protocol()) + " ttl " + ttl() + " len " + totalLength
                + (isTruncated() ? " (truncated to " + (end - offset) + ")" : "");
    }
}
