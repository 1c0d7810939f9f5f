package io.nfqueue.packet;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The Internet checksum (RFC 1071): the 16-bit ones' complement of the ones' complement sum of
 * the data taken as big-endian 16-bit words, an odd last byte padded with a zero byte.
 *
 * <p>Sums are returned folded to 16 bits (0..0xFFFF) so they can be added with
 * {@link #add(int, int)}: a sum of a whole is the {@code add} of the sums of its parts, as long
 * as every part but the last has an even length (RFC 1071, "parallel summation"). The
 * IPv4/IPv6 pseudo-header sums used by TCP, UDP and ICMPv6 are in {@link PacketParser}.
 *
 * <pre>{@code
 * byte[] header = ...;                                   // IPv4 header, checksum field zeroed
 * int checksum = Checksums.checksum(header, 0, 20);      // the value to store
 * boolean ok = Checksums.sum(header, 0, 20) == 0xFFFF;   // with the checksum in place: valid
 * }</pre>
 *
 * <p>None of these allocate.
 */
public final class Checksums {
    private Checksums() {
    }

    /** The folded ones' complement sum of {@code length} bytes of {@code buffer} at {@code offset}. */
    public static int sum(ByteBuffer buffer, int offset, int length) {
        Bytes.checkRange(buffer, offset, offset + length);
        long acc = 0;
        int i = offset;
        int evenEnd = offset + (length & ~1);
        // Eight bytes at a time where the buffer is big-endian (the usual case): a 64-bit word
        // sums as four 16-bit words once its halves are added (RFC 1071 section 2 (B)).
        if (buffer.order() == ByteOrder.BIG_ENDIAN) {
            for (; i + 8 <= evenEnd; i += 8) {
                long w = buffer.getLong(i);
                acc += (w >>> 32) + (w & 0xFFFF_FFFFL);
            }
        }
        for (; i < evenEnd; i += 2) {
            acc += Bytes.u16(buffer, i);
        }
        if ((length & 1) != 0) {
            acc += (buffer.get(evenEnd) & 0xFF) << 8;
        }
        return fold(acc);
    }

    /** The folded ones' complement sum of {@code length} bytes of {@code data} at {@code offset}. */
    public static int sum(byte[] data, int offset, int length) {
        if (offset < 0 || length < 0 || offset > data.length - length) {
            throw new IllegalArgumentException("range [" + offset + ", " + (offset + length) + ") is not inside the array's [0, "
                    + data.length + ")");
        }
        long acc = 0;
        int i = offset;
        int evenEnd = offset + (length & ~1);
        for (; i < evenEnd; i += 2) {
            acc += (data[i] & 0xFF) << 8 | (data[i + 1] & 0xFF);
        }
        if ((length & 1) != 0) {
            acc += (data[evenEnd] & 0xFF) << 8;
        }
        return fold(acc);
    }

    /** The checksum to store over {@code length} bytes (whose checksum field is zero). */
    public static int checksum(byte[] data, int offset, int length) {
        return ~sum(data, offset, length) & 0xFFFF;
    }

    /** The checksum to store over {@code length} bytes (whose checksum field is zero). */
    public static int checksum(ByteBuffer buffer, int offset, int length) {
        return ~sum(buffer, offset, length) & 0xFFFF;
    }

    /** Ones' complement addition of two folded sums (or 16-bit words). */
    public static int add(int a, int b) {
        return fold((a & 0xFFFFL) + (b & 0xFFFFL));
    }

    /** Folds a wide sum to 16 bits with end-around carry. */
    public static int fold(long sum) {
        long s = sum;
        while ((s >>> 16) != 0) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int) s;
    }

    /**
     * The new checksum after the covered data's sum changed from {@code oldSum} to
     * {@code newSum}, keeping any error the old checksum had (RFC 1624, eqn. 3:
     * {@code HC' = ~(~HC + ~m + m')}). A correct old checksum gives exactly the checksum a full
     * recomputation gives; a wrong one stays wrong by the same amount, so an edit never launders
     * a packet that was corrupted on its way.
     */
    public static int update(int oldChecksum, int oldSum, int newSum) {
        if (newSum == 0) {
            // Only all-zero data sums to +0, and only 0xFFFF verifies over it (the sum must
            // come to -0); eqn. 3 would give 0x0000 here (RFC 1624 section 3's +0/-0 caveat).
            // Seen with an all-zero ICMPv4 echo reply, the one covered region without a
            // non-zero pseudo-header or version byte.
            return 0xFFFF;
        }
        int x = add(add(~oldChecksum & 0xFFFF, ~oldSum & 0xFFFF), newSum);
        return ~x & 0xFFFF;
    }
}
