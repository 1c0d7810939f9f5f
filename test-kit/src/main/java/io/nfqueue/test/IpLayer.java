package io.nfqueue.test;

import io.nfqueue.packet.Checksums;
import io.nfqueue.packet.IpProtocols;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The IP layer of a packet being built: its fields as set, and their layout in front of a
 * transport. Mutable, but the builders change only fresh copies, which keeps them immutable.
 */
final class IpLayer {
    static final int UNSET = -1;
    /** The most an IPv4 total length or an IPv6 payload length can say. */
    static final int MAX_LENGTH_FIELD = 0xFFFF;

    // Documentation addresses (RFC 5737, RFC 3849): a test never reaches a real host by default.
    private static final byte[] V4_SOURCE = {(byte) 192, 0, 2, 1};
    private static final byte[] V4_DESTINATION = {(byte) 192, 0, 2, 2};
    private static final byte[] V6_SOURCE = AddressText.parse("2001:db8::1");
    private static final byte[] V6_DESTINATION = AddressText.parse("2001:db8::2");

    /** 4 or 6; 0 until {@link #resolved()}: the addresses decide. */
    int version;
    byte[] source;
    byte[] destination;
    int ttl = 64;
    int trafficClass;
    long identification = UNSET;
    boolean dontFragment;
    int flowLabel = UNSET;
    /** Already padded to a multiple of 4. */
    byte[] ipv4Options = new byte[0];
    /** IPv6 extension headers in order; never changed in place. */
    List<Extension> extensions = List.of();
    int fragmentOffset = UNSET;
    boolean moreFragments;
    /** A total length (IPv4) or payload length (IPv6) to write instead of the true one. */
    int brokenLength = UNSET;
    boolean brokenChecksum;

    /** An IPv6 extension header: its type, and its bytes with the next-header byte left for the layout. */
    record Extension(int type, byte[] header) {
    }

    /** A laid-out packet and where its transport starts. */
    record Layout(byte[] bytes, int transportOffset) {
    }

    IpLayer copy() {
        IpLayer c = new IpLayer();
        c.version = version;
        c.source = source;
        c.destination = destination;
        c.ttl = ttl;
        c.trafficClass = trafficClass;
        c.identification = identification;
        c.dontFragment = dontFragment;
        c.flowLabel = flowLabel;
        c.ipv4Options = ipv4Options;
        c.extensions = extensions;
        c.fragmentOffset = fragmentOffset;
        c.moreFragments = moreFragments;
        c.brokenLength = brokenLength;
        c.brokenChecksum = brokenChecksum;
        return c;
    }

    IpLayer withExtension(Extension e) {
        IpLayer c = copy();
        List<Extension> more = new ArrayList<>(extensions);
        more.add(e);
        c.extensions = List.copyOf(more);
        return c;
    }

    /**
     * A copy with the version and both addresses decided, checked for fields the version does
     * not have: a setting that would silently do nothing makes a test pass for the wrong reason.
     */
    IpLayer resolved() {
        int bySource = family(source);
        int byDestination = family(destination);
        if (bySource != 0 && byDestination != 0 && bySource != byDestination) {
            throw new IllegalArgumentException("the source is an IPv" + bySource + " address and the destination an IPv"
                    + byDestination + " one");
        }
        int byAddresses = Math.max(bySource, byDestination);
        if (version != 0 && byAddresses != 0 && version != byAddresses) {
            throw new IllegalArgumentException("the packet is set to IPv" + version + " but has an IPv" + byAddresses
                    + " address");
        }
        IpLayer r = copy();
        r.version = version != 0 ? version : byAddresses != 0 ? byAddresses : 4;
        boolean v4 = r.version == 4;
        r.source = source != null ? source : v4 ? V4_SOURCE : V6_SOURCE;
        r.destination = destination != null ? destination : v4 ? V4_DESTINATION : V6_DESTINATION;
        if (v4) {
            requireUnset(4, flowLabel != UNSET, "flow label");
            requireUnset(4, !extensions.isEmpty(), "extension headers");
            if (identification > 0xFFFF) {
                throw new IllegalArgumentException("an IPv4 identification is 16 bits: " + identification);
            }
        } else {
            requireUnset(6, dontFragment, "DF flag");
            requireUnset(6, ipv4Options.length > 0, "IPv4 options");
            requireUnset(6, brokenChecksum, "header checksum to break");
        }
        return r;
    }

