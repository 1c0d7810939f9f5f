package io.nfqueue.test;

/**
 * A builder of a packet whose transport carries a checksum (TCP, UDP, ICMP, ICMPv6): computed
 * with the pseudo-header where the protocol has one, or deliberately wrong.
 *
 * @param <B> the concrete builder
 */
public abstract class TransportPacketBuilder<B extends TransportPacketBuilder<B>> extends IpPacketBuilder<B> {
    boolean brokenTransportChecksum;

    TransportPacketBuilder() {
    }

    TransportPacketBuilder(TransportPacketBuilder<B> from) {
        super(from);
        this.brokenTransportChecksum = from.brokenTransportChecksum;
    }

    /**
     * <b>Broken on purpose:</b> a TCP, UDP, ICMP or ICMPv6 checksum that does not verify (and is
     * not 0, so a UDP/IPv4 datagram reads as wrongly checksummed, not as unchecksummed).
     */
    public B brokenTransportChecksum() {
        return with(b -> b.brokenTransportChecksum = true);
    }

    @Override
    int storedChecksum(int correct) {
        return brokenTransportChecksum ? wrongChecksum(correct) : correct;
    }
}
