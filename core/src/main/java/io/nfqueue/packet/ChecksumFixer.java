package io.nfqueue.packet;

import java.nio.ByteBuffer;

/**
 * Makes an edited packet's checksums match it: the IPv4 header checksum and the transport
 * checksum, each updated from the original's by RFC 1624 (a wrong one stays wrong), or computed
 * in full where the kernel left the transport checksum not ready.
 */
final class ChecksumFixer {
    private ChecksumFixer() {
    }

    /**
     * @param out the edited packet, IP header at 0
     * @param original the parsed original
     * @param checksumNotReady the original's transport checksum field holds only a partial sum
     */
    static void fix(byte[] out, PacketParser original, boolean checksumNotReady) {
        PacketParser edited = new PacketParser().parse(ByteBuffer.wrap(out));
        if (original.isIpv4()) {
            Ipv4View before = original.ipv4();
            int c = Checksums.update(before.headerChecksum(), before.headerSumWithoutChecksum(),
                    edited.ipv4().headerSumWithoutChecksum());
            Bytes.put16(out, 10, c);
        }
        if (!original.transportChecksumComputable()) {
            // Later fragments and other protocols: only IP header fields were allowed to change.
            return;
        }
        int oldChecksum = Bytes.u16(original.buffer(), original.checksumFieldOffset());
        boolean udp = original.isUdp();
        if (udp && original.isIpv4() && oldChecksum == 0 && !checksumNotReady) {
            return;   // UDP over IPv4 without a checksum: it stays without one.
        }
        int newSum = edited.coveredSumWithoutChecksum();
        int c = checksumNotReady ? ~newSum & 0xFFFF
                : Checksums.update(oldChecksum, original.coveredSumWithoutChecksum(), newSum);
        if (udp && c == 0) {
            c = 0xFFFF;   // RFC 768: a computed 0 is sent as all ones; 0 means "no checksum".
        }
        Bytes.put16(out, edited.checksumFieldOffset(), c);
    }
}
