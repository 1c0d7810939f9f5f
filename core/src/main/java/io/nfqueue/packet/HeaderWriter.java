package io.nfqueue.packet;

/**
 * Writes field edits into a copied packet (indexes relative to its IP header, at 0). Lengths
 * follow a replaced payload; checksums are {@link ChecksumFixer}'s job, afterwards.
 */
final class HeaderWriter {
    private HeaderWriter() {
    }

    /** Negative ints and null arrays mean "unchanged". */
    static void apply(byte[] out, PacketParser parsed, byte[] source, byte[] destination, int sourcePort,
                      int destinationPort, int ttl, int dscp, int ecn, boolean payloadReplaced) {
        if (parsed.isIpv4()) {
            ipv4(out, source, destination, ttl, dscp, ecn, payloadReplaced);
        } else {
            ipv6(out, source, destination, ttl, dscp, ecn, payloadReplaced);
        }
        int t = parsed.transportOffset() - parsed.ipOffset();
        if (sourcePort >= 0) {
            Bytes.put16(out, t, sourcePort);
        }
        if (destinationPort >= 0) {
            Bytes.put16(out, t + 2, destinationPort);
        }
        if (payloadReplaced && parsed.isUdp()) {
            Bytes.put16(out, t + 4, out.length - t);
        }
    }

    private static void ipv4(byte[] out, byte[] source, byte[] destination, int ttl, int dscp, int ecn,
                             boolean payloadReplaced) {
        int tos = out[1] & 0xFF;
        if (dscp >= 0) {
            tos = dscp << 2 | (tos & 0x03);
        }
        if (ecn >= 0) {
            tos = (tos & 0xFC) | ecn;
        }
        out[1] = (byte) tos;
        if (ttl >= 0) {
            out[8] = (byte) ttl;
        }
        if (source != null) {
            System.arraycopy(source, 0, out, 12, 4);
        }
        if (destination != null) {
            System.arraycopy(destination, 0, out, 16, 4);
        }
        if (payloadReplaced) {
            Bytes.put16(out, 2, out.length);
        }
    }

    private static void ipv6(byte[] out, byte[] source, byte[] destination, int hopLimit, int dscp, int ecn,
                             boolean payloadReplaced) {
        // The traffic class straddles the first two bytes: version(4) | class(8) | flow label(20).
        int tc = (out[0] & 0x0F) << 4 | (out[1] & 0xFF) >>> 4;
        if (dscp >= 0) {
            tc = dscp << 2 | (tc & 0x03);
        }
        if (ecn >= 0) {
            tc = (tc & 0xFC) | ecn;
        }
        out[0] = (byte) (0x60 | tc >>> 4);
        out[1] = (byte) ((tc & 0x0F) << 4 | (out[1] & 0x0F));
        if (hopLimit >= 0) {
            out[7] = (byte) hopLimit;
        }
        if (source != null) {
            System.arraycopy(source, 0, out, 8, 16);
        }
        if (destination != null) {
            System.arraycopy(destination, 0, out, 24, 16);
        }
        if (payloadReplaced) {
            Bytes.put16(out, 4, out.length - Ipv6View.HEADER_LENGTH);
        }
    }
}
