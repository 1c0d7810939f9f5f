package io.nfqueue.packet;

import java.nio.ByteBuffer;

/**
 * Walks a type-length-value option list shared by IPv4 and TCP: type 0 ends the list, type 1
 * is a lone padding byte, every other option has a length byte counting itself and the type.
 */
final class Options {
    private Options() {
    }

    /** Index of the first option of {@code type} in [start, end), or -1; END and NOP are found too. */
    static int find(ByteBuffer b, int start, int end, int type, String header) {
        int i = start;
        while (i < end) {
            int t = Bytes.u8(b, i);
            if (t == type) {
                if (t > 1) {
                    checkLength(b, i, end, header);
                }
                return i;
            }
            if (t == 0) {
                return -1;
            }
            if (t == 1) {
                i++;
                continue;
            }
            i += checkLength(b, i, end, header);
        }
        return -1;
    }

    private static int checkLength(ByteBuffer b, int i, int end, String header) {
        if (i + 1 >= end) {
            throw new MalformedPacketException(header + " option " + Bytes.u8(b, i) + " has no length byte", i);
        }
        int len = Bytes.u8(b, i + 1);
        if (len < 2 || len > end - i) {
            throw new MalformedPacketException(header + " option " + Bytes.u8(b, i) + " has length " + len
                    + ", outside 2.." + (end - i), i + 1);
        }
        return len;
    }
}
