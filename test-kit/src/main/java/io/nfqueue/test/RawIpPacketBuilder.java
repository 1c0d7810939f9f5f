package io.nfqueue.test;

/**
 * Builds an IP packet of any protocol whose payload is given as bytes, written as they are:
 * no transport header is made and no transport checksum computed. For GRE, ESP, SCTP, a
 * later fragment's data, an IPv6 "no next header" packet, or a TCP or UDP header written by
 * hand. Get one from {@link Packets#ip(int)}.
 *
 * <pre>{@code
 * byte[] gre = Packets.ip(47).from("10.0.0.1").to("10.0.0.2").payload(greBytes).build();
 * byte[] tail = Packets.ip(IpProtocols.UDP).fragment(1480, false).identification(7).payload(rest).build();
 * byte[] empty = Packets.ip(IpProtocols.NO_NEXT_HEADER).ipv6().build();
 * }</pre>
 */
public final class RawIpPacketBuilder extends IpPacketBuilder<RawIpPacketBuilder> {
    private final int protocol;

    RawIpPacketBuilder(int protocol) {
        this.protocol = checkRange("IP protocol", protocol, 0, 255);
    }

    private RawIpPacketBuilder(RawIpPacketBuilder from) {
        super(from);
        this.protocol = from.protocol;
    }

    @Override
    RawIpPacketBuilder copy() {
        return new RawIpPacketBuilder(this);
    }

    @Override
    int protocol(int version) {
        return protocol;
    }

    @Override
    byte[] transport(int version) {
        return payload;
    }
}
