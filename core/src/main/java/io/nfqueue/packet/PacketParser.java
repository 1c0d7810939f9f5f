package io.nfqueue.packet;

import io.nfqueue.Packet;

import java.net.InetAddress;
import java.nio.ByteBuffer;

/**
 * Parses a packet from its IP header on (what NFQUEUE delivers) into reusable views, without
 * copying and, once made, without allocating: keep one parser per thread and call
 * {@link #parse} for each packet.
 *
 * <pre>{@code
 * PacketParser parser = new PacketParser();          // one per thread; not thread-safe
 * queue.run(packet -> {
 *     parser.parse(packet);
 *     if (parser.isTcp() && parser.destinationPort() == 22) {
 *         packet.drop();
 *     } else {
 *         packet.accept();
 *     }
 * });
 * }</pre>
 *
 * <p>After {@code parse}: {@link #ipVersion()} with {@link #ipv4()} or {@link #ipv6()};
 * {@link #protocol()}; the transport header, when it is TCP, UDP, ICMP or ICMPv6 and this is
 * not a later fragment, in {@link #tcp()}, {@link #udp()}, {@link #icmp()}, {@link #icmpv6()};
 * the 5-tuple as {@link #copySourceAddress}, {@link #copyDestinationAddress},
 * {@link #sourcePort()}, {@link #destinationPort()}, {@link #protocol()}; checksum checks.
 *
 * <p>Bad bytes throw {@link MalformedPacketException}, and nothing else, whatever they are; the
 * parser's previous state is then gone ({@link #ipVersion()} is 0). A truncated copy (copy range
 * smaller than the packet) parses as far as its headers are whole: {@link #isTruncated()}.
 */
public final class PacketParser {
    private final Ipv4View ipv4 = new Ipv4View();
    private final Ipv6View ipv6 = new Ipv6View();
    private final TcpView tcp = new TcpView();
    private final UdpView udp = new UdpView();
    private final IcmpView icmp = new IcmpView();
    private final Icmpv6View icmpv6 = new Icmpv6View();

    private ByteBuffer buf;
    private int ipVersion;
    private int ipOffset;
    private int end;
    private int protocol;
    private int upperOffset;
    private int upperDeclaredLength;
    private boolean fragment;
    private boolean laterFragment;
    private boolean truncated;
    private boolean checksumNotReady;
    /** The transport protocol whose view is wrapped: TCP, UDP, ICMP, ICMPV6, or -1. */
    private int transport = -1;

    /** A parser with nothing parsed yet: one per thread, reused for each packet. */
    public PacketParser() {
    }

    /** A new parser with {@code packet} parsed (allocates the parser; reuse one where it matters). */
    public static PacketParser of(Packet packet) {
        return new PacketParser().parse(packet);
    }

    /** A new parser with the buffer's bytes from position to limit parsed. */
    public static PacketParser of(ByteBuffer packet) {
        return new PacketParser().parse(packet);
    }

    /** A new parser with the whole array parsed. */
    public static PacketParser of(byte[] packet) {
        return new PacketParser().parse(ByteBuffer.wrap(packet));
    }

    /**
     * Parses a queued packet's payload, and remembers whether the kernel flagged its checksum as
     * not ready ({@link Packet#isChecksumNotReady()}) so checksum checks say UNVERIFIABLE.
     *
     * @throws IllegalStateException if the queue copies metadata only
     */
    public PacketParser parse(Packet packet) {
        parse(packet.payload());
        this.checksumNotReady = packet.isChecksumNotReady();
        return this;
    }

    /** Parses the bytes from the buffer's position to its limit (the position is not moved). */
    public PacketParser parse(ByteBuffer packet) {
        return parse(packet, packet.position(), packet.limit());
    }

    /** Parses the bytes from {@code offset} to {@code limit} of the buffer. */
    public PacketParser parse(ByteBuffer packet, int offset, int limit) {
        Bytes.checkRange(packet, offset, limit);
        clear();
        parseRange(packet, offset, limit);
        return this;
    }

    private void clear() {
        buf = null;
        ipVersion = 0;
        transport = -1;
        checksumNotReady = false;
    }

