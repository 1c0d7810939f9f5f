package io.nfqueue;

/** How much of each packet the kernel copies to user space. */
public enum CopyMode {
    /** Nothing: the queue delivers no packets (the kernel's state right after bind). */
    NONE,
    /** Metadata only: {@link Packet#payload()} throws. */
    META,
    /** Metadata and up to {@link QueueOptions#copyRange()} bytes of the packet. */
    PACKET
}
