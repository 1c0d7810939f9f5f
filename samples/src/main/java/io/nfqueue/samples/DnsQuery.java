package io.nfqueue.samples;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads the name of the first question of a DNS query message (RFC 1035 4.1), bounded and
 * robust: any input gives a name or null, never an exception. Not a query (QR set), no question,
 * a label over 63 bytes, a name over 255 bytes, a reserved label type, a message cut short, or a
 * compression pointer that does not point strictly backwards (so a loop is impossible) all give
 * null. Names come back lowercase, labels joined by dots, without the root's trailing dot; the
 * root itself is "".
 */
final class DnsQuery {
    static final int HEADER = 12;
    static final int MAX_NAME = 255;
    /** Compression pointers followed per name, at most. */
    static final int MAX_POINTERS = 16;

    private DnsQuery() {
    }

    /** The first question's name of the DNS message in {@code buf[offset, offset+length)}, or null. */
    static String questionName(ByteBuffer buf, int offset, int length) {
        try {
            if (offset < 0 || length < HEADER + 5 || offset + length > buf.limit()) {
                return null;
            }
            int flags = u8(buf, offset + 2);
            if ((flags & 0x80) != 0) {
                return null;   // a response
            }
            int qdcount = (u8(buf, offset + 4) << 8) | u8(buf, offset + 5);
            if (qdcount < 1) {
                return null;
            }
            return name(buf, offset, length, HEADER);
        } catch (RuntimeException e) {
            return null;   // defensive: the checks above should leave nothing to throw
        }
    }

    static String questionName(byte[] message) {
        return questionName(ByteBuffer.wrap(message), 0, message.length);
    }

    private static String name(ByteBuffer buf, int base, int length, int start) {
        StringBuilder name = new StringBuilder();
        int pos = start;
        int wire = 1;   // the root's zero byte
        int pointers = 0;
        while (true) {
            if (pos >= length) {
                return null;
            }
            int len = u8(buf, base + pos);
            if (len == 0) {
                return name.toString();
            }
            int type = len & 0xC0;
            if (type == 0xC0) {
                if (pos + 1 >= length || ++pointers > MAX_POINTERS) {
                    return null;
                }
                int target = ((len & 0x3F) << 8) | u8(buf, base + pos + 1);
                if (target >= pos || target < HEADER) {
                    return null;   // forward or self pointer: could loop
                }
                pos = target;
                continue;
            }
            if (type != 0) {
                return null;   // 0x40 and 0x80 label types are reserved
            }
            wire += len + 1;
            if (wire > MAX_NAME || pos + 1 + len > length) {
                return null;
            }
            if (name.length() > 0) {
                name.append('.');
            }
            for (int i = 0; i < len; i++) {
                int c = u8(buf, base + pos + 1 + i);
                name.append(c >= 'A' && c <= 'Z' ? (char) (c + 32) : (char) c);
            }
            pos += 1 + len;
        }
    }

    private static int u8(ByteBuffer buf, int index) {
        return buf.get(index) & 0xFF;
    }

    /** A query for {@code name} (type A, class IN) with id {@code id}: for tests and the demo. */
    static byte[] encode(int id, String name) {
        ByteBuffer b = ByteBuffer.allocate(HEADER + name.length() + 2 + 4);
        b.putShort((short) id).putShort((short) 0x0100).putShort((short) 1).putShort((short) 0).putShort((short) 0)
                .putShort((short) 0);
        if (!name.isEmpty()) {
            for (String label : name.split("\\.")) {
                byte[] l = label.getBytes(StandardCharsets.US_ASCII);
                b.put((byte) l.length).put(l);
            }
        }
        b.put((byte) 0).putShort((short) 1).putShort((short) 1);
        return Arrays.copyOf(b.array(), b.position());
    }
}