    private void parseRange(ByteBuffer b, int offset, int limit) {
        if (limit == offset) {
            throw new MalformedPacketException("empty packet", offset);
        }
        int version = Bytes.u8(b, offset) >>> 4;
        int declaredEnd;
        if (version == 4) {
            ipv4.wrap(b, offset, limit);
            protocol = ipv4.protocol();
            upperOffset = ipv4.payloadOffset();
            end = ipv4.end();
            declaredEnd = offset + ipv4.totalLength();
            fragment = ipv4.isFragment();
            laterFragment = ipv4.fragmentOffset() != 0;
            truncated = ipv4.isTruncated();
        } else if (version == 6) {
            ipv6.wrap(b, offset, limit);
            protocol = ipv6.upperLayerProtocol();
            upperOffset = ipv6.upperLayerOffset();
            end = ipv6.end();
            declaredEnd = offset + Ipv6View.HEADER_LENGTH + ipv6.payloadLength();
            fragment = ipv6.isFragment();
            laterFragment = ipv6.fragmentOffset() != 0;
            truncated = ipv6.isTruncated();
        } else {
            throw new MalformedPacketException("not an IP packet: version " + version, offset);
        }
        upperDeclaredLength = declaredEnd - upperOffset;
        if (!laterFragment) {
            wrapTransport(b, version);
        }
        // Set last: a malformed transport header leaves the parser empty, not half-filled.
        this.buf = b;
        this.ipOffset = offset;
        this.ipVersion = version;
    }

    private void wrapTransport(ByteBuffer b, int version) {
        switch (protocol) {
            case IpProtocols.TCP:
                tcp.wrap(b, upperOffset, end, upperDeclaredLength);
                transport = IpProtocols.TCP;
                break;
            case IpProtocols.UDP:
                udp.wrap(b, upperOffset, end, upperDeclaredLength);
                transport = IpProtocols.UDP;
                break;
            case IpProtocols.ICMP:
                if (version == 4) {
                    icmp.wrap(b, upperOffset, end, upperDeclaredLength);
                    transport = IpProtocols.ICMP;
                }
                break;
            case IpProtocols.ICMPV6:
                if (version == 6) {
                    icmpv6.wrap(b, upperOffset, end, upperDeclaredLength);
                    transport = IpProtocols.ICMPV6;
                }
                break;
            default:
                break;
        }
    }

    private void requireParsed() {
        if (ipVersion == 0) {
            throw new IllegalStateException("no packet parsed (or the last parse failed)");
        }
    }

    /** 4 or 6; 0 before a successful parse. */
    public int ipVersion() {
        return ipVersion;
    }

    public boolean isIpv4() {
        return ipVersion == 4;
    }

    public boolean isIpv6() {
        return ipVersion == 6;
    }

    /** The IPv4 header; throws {@link IllegalStateException} if the packet is not IPv4. */
    public Ipv4View ipv4() {
        if (ipVersion != 4) {
            throw new IllegalStateException("not an IPv4 packet (IP version " + ipVersion + ")");
        }
        return ipv4;
    }

    /** The IPv6 header; throws {@link IllegalStateException} if the packet is not IPv6. */
    public Ipv6View ipv6() {
        if (ipVersion != 6) {
            throw new IllegalStateException("not an IPv6 packet (IP version " + ipVersion + ")");
        }
        return ipv6;
    }

    /** The parsed buffer. */
    public ByteBuffer buffer() {
        requireParsed();
        return buf;
    }

    /** Index of the IP header. */
    public int ipOffset() {
        requireParsed();
        return ipOffset;
    }

    /** Index one past the packet's last byte present (padding after the IP length excluded). */
    public int end() {
        requireParsed();
        return end;
    }

    /** The upper-layer protocol ({@link IpProtocols}): the IPv4 protocol, or IPv6's after extension headers. */
    public int protocol() {
        requireParsed();
        return protocol;
    }

    /** True for any IP fragment, first or later. */
    public boolean isFragment() {
        requireParsed();
        return fragment;
    }

    /** True when the bytes are fewer than the IP header's length says (a truncated copy). */
    public boolean isTruncated() {
        requireParsed();
        return truncated;
    }

    /** True when parsed from a {@link Packet} the kernel flagged checksum-not-ready. */
    public boolean isChecksumNotReady() {
        return checksumNotReady;
    }

    public boolean isTcp() {
        return transport == IpProtocols.TCP;
    }

    public boolean isUdp() {
        return transport == IpProtocols.UDP;
    }

    public boolean isIcmp() {
        return transport == IpProtocols.ICMP;
    }

