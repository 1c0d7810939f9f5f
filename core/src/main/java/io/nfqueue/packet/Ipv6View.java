package io.nfqueue.packet;

import java.net.InetAddress;
import java.nio.ByteBuffer;

/**
 * A read view of an IPv6 header (RFC 8200) and its extension-header chain, without a copy:
 * re-wrap it for each packet and reading allocates nothing (except the {@link InetAddress}
 * accessors).
 *
 * <pre>{@code
 * Ipv6View ip = new Ipv6View();
 * ip.wrap(buffer);
 * if (ip.upperLayerProtocol() == IpProtocols.TCP && !ip.isFragment()) {
 *     tcp.wrap(buffer, ip.upperLayerOffset(), ip.end());
 * }
 * }</pre>
 *
 * <p>{@link #wrap} walks hop-by-hop options, routing, fragment, destination options and AH
 * headers up to the first other next-header value (the upper layer: TCP, UDP, ICMPv6, ESP, "no
 * next header", anything else). It throws {@link MalformedPacketException} when the chain has
 * more than {@link #MAX_EXTENSION_HEADERS} headers (a chain repeating itself ends here), when a
 * header runs past the end of the bytes present, or when hop-by-hop options are not first.
 * After a fragment header whose offset is not zero the walk stops: the rest is data from the
 * middle of the original packet. A payload length larger than the bytes present is a
 * truncated copy ({@link #isTruncated()}), not an error. Jumbograms (payload length 0 with a
 * jumbo option) are not supported: NFQUEUE payloads are at most 65 531 bytes anyway.
 */
public final class Ipv6View {
    /** The fixed header's length. */
    public static final int HEADER_LENGTH = 40;
    /** The most extension headers {@link #wrap} walks before calling the chain malformed. */
    public static final int MAX_EXTENSION_HEADERS = 10;

    private ByteBuffer buf;
    private int offset;
    private int payloadLength;
    private int end;
    private int upperProtocol;
    private int upperOffset;
    private int extensionCount;
    private int fragmentHeader;
    private int routingHeader;
    private int authenticationHeader;

    /** A view of no header yet: {@code wrap} one before reading. Reusable. */
    public Ipv6View() {
    }

    /** Wraps the header at the buffer's position; the packet ends at its limit. */
    public Ipv6View wrap(ByteBuffer buffer) {
        return wrap(buffer, buffer.position(), buffer.limit());
    }

    /**
     * Wraps the header at {@code offset}; the bytes present end at {@code limit}.
     *
     * @throws MalformedPacketException if the bytes are not an IPv6 header and a walkable chain
     * @throws IllegalArgumentException if the range is not inside the buffer
     */
    public Ipv6View wrap(ByteBuffer buffer, int offset, int limit) {
        Bytes.checkRange(buffer, offset, limit);
        int available = limit - offset;
        if (available < HEADER_LENGTH) {
            throw new MalformedPacketException("IPv6 header cut off: needs " + HEADER_LENGTH + " bytes, " + available
                    + " present", offset);
        }
        int version = Bytes.u8(buffer, offset) >>> 4;
        if (version != 6) {
            throw new MalformedPacketException("not IPv6: version " + version, offset);
        }
        int plen = Bytes.u16(buffer, offset + 4);
        int packetEnd = offset + Math.min(HEADER_LENGTH + plen, available);
        walk(buffer, offset, packetEnd);
        this.buf = buffer;
        this.offset = offset;
        this.payloadLength = plen;
        this.end = packetEnd;
        return this;
    }

    /** Walks the extension headers, setting the chain fields; every header must fit before {@code end}. */
    private void walk(ByteBuffer b, int offset, int end) {
        int next = Bytes.u8(b, offset + 6);
        int at = offset + HEADER_LENGTH;
        int count = 0;
        int frag = -1;
        int routing = -1;
        int ah = -1;
        while (isExtension(next)) {
            if (next == IpProtocols.HOP_BY_HOP && count != 0) {
                throw new MalformedPacketException("IPv6 hop-by-hop options header after " + count
                        + " other extension headers: it may only come first", at);
            }
            if (count == MAX_EXTENSION_HEADERS) {
                throw new MalformedPacketException("IPv6 extension-header chain longer than " + MAX_EXTENSION_HEADERS
                        + " headers", at);
            }
            // Every extension header is at least 8 bytes: the walk always moves forward.
            if (end - at < 8) {
                throw new MalformedPacketException("IPv6 " + IpProtocols.name(next) + " header cut off: needs 8 bytes, "
                        + (end - at) + " present", at);
            }
            int len;
            if (next == IpProtocols.FRAGMENT) {
                len = 8;
            } else if (next == IpProtocols.AH) {
                len = (Bytes.u8(b, at + 1) + 2) * 4;
            } else {
                len = (Bytes.u8(b, at + 1) + 1) * 8;
            }
            if (len > end - at) {
                throw new MalformedPacketException("IPv6 " + IpProtocols.name(next) + " header of " + len
                        + " bytes runs past the end: " + (end - at) + " bytes present", at);
            }
            if (next == IpProtocols.FRAGMENT && frag < 0) {
                frag = at;
            } else if (next == IpProtocols.ROUTING && routing < 0) {
                routing = at;
            } else if (next == IpProtocols.AH && ah < 0) {
                ah = at;
            }
            boolean laterFragment = next == IpProtocols.FRAGMENT && (Bytes.u16(b, at + 2) & 0xFFF8) != 0;
            next = Bytes.u8(b, at);
            at += len;
            count++;
            if (laterFragment) {
                break;
            }
        }
        this.upperProtocol = next;
        this.upperOffset = at;
        this.extensionCount = count;
        this.fragmentHeader = frag;
        this.routingHeader = routing;
        this.authenticationHeader = ah;
    }

