package io.nfqueue.packet;

import io.nfqueue.Packet;
import io.nfqueue.Verdict;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Builds a replacement packet for {@link Verdict#withPayload(byte[])}: changed addresses,
 * ports, TTL / hop limit, DSCP / ECN, transport payload, with every length and checksum made
 * to match. The kernel fixes neither (and silently drops a packet it cannot apply).
 *
 * <pre>{@code
 * queue.run(packet -> {
 *     PacketParser p = PacketParser.of(packet);
 *     if (p.isUdp() && p.destinationPort() == 5353) {
 *         byte[] rewritten = PacketEditor.of(packet)
 *                 .destinationPort(5354)
 *                 .transportPayload("hello".getBytes(StandardCharsets.US_ASCII))
 *                 .build();
 *         packet.verdict(Verdict.accept().withPayload(rewritten));
 *     } else {
 *         packet.accept();
 *     }
 * });
 * }</pre>
 *
 * <p><b>What it refuses</b>, with a {@link PacketEditRefusedException} naming the
 * {@link PacketEditRefusedException.Reason} (the edit would produce a packet that is wrong in a
 * way the kernel neither fixes nor reports):
 * <ul>
 *   <li>any edit of a truncated copy ({@link Packet#isTruncated()}, or fewer bytes than the IP
 *       length) or of a GSO super-packet ({@link Packet#isGso()}), in {@link #of};</li>
 *   <li>address, port and payload edits of fragments, and of protocols whose checksum it cannot
 *       compute or that carry an IPsec authentication header;</li>
 *   <li>a TCP payload of another length, unless {@link #allowTcpLengthChange()};</li>
 *   <li>any edit of a checksum-not-ready packet of a protocol it cannot checksum.</li>
 * </ul>
 * Arguments out of range (a port above 65535, an IPv6 address for an IPv4 packet, a packet
 * above 65 531 bytes) throw {@link IllegalArgumentException}; bytes that do not parse throw
 * {@link MalformedPacketException} from {@code of}.
 *
 * <p><b>Checksums.</b> {@link #build()} fixes the IPv4 header checksum and the TCP, UDP, ICMP or
 * ICMPv6 checksum by RFC 1624's update rule over the old and new bytes: a checksum that was
 * right comes out exactly as a full recomputation would, and one that was wrong (a packet
 * corrupted on its way) stays wrong by the same amount, so an edit never makes a damaged packet
 * pass. A UDP/IPv4 checksum of 0 (none) stays 0. A packet the kernel flagged
 * checksum-not-ready ({@link Packet#isChecksumNotReady()}: its checksum field holds only the
 * pseudo-header sum, to be completed by the device) gets its transport checksum computed in
 * full, even when nothing else changes: the kernel marks every replaced payload's checksum as
 * complete, so this packet would otherwise leave with a partial one.
 *
 * <p>An editor is for one packet and one thread; {@link #build()} may be called more than
 * once. It allocates (the new packet); parsing alone does not, see {@link PacketParser}.
 */
public final class PacketEditor {
    private final ByteBuffer original;
    private final PacketParser parsed = new PacketParser();
    private final boolean checksumNotReady;
    private final String what;

    private byte[] source;
    private byte[] destination;
    private int sourcePort = -1;
    private int destinationPort = -1;
    private int ttl = -1;
    private int dscp = -1;
    private int ecn = -1;
    private byte[] payload;
    private boolean allowTcpLengthChange;

    private PacketEditor(ByteBuffer original, boolean checksumNotReady, String what) {
        this.original = original;
        this.checksumNotReady = checksumNotReady;
        this.what = what;
        parsed.parse(original);
        if (parsed.isTruncated()) {
            throw new PacketEditRefusedException(PacketEditRefusedException.Reason.TRUNCATED, what + " holds "
                    + (parsed.end() - parsed.ipOffset()) + " bytes but its IP header says more: a truncated copy "
                    + "would cut the real packet short; bind with a copy range covering whole packets");
        }
    }

    /**
     * An editor of a queued packet.
     *
     * @throws PacketEditRefusedException if the copy is truncated or the packet is a GSO super-packet
     * @throws MalformedPacketException if its bytes do not parse
     * @throws IllegalStateException if the queue copies metadata only
     */
    public static PacketEditor of(Packet packet) {
        String what = "packet " + packet.id() + " of queue " + packet.queueNumber();
        if (packet.isTruncated()) {
            throw new PacketEditRefusedException(PacketEditRefusedException.Reason.TRUNCATED, what + " is a truncated copy ("
                    + packet.payloadLength() + " of " + packet.originalLength() + " bytes): a payload built from it "
                    + "would cut the real packet short; raise QueueOptions.copyRange to cover whole packets");
        }
        return of(packet.payload(), packet.originalLength(), packet.isGso(), packet.isChecksumNotReady(), what);
    }

    /** An editor of raw packet bytes (from the IP header on) whose checksums are complete. */
    public static PacketEditor of(byte[] packet) {
        return of(packet, packet.length, false, false);
    }

    /**
     * An editor of raw packet bytes with the flags a {@link Packet} would carry: for tests and
     * for packets kept from a queue.
     *
     * @param originalLength the packet's full length; more than {@code packet.length} means a truncated copy
     */
    public static PacketEditor of(byte[] packet, int originalLength, boolean gso, boolean checksumNotReady) {
        return of(ByteBuffer.wrap(packet).asReadOnlyBuffer(), originalLength, gso, checksumNotReady, "the packet");
    }

    private static PacketEditor of(ByteBuffer bytes, int originalLength, boolean gso, boolean checksumNotReady,
                                   String what) {
        if (originalLength > bytes.remaining()) {
            throw new PacketEditRefusedException(PacketEditRefusedException.Reason.TRUNCATED, what + " is a truncated copy ("
                    + bytes.remaining() + " of " + originalLength + " bytes): a payload built from it would cut the "
                    + "real packet to " + bytes.remaining() + " bytes; raise QueueOptions.copyRange to cover whole packets");
        }
        if (gso) {
            throw new PacketEditRefusedException(PacketEditRefusedException.Reason.GSO, what + " is a GSO super-packet of "
                    + originalLength + " bytes: the kernel would mark the replaced payload's checksum complete before "
                    + "segmenting it, and a length change breaks its segment sizes; bind with QueueOptions.gso(false) "
                    + "to receive segments you can edit");
        }
        return new PacketEditor(bytes, checksumNotReady, what);
    }

    /** Sets the source address (same family as the packet). */
    public PacketEditor sourceAddress(InetAddress address) {
        this.source = addressBytes(address, "source address");
        return this;
    }

    /** Sets the destination address field (same family as the packet). */
    public PacketEditor destinationAddress(InetAddress address) {
        this.destination = addressBytes(address, "destination address");
        return this;
    }

    private byte[] addressBytes(InetAddress address, String field) {
        Objects.requireNonNull(address, field);
        boolean v4 = parsed.isIpv4();
        if (v4 ? !(address instanceof Inet4Address) : !(address instanceof Inet6Address)) {
            throw new IllegalArgumentException("cannot set an " + (v4 ? "IPv4" : "IPv6") + " packet's " + field
                    + " to " + address.getHostAddress());
        }
        requireTransportEditable(field);
        return address.getAddress();
    }

    /** Sets the TCP or UDP source port. */
    public PacketEditor sourcePort(int port) {
        this.sourcePort = checkPort(port, "source port");
        return this;
    }

    /** Sets the TCP or UDP destination port. */
    public PacketEditor destinationPort(int port) {
        this.destinationPort = checkPort(port, "destination port");
        return this;
    }

    private int checkPort(int port, String field) {
        if (port < 0 || port > 0xFFFF) {
            throw new IllegalArgumentException(field + " must be 0..65535: " + port);
        }
        requireTransportEditable(field);
        if (!parsed.isTcp() && !parsed.isUdp()) {
            throw refused(PacketEditRefusedException.Reason.UNSUPPORTED_PROTOCOL, field,
                    IpProtocols.name(parsed.protocol()) + " has no ports");
        }
        return port;
    }

    /** Sets the IPv4 TTL or the IPv6 hop limit (0..255). */
    public PacketEditor ttl(int value) {
        if (value < 0 || value > 255) {
            throw new IllegalArgumentException("TTL / hop limit must be 0..255: " + value);
        }
        this.ttl = value;
        return this;
    }

    /** Same as {@link #ttl(int)}, by IPv6's name. */
    public PacketEditor hopLimit(int value) {
        return ttl(value);
    }

    /** Sets the differentiated services code point (0..63), keeping ECN. */
    public PacketEditor dscp(int value) {
        if (value < 0 || value > 63) {
            throw new IllegalArgumentException("DSCP must be 0..63: " + value);
        }
        this.dscp = value;
        return this;
    }

    /** Sets the ECN bits (0..3), keeping DSCP. */
    public PacketEditor ecn(int value) {
        if (value < 0 || value > 3) {
            throw new IllegalArgumentException("ECN must be 0..3: " + value);
        }
        this.ecn = value;
        return this;
    }

    /**
     * Replaces the transport payload (after the TCP, UDP, ICMP or ICMPv6 header) with a copy of
     * {@code data}; the IP length and UDP length follow. A TCP payload must keep its length
     * unless {@link #allowTcpLengthChange()}.
     */
    public PacketEditor transportPayload(byte[] data) {
        Objects.requireNonNull(data, "data");
        requireTransportEditable("transport payload");
        int headers = parsed.transportPayloadOffset() - parsed.ipOffset();
        int newLength = headers + data.length;
        if (newLength > Verdict.MAX_PAYLOAD) {
            throw new IllegalArgumentException("a " + data.length + "-byte transport payload makes a " + newLength
                    + "-byte packet, above the kernel's limit of " + Verdict.MAX_PAYLOAD + " bytes");
        }
        this.payload = data.clone();
        return this;
    }

    /** Replaces the transport payload with the buffer's remaining bytes (copied; the position is not moved). */
    public PacketEditor transportPayload(ByteBuffer data) {
        byte[] copy = new byte[data.remaining()];
        data.get(data.position(), copy);
        return transportPayload(copy);
    }

    /**
     * Lets a TCP payload change length. The sender's and receiver's sequence numbers then
     * disagree by the difference: only for programs that also rewrite sequence and
     * acknowledgment numbers of the connection's later segments (or end it).
     */
    public PacketEditor allowTcpLengthChange() {
        this.allowTcpLengthChange = true;
        return this;
    }

    /** Edits of addresses, ports and payload change the transport checksum: it must be computable. */
    private void requireTransportEditable(String field) {
        if (parsed.isFragment()) {
            throw refused(PacketEditRefusedException.Reason.FRAGMENT, field, "the packet is an IP fragment; the "
                    + "transport header and checksum belong to the whole datagram");
        }
        if (parsed.isIpv4() ? parsed.protocol() == IpProtocols.AH : parsed.ipv6().authenticationHeaderOffset() >= 0) {
            throw refused(PacketEditRefusedException.Reason.AUTHENTICATED, field, "an IPsec authentication header "
                    + "covers it with a keyed hash");
        }
        if (!parsed.hasTransportHeader()) {
            throw refused(PacketEditRefusedException.Reason.UNSUPPORTED_PROTOCOL, field, "protocol "
                    + IpProtocols.name(parsed.protocol()) + " is not TCP, UDP, ICMP or ICMPv6, so its checksum "
                    + "cannot be kept right");
        }
        if (!parsed.transportChecksumComputable()) {
            throw refused(PacketEditRefusedException.Reason.UNSUPPORTED_PROTOCOL, field, parsed.whyNotComputable());
        }
    }

    private PacketEditRefusedException refused(PacketEditRefusedException.Reason reason, String field, String why) {
        return new PacketEditRefusedException(reason, "cannot change the " + field + " of " + what + ": " + why);
    }

    /** The replacement packet, from the IP header on: pass it to {@link Verdict#withPayload(byte[])}. */
    public byte[] build() {
        if (checksumNotReady && !parsed.transportChecksumComputable()) {
            throw new PacketEditRefusedException(PacketEditRefusedException.Reason.CHECKSUM_NOT_READY, what
                    + " is flagged checksum-not-ready and its " + IpProtocols.name(parsed.protocol())
                    + " checksum cannot be computed here (" + parsed.whyNotComputable() + "): the kernel would send "
                    + "the replaced packet with an incomplete checksum");
        }
        if (payload != null && parsed.isTcp() && !allowTcpLengthChange
                && payload.length != parsed.transportPayloadLength()) {
            throw refused(PacketEditRefusedException.Reason.TCP_LENGTH_CHANGE, "transport payload",
                    "its length would change from " + parsed.transportPayloadLength() + " to " + payload.length
                            + " bytes, which desynchronizes the connection's sequence numbers; keep the length, or "
                            + "call allowTcpLengthChange() and rewrite sequence numbers yourself");
        }
        byte[] out = PacketLayout.copyWithPayload(parsed, payload);
        HeaderWriter.apply(out, parsed, source, destination, sourcePort, destinationPort, ttl, dscp, ecn,
                payload != null);
        ChecksumFixer.fix(out, parsed, checksumNotReady);
        return out;
    }

    /** {@code Verdict.accept().withPayload(build())}. */
    public Verdict acceptVerdict() {
        return Verdict.accept().withPayload(build());
    }
}
