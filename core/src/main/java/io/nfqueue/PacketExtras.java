package io.nfqueue;

import java.time.Instant;

/**
 * The metadata of a packet that the kernel sends only sometimes (timestamp, bridge ports,
 * link-layer address, uid/gid, security context, conntrack, a cut-short length). Kept apart so
 * the common packet costs one small object: it is allocated only when one of these is present.
 */
final class PacketExtras {
    Instant timestamp;
    int physInDevice;
    int physOutDevice;
    byte[] hwAddress;
    boolean hasUid;
    boolean hasGid;
    int uid;
    int gid;
    String securityContext;
    ConntrackInfo conntrack;
    /** The full length when it differs from the bytes copied (truncated, or metadata only). */
    boolean hasOriginalLength;
    int originalLength;
}
