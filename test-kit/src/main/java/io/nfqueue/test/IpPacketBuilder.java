package io.nfqueue.test;

import io.nfqueue.packet.IpProtocols;
import io.nfqueue.packet.MalformedPacketException;
import io.nfqueue.packet.PacketParser;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * What every packet builder of {@link Packets} has: the IP header's fields, the payload, the
 * deliberate defects, and {@link #build()}, which returns the packet as NFQUEUE delivers it,
 * from the IP header on, with every length and checksum right.
 *
 * <pre>{@code
 * byte[] query = Packets.udp()
 *         .from("10.0.0.1", 5353).to("10.0.0.2", 53)
 *         .ttl(1).dscp(46)
 *         .payload(dnsQuery)
 *         .build();
 * }</pre>
 *
 * <p><b>Immutable.</b> Every setter returns a new builder and leaves this one as it was, so a
 * builder can be a template (a {@code static final} field, say) that tests vary:
 * {@code base.ttl(0)}, {@code base.ttl(1)}. Byte arrays passed in are copied; {@code build}
 * returns a new array each time.
 *
 * <p><b>IP version.</b> The addresses decide: IPv4 literals make an IPv4 packet, IPv6 ones
 * (including {@code ::ffff:a.b.c.d}) an IPv6 packet; {@link #ipv4()} and {@link #ipv6()} decide
 * when no address is set, or check the addresses. Unset addresses are documentation addresses:
 * 192.0.2.1 to 192.0.2.2, or 2001:db8::1 to 2001:db8::2. A field the version does not have
 * (a flow label on IPv4, DF on IPv6) makes {@code build} throw {@link IllegalArgumentException}
 * rather than be dropped silently.
 *
 * <p><b>Defaults.</b> TTL / hop limit 64, traffic class 0, identification 0, DF clear, flow
 * label 0, no options, no extension headers, an empty payload.
 *
 * <p><b>Deliberately broken packets</b>, for tests of error paths, by the methods named
 * {@code broken...}, by {@link #fragment} and by {@link #buildTruncated}. Checksums are
 * computed over the packet as built when the bytes allow it (so a packet has one defect at a
 * time: a wrong length, not also a wrong checksum), and otherwise over the packet as it would be
 * whole and unbroken: a fragment, or a length that makes the parser call the copy truncated or
 * the packet malformed, keeps the checksum its complete datagram has.
 *
 * @param <B> the concrete builder, which every setter returns
 */
public abstract class IpPacketBuilder<B extends IpPacketBuilder<B>> {
    private static final byte[] EMPTY = new byte[0];

    IpLayer ip;
    byte[] payload;

    IpPacketBuilder() {
        this.ip = new IpLayer();
        this.payload = EMPTY;
    }

    /** A copy of {@code from}, to be changed (by {@link #with}) before anyone sees it. */
    IpPacketBuilder(IpPacketBuilder<B> from) {
        this.ip = from.ip.copy();
        this.payload = from.payload;
    }

    /** A copy of this builder: a fresh object whose fields may be set. */
    abstract B copy();

    /** The IP protocol (IPv4) or upper-layer next header (IPv6) of the transport. */
    abstract int protocol(int version);

    /** The transport header and payload, with its checksum field (if any) zero. */
    abstract byte[] transport(int version);

    /** Index of the transport checksum in {@link #transport}, or -1 when none is to be computed. */
    int checksumField() {
        return -1;
    }

    /** The checksum to store, given the right one. */
    int storedChecksum(int correct) {
        return correct;
    }

    /** Writes the transport's deliberate defects into its bytes (after the unbroken ones were laid out). */
    void breakTransport(byte[] transport) {
    }

    /** The changed copy: every setter goes through here, which is what keeps builders immutable. */
    final B with(Consumer<B> change) {
        B next = copy();
        change.accept(next);
        return next;
    }

    /** Makes an IPv4 packet (the default when no address says otherwise). */
    public B ipv4() {
        return ipVersion(4);
    }

    /** Makes an IPv6 packet: needed only when no address is set. */
    public B ipv6() {
        return ipVersion(6);
    }

    /** Makes an IPv4 or IPv6 packet: 4 or 6, for tests that run over both. */
    public B ipVersion(int version) {
        if (version != 4 && version != 6) {
            throw new IllegalArgumentException("IP version 4 or 6, not " + version);
        }
        return with(b -> b.ip.version = version);
    }

    /** The source address, an IPv4 or IPv6 literal (never looked up: a name throws). */
    public B from(String address) {
        byte[] a = AddressText.parse(address);
        return with(b -> b.ip.source = a);
    }

    /** The source address. */
    public B from(InetAddress address) {
        byte[] a = Objects.requireNonNull(address, "address").getAddress();
        return with(b -> b.ip.source = a);
    }

    /** The source address as 4 or 16 bytes (copied). */
    public B from(byte[] address) {
        byte[] a = AddressText.check(address);
        return with(b -> b.ip.source = a);
    }

    /** The destination address, an IPv4 or IPv6 literal (never looked up: a name throws). */
    public B to(String address) {
        byte[] a = AddressText.parse(address);
        return with(b -> b.ip.destination = a);
    }

    /** The destination address. */
    public B to(InetAddress address) {
        byte[] a = Objects.requireNonNull(address, "address").getAddress();
        return with(b -> b.ip.destination = a);
    }

    /** The destination address as 4 or 16 bytes (copied). */
    public B to(byte[] address) {
        byte[] a = AddressText.check(address);
        return with(b -> b.ip.destination = a);
    }

    /** The IPv4 TTL or IPv6 hop limit, 0..255. */
    public B ttl(int ttl) {
        int v = checkRange("TTL / hop limit", ttl, 0, 255);
        return with(b -> b.ip.ttl = v);
    }

    /** Same as {@link #ttl(int)}, by IPv6's name. */
    public B hopLimit(int hopLimit) {
        return ttl(hopLimit);
    }

    /** The whole IPv4 TOS / IPv6 traffic class byte (DSCP and ECN), 0..255. */
    public B trafficClass(int trafficClass) {
        int v = checkRange("traffic class", trafficClass, 0, 255);
        return with(b -> b.ip.trafficClass = v);
    }

    /** Same as {@link #trafficClass(int)}, by IPv4's old name. */
    public B tos(int tos) {
        return trafficClass(tos);
    }

    /** The differentiated services code point, 0..63, keeping the ECN bits. */
    public B dscp(int dscp) {
        int v = checkRange("DSCP", dscp, 0, 63);
        return with(b -> b.ip.trafficClass = v << 2 | (b.ip.trafficClass & 0x03));
    }

    /** The ECN bits, 0..3, keeping the DSCP. */
    public B ecn(int ecn) {
        int v = checkRange("ECN", ecn, 0, 3);
        return with(b -> b.ip.trafficClass = (b.ip.trafficClass & 0xFC) | v);
    }

    /**
     * The IPv4 identification (0..65535), or the identification of an IPv6 {@link #fragment}'s
     * fragment header (0..2^32-1; an IPv6 packet has it nowhere else).
     */
    public B identification(long identification) {
        long v = checkU32("identification", identification);
        return with(b -> b.ip.identification = v);
    }

    /** Sets IPv4's DF (don't fragment) flag. */
    public B dontFragment() {
        return dontFragment(true);
    }

    /** Sets or clears IPv4's DF (don't fragment) flag. */
    public B dontFragment(boolean dontFragment) {
        return with(b -> b.ip.dontFragment = dontFragment);
    }

    /** The IPv6 flow label, 0..0xFFFFF. */
    public B flowLabel(int flowLabel) {
        int v = checkRange("flow label", flowLabel, 0, 0xF_FFFF);
        return with(b -> b.ip.flowLabel = v);
    }

    /**
     * IPv4 options, as bytes (type, length, value...), padded with END (zero) bytes to a
     * multiple of 4; at most 40 bytes. They are written as given: wrong ones are for tests of
     * an option walk.
     */
    public B ipv4Options(byte[] options) {
        Objects.requireNonNull(options, "options");
        int padded = (options.length + 3) & ~3;
        if (padded > 40) {
            throw new IllegalArgumentException("IPv4 options take at most 40 bytes, not " + options.length);
        }
        byte[] o = Arrays.copyOf(options, padded);
        return with(b -> b.ip.ipv4Options = o);
    }

    /**
     * Adds an IPv6 extension header of {@code type} (hop-by-hop {@link IpProtocols#HOP_BY_HOP},
     * {@link IpProtocols#ROUTING} or {@link IpProtocols#DESTINATION_OPTIONS}) after the ones
     * added before. {@code data} is what follows its next-header and length bytes; it is padded
     * with zero bytes (Pad1 options, in an options header) to a multiple of 8. The headers come
     * in the order added, whatever RFC 8200 says of the order, so wrong chains can be built
     * too; a {@link #fragment} header comes after them. For a fragment header use
     * {@link #fragment}; for AH or anything else, {@link Packets#ip(int)} with the bytes.
     * A routing header with segments left must be of type 0, 2 or 4: the transport checksum
     * covers its final destination, which {@link PacketParser} finds only for those.
     */
    public B ipv6ExtensionHeader(int type, byte[] data) {
        Objects.requireNonNull(data, "data");
        if (type != IpProtocols.HOP_BY_HOP && type != IpProtocols.ROUTING && type != IpProtocols.DESTINATION_OPTIONS) {
            throw new IllegalArgumentException("extension header " + IpProtocols.name(type) + ": only hop-by-hop (0), "
                    + "routing (43) and destination options (60) are built here; fragment() builds fragment headers");
        }
        int length = (2 + data.length + 7) & ~7;
        if (length > 2048) {
            throw new IllegalArgumentException("an extension header has at most 2048 bytes; " + data.length
                    + " bytes of data make " + length);
        }
        byte[] header = new byte[length];
        header[1] = (byte) (length / 8 - 1);
        System.arraycopy(data, 0, header, 2, data.length);
        IpLayer.Extension e = new IpLayer.Extension(type, header);
        return with(b -> b.ip = b.ip.withExtension(e));
    }

    /**
     * The transport payload (copied): the data after the TCP, UDP or ICMP header, or everything
     * after the IP header of a {@link Packets#ip(int)} packet.
     */
    public B payload(byte[] payload) {
        byte[] p = Objects.requireNonNull(payload, "payload").clone();
        return with(b -> b.payload = p);
    }

    /** The payload as the text's UTF-8 bytes. */
    public B payload(String text) {
        return payload(text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Makes the packet a fragment: IPv4's fragment offset and MF flag, or an IPv6 fragment
     * header (with the {@link #identification}) at the end of the extension-header chain. The
     * bytes after the IP header (and fragment header) are what the builder makes, whatever
     * the offset; for a later fragment's realistic content, use {@link Packets#ip(int)} with
     * the bytes. The transport checksum is that of the datagram as if this were all of it.
     *
     * @param offset the offset in bytes, a multiple of 8 in 0..65528
     * @param moreFragments the MF / M flag
     */
    public B fragment(int offset, boolean moreFragments) {
        checkRange("fragment offset", offset, 0, 65528);
        if (offset % 8 != 0) {
            throw new IllegalArgumentException("a fragment offset is a multiple of 8 bytes: " + offset);
        }
        return with(b -> {
            b.ip.fragmentOffset = offset;
            b.ip.moreFragments = moreFragments;
        });
    }

    /**
     * <b>Broken on purpose:</b> writes {@code length} (0..65535) as the IPv4 total length or the
     * IPv6 payload length instead of the true one. More than the bytes built reads as a
     * truncated copy; less than the header is malformed; less than the packet cuts it short
     * (the rest reads as padding).
     */
    public B brokenIpLength(int length) {
        int v = checkRange("IP length", length, 0, IpLayer.MAX_LENGTH_FIELD);
        return with(b -> b.ip.brokenLength = v);
    }

    /** <b>Broken on purpose:</b> an IPv4 header checksum that does not verify. */
    public B brokenIpChecksum() {
        return with(b -> b.ip.brokenChecksum = true);
    }

    /**
     * The packet, from its IP header on: what NFQUEUE delivers as a packet's payload.
     *
     * @throws IllegalArgumentException when the settings cannot make one packet: mixed address
     *         families, a field the IP version lacks, more than 65 535 bytes of length
     */
    public final byte[] build() {
        IpLayer resolved = ip.resolved();
        int protocol = protocol(resolved.version);
        byte[] transport = transport(resolved.version);
        byte[] broken = transport.clone();
        breakTransport(broken);
        IpLayer.Layout out = resolved.layout(protocol, broken, true);
        int field = checksumField();
        if (field >= 0) {
            int correct = transportChecksum(out.bytes(), () -> resolved.layout(protocol, transport, false).bytes());
            ByteBuffer.wrap(out.bytes()).putShort(out.transportOffset() + field, (short) storedChecksum(correct));
        }
        return out.bytes();
    }

    /**
     * <b>Broken on purpose:</b> the first {@code length} bytes of {@link #build()}, as NFQUEUE
     * delivers a packet longer than the queue's copy range. The lengths and checksums are the
     * whole packet's.
     *
     * @param length 0 up to (not including) the packet's length
     */
    public final byte[] buildTruncated(int length) {
        byte[] whole = build();
        if (length < 0 || length >= whole.length) {
            throw new IllegalArgumentException("a truncated copy of this " + whole.length + "-byte packet has 0.."
                    + (whole.length - 1) + " bytes, not " + length);
        }
        return Arrays.copyOf(whole, length);
    }

    /**
     * The right transport checksum, by the project's own parser (so there is one implementation
     * of the pseudo-headers): over the packet as built, or when its defects hide the checksum
     * from the parser (a fragment, a truncating length, a malformed header), over the whole one.
     */
    private static int transportChecksum(byte[] packet, Supplier<byte[]> whole) {
        try {
            return PacketParser.of(packet).computeTransportChecksum();
        } catch (MalformedPacketException | IllegalStateException e) {
            return PacketParser.of(whole.get()).computeTransportChecksum();
        }
    }

    /**
     * A checksum that does not verify where {@code correct} does: not {@code correct}, not its
     * other ones' complement form (0 and 0xFFFF are both zero), and not 0, which over UDP/IPv4
     * would read as "no checksum" rather than a wrong one.
     */
    static int wrongChecksum(int correct) {
        int wrong = correct ^ 0x0001;
        return wrong == 0 ? 0x0002 : wrong;
    }

    static long checkU32(String what, long value) {
        if (value < 0 || value > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException(what + " must be 0..2^32-1: " + value);
        }
        return value;
    }

    static int checkRange(String what, int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(what + " must be " + min + ".." + max + ": " + value);
        }
        return value;
    }
}
