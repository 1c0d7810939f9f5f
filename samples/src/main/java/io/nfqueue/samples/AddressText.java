package io.nfqueue.samples;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * IPv6 addresses as people write them (RFC 5952): lower-case hex without leading zeros, the
 * longest run of two or more zero groups (the first of equals) as "::", IPv4-mapped addresses as
 * {@code ::ffff:a.b.c.d}. {@link java.net.InetAddress#getHostAddress()} and {@code Packet.toString()}
 * print all eight groups ({@code 0:0:0:0:0:0:0:1}).
 */
final class AddressText {
    /** A bracketed full-form IPv6 address, as {@code Packet.toString()} prints it. */
    private static final Pattern FULL_IN_BRACKETS = Pattern.compile("\\[((?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4})\\]");

    private AddressText() {
    }

    /** The RFC 5952 text of a 16-byte address. */
    static String ipv6(byte[] a) {
        int[] g = new int[8];
        for (int i = 0; i < 8; i++) {
            g[i] = (a[2 * i] & 0xFF) << 8 | (a[2 * i + 1] & 0xFF);
        }
        return ipv6(g);
    }

    private static String ipv6(int[] g) {
        if (g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0xFFFF) {
            return "::ffff:" + (g[6] >> 8) + "." + (g[6] & 0xFF) + "." + (g[7] >> 8) + "." + (g[7] & 0xFF);
        }
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; ) {
            if (g[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && g[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j;
        }
        StringBuilder s = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                s.append("::");
                i += bestLength - 1;
                continue;
            }
            if (i > 0 && i != bestStart + bestLength) {
                s.append(':');
            }
            s.append(Integer.toHexString(g[i]));
        }
        return s.toString();
    }

    /** {@code text} with every bracketed full-form IPv6 address ({@code [0:0:0:0:0:0:0:1]}) in RFC 5952 form ({@code [::1]}). */
    static String compactIpv6(String text) {
        Matcher m = FULL_IN_BRACKETS.matcher(text);
        StringBuilder out = new StringBuilder(text.length());
        while (m.find()) {
            String[] parts = m.group(1).split(":");
            int[] g = new int[8];
            for (int i = 0; i < 8; i++) {
                g[i] = Integer.parseInt(parts[i], 16);
            }
            m.appendReplacement(out, Matcher.quoteReplacement("[" + ipv6(g) + "]"));
        }
        m.appendTail(out);
        return out.toString();
    }
}