    public boolean isIcmpv6() {
        return transport == IpProtocols.ICMPV6;
    }

    /** True when a TCP, UDP, ICMP or ICMPv6 header was parsed (not in later fragments or other protocols). */
    public boolean hasTransportHeader() {
        return transport >= 0;
    }

    public TcpView tcp() {
        return requireTransport(IpProtocols.TCP, tcp);
    }

    public UdpView udp() {
        return requireTransport(IpProtocols.UDP, udp);
    }

    public IcmpView icmp() {
        return requireTransport(IpProtocols.ICMP, icmp);
    }

    public Icmpv6View icmpv6() {
        return requireTransport(IpProtocols.ICMPV6, icmpv6);
    }

    private <T> T requireTransport(int wanted, T view) {
        requireParsed();
        if (transport != wanted) {
            throw new IllegalStateException("no " + IpProtocols.name(wanted) + " header: protocol "
                    + IpProtocols.name(protocol) + (laterFragment ? " (a later fragment)" : ""));
        }
        return view;
    }

    /** The TCP or UDP source port, -1 for other protocols and later fragments. */
    public int sourcePort() {
        return transport == IpProtocols.TCP ? tcp.sourcePort() : transport == IpProtocols.UDP ? udp.sourcePort() : -1;
    }

    /** The TCP or UDP destination port, -1 for other protocols and later fragments. */
    public int destinationPort() {
        return transport == IpProtocols.TCP ? tcp.destinationPort()
                : transport == IpProtocols.UDP ? udp.destinationPort() : -1;
    }

    /** 4 or 16. */
    public int addressLength() {
        requireParsed();
        return ipVersion == 4 ? 4 : 16;
    }

    /** Copies the source address (4 or 16 bytes) into {@code dst}; returns how many. */
    public int copySourceAddress(byte[] dst, int dstOffset) {
        return ipVersion() == 4 ? ipv4().copySource(dst, dstOffset) : ipv6().copySource(dst, dstOffset);
    }

    /** Copies the destination address field (4 or 16 bytes) into {@code dst}; returns how many. */
    public int copyDestinationAddress(byte[] dst, int dstOffset) {
        return ipVersion() == 4 ? ipv4().copyDestination(dst, dstOffset) : ipv6().copyDestination(dst, dstOffset);
    }

    /** The source address (allocates). */
    public InetAddress sourceAddress() {
        return ipVersion() == 4 ? ipv4().source() : ipv6().source();
    }

    /** The destination address field (allocates). */
    public InetAddress destinationAddress() {
        return ipVersion() == 4 ? ipv4().destination() : ipv6().destination();
    }

    /** Index of the transport (upper-layer) header, or of a later fragment's data. */
    public int transportOffset() {
        requireParsed();
        return upperOffset;
    }

    /** Index of the transport payload: after the TCP/UDP/ICMP header, or the whole upper layer otherwise. */
    public int transportPayloadOffset() {
        switch (transport) {
            case IpProtocols.TCP: return tcp.payloadOffset();
            case IpProtocols.UDP: return udp.payloadOffset();
            case IpProtocols.ICMP: return icmp.payloadOffset();
            case IpProtocols.ICMPV6: return icmpv6.payloadOffset();
            default: return transportOffset();
        }
    }

    /** Index one past the transport payload's last byte present. */
    public int transportPayloadEnd() {
        return transport == IpProtocols.UDP ? udp.end() : end();
    }

    /** Bytes of transport payload present. */
    public int transportPayloadLength() {
        return transportPayloadEnd() - transportPayloadOffset();
    }

    /** The transport payload present, as a slice (allocates). */
    public ByteBuffer transportPayload() {
        return buf.slice(transportPayloadOffset(), transportPayloadLength());
    }

    /** The IPv4 header checksum's status; ABSENT for IPv6, which has none. */
    public ChecksumStatus ipChecksumStatus() {
        requireParsed();
        if (ipVersion == 6) {
            return ChecksumStatus.ABSENT;
        }
        return ipv4.isHeaderChecksumValid() ? ChecksumStatus.VALID : ChecksumStatus.INVALID;
    }

