package io.nfqueue.packet;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

/**
 * Big-endian reads at absolute indexes, whatever the buffer's byte order, so a little-endian
 * buffer from a caller reads the same. Callers check bounds first: these never allocate.
 */
final class Bytes {
    private Bytes() {
    }

    static int u8(ByteBuffer b, int i) {
        return b.get(i) & 0xFF;
    }

    static int u16(ByteBuffer b, int i) {
        return (b.get(i) & 0xFF) << 8 | (b.get(i + 1) & 0xFF);
    }

    static int i32(ByteBuffer b, int i) {
        return (b.get(i) & 0xFF) << 24 | (b.get(i + 1) & 0xFF) << 16 | (b.get(i + 2) & 0xFF) << 8 | (b.get(i + 3) & 0xFF);
    }

    static long u32(ByteBuffer b, int i) {
        return i32(b, i) & 0xFFFF_FFFFL;
    }

    /** Copies {@code length} bytes at {@code index} into {@code dst}; checks the caller's array. */
    static int copy(ByteBuffer b, int index, byte[] dst, int dstOffset, int length) {
        if (dst == null) {
            throw new NullPointerException("dst");
        }
        if (dstOffset < 0 || dstOffset > dst.length - length) {
            throw new IllegalArgumentException("destination array of " + dst.length + " bytes has no room for "
                    + length + " bytes at " + dstOffset);
        }
        b.get(index, dst, dstOffset, length);
        return length;
    }

    static InetAddress address(ByteBuffer b, int index, int length) {
        byte[] raw = new byte[length];
        b.get(index, raw, 0, length);
        try {
            return InetAddress.getByAddress(raw);
        } catch (UnknownHostException e) {
            throw new AssertionError("4 or 16 bytes are always an address", e);
        }
    }

    /** Checks a caller's (offset, limit) range within {@code b}: a caller's bug, not a bad packet. */
    static void checkRange(ByteBuffer b, int offset, int limit) {
        if (b == null) {
            throw new NullPointerException("buffer");
        }
        if (offset < 0 || limit < offset || limit > b.limit()) {
            throw new IllegalArgumentException("range [" + offset + ", " + limit + ") is not inside the buffer's [0, "
                    + b.limit() + ")");
        }
    }

    static void put16(byte[] b, int i, int v) {
        b[i] = (byte) (v >>> 8);
        b[i + 1] = (byte) v;
    }
}
