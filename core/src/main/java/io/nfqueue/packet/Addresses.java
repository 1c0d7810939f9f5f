package io.nfqueue.packet;

import java.nio.ByteBuffer;

/** Address text for toString, without InetAddress's reverse lookups or allocations beyond the string. */
final class Addresses {
    private Addresses() {
    }

    static String ipv4(int a) {
        return (a >>> 24) + "." + (a >>> 16 & 0xFF) + "." + (a >>> 8 & 0xFF) + "." + (a & 0xFF);
    }

    /** The full (uncompressed) hex form: enough for logs, and unambiguous. */
    static String ipv6(ByteBuffer b, int at) {
        StringBuilder s = new StringBuilder(39);
        for (int i = 0; i < 16; i += 2) {
            if (i > 0) {
                s.append(':');
            }
            s.append(Integer.toHexString(Bytes.u16(b, at + i)));
        }
        return s.toString();
    }

    /**
     * The RFC 5952 form, for keys meant to be read: lower-case hex without leading zeros, the
     * longest run of two or more zero groups (the first of equals) as "::", IPv4-mapped as
     * ::ffff:a.b.c.d.
     */
    static void appendIpv6(StringBuilder s, long high, long low) {
        if (high == 0 && low >>> 32 == 0xFFFF) {
            s.append("::ffff:").append(ipv4((int) low));
            return;
        }
        int bestStart = -1;
        int bestLength = 1;
        int runStart = -1;
        for (int i = 0; i < 8; i++) {
            if (group(high, low, i) != 0) {
                runStart = -1;
                continue;
            }
            if (runStart < 0) {
                runStart = i;
            }
            if (i - runStart + 1 > bestLength) {
                bestStart = runStart;
                bestLength = i - runStart + 1;
            }
        }
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                s.append("::");
                i += bestLength - 1;
                continue;
            }
            if (i > 0 && i != bestStart + bestLength) {
                s.append(':');
            }
            s.append(Integer.toHexString(group(high, low, i)));
        }
    }

    private static int group(long high, long low, int i) {
        return (int) ((i < 4 ? high : low) >>> (48 - 16 * (i & 3))) & 0xFFFF;
    }
}
