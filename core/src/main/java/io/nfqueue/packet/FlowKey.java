package io.nfqueue.packet;

import io.nfqueue.Packet;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The flow a packet belongs to: IP version, protocol, source and destination address, source
 * and destination port. An immutable value with {@code equals}, {@code hashCode} and a total
 * order, so packets can be grouped and per-flow state kept without parsing by hand.
 *
 * <pre>{@code
 * // A group per flow (Reactor). Let groups end, e.g. when the flow goes quiet, or they pile up;
 * // flatMap must be allowed as many groups at once as there are live flows.
 * receiver.receive()
 *         .groupBy(FlowKey::of)
 *         .flatMap(flow -> flow.timeout(Duration.ofSeconds(10), Mono.empty())
 *                 .doOnNext(packet -> inspect(flow.key(), packet)), 10_000)
 *         .subscribe();
 *
 * // Per-conversation state: canonical() is the same key for both directions.
 * Map<FlowKey, long[]> bytes = new HashMap<>();
 * queue.run(packet -> {
 *     FlowKey key = FlowKey.of(packet);
 *     bytes.computeIfAbsent(key.canonical(), k -> new long[2])[key.isCanonical() ? 0 : 1] += packet.payloadLength();
 *     packet.accept();
 * });
 * }</pre>
 *
 * <p><b>Cost.</b> A key is one object of 56 bytes (compressed class pointers) holding only
 * primitives; computing it from a {@link PacketParser} allocates nothing else: no byte arrays,
 * no {@link InetAddress}, no boxing. {@link #of(ByteBuffer)} also allocates nothing else (it
 * reads through header views kept per thread); {@link #of(Packet)} allocates in addition the
 * read-only buffer {@link Packet#payload()} wraps around the packet's bytes on each call.
 * {@link #sourceAddress()}, {@link #destinationAddress()}, {@link #reversed()},
 * {@link #canonical()} (when the key is not canonical) and {@link #toString()} allocate.
 *
 * <p><b>What the fields hold.</b>
 * <ul>
 * <li>Addresses are the IP header's fields. For IPv6 the destination is the header's field, as
 *     {@link PacketParser#copyDestinationAddress} gives it, not a routing header's final
 *     destination. An IPv6 key is never equal to an IPv4 key, IPv4-mapped addresses included.
 * <li>The protocol is the upper-layer protocol: IPv4's protocol field, or for IPv6 the next
 *     header after the extension headers ({@link PacketParser#protocol()}).
 * <li>Ports are TCP's and UDP's. For ICMP echo request and reply (and ICMPv6's), both ports are
 *     the echo identifier, as conntrack keys pings: each ping session is a flow of its own, and
 *     its replies have the {@link #reversed()} key. All other protocols and ICMP messages,
 *     SCTP, DCCP and UDP-Lite included, have ports 0 (never -1 as in
 *     {@link PacketParser#sourcePort()}).
 * <li>Every fragment, the first included, has ports 0: only the first carries the transport
 *     header, and a key that put the first fragment in one group and the rest in another would
 *     split each datagram. So all fragments of a datagram share one key (with all other
 *     fragmented datagrams of that protocol between the two addresses), which is not the key of
 *     the flow's unfragmented packets. With conntrack loaded the kernel reassembles before the
 *     queue and fragments are rare.
 * </ul>
 *
 * <p><b>When there is no key.</b> {@link #of(ByteBuffer)} and {@link #of(Packet)} read only
 * what a key needs: the IP header, IPv6 extension headers up to the upper layer, and the
 * ports (the first 4 bytes of TCP and UDP) or the 8-byte ICMP header. A copy range that cuts
 * a TCP header's options still gives a key, where {@link PacketParser#parse} refuses it; a
 * copy that ends before the ports does not. They throw {@link MalformedPacketException} when
 * the bytes are not an IPv4 or IPv6 packet, the IP header or the extension-header chain is
 * malformed or cut off, or the ports or ICMP header are cut off: a key with made-up ports would
 * merge unrelated flows. For a packet the parser accepts, every factory gives the same key.
 * {@link #of(Packet)} throws {@link IllegalStateException} for a packet without bytes
 * ({@link io.nfqueue.CopyMode#META}), as {@link Packet#payload()} does.
 *
 * <p><b>Hashing.</b> {@code hashCode} mixes all fields with a seed chosen when the class loads,
 * so it differs from one JVM run to the next (do not store it or share it between processes),
 * and a sender who picks addresses and ports cannot predict which bucket a flow lands in. Keys are
 * {@link Comparable} too, so even colliding keys are found in O(log n) in a {@link
 * java.util.HashMap} bucket. Keys are immutable and may be shared between threads; the
 * factories may be called from any thread ({@link #of(PacketParser)} as the parser allows).
 */
public final class FlowKey implements Comparable<FlowKey> {
    private static final long SEED = ThreadLocalRandom.current().nextLong();

    /**
     * Views for {@link #of(ByteBuffer)}, re-wrapped per call so that reading allocates nothing.
     * They keep the last buffer reachable until the thread's next call: one packet per thread.
     */
    private static final ThreadLocal<Views> VIEWS = ThreadLocal.withInitial(Views::new);

    private static final class Views {
        final Ipv4View ipv4 = new Ipv4View();
        final Ipv6View ipv6 = new Ipv6View();
    }

    // Primitives only, packed to 56 bytes: IPv4 in the low 32 bits of the low long, high long 0.
    private final long sourceHigh;
    private final long sourceLow;
    private final long destinationHigh;
    private final long destinationLow;
    /** Source port in the high 16 bits, destination port in the low 16: how TCP and UDP lay them out. */
    private final int ports;
    /** IP version in bits 8 and up, protocol in the low 8. */
    private final int versionAndProtocol;
    private final int hash;

    private FlowKey(int version, int protocol, long sourceHigh, long sourceLow, long destinationHigh,
                    long destinationLow, int ports) {
        this.sourceHigh = sourceHigh;
        this.sourceLow = sourceLow;
        this.destinationHigh = destinationHigh;
        this.destinationLow = destinationLow;
        this.ports = ports;
        this.versionAndProtocol = version << 8 | protocol;
        // Mixed field by field, not summed: in a linear combination differences between fields
        // cancel whatever the seed, so a sender could pick colliding flows without knowing it.
        long h = mix(SEED ^ sourceHigh);
        h = mix(h ^ sourceLow);
        h = mix(h ^ destinationHigh);
        h = mix(h ^ destinationLow);
        h = mix(h ^ ((long) versionAndProtocol << 32 | ports & 0xFFFF_FFFFL));
        this.hash = (int) (h ^ h >>> 32);
    }

    /** MurmurHash3's 64-bit finalizer. */
    private static long mix(long h) {
        h = (h ^ h >>> 33) * 0xFF51AFD7ED558CCDL;
        h = (h ^ h >>> 33) * 0xC4CEB9FE1A85EC53L;
        return h ^ h >>> 33;
    }

    /**
     * The key of the packet {@code parsed} holds. Allocates the key only.
     *
     * @throws IllegalStateException if the parser holds no packet (none parsed, or the last
     *         parse failed)
     */
    public static FlowKey of(PacketParser parsed) {
        int version = parsed.ipVersion();
        if (version == 4) {
            return of(parsed.ipv4());
        }
        if (version == 6) {
            return of(parsed.ipv6());
        }
        throw new IllegalStateException("no packet parsed (or the last parse failed)");
    }

    /**
     * The key of the IP packet from the buffer's position to its limit (the position is not
     * moved). Allocates the key only; see the class doc for what it needs of the bytes.
     *
     * @throws MalformedPacketException if the bytes give no key (see the class doc)
     */
    public static FlowKey of(ByteBuffer ipPacket) {
        int offset = ipPacket.position();
        int limit = ipPacket.limit();
        if (limit == offset) {
            throw new MalformedPacketException("empty packet", offset);
        }
        int version = Bytes.u8(ipPacket, offset) >>> 4;
        Views views = VIEWS.get();
        if (version == 4) {
            return of(views.ipv4.wrap(ipPacket, offset, limit));
        }
        if (version == 6) {
            return of(views.ipv6.wrap(ipPacket, offset, limit));
        }
        throw new MalformedPacketException("not an IP packet: version " + version, offset);
    }

    /**
     * The key of a queued packet. Allocates the key and the payload's buffer view.
     *
     * @throws MalformedPacketException if the bytes give no key (see the class doc)
     * @throws IllegalStateException if the queue copies metadata only ({@link io.nfqueue.CopyMode#META})
     */
    public static FlowKey of(Packet packet) {
        return of(packet.payload());
    }

    /**
     * A key from its parts, e.g. to look up the state of a flow known in advance.
     *
     * @param protocol 0..255 ({@link IpProtocols})
     * @param sourcePort 0..65535 (0 for protocols without ports; the echo identifier for pings)
     * @throws IllegalArgumentException if a number is out of range or the addresses are not both
     *         IPv4 or both IPv6
     */
    public static FlowKey of(int protocol, InetAddress source, int sourcePort, InetAddress destination,
                             int destinationPort) {
        if (protocol < 0 || protocol > 255) {
            throw new IllegalArgumentException("protocol " + protocol + " is not 0..255");
        }
        if ((sourcePort | destinationPort) >>> 16 != 0) {
            throw new IllegalArgumentException("ports " + sourcePort + ", " + destinationPort + " are not 0..65535");
        }
        byte[] s = source.getAddress();
        byte[] d = destination.getAddress();
        if (s.length != d.length) {
            throw new IllegalArgumentException("addresses of two IP versions: " + source + ", " + destination);
        }
        int ports = sourcePort << 16 | destinationPort;
        if (s.length == 4) {
            return new FlowKey(4, protocol, 0, ByteBuffer.wrap(s).getInt() & 0xFFFF_FFFFL, 0,
                    ByteBuffer.wrap(d).getInt() & 0xFFFF_FFFFL, ports);
        }
        ByteBuffer sb = ByteBuffer.wrap(s);
        ByteBuffer db = ByteBuffer.wrap(d);
        return new FlowKey(6, protocol, sb.getLong(0), sb.getLong(8), db.getLong(0), db.getLong(8), ports);
    }

    private static FlowKey of(Ipv4View ip) {
        int protocol = ip.protocol();
        int ports = ports(ip.buffer(), protocol, IpProtocols.ICMP, ip.isFragment(), ip.payloadOffset(), ip.end());
        return new FlowKey(4, protocol, 0, ip.sourceInt() & 0xFFFF_FFFFL, 0, ip.destinationInt() & 0xFFFF_FFFFL,
                ports);
    }

    private static FlowKey of(Ipv6View ip) {
        ByteBuffer b = ip.buffer();
        int protocol = ip.upperLayerProtocol();
        int ports = ports(b, protocol, IpProtocols.ICMPV6, ip.isFragment(), ip.upperLayerOffset(), ip.end());
        int s = ip.sourceOffset();
        int d = ip.destinationOffset();
        return new FlowKey(6, protocol, i64(b, s), i64(b, s + 8), i64(b, d), i64(b, d + 8), ports);
    }

    /** Reads big-endian whatever the buffer's byte order, as {@link Bytes} does. */
    private static long i64(ByteBuffer b, int i) {
        return (long) Bytes.i32(b, i) << 32 | Bytes.u32(b, i + 4);
    }

    /** Both ports packed as in {@link #ports}; {@code at} is the upper layer's offset. */
    private static int ports(ByteBuffer b, int protocol, int icmp, boolean fragment, int at, int end) {
        if (fragment) {
            return 0;
        }
        if (protocol == IpProtocols.TCP || protocol == IpProtocols.UDP) {
            if (end - at < 4) {
                throw new MalformedPacketException(IpProtocols.name(protocol) + " ports cut off: needs 4 bytes, "
                        + (end - at) + " present", at);
            }
            return Bytes.i32(b, at);
        }
        if (protocol == icmp) {
            if (end - at < IcmpMessage.HEADER_LENGTH) {
                throw new MalformedPacketException(IpProtocols.name(protocol) + " header cut off: needs 8 bytes, "
                        + (end - at) + " present", at);
            }
            int type = Bytes.u8(b, at);
            boolean echo = icmp == IpProtocols.ICMP
                    ? type == IcmpView.ECHO_REQUEST || type == IcmpView.ECHO_REPLY
                    : type == Icmpv6View.ECHO_REQUEST || type == Icmpv6View.ECHO_REPLY;
            if (echo) {
                int id = Bytes.u16(b, at + 4);
                return id << 16 | id;
            }
        }
        return 0;
    }

    /** 4 or 6. */
    public int ipVersion() {
        return versionAndProtocol >>> 8;
    }

    /** The upper-layer protocol ({@link IpProtocols}). */
    public int protocol() {
        return versionAndProtocol & 0xFF;
    }

    public boolean isTcp() {
        return protocol() == IpProtocols.TCP;
    }

    public boolean isUdp() {
        return protocol() == IpProtocols.UDP;
    }

    /** 0..65535; 0 when there is none (see the class doc), the echo identifier for pings. */
    public int sourcePort() {
        return ports >>> 16;
    }

    /** 0..65535; 0 when there is none (see the class doc), the echo identifier for pings. */
    public int destinationPort() {
        return ports & 0xFFFF;
    }

    /**
     * The source address (allocates): an {@link Inet4Address}, or for IPv6 an
     * {@link Inet6Address} even when IPv4-mapped.
     */
    public InetAddress sourceAddress() {
        return address(sourceHigh, sourceLow);
    }

    /** The destination address (allocates); as {@link #sourceAddress()}. */
    public InetAddress destinationAddress() {
        return address(destinationHigh, destinationLow);
    }

    private InetAddress address(long high, long low) {
        try {
            if (ipVersion() == 4) {
                return InetAddress.getByAddress(ByteBuffer.allocate(4).putInt(0, (int) low).array());
            }
            // Not InetAddress.getByAddress, which turns an IPv4-mapped address into an Inet4Address.
            return Inet6Address.getByAddress(null, ByteBuffer.allocate(16).putLong(high).putLong(low).array(), -1);
        } catch (UnknownHostException e) {
            throw new AssertionError("4 or 16 bytes are always an address", e);
        }
    }

    /** The other direction of this flow: source and destination swapped. */
    public FlowKey reversed() {
        return new FlowKey(ipVersion(), protocol(), destinationHigh, destinationLow, sourceHigh, sourceLow,
                ports << 16 | ports >>> 16);
    }

    /**
     * True when the source (address, then port) is not greater than the destination, compared
     * as unsigned numbers: of a key and its {@link #reversed()}, one is canonical, or both when
     * they are equal.
     */
    public boolean isCanonical() {
        int c = Long.compareUnsigned(sourceHigh, destinationHigh);
        if (c == 0) {
            c = Long.compareUnsigned(sourceLow, destinationLow);
        }
        return c < 0 || c == 0 && sourcePort() <= destinationPort();
    }

    /** The same key for both directions of a flow: this key if {@link #isCanonical()}, else {@link #reversed()}. */
    public FlowKey canonical() {
        return isCanonical() ? this : reversed();
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        return o instanceof FlowKey && equalTo((FlowKey) o);
    }

    private boolean equalTo(FlowKey k) {
        return hash == k.hash && sourceLow == k.sourceLow && destinationLow == k.destinationLow && ports == k.ports
                && sourceHigh == k.sourceHigh && destinationHigh == k.destinationHigh
                && versionAndProtocol == k.versionAndProtocol;
    }

    @Override
    public int hashCode() {
        return hash;
    }

    /**
     * Orders by IP version, protocol, source address, source port, destination address,
     * destination port (addresses as unsigned numbers); consistent with {@code equals}.
     */
    @Override
    public int compareTo(FlowKey o) {
        int c = Integer.compare(versionAndProtocol, o.versionAndProtocol);
        if (c == 0) {
            c = Long.compareUnsigned(sourceHigh, o.sourceHigh);
        }
        if (c == 0) {
            c = Long.compareUnsigned(sourceLow, o.sourceLow);
        }
        if (c == 0) {
            c = Integer.compare(sourcePort(), o.sourcePort());
        }
        if (c == 0) {
            c = Long.compareUnsigned(destinationHigh, o.destinationHigh);
        }
        if (c == 0) {
            c = Long.compareUnsigned(destinationLow, o.destinationLow);
        }
        if (c == 0) {
            c = Integer.compare(destinationPort(), o.destinationPort());
        }
        return c;
    }

    /**
     * E.g. {@code udp 10.0.0.1:5353 -> 10.0.0.2:53}, {@code tcp [2001:db8::1]:443 -> [2001:db8::2]:50000},
     * {@code icmp 10.0.0.1 -> 10.0.0.2 id 4660}, {@code esp 10.0.0.1 -> 10.0.0.2},
     * {@code proto 132 10.0.0.1 -> 10.0.0.2}. IPv6 addresses in RFC 5952 form.
     */
    @Override
    public String toString() {
        int protocol = protocol();
        boolean withPorts = protocol == IpProtocols.TCP || protocol == IpProtocols.UDP;
        boolean ping = protocol == (ipVersion() == 4 ? IpProtocols.ICMP : IpProtocols.ICMPV6) && ports != 0;
        String name = IpProtocols.name(protocol);
        StringBuilder s = new StringBuilder(64);
        if (Character.isDigit(name.charAt(0))) {
            s.append("proto ").append(protocol);
        } else {
            s.append(name.toLowerCase(Locale.ROOT));
        }
        s.append(' ');
        endpoint(s, sourceHigh, sourceLow, withPorts, sourcePort());
        s.append(" -> ");
        endpoint(s, destinationHigh, destinationLow, withPorts, destinationPort());
        if (ping) {
            s.append(" id ").append(sourcePort());
        }
        return s.toString();
    }

    private void endpoint(StringBuilder s, long high, long low, boolean withPort, int port) {
        if (ipVersion() == 4) {
            s.append(Addresses.ipv4((int) low));
        } else {
            if (withPort) {
                s.append('[');
            }
            Addresses.appendIpv6(s, high, low);
            if (withPort) {
                s.append(']');
            }
        }
        if (withPort) {
            s.append(':').append(port);
        }
    }
}
