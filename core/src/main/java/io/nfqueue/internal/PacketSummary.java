package io.nfqueue.internal;

/**
 * The one-line description of a packet used by {@code Packet.toString()}: reads just enough of
 * the IPv4/IPv6 and TCP/UDP/ICMP headers to name protocol, addresses and ports, and never
 * throws on malformed bytes (it says what it could not read instead).
 */
public final class PacketSummary {
    private PacketSummary() {
    }

    public static String describe(int id, int queue, String hook, int hwProtocol, byte[] p, int length) {
        StringBuilder s = new StringBuilder(96);
        s.append('#').append(id).append(" q").append(queue).append(' ').append(hook).append(' ');
        if (p == null) {
            s.append("proto=0x").append(Integer.toHexString(hwProtocol)).append(" (metadata only)");
        } else if (p.length >= 1 && (p[0] & 0xf0) == 0x40) {
            ipv4(s, p);
        } else if (p.length >= 1 && (p[0] & 0xf0) == 0x60) {
            ipv6(s, p);
        } else {
            s.append("non-IP proto=0x").append(Integer.toHexString(hwProtocol));
        }
        return s.append(" len=").append(length).toString();
    }

    private static void ipv4(StringBuilder s, byte[] p) {
        if (p.length < 20) {
            s.append("IPv4 (short header)");
            return;
        }
        int ihl = (p[0] & 0x0f) * 4;
        int proto = p[9] & 0xff;
        String src = (p[12] & 0xff) + "." + (p[13] & 0xff) + "." + (p[14] & 0xff) + "." + (p[15] & 0xff);
        String dst = (p[16] & 0xff) + "." + (p[17] & 0xff) + "." + (p[18] & 0xff) + "." + (p[19] & 0xff);
        boolean firstFragment = ((p[6] & 0x1f) | (p[7] & 0xff)) == 0;
        transport(s, p, proto, ihl >= 20 && firstFragment ? ihl : -1, src, dst);
    }

    private static void ipv6(StringBuilder s, byte[] p) {
        if (p.length < 40) {
            s.append("IPv6 (short header)");
            return;
        }
        String src = ipv6Address(p, 8);
        String dst = ipv6Address(p, 24);
        // Only the fixed header: extension headers are named by their number.
        transport(s, p, p[6] & 0xff, 40, "[" + src + "]", "[" + dst + "]");
    }

    private static void transport(StringBuilder s, byte[] p, int proto, int offset, String src, String dst) {
        String name = protocolName(proto);
        boolean ports = (proto == 6 || proto == 17 || proto == 132) && offset >= 0 && p.length >= offset + 4;
        s.append(name).append(' ').append(src);
        if (ports) {
            s.append(':').append(((p[offset] & 0xff) << 8) | (p[offset + 1] & 0xff));
        }
        s.append(" -> ").append(dst);
        if (ports) {
            s.append(':').append(((p[offset + 2] & 0xff) << 8) | (p[offset + 3] & 0xff));
        }
        if ((proto == 1 || proto == 58) && offset >= 0 && p.length >= offset + 2) {
            s.append(" type=").append(p[offset] & 0xff).append(" code=").append(p[offset + 1] & 0xff);
        }
    }

    private static String protocolName(int proto) {
        switch (proto) {
            case 1:
                return "ICMP";
            case 6:
                return "TCP";
            case 17:
                return "UDP";
            case 58:
                return "ICMPv6";
            case 132:
                return "SCTP";
            default:
                return "proto=" + proto;
        }
    }

    private static String ipv6Address(byte[] p, int off) {
        StringBuilder a = new StringBuilder(39);
        for (int i = 0; i < 16; i += 2) {
            if (i > 0) {
                a.append(':');
            }
            a.append(Integer.toHexString(((p[off + i] & 0xff) << 8) | (p[off + i + 1] & 0xff)));
        }
        return a.toString();
    }
}
