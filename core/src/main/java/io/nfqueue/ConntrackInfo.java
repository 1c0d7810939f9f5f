package io.nfqueue;

import java.nio.ByteBuffer;
import java.util.OptionalInt;

/**
 * Conntrack information the kernel attached to a packet (queue option {@code conntrack(true)}):
 * the {@code ip_conntrack_info} state when sent, and the raw nested {@code CTA_*} netlink
 * attributes of the connection, which a conntrack parser can read.
 */
public final class ConntrackInfo {
    private final OptionalInt state;
    private final byte[] attributes;

    ConntrackInfo(OptionalInt state, byte[] attributes) {
        this.state = state;
        this.attributes = attributes;
    }

    /** ip_conntrack_info: 0 established, 1 related, 2 new, 3 established reply, ... */
    public OptionalInt state() {
        return state;
    }

    /** The nested CTA_* attributes, read-only. */
    public ByteBuffer attributes() {
        return ByteBuffer.wrap(attributes).asReadOnlyBuffer();
    }

    @Override
    public String toString() {
        return "ConntrackInfo{state=" + state + ", attributes=" + attributes.length + "B}";
    }
}
