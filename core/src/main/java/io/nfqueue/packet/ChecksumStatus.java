package io.nfqueue.packet;

/** What a checksum check found. */
public enum ChecksumStatus {
    /** The checksum matches the bytes. */
    VALID,
    /** The checksum does not match the bytes (or the packet's checksum is not computed yet and the caller did not say so). */
    INVALID,
    /** There is none to check: UDP over IPv4 with checksum 0 (the sender computed none), or IPv6's absent header checksum. */
    ABSENT,
    /**
     * It cannot be checked from these bytes: a truncated copy, a fragment, a protocol whose
     * checksum this package does not compute, or a packet the kernel flagged checksum-not-ready
     * (its checksum field holds only the pseudo-header sum; the device or the kernel fills it in
     * later).
     */
    UNVERIFIABLE
}