    private static void requireUnset(int version, boolean set, String what) {
        if (set) {
            throw new IllegalArgumentException("an IPv" + version + " packet has no " + what);
        }
    }

    private static int family(byte[] address) {
        return address == null ? 0 : address.length == 4 ? 4 : 6;
    }

    /**
     * The packet: this (resolved) IP layer in front of {@code transport}. Without
     * {@code defects} it is the packet as it should be (no fragment fields, true lengths, right
     * header checksum): what a checksum is computed over when the broken packet cannot give one.
     */
    Layout layout(int protocol, byte[] transport, boolean defects) {
        Layout out = version == 4 ? layoutV4(protocol, transport, defects) : layoutV6(protocol, transport, defects);
        if (version == 4) {
            int headerLength = out.transportOffset();
            int c = Checksums.checksum(out.bytes(), 0, headerLength);
            ByteBuffer.wrap(out.bytes()).putShort(10, (short) (defects && brokenChecksum
                    ? IpPacketBuilder.wrongChecksum(c) : c));
        }
        return out;
    }

    private Layout layoutV4(int protocol, byte[] transport, boolean defects) {
        int headerLength = 20 + ipv4Options.length;
        int total = headerLength + transport.length;
        if (total > MAX_LENGTH_FIELD) {
            throw new IllegalArgumentException("an IPv4 packet has at most 65535 bytes; this one would have " + total);
        }
        int flags = dontFragment ? 0x4000 : 0;
        if (defects && fragmentOffset != UNSET) {
            flags |= (moreFragments ? 0x2000 : 0) | fragmentOffset / 8;
        }
        ByteBuffer b = ByteBuffer.allocate(total);
        b.put((byte) (0x40 | headerLength / 4)).put((byte) trafficClass);
        b.putShort((short) (defects && brokenLength != UNSET ? brokenLength : total));
        b.putShort((short) (identification == UNSET ? 0 : identification)).putShort((short) flags);
        b.put((byte) ttl).put((byte) protocol).putShort((short) 0);   // the checksum, once the header is whole
        b.put(source).put(destination).put(ipv4Options).put(transport);
        return new Layout(b.array(), headerLength);
    }

    private Layout layoutV6(int protocol, byte[] transport, boolean defects) {
        List<Extension> chain = extensions;
        if (defects && fragmentOffset != UNSET) {
            // Last in the chain: after hop-by-hop, routing and destination options, as RFC 8200 4.1 orders them.
            byte[] f = ByteBuffer.allocate(8).putShort(2, (short) (fragmentOffset | (moreFragments ? 1 : 0)))
                    .putInt(4, (int) (identification == UNSET ? 0 : identification)).array();
            List<Extension> more = new ArrayList<>(extensions);
            more.add(new Extension(IpProtocols.FRAGMENT, f));
            chain = more;
        }
        int chainLength = 0;
        for (Extension e : chain) {
            chainLength += e.header().length;
        }
        int payloadLength = chainLength + transport.length;
        if (payloadLength > MAX_LENGTH_FIELD) {
            throw new IllegalArgumentException("an IPv6 payload (extension headers and transport) has at most 65535 "
                    + "bytes; this one would have " + payloadLength);
        }
        ByteBuffer b = ByteBuffer.allocate(40 + payloadLength);
        b.putInt(6 << 28 | trafficClass << 20 | (flowLabel == UNSET ? 0 : flowLabel));
        b.putShort((short) (defects && brokenLength != UNSET ? brokenLength : payloadLength));
        b.put((byte) (chain.isEmpty() ? protocol : chain.get(0).type())).put((byte) ttl);
        b.put(source).put(destination);
        for (int i = 0; i < chain.size(); i++) {
            int at = b.position();
            b.put(chain.get(i).header());
            b.put(at, (byte) (i + 1 < chain.size() ? chain.get(i + 1).type() : protocol));
        }
        b.put(transport);
        return new Layout(b.array(), 40 + chainLength);
    }
}
