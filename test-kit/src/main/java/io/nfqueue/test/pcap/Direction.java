package io.nfqueue.test.pcap;

/**
 * Which way a captured packet went, when the capture says so: from a pcapng packet's
 * {@code epb_flags}, or from the packet type of a Linux cooked header ({@code tcpdump -i any}).
 * A replay can use it to choose the hook a packet would have been queued at (inbound packets
 * at PRE_ROUTING or LOCAL_IN, outbound ones at LOCAL_OUT or POST_ROUTING).
 */
public enum Direction {
    /** Received by the host (including broadcast, multicast and promiscuously seen packets). */
    INBOUND,
    /** Sent by the host. */
    OUTBOUND,
    /** The capture does not say. */
    UNKNOWN
}
