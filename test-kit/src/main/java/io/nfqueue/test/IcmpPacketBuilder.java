package io.nfqueue.test;

import io.nfqueue.packet.IcmpView;
import io.nfqueue.packet.Icmpv6View;
import io.nfqueue.packet.IpProtocols;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Builds an ICMP message over IPv4 (RFC 792) or an ICMPv6 message over IPv6 (RFC 4443): the
 * IP version picks which, and the named messages take their number from it. The checksum is
 * computed (over the IPv6 pseudo-header for ICMPv6). Get one from {@link Packets#icmp()} or
 * {@link Packets#icmpv6()}.
 *
 * <pre>{@code
 * byte[] ping = Packets.icmp().from("10.0.0.1").to("10.0.0.2").echoRequest(0x4242, 1).payload("ping").build();
 * byte[] ping6 = Packets.icmp().from("2001:db8::1").to("2001:db8::2").echoRequest(7, 1).build();   // type 128
 * byte[] datagram = Packets.udp().from("10.0.0.1", 40000).to("10.0.0.2", 9).build();
 * byte[] refusal = Packets.icmp().from("10.0.0.2").to("10.0.0.1").portUnreachable(datagram).build();
 * byte[] anything = Packets.icmpv6().type(Icmpv6View.PACKET_TOO_BIG, 0).restOfHeader(1280).build();
 * }</pre>
 *
 * <p>Default: an echo request with identifier and sequence number 0. The message body is the
 * {@link #payload}: the echo data, or the quoted packet of an error, which is quoted whole (the
 * kernel quotes at most what fits in 576 bytes over IPv4, 1280 over IPv6: pass that much).
 */
public final class IcmpPacketBuilder extends TransportPacketBuilder<IcmpPacketBuilder> {
    /** A message named by what it is, numbered at build time by the IP version. */
    private enum Kind {
        ECHO_REQUEST(IcmpView.ECHO_REQUEST, Icmpv6View.ECHO_REQUEST),
        ECHO_REPLY(IcmpView.ECHO_REPLY, Icmpv6View.ECHO_REPLY),
        DESTINATION_UNREACHABLE(IcmpView.DESTINATION_UNREACHABLE, Icmpv6View.DESTINATION_UNREACHABLE),
        TIME_EXCEEDED(IcmpView.TIME_EXCEEDED, Icmpv6View.TIME_EXCEEDED),
        /** Port unreachable: its code differs too (3 over IPv4, 4 over IPv6). */
        PORT_UNREACHABLE(IcmpView.DESTINATION_UNREACHABLE, Icmpv6View.DESTINATION_UNREACHABLE),
        /** The type as given. */
        NUMBERED(-1, -1);

        final int v4;
        final int v6;

        Kind(int v4, int v6) {
            this.v4 = v4;
            this.v6 = v6;
        }
    }

    private Kind kind = Kind.ECHO_REQUEST;
    private int type;
    private int code;
    private int restOfHeader;

    IcmpPacketBuilder() {
    }

    private IcmpPacketBuilder(IcmpPacketBuilder from) {
        super(from);
        this.kind = from.kind;
        this.type = from.type;
        this.code = from.code;
        this.restOfHeader = from.restOfHeader;
    }

    /** An echo request (type 8, or 128 over IPv6) with this identifier and sequence number (0..65535). */
    public IcmpPacketBuilder echoRequest(int identifier, int sequence) {
        return echo(Kind.ECHO_REQUEST, identifier, sequence);
    }

    /** An echo reply (type 0, or 129 over IPv6) with this identifier and sequence number (0..65535). */
    public IcmpPacketBuilder echoReply(int identifier, int sequence) {
        return echo(Kind.ECHO_REPLY, identifier, sequence);
    }

    private IcmpPacketBuilder echo(Kind echo, int identifier, int sequence) {
        int id = checkRange("identifier", identifier, 0, 0xFFFF);
        int seq = checkRange("sequence number", sequence, 0, 0xFFFF);
        return message(echo, 0, id << 16 | seq);
    }

    /**
     * A destination unreachable (type 3, or 1 over IPv6) with {@code code} as the IP version
     * numbers it (over IPv4 3 is port unreachable, over IPv6 4), quoting {@code quoted}.
     */
    public IcmpPacketBuilder destinationUnreachable(int code, byte[] quoted) {
        return error(Kind.DESTINATION_UNREACHABLE, code, quoted);
    }

    /** A port unreachable (type 3 code 3, or type 1 code 4 over IPv6) quoting {@code quoted}. */
    public IcmpPacketBuilder portUnreachable(byte[] quoted) {
        return error(Kind.PORT_UNREACHABLE, 0, quoted);
    }

    /** A time exceeded (type 11, or 3 over IPv6; code 0: the hop limit ran out in transit) quoting {@code quoted}. */
    public IcmpPacketBuilder timeExceeded(int code, byte[] quoted) {
        return error(Kind.TIME_EXCEEDED, code, quoted);
    }

    private IcmpPacketBuilder error(Kind error, int code, byte[] quoted) {
        Objects.requireNonNull(quoted, "quoted");
        return message(error, code, 0).payload(quoted);
    }

    /** Any message: the type and code as numbered for the packet's IP version (0..255). */
    public IcmpPacketBuilder type(int type, int code) {
        int t = checkRange("type", type, 0, 255);
        return message(Kind.NUMBERED, code, restOfHeader).with(b -> b.type = t);
    }

    /**
     * The four bytes after the checksum, as an int: an echo's identifier and sequence number,
     * a packet-too-big's MTU, a redirect's gateway. Set after the message it belongs to.
     */
    public IcmpPacketBuilder restOfHeader(int restOfHeader) {
        return with(b -> b.restOfHeader = restOfHeader);
    }

    private IcmpPacketBuilder message(Kind message, int code, int rest) {
        int c = checkRange("code", code, 0, 255);
        return with(b -> {
            b.kind = message;
            b.code = c;
            b.restOfHeader = rest;
        });
    }

    @Override
    IcmpPacketBuilder copy() {
        return new IcmpPacketBuilder(this);
    }

    @Override
    int protocol(int version) {
        return version == 4 ? IpProtocols.ICMP : IpProtocols.ICMPV6;
    }

    @Override
    byte[] transport(int version) {
        boolean v4 = version == 4;
        int t = kind == Kind.NUMBERED ? type : v4 ? kind.v4 : kind.v6;
        int c = kind == Kind.PORT_UNREACHABLE ? (v4 ? 3 : 4) : code;
        return ByteBuffer.allocate(8 + payload.length).put((byte) t).put((byte) c).putShort((short) 0)
                .putInt(restOfHeader).put(payload).array();
    }

    @Override
    int checksumField() {
        return 2;
    }
}