    private static boolean isExtension(int next) {
        return next == IpProtocols.HOP_BY_HOP || next == IpProtocols.ROUTING || next == IpProtocols.FRAGMENT
                || next == IpProtocols.DESTINATION_OPTIONS || next == IpProtocols.AH;
    }

    public ByteBuffer buffer() {
        return buf;
    }

    /** Index of the header's first byte. */
    public int offset() {
        return offset;
    }

    /** The payload length field: every byte after the fixed header, extension headers included. */
    public int payloadLength() {
        return payloadLength;
    }

    /** Index one past the packet's last byte present. */
    public int end() {
        return end;
    }

    /** True when fewer bytes are present than the payload length says (a truncated copy). */
    public boolean isTruncated() {
        return end - offset < HEADER_LENGTH + payloadLength;
    }

    /** The traffic class byte (DSCP and ECN). */
    public int trafficClass() {
        return Bytes.u16(buf, offset) >>> 4 & 0xFF;
    }

    public int dscp() {
        return trafficClass() >>> 2;
    }

    public int ecn() {
        return trafficClass() & 0x03;
    }

    public int flowLabel() {
        return Bytes.i32(buf, offset) & 0xF_FFFF;
    }

    /** The fixed header's next-header field (the first extension header, or the upper layer). */
    public int nextHeader() {
        return Bytes.u8(buf, offset + 6);
    }

    public int hopLimit() {
        return Bytes.u8(buf, offset + 7);
    }

    /** Copies the 16 source address bytes into {@code dst} at {@code dstOffset}; returns 16. */
    public int copySource(byte[] dst, int dstOffset) {
        return Bytes.copy(buf, offset + 8, dst, dstOffset, 16);
    }

    /** Copies the 16 destination address bytes (the field, not the final destination); returns 16. */
    public int copyDestination(byte[] dst, int dstOffset) {
        return Bytes.copy(buf, offset + 24, dst, dstOffset, 16);
    }

    /** The source address (allocates). */
    public InetAddress source() {
        return Bytes.address(buf, offset + 8, 16);
    }

    /** The destination address field (allocates). */
    public InetAddress destination() {
        return Bytes.address(buf, offset + 24, 16);
    }

    /** Index of the source address. */
    public int sourceOffset() {
        return offset + 8;
    }

    /** Index of the destination address field. */
    public int destinationOffset() {
        return offset + 24;
    }

    /**
     * Index of the final destination's 16 bytes, which the upper-layer checksum covers (RFC 8200
     * 8.1): the destination field, or with a routing header that has segments left, the last
     * address of a type 0 or type 2 header or segment list[0] of a segment routing header
     * (type 4). -1 for another routing type with segments left, whose final destination this
     * view cannot tell.
     */
    public int finalDestinationOffset() {
        if (routingHeader < 0) {
            return destinationOffset();
        }
        int rh = routingHeader;
        int segmentsLeft = Bytes.u8(buf, rh + 3);
        if (segmentsLeft == 0) {
            return destinationOffset();
        }
        int len = (Bytes.u8(buf, rh + 1) + 1) * 8;
        int type = Bytes.u8(buf, rh + 2);
        if ((type == 0 || type == 2) && len >= 24) {
            return rh + 8 + ((len - 8) / 16 - 1) * 16;
        }
        if (type == 4 && len >= 24) {
            return rh + 8;
        }
        return -1;
    }

    /** How many extension headers the chain has before the upper layer. */
    public int extensionHeaderCount() {
        return extensionCount;
    }

    /** The protocol after the extension headers ({@link IpProtocols}): TCP, UDP, ICMPv6, ESP, ... */
    public int upperLayerProtocol() {
        return upperProtocol;
    }

    /** Index of the upper-layer header (or, in a later fragment, of the fragment's data). */
    public int upperLayerOffset() {
        return upperOffset;
    }

    /** True when the chain has a fragment header. */
    public boolean isFragment() {
        return fragmentHeader >= 0;
    }

    /** The fragment's offset in bytes, 0 without a fragment header. */
    public int fragmentOffset() {
        return fragmentHeader < 0 ? 0 : Bytes.u16(buf, fragmentHeader + 2) & 0xFFF8;
    }

    /** The fragment header's M flag, false without a fragment header. */
    public boolean moreFragments() {
        return fragmentHeader >= 0 && (Bytes.u8(buf, fragmentHeader + 3) & 1) != 0;
    }

    /** The fragment header's identification, 0 without one. */
    public long fragmentIdentification() {
        return fragmentHeader < 0 ? 0 : Bytes.u32(buf, fragmentHeader + 4);
    }

    /** Index of the (first) routing header, -1 without one. */
    public int routingHeaderOffset() {
        return routingHeader;
    }

    /** Index of the (first) authentication header, -1 without one. */
    public int authenticationHeaderOffset() {
        return authenticationHeader;
    }

    /** Index of the fragment header, -1 without one. */
    public int fragmentHeaderOffset() {
        return fragmentHeader;
    }

    @Override
    public String toString() {
        if (buf == null) {
            return "Ipv6View[unwrapped]";
        }
        return "IPv6 " + Addresses.ipv6(buf, offset + 8) + " > " + Addresses.ipv6(buf, offset + 24) + " proto "
                + IpProtocols.name(upperProtocol) + " hlim " + hopLimit() + " plen " + payloadLength
                + (extensionCount > 0 ? " ext " + extensionCount : "")
                + (isTruncated() ? " (truncated to " + (end - offset) + ")" : "");
    }
}
