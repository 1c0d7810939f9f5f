package io.nfqueue.test.pcap;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.List;

/**
 * libpcap's classic format (draft-ietf-opsawg-pcap): a 24-byte file header, then records of a
 * 16-byte header and the captured bytes. The magic number says the writer's byte order and
 * whether the second timestamp field counts microseconds or nanoseconds.
 */
final class ClassicPcapParser implements RecordSource {
    static final int MAGIC_MICROS = 0xa1b2c3d4;
    static final int MAGIC_NANOS = 0xa1b23c4d;
    /** Alexey Kuznetzov's patched libpcap (longer record headers); recognized only to be refused by name. */
    static final int MAGIC_MODIFIED = 0xa1b2cd34;
    private static final int HEADER_REST = 20;
    private static final int RECORD_HEADER = 16;
    /** The link type field's low 16 bits; the upper ones carry FCS length and flags (see LinkLayerDecoder). */
    private static final int LINK_TYPE_MASK = 0xffff;

    private final ByteInput in;
    private final ByteOrder order;
    private final long nanosPerUnit;
    private final CaptureInterface iface;

    /** Reads the rest of the file header; {@code magic} is the first 4 bytes, big-endian, already read. */
    ClassicPcapParser(ByteInput in, int magic) throws IOException {
        this.in = in;
        this.order = magic == MAGIC_MICROS || magic == MAGIC_NANOS ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        int normalized = order == ByteOrder.BIG_ENDIAN ? magic : Integer.reverseBytes(magic);
        this.nanosPerUnit = normalized == MAGIC_NANOS ? 1 : 1000;
        ByteBuffer h = ByteBuffer.wrap(in.read(HEADER_REST, "the pcap file header")).order(order);
        int major = Short.toUnsignedInt(h.getShort(0));
        int minor = Short.toUnsignedInt(h.getShort(2));
        if (major != 2) {
            throw in.error(4, "pcap version " + major + "." + minor + " is not supported (only 2.x is defined)");
        }
        // thiszone (8) and sigfigs (12) are 0 in practice and ignored by libpcap and Wireshark alike.
        long snapLength = Integer.toUnsignedLong(h.getInt(12));
        int linkType = h.getInt(16) & LINK_TYPE_MASK;
        this.iface = new CaptureInterface(0, linkType, snapLength, "", 1_000_000_000L / nanosPerUnit, 0);
    }

    static boolean isMagic(int bigEndian) {
        return bigEndian == MAGIC_MICROS || bigEndian == MAGIC_NANOS
                || Integer.reverseBytes(bigEndian) == MAGIC_MICROS || Integer.reverseBytes(bigEndian) == MAGIC_NANOS;
    }

    @Override
    public CaptureRecord next() throws IOException {
        long start = in.offset();
        byte[] header = in.readUpTo(RECORD_HEADER);
        if (header.length == 0) {
            return null;
        }
        if (header.length < RECORD_HEADER) {
            throw in.truncated(start, "the record header needs " + RECORD_HEADER + " bytes but the file ends after "
                    + header.length);
        }
        ByteBuffer h = ByteBuffer.wrap(header).order(order);
        long seconds = Integer.toUnsignedLong(h.getInt(0));
        long fraction = Integer.toUnsignedLong(h.getInt(4));
        long captured = Integer.toUnsignedLong(h.getInt(8));
        long original = Integer.toUnsignedLong(h.getInt(12));
        if (captured > CaptureReader.MAX_BLOCK_BYTES) {
            throw in.error(start + 8, "captured length " + captured + " exceeds the reader's limit of "
                    + CaptureReader.MAX_BLOCK_BYTES + " bytes: not a real packet");
        }
        if (original > Integer.MAX_VALUE) {
            throw in.error(start + 12, "original length " + original + " is impossible");
        }
        byte[] data = in.read((int) captured, "the packet (" + captured + " captured bytes)");
        // A fraction of a second or more (seen from broken writers) carries into the seconds, as in Wireshark.
        Instant timestamp = Instant.ofEpochSecond(seconds, fraction * nanosPerUnit);
        return new CaptureRecord(timestamp, 0, iface.linkType(), data, (int) original);
    }

    @Override
    public List<CaptureInterface> interfaces() {
        return List.of(iface);
    }
}
