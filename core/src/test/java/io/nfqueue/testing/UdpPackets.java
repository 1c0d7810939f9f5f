package io.nfqueue.testing;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads and builds whole IPv4/IPv6 UDP packets (from the network header on, as a queue sees
 * them), so a test can rewrite a payload to another length with every length and checksum
 * right. Written from RFC 791, 768 and 8200; only packets without IPv4 options or IPv6
 * extension headers, which is what a plain UDP socket sends.
 */
public final class UdpPackets {
    private static final int UDP = 17;

    private UdpPackets() {
    }

    public static boolean isIpv6(byte[] packet) {
        return (packet[0] & 0xf0) == 0x60;
    }

    /** Offset of the UDP header; throws if the packet is not plain UDP. */
    public static int udpOffset(byte[] packet) {
        if (isIpv6(packet)) {
            require(packet.length >= 48 && (packet[6] & 0xff) == UDP, "not a plain IPv6/UDP packet", packet);
            return 40;
        }
        require(packet.length >= 28 && (packet[0] & 0xf0) == 0x40 && (packet[9] & 0xff) == UDP,
                "not an IPv4/UDP packet", packet);
        int ihl = (packet[0] & 0x0f) * 4;
        require(ihl == 20, "IPv4 options are not supported here", packet);
        return ihl;
    }

    /** The UDP payload of a whole packet. */
    public static byte[] udpPayload(byte[] packet) {
        int udp = udpOffset(packet);
        int udpLength = u16(packet, udp + 4);
        require(udp + udpLength <= packet.length, "UDP length beyond the packet", packet);
        return Arrays.copyOfRange(packet, udp + 8, udp + udpLength);
    }

    /** The UDP payload as UTF-8 text, or "" when the packet is not plain UDP. */
    public static String udpText(byte[] packet) {
        try {
            return new String(udpPayload(packet), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return "";
        }
    }

    /**
     * The same packet (addresses, ports, TTL, ...) with {@code newPayload} as its UDP payload:
     * new IP total/payload length, new UDP length, IPv4 header checksum and UDP checksum over
     * the pseudo-header recomputed.
     */
    public static byte[] withUdpPayload(byte[] packet, byte[] newPayload) {
        int udp = udpOffset(packet);
        int udpLength = 8 + newPayload.length;
        byte[] out = new byte[udp + udpLength];
        System.arraycopy(packet, 0, out, 0, udp + 8);
        System.arraycopy(newPayload, 0, out, udp + 8, newPayload.length);
        put16(out, udp + 4, udpLength);
        put16(out, udp + 6, 0);
        if (isIpv6(out)) {
            put16(out, 4, udpLength);
        } else {
            put16(out, 2, out.length);
            put16(out, 10, 0);
            put16(out, 10, fold(sum(out, 0, 20, 0)));
        }
        int c = fold(sum(out, udp, udpLength, pseudoHeaderSum(out, udpLength)));
        // 0 means "no checksum" in IPv4 and is forbidden in IPv6: send its other form.
        put16(out, udp + 6, c == 0 ? 0xffff : c);
        return out;
    }

    /** True when the IPv4 header checksum (if any) and the UDP checksum of {@code packet} verify. */
    public static boolean checksumsValid(byte[] packet) {
        int udp = udpOffset(packet);
        if (!isIpv6(packet) && fold(sum(packet, 0, 20, 0)) != 0) {
            return false;
        }
        int udpLength = u16(packet, udp + 4);
        return fold(sum(packet, udp, udpLength, pseudoHeaderSum(packet, udpLength))) == 0;
    }

    private static long pseudoHeaderSum(byte[] p, int udpLength) {
        if (isIpv6(p)) {
            return sum(p, 8, 32, 0) + udpLength + UDP;
        }
        return sum(p, 12, 8, 0) + udpLength + UDP;
    }

    /** The one's-complement sum of 16-bit words (odd length padded with a zero byte), unfolded. */
    private static long sum(byte[] b, int off, int len, long start) {
        long s = start;
        int i = 0;
        for (; i + 1 < len; i += 2) {
            s += u16(b, off + i);
        }
        if (i < len) {
            s += (b[off + i] & 0xff) << 8;
        }
        return s;
    }

    /** Folds carries and complements: the value to store in a checksum field. */
    private static int fold(long s) {
        while ((s >>> 16) != 0) {
            s = (s & 0xffff) + (s >>> 16);
        }
        return (int) (~s & 0xffff);
    }

    static int u16(byte[] b, int off) {
        return ((b[off] & 0xff) << 8) | (b[off + 1] & 0xff);
    }

    private static void put16(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 8);
        b[off + 1] = (byte) v;
    }

    private static void require(boolean ok, String what, byte[] packet) {
        if (!ok) {
            throw new IllegalArgumentException(what + " (" + packet.length + " bytes, first byte 0x"
                    + Integer.toHexString(packet.length > 0 ? packet[0] & 0xff : 0) + ")");
        }
    }
}