    /**
     * The TCP, UDP, ICMP or ICMPv6 checksum's status, over the pseudo-header where the protocol
     * has one. UNVERIFIABLE for other protocols, truncated copies, fragments and packets the
     * kernel flagged checksum-not-ready.
     */
    public ChecksumStatus transportChecksumStatus() {
        requireParsed();
        if (!transportChecksumComputable() || checksumNotReady) {
            return ChecksumStatus.UNVERIFIABLE;
        }
        if (transport == IpProtocols.UDP && ipVersion == 4 && udp.checksum() == 0) {
            return ChecksumStatus.ABSENT;
        }
        int sum = Checksums.add(pseudoHeaderSum(), Checksums.sum(buf, upperOffset, coveredLength()));
        return sum == 0xFFFF ? ChecksumStatus.VALID : ChecksumStatus.INVALID;
    }

    /**
     * The transport checksum these bytes should carry (as if the field were zero; for UDP a
     * computed 0 is given as 0xFFFF, RFC 768).
     *
     * @throws IllegalStateException when it cannot be computed from these bytes (see
     *         {@link ChecksumStatus#UNVERIFIABLE}; checksum-not-ready alone does not stop it)
     */
    public int computeTransportChecksum() {
        requireParsed();
        if (!transportChecksumComputable()) {
            throw new IllegalStateException("cannot compute the " + IpProtocols.name(protocol) + " checksum: "
                    + whyNotComputable());
        }
        int c = ~coveredSumWithoutChecksum() & 0xFFFF;
        return c == 0 && transport == IpProtocols.UDP ? 0xFFFF : c;
    }

    /** The sum of the pseudo-header and the covered bytes with the checksum field taken as zero. */
    int coveredSumWithoutChecksum() {
        int field = checksumFieldOffset();
        int len = coveredLength();
        int before = field - upperOffset;
        int sum = Checksums.add(Checksums.sum(buf, upperOffset, before),
                Checksums.sum(buf, field + 2, len - before - 2));
        return Checksums.add(pseudoHeaderSum(), sum);
    }

    /** Index of the transport checksum field. */
    int checksumFieldOffset() {
        switch (transport) {
            case IpProtocols.TCP: return upperOffset + 16;
            case IpProtocols.UDP: return upperOffset + 6;
            default: return upperOffset + 2;
        }
    }

    /** The bytes the transport checksum covers: the UDP length, or the whole upper layer. */
    private int coveredLength() {
        return transport == IpProtocols.UDP ? udp.length() : upperDeclaredLength;
    }

    boolean transportChecksumComputable() {
        return whyNotComputable() == null;
    }

    String whyNotComputable() {
        if (transport < 0) {
            return laterFragment ? "a later fragment has no transport header" : "protocol not TCP, UDP, ICMP or ICMPv6";
        }
        if (truncated) {
            return "the copy is truncated";
        }
        if (fragment) {
            return "the packet is a fragment; the checksum covers the whole datagram";
        }
        if (ipVersion == 6 && ipv6.finalDestinationOffset() < 0) {
            return "the routing header's type hides the final destination the checksum covers";
        }
        return null;
    }

    /** The pseudo-header's sum (RFC 793/768/8200 8.1); 0 for ICMPv4, which has none. */
    private int pseudoHeaderSum() {
        int len = coveredLength();
        if (ipVersion == 4) {
            if (transport == IpProtocols.ICMP) {
                return 0;
            }
            // Source and destination, then zero/protocol and the length as two 16-bit words.
            return Checksums.add(Checksums.sum(buf, ipOffset + 12, 8), Checksums.fold((long) protocol + len));
        }
        int s = Checksums.add(Checksums.sum(buf, ipv6.sourceOffset(), 16),
                Checksums.sum(buf, ipv6.finalDestinationOffset(), 16));
        // The 32-bit length and the next header in the low byte of a zero-padded 32-bit word.
        return Checksums.add(s, Checksums.fold((long) (len >>> 16) + (len & 0xFFFF) + protocol));
    }

    @Override
    public String toString() {
        if (ipVersion == 0) {
            return "PacketParser[empty]";
        }
        String ip = ipVersion == 4 ? ipv4.toString() : ipv6.toString();
        switch (transport) {
            case IpProtocols.TCP: return ip + " | " + tcp;
            case IpProtocols.UDP: return ip + " | " + udp;
            case IpProtocols.ICMP: return ip + " | " + icmp;
            case IpProtocols.ICMPV6: return ip + " | " + icmpv6;
            default: return ip;
        }
    }
}
