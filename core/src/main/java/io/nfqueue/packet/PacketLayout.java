package io.nfqueue.packet;

import java.nio.ByteBuffer;

/** Copies a parsed packet into a new array, its transport payload replaced or not. */
final class PacketLayout {
    private PacketLayout() {
    }

    /**
     * The packet from its IP header to its IP length (padding dropped), or with {@code payload}
     * in place of everything after the transport header when it is not null.
     */
    static byte[] copyWithPayload(PacketParser parsed, byte[] payload) {
        ByteBuffer b = parsed.buffer();
        int ip = parsed.ipOffset();
        if (payload == null) {
            byte[] out = new byte[parsed.end() - ip];
            b.get(ip, out, 0, out.length);
            return out;
        }
        int headers = parsed.transportPayloadOffset() - ip;
        byte[] out = new byte[headers + payload.length];
        b.get(ip, out, 0, headers);
        System.arraycopy(payload, 0, out, headers, payload.length);
        return out;
    }
}
