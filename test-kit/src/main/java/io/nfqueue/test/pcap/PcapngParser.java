package io.nfqueue.test.pcap;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * pcapng (draft-ietf-opsawg-pcapng): blocks of {@code type, total length, body, total length}.
 * A Section Header Block starts each section and sets its byte order; Interface Description
 * Blocks describe the section's interfaces (link type, snap length, timestamp resolution);
 * Enhanced, Simple and (obsolete) Packet Blocks hold packets; every other block is skipped.
 *
 * <p>Each block is read whole (bounded by {@link CaptureReader#MAX_BLOCK_BYTES}) and its
 * trailing length checked before its body is parsed, so a corrupt length is reported as such
 * rather than as whatever garbage its body then seems to hold.
 */
final class PcapngParser implements RecordSource {
    /** The Section Header Block's type: a palindrome, the same in either byte order. */
    static final int SHB = 0x0A0D0D0A;
    private static final int IDB = 1;
    private static final int PB = 2;
    private static final int SPB = 3;
    private static final int EPB = 6;
    private static final int BYTE_ORDER_MAGIC = 0x1A2B3C4D;
    /** Type and total length before the body, total length after it. */
    private static final int FRAME = 12;
    private static final int OPT_END = 0;
    private static final int OPT_COMMENT = 1;
    private static final int IF_NAME = 2;
    private static final int IF_TSRESOL = 9;
    private static final int IF_TSOFFSET = 14;
    /** epb_flags and the obsolete pack_flags share the code; bits 0-1 are the direction. */
    private static final int EPB_FLAGS = 2;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;
    /** Far more than any real capture; it bounds what a file of tiny IDBs can make the reader keep. */
    private static final int MAX_INTERFACES = 65_536;

    private final ByteInput in;
    private final List<CaptureInterface> interfaces = new ArrayList<>();
    private ByteOrder order;

    /** Reads the first Section Header Block, whose type the format detection has consumed. */
    PcapngParser(ByteInput in) throws IOException {
        this.in = in;
        readSectionHeader(0);
    }

    @Override
    public CaptureRecord next() throws IOException {
        while (true) {
            long start = in.offset();
            byte[] typeBytes = in.readUpTo(4);
            if (typeBytes.length == 0) {
                return null;
            }
            if (typeBytes.length < 4) {
                throw in.truncated(start, "a block type needs 4 bytes but the file ends after " + typeBytes.length);
            }
            int type = ByteBuffer.wrap(typeBytes).order(order).getInt();
            if (type == SHB) {
                readSectionHeader(start);
                continue;
            }
            long length = Integer.toUnsignedLong(ByteBuffer.wrap(in.read(4, blockName(type) + "'s total length"))
                    .order(order).getInt());
            checkLength(start, type, length, minimumLength(type));
            int bodyLength = (int) length - FRAME;
            if (type != IDB && type != EPB && type != SPB && type != PB) {
                in.skip(bodyLength, blockName(type) + "'s body");
                checkTrailer(start, length);
                continue;
            }
            ByteBuffer body = ByteBuffer.wrap(in.read(bodyLength, blockName(type) + "'s body")).order(order);
            checkTrailer(start, length);
            switch (type) {
                case IDB -> readInterface(start, body);
                case EPB -> {
                    return readPacket(start, body, 4);
                }
                case PB -> {
                    return readPacket(start, body, 2);
                }
                default -> {
                    return readSimplePacket(start, body);
                }
            }
        }
    }

    @Override
    public List<CaptureInterface> interfaces() {
        return List.copyOf(interfaces);
    }

    /** A new section: its own byte order, its own interfaces (records number them per section). */
    private void readSectionHeader(long start) throws IOException {
        byte[] head = in.read(8, "the Section Header Block's total length and byte-order magic");
        int magic = ByteBuffer.wrap(head, 4, 4).getInt();
        if (magic == BYTE_ORDER_MAGIC) {
            order = ByteOrder.BIG_ENDIAN;
        } else if (Integer.reverseBytes(magic) == BYTE_ORDER_MAGIC) {
            order = ByteOrder.LITTLE_ENDIAN;
        } else {
            throw in.error(start + 8, String.format("byte-order magic 0x%08x is not 0x1a2b3c4d in either byte order", magic));
        }
        long length = Integer.toUnsignedLong(ByteBuffer.wrap(head, 0, 4).order(order).getInt());
        checkLength(start, SHB, length, minimumLength(SHB));
        byte[] rest = in.read((int) length - FRAME - 4, "the Section Header Block's body");
        checkTrailer(start, length);
        ByteBuffer body = ByteBuffer.allocate(rest.length + 4).order(order).putInt(BYTE_ORDER_MAGIC).put(rest);
        int major = Short.toUnsignedInt(body.getShort(4));
        int minor = Short.toUnsignedInt(body.getShort(6));
        if (major != 1) {
            throw in.error(start + 12, "pcapng version " + major + "." + minor + " is not supported (only 1.x is defined)");
        }
        // The section length (body 8..15) may be -1 (unknown) and is not needed to read on; options are skipped.
        forEachOption(start, body, 16, (code, at, len) -> { });
        interfaces.clear();
    }

    private void readInterface(long start, ByteBuffer body) throws IOException {
        if (interfaces.size() >= MAX_INTERFACES) {
            throw in.error(start, "more than " + MAX_INTERFACES + " Interface Description Blocks in one section");
        }
        int linkType = Short.toUnsignedInt(body.getShort(0));
        long snapLength = Integer.toUnsignedLong(body.getInt(4));
        String[] name = {""};
        long[] units = {1_000_000L};  // the default resolution: microseconds
        long[] offsetSeconds = {0};
        forEachOption(start, body, 8, (code, at, len) -> {
            switch (code) {
                case IF_NAME -> name[0] = string(body, at, len);
                case IF_TSRESOL -> {
                    requireLength(start, at, "if_tsresol", len, 1);
                    units[0] = unitsPerSecond(start, at, body.get(at));
                }
                case IF_TSOFFSET -> {
                    requireLength(start, at, "if_tsoffset", len, 8);
                    offsetSeconds[0] = body.getLong(at);
                }
                default -> {
                }
            }
        });
        interfaces.add(new CaptureInterface(interfaces.size(), linkType, snapLength, name[0], units[0], offsetSeconds[0]));
    }

    /** An Enhanced Packet Block ({@code idWidth} 4) or the obsolete Packet Block (2: id, then a drop count). */
    private CaptureRecord readPacket(long start, ByteBuffer body, int idWidth) throws IOException {
        long id = idWidth == 4 ? Integer.toUnsignedLong(body.getInt(0)) : Short.toUnsignedInt(body.getShort(0));
        CaptureInterface iface = interfaceOf(start, id, idWidth == 4 ? "Enhanced Packet Block" : "Packet Block");
        long captured = Integer.toUnsignedLong(body.getInt(12));
        long original = Integer.toUnsignedLong(body.getInt(16));
        int room = body.capacity() - 20;
        if (captured > room) {
            throw in.error(start + 8 + 12, "captured length " + captured + " runs past the end of its block (room for "
                    + room + " bytes)");
        }
        if (original > Integer.MAX_VALUE) {
            throw in.error(start + 8 + 16, "original length " + original + " is impossible");
        }
        Instant timestamp = timestamp(start, iface, Integer.toUnsignedLong(body.getInt(4)),
                Integer.toUnsignedLong(body.getInt(8)));
        byte[] data = new byte[(int) captured];
        body.get(20, data);
        List<String> comments = new ArrayList<>();
        Direction[] direction = {Direction.UNKNOWN};
        forEachOption(start, body, 20 + pad4((int) captured), (code, at, len) -> {
            if (code == OPT_COMMENT) {
                comments.add(string(body, at, len));
            } else if (code == EPB_FLAGS && len == 4) {
                int bits = body.getInt(at) & 3;
                direction[0] = bits == 1 ? Direction.INBOUND : bits == 2 ? Direction.OUTBOUND : Direction.UNKNOWN;
            }
        });
        return new CaptureRecord(timestamp, iface.index(), iface.linkType(), data, (int) original, direction[0], comments);
    }

    /** A Simple Packet Block: interface 0, no timestamp, captured length implied by the snap length. */
    private CaptureRecord readSimplePacket(long start, ByteBuffer body) throws IOException {
        CaptureInterface iface = interfaceOf(start, 0, "Simple Packet Block");
        long original = Integer.toUnsignedLong(body.getInt(0));
        if (original > Integer.MAX_VALUE) {
            throw in.error(start + 8, "original length " + original + " is impossible");
        }
        long captured = Math.min(original, body.capacity() - 4);
        if (iface.snapLength() > 0) {
            captured = Math.min(captured, iface.snapLength());
        }
        byte[] data = new byte[(int) captured];
        body.get(4, data);
        return new CaptureRecord(null, 0, iface.linkType(), data, (int) original);
    }

    private CaptureInterface interfaceOf(long start, long id, String block) throws CaptureFormatException {
        if (id >= interfaces.size()) {
            throw in.error(start + 8, "the " + block + " refers to interface " + id + " but its section describes "
                    + interfaces.size() + (interfaces.size() == 1 ? " interface" : " interfaces"));
        }
        return interfaces.get((int) id);
    }

    /** Timestamps count units of the interface's resolution since 1970 (plus its offset in seconds), unsigned 64-bit. */
    private Instant timestamp(long start, CaptureInterface iface, long high, long low) throws CaptureFormatException {
        long units = iface.timestampUnitsPerSecond();
        long ticks = high << 32 | low;
        long seconds = Long.divideUnsigned(ticks, units);
        long fraction = Long.remainderUnsigned(ticks, units);
        long nanos;
        if (units <= NANOS_PER_SECOND && NANOS_PER_SECOND % units == 0) {
            nanos = fraction * (NANOS_PER_SECOND / units);
        } else {
            // Binary resolutions and ones finer than nanoseconds: exact, rare, so BigInteger is fine.
            nanos = BigInteger.valueOf(fraction).multiply(BigInteger.valueOf(NANOS_PER_SECOND))
                    .divide(BigInteger.valueOf(units)).longValueExact();
        }
        try {
            if (seconds < 0) {
                throw new ArithmeticException();
            }
            return Instant.ofEpochSecond(Math.addExact(seconds, iface.timestampOffsetSeconds()), nanos);
        } catch (ArithmeticException | DateTimeException e) {
            throw in.error(start + 8 + 4, "timestamp " + Long.toUnsignedString(ticks) + " units of 1/" + units
                    + " s (offset " + iface.timestampOffsetSeconds() + " s) is out of range");
        }
    }

    /** if_tsresol: 10^-n seconds, or 2^-n when the top bit is set. */
    private long unitsPerSecond(long start, int at, byte value) throws CaptureFormatException {
        int exponent = value & 0x7f;
        boolean binary = (value & 0x80) != 0;
        if (binary ? exponent > 62 : exponent > 18) {
            throw in.error(start + 8 + at, "if_tsresol " + (binary ? "2" : "10") + "^-" + exponent
                    + " is finer than a 64-bit count of units per second can hold");
        }
        return binary ? 1L << exponent : BigInteger.TEN.pow(exponent).longValueExact();
    }

    private void checkLength(long start, int type, long length, int minimum) throws CaptureFormatException {
        String what = blockName(type) + "'s total length " + length;
        if (length < minimum) {
            throw in.error(start + 4, what + " is less than the " + minimum + " bytes such a block needs");
        }
        if (length % 4 != 0) {
            throw in.error(start + 4, what + " is not a multiple of 4");
        }
        if (length > CaptureReader.MAX_BLOCK_BYTES) {
            throw in.error(start + 4, what + " exceeds the reader's limit of " + CaptureReader.MAX_BLOCK_BYTES
                    + " bytes: not a real block");
        }
    }

    private void checkTrailer(long start, long length) throws IOException {
        long at = in.offset();
        long trailer = Integer.toUnsignedLong(ByteBuffer.wrap(in.read(4, "the block's trailing total length"))
                .order(order).getInt());
        if (trailer != length) {
            throw in.error(at, "the block starting at byte offset " + start + " gives its total length as " + length
                    + " at its start and " + trailer + " at its end");
        }
    }

    private static int minimumLength(int type) {
        return FRAME + switch (type) {
            case SHB -> 16;
            case IDB -> 8;
            case EPB, PB -> 20;
            case SPB -> 4;
            default -> 0;
        };
    }

    private static String blockName(int type) {
        return switch (type) {
            case SHB -> "the Section Header Block";
            case IDB -> "the Interface Description Block";
            case EPB -> "the Enhanced Packet Block";
            case SPB -> "the Simple Packet Block";
            case PB -> "the Packet Block";
            default -> String.format("block type 0x%08x", type);
        };
    }

    @FunctionalInterface
    private interface OptionVisitor {
        void option(int code, int valueAt, int length) throws IOException;
    }

    /** Options from {@code from} to the end of the body: code, length, value padded to 4 bytes, until opt_endofopt. */
    private void forEachOption(long start, ByteBuffer body, int from, OptionVisitor visitor) throws IOException {
        int p = from;
        while (body.capacity() - p >= 4) {
            int code = Short.toUnsignedInt(body.getShort(p));
            int length = Short.toUnsignedInt(body.getShort(p + 2));
            if (code == OPT_END) {
                return;
            }
            int valueAt = p + 4;
            if (length > body.capacity() - valueAt) {
                throw in.error(start + 8 + p, "option " + code + "'s length " + length + " runs past the end of its block"
                        + " (room for " + (body.capacity() - valueAt) + " bytes)");
            }
            visitor.option(code, valueAt, length);
            p = valueAt + pad4(length);
        }
    }

    private void requireLength(long start, int at, String option, int length, int wanted) throws CaptureFormatException {
        if (length != wanted) {
            throw in.error(start + 8 + at - 4, option + " has length " + length + ", not " + wanted);
        }
    }

    /** UTF-8; trailing NULs that some writers add (the format's strings are not terminated) are dropped. */
    private static String string(ByteBuffer body, int at, int length) {
        int end = length;
        while (end > 0 && body.get(at + end - 1) == 0) {
            end--;
        }
        byte[] bytes = new byte[end];
        body.get(at, bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static int pad4(int n) {
        return (n + 3) & ~3;
    }
}
