package io.nfqueue.packet;

import java.io.ByteArrayOutputStream;
import java.util.HexFormat;

/**
 * Hand-built packets for tests, with checksums from a reference implementation written
 * literally from the RFCs (pseudo-header laid out as bytes, summed word by word) and kept apart
 * from {@link Checksums}, so the two check each other.
 */
final class TestPackets {
    static final byte[] V4_A = {10, 0, 0, 1};
    static final byte[] V4_B = {(byte) 192, (byte) 168, 1, (byte) 200};
    static final byte[] V6_A = hex("20010db8000000000000000000000001");
    static final byte[] V6_B = hex("20010db80000000000000000000000ff");

    private TestPackets() {
    }

    static byte[] hex(String s) {
        return HexFormat.of().parseHex(s.replaceAll("\\s+", ""));
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    /** RFC 1071 by the book: 16-bit big-endian words, 32-bit accumulator, carries folded at the end. */
    static int referenceChecksum(byte[] data) {
        long sum = 0;
        for (int i = 0; i < data.length; i += 2) {
            int hi = data[i] & 0xFF;
            int lo = i + 1 < data.length ? data[i + 1] & 0xFF : 0;
            sum += (hi << 8) + lo;
        }
        while (sum >> 16 != 0) {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        return (int) (~sum & 0xFFFF);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static byte[] udp(int sport, int dport, byte[] payload) {
        byte[] u = new byte[8 + payload.length];
        put16(u, 0, sport);
        put16(u, 2, dport);
        put16(u, 4, u.length);
        System.arraycopy(payload, 0, u, 8, payload.length);
        return u;
    }

    static byte[] tcp(int sport, int dport, long seq, long ack, int flags, byte[] options, byte[] payload) {
        int hl = 20 + options.length;
        byte[] t = new byte[hl + payload.length];
        put16(t, 0, sport);
        put16(t, 2, dport);
        put32(t, 4, seq);
        put32(t, 8, ack);
        t[12] = (byte) ((hl / 4) << 4 | (flags >> 8 & 1));
        t[13] = (byte) flags;
        put16(t, 14, 65535);
        System.arraycopy(options, 0, t, 20, options.length);
        System.arraycopy(payload, 0, t, hl, payload.length);
        return t;
    }

    static byte[] icmpEcho(int type, int id, int seq, byte[] payload) {
        byte[] m = new byte[8 + payload.length];
        m[0] = (byte) type;
        put16(m, 4, id);
        put16(m, 6, seq);
        System.arraycopy(payload, 0, m, 8, payload.length);
        return m;
    }

    /** An IPv4 packet with correct header and transport checksums. */
    static byte[] ipv4(int protocol, byte[] src, byte[] dst, byte[] options, byte[] transport) {
        int hl = 20 + options.length;
        byte[] p = new byte[hl + transport.length];
        p[0] = (byte) (0x40 | hl / 4);
        p[1] = (byte) 0xB8;            // DSCP 46 (EF), ECN 0
        put16(p, 2, p.length);
        put16(p, 4, 0x1234);
        p[6] = 0x40;                   // DF
        p[8] = 64;
        p[9] = (byte) protocol;
        System.arraycopy(src, 0, p, 12, 4);
        System.arraycopy(dst, 0, p, 16, 4);
        System.arraycopy(options, 0, p, 20, options.length);
        System.arraycopy(transport, 0, p, hl, transport.length);
        fixIpv4HeaderChecksum(p);
        fixTransportChecksum(p);
        return p;
    }

    /** An IPv6 packet: {@code chain} is the extension headers (may be empty) then the transport. */
    static byte[] ipv6(int nextHeader, byte[] src, byte[] dst, byte[] chain) {
        byte[] p = new byte[40 + chain.length];
        p[0] = 0x6B;                   // version 6, traffic class 0xB8 (DSCP 46)...
        p[1] = (byte) 0x81;            // ...and flow label 0x12345
        p[2] = 0x23;
        p[3] = 0x45;
        put16(p, 4, chain.length);
        p[6] = (byte) nextHeader;
        p[7] = 64;
        System.arraycopy(src, 0, p, 8, 16);
        System.arraycopy(dst, 0, p, 24, 16);
        System.arraycopy(chain, 0, p, 40, chain.length);
        fixTransportChecksum(p);
        return p;
    }

    /** An IPv6 extension header (not fragment/AH): next header, length in 8-byte units beyond the first, padding. */
    static byte[] extension(int next, int totalLength) {
        byte[] e = new byte[totalLength];
        e[0] = (byte) next;
        e[1] = (byte) (totalLength / 8 - 1);
        if (totalLength > 2) {
            e[2] = 1;                  // PadN option covering the rest
            e[3] = (byte) (totalLength - 4);
        }
        return e;
    }

    static byte[] fragmentHeader(int next, int offsetBytes, boolean more, int id) {
        byte[] f = new byte[8];
        f[0] = (byte) next;
        put16(f, 2, offsetBytes | (more ? 1 : 0));
        put32(f, 4, id);
        return f;
    }

    static void fixIpv4HeaderChecksum(byte[] p) {
        int hl = (p[0] & 0x0F) * 4;
        p[10] = 0;
        p[11] = 0;
        byte[] header = new byte[hl];
        System.arraycopy(p, 0, header, 0, hl);
        put16(p, 10, referenceChecksum(header));
    }

    /** Recomputes the TCP/UDP/ICMP/ICMPv6 checksum of a whole, unfragmented packet by the book. */
    static void fixTransportChecksum(byte[] p) {
        Located l = locate(p);
        if (l == null) {
            return;
        }
        int field = l.offset + (l.protocol == 6 ? 16 : l.protocol == 17 ? 6 : 2);
        p[field] = 0;
        p[field + 1] = 0;
        int c = referenceChecksum(concat(pseudoHeader(p, l), slice(p, l.offset, l.length)));
        if (l.protocol == 17 && c == 0) {
            c = 0xFFFF;
        }
        put16(p, field, c);
    }

    /** True when the transport checksum verifies by the reference implementation. */
    static boolean transportChecksumOk(byte[] p) {
        Located l = locate(p);
        return referenceChecksum(concat(pseudoHeader(p, l), slice(p, l.offset, l.length))) == 0;
    }

    static boolean ipv4HeaderChecksumOk(byte[] p) {
        return referenceChecksum(slice(p, 0, (p[0] & 0x0F) * 4)) == 0;
    }

    private static byte[] pseudoHeader(byte[] p, Located l) {
        if (l.protocol == 1) {
            return new byte[0];
        }
        if (p[0] >> 4 == 4) {
            byte[] ph = new byte[12];
            System.arraycopy(p, 12, ph, 0, 8);
            ph[9] = (byte) l.protocol;
            put16(ph, 10, l.length);
            return ph;
        }
        byte[] ph = new byte[40];
        System.arraycopy(p, 8, ph, 0, 32);
        put32(ph, 32, l.length);
        ph[39] = (byte) l.protocol;
        return ph;
    }

    private static final class Located {
        int protocol;
        int offset;
        int length;
    }

    /** Finds the transport header (skipping IPv6 extension headers other than fragment and AH). */
    private static Located locate(byte[] p) {
        Located l = new Located();
        if (p[0] >> 4 == 4) {
            l.protocol = p[9] & 0xFF;
            l.offset = (p[0] & 0x0F) * 4;
            l.length = get16(p, 2) - l.offset;
        } else {
            int next = p[6] & 0xFF;
            int at = 40;
            while (next == 0 || next == 43 || next == 60) {
                if (at + 2 > p.length) {
                    return null;   // a deliberately broken chain: nothing to checksum
                }
                int len = ((p[at + 1] & 0xFF) + 1) * 8;
                next = p[at] & 0xFF;
                at += len;
            }
            l.protocol = next;
            l.offset = at;
            l.length = 40 + get16(p, 4) - at;
        }
        if (l.offset + 8 > p.length) {
            return null;
        }
        if (l.protocol == 17) {
            l.length = get16(p, l.offset + 4);
        }
        return l.protocol == 6 || l.protocol == 17 || l.protocol == 1 || l.protocol == 58 ? l : null;
    }

    static byte[] slice(byte[] b, int from, int length) {
        byte[] s = new byte[length];
        System.arraycopy(b, from, s, 0, length);
        return s;
    }

    static int get16(byte[] b, int i) {
        return (b[i] & 0xFF) << 8 | (b[i + 1] & 0xFF);
    }

    static void put16(byte[] b, int i, int v) {
        b[i] = (byte) (v >> 8);
        b[i + 1] = (byte) v;
    }

    static void put32(byte[] b, int i, long v) {
        b[i] = (byte) (v >> 24);
        b[i + 1] = (byte) (v >> 16);
        b[i + 2] = (byte) (v >> 8);
        b[i + 3] = (byte) v;
    }

    // Ready-made packets.

    static byte[] udp4(byte[] payload) {
        return ipv4(17, V4_A, V4_B, new byte[0], udp(40000, 53, payload));
    }

    static byte[] tcp4(byte[] payload) {
        byte[] options = hex("020405b4 0103030a 01010402"); // MSS 1460, NOP, WS 10, NOP NOP, SACK-permitted
        return ipv4(6, V4_A, V4_B, new byte[0], tcp(12345, 80, 0x01020304L, 0xA0B0C0D0L, 0x18, options, payload));
    }

    static byte[] udp6(byte[] payload) {
        return ipv6(17, V6_A, V6_B, udp(40000, 53, payload));
    }

    static byte[] tcp6(byte[] payload) {
        return ipv6(6, V6_A, V6_B, tcp(12345, 443, 7, 9, 0x10, new byte[0], payload));
    }

    static byte[] icmp4Echo(byte[] payload) {
        return ipv4(1, V4_A, V4_B, new byte[0], icmpEcho(8, 0x4242, 1, payload));
    }

    static byte[] icmp6Echo(byte[] payload) {
        return ipv6(58, V6_A, V6_B, icmpEcho(128, 0x4242, 1, payload));
    }
}
