package io.nfqueue.test;

import io.nfqueue.packet.IpProtocols;

import java.nio.ByteBuffer;

/**
 * Builds a UDP datagram over IPv4 or IPv6 (RFC 768): length and checksum (over the
 * pseudo-header) computed. Get one from {@link Packets#udp()}.
 *
 * <pre>{@code
 * byte[] packet = Packets.udp()
 *         .from("10.0.0.1", 5353).to("10.0.0.2", 53)
 *         .payload(query)
 *         .build();
 * byte[] unchecksummed = Packets.udp().noChecksum().build();   // legal over IPv4
 * byte[] lying = Packets.udp().payload("abc").brokenUdpLength(200).build();
 * }</pre>
 */
public final class UdpPacketBuilder extends PortPacketBuilder<UdpPacketBuilder> {
    private boolean noChecksum;
    private int brokenLength = IpLayer.UNSET;

    UdpPacketBuilder() {
    }

    private UdpPacketBuilder(UdpPacketBuilder from) {
        super(from);
        this.noChecksum = from.noChecksum;
        this.brokenLength = from.brokenLength;
    }

    /**
     * A checksum field of 0: "none computed", legal over IPv4 (the parser says ABSENT); over
     * IPv6 it is a wrong checksum (RFC 8200 8.1) receivers drop.
     */
    public UdpPacketBuilder noChecksum() {
        return with(b -> b.noChecksum = true);
    }

    /**
     * <b>Broken on purpose:</b> writes {@code length} (0..65535) as the UDP length instead of
     * header plus payload. Below 8, or more than the IP payload, is malformed; less reads as a
     * shorter datagram followed by bytes that are not part of it.
     */
    public UdpPacketBuilder brokenUdpLength(int length) {
        int v = checkRange("UDP length", length, 0, 0xFFFF);
        return with(b -> b.brokenLength = v);
    }

    @Override
    UdpPacketBuilder copy() {
        return new UdpPacketBuilder(this);
    }

    @Override
    int protocol(int version) {
        return IpProtocols.UDP;
    }

    @Override
    byte[] transport(int version) {
        int length = 8 + payload.length;
        // A length above 65535 cannot be written; the IP layer refuses the packet with a message.
        return ByteBuffer.allocate(length).putShort((short) sourcePort).putShort((short) destinationPort)
                .putShort((short) length).putShort((short) 0).put(payload).array();
    }

    @Override
    int checksumField() {
        return noChecksum ? -1 : 6;
    }

    @Override
    void breakTransport(byte[] transport) {
        if (brokenLength != IpLayer.UNSET) {
            ByteBuffer.wrap(transport).putShort(4, (short) brokenLength);
        }
    }
}
