package io.nfqueue.test;

import io.nfqueue.internal.PacketSummary;

/**
 * A packet offered to a {@link TestQueue}: the handle a test asks about its verdict with.
 *
 * @param id     the packet id the queue gave it (as the kernel numbers packets: 1, 2, 3, ...),
 *               the same as {@link io.nfqueue.Packet#id()} in the pipeline
 * @param index  its place among the packets offered to the queue, from 1
 * @param packet what was offered
 */
public record OfferedPacket(int id, int index, QueuedPacket packet) {
    /** One line: protocol, addresses and ports, as {@link io.nfqueue.Packet#toString()} reads them. */
    public String summary() {
        byte[] b = packet.bytes();
        return PacketSummary.describe(id, 0, packet.hook().name(), ipVersion(b) == 6 ? 0x86dd : 0x0800, b,
                packet.originalLength())
                .replaceFirst("^#\\d+ q0 ", "");
    }

    static int ipVersion(byte[] b) {
        return b.length == 0 ? 0 : (b[0] & 0xf0) >>> 4;
    }

    @Override
    public String toString() {
        return "#" + index + " (id " + Integer.toUnsignedString(id) + ") " + summary();
    }
}
