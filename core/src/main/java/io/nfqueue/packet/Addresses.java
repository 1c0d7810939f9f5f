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
}
