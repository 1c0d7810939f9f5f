package io.nfqueue.test.pcap;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.Flushable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;

/**
 * Writes IP packets, as NFQUEUE delivers them, to a pcapng file with a comment on each (its
 * verdict, say) that Wireshark, tshark and tcpdump open: one section, one interface of link type
 * {@link LinkTypes#RAW} with nanosecond timestamps, one Enhanced Packet Block per packet with the
 * comment as its {@code opt_comment} (Wireshark shows it under "Packet comments", and
 * {@code tshark -Y 'frame.comment contains "DROP"'} filters on it).
 *
 * <pre>{@code
 * try (PcapngWriter out = PcapngWriter.create(Path.of("verdicts.pcapng"))) {
 *     out.write(ip.timestamp().orElseThrow(), ip.payloadBytes(), "ACCEPT mark=0x7");
 *     out.write(packet.payloadBytes(), "DROP (default: TIMEOUT)");   // stamped now
 * }
 * }</pre>
 *
 * <p>Thread-safe: verdicts may be written from whatever thread gives them; each packet is one
 * block, written whole. Nothing reaches the file before {@link #flush()} or {@link #close()}.
 * The file reads back with {@link CaptureReader}: records of link type RAW whose
 * {@link CaptureRecord#comments()} hold the comments.
 */
public final class PcapngWriter implements Closeable, Flushable {
    private static final int SHB = 0x0A0D0D0A;
    private static final int IDB = 1;
    private static final int EPB = 6;
    private static final int BYTE_ORDER_MAGIC = 0x1A2B3C4D;
    private static final int OPT_END = 0;
    private static final int OPT_COMMENT = 1;
    private static final int SHB_USERAPPL = 4;
    private static final int IF_NAME = 2;
    private static final int IF_DESCRIPTION = 3;
    private static final int IF_TSRESOL = 9;
    /** Bits 0-1: direction, 1 inbound, 2 outbound. */
    private static final int EPB_FLAGS = 2;
    /** if_tsresol 9: timestamps count nanoseconds, the resolution of {@link Instant} and of the kernel's stamps. */
    private static final byte NANOSECOND_RESOLUTION = 9;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;
    /** Block framing (type, length, length) and the Enhanced Packet Block's fixed fields. */
    private static final int EPB_OVERHEAD = 12 + 20;
    private static final int MAX_OPTION = 0xffff;
    private static final String APPLICATION = "nfqueue-java test kit";
    private static final String INTERFACE = "nfqueue";
    private static final String INTERFACE_DESCRIPTION = "IP packets as NFQUEUE delivers them; comments: their verdicts";

    private final OutputStream out;
    private final Clock clock;
    private long packets;
    private boolean closed;

    private PcapngWriter(OutputStream out, Clock clock) throws IOException {
        this.out = out;
        this.clock = clock;
        out.write(sectionHeader());
        out.write(interfaceDescription());
    }

    /** Creates (or replaces) {@code file} and writes the section and interface headers. */
    public static PcapngWriter create(Path file) throws IOException {
        OutputStream stream = new BufferedOutputStream(Files.newOutputStream(file), 64 * 1024);
        try {
            return new PcapngWriter(stream, Clock.systemUTC());
        } catch (IOException | RuntimeException e) {
            stream.close();
            throw e;
        }
    }

    /** Writes to {@code stream} (closed by {@link #close()}); packets without a timestamp get the system clock's time. */
    public static PcapngWriter create(OutputStream stream) throws IOException {
        return create(stream, Clock.systemUTC());
    }

    /** Writes to {@code stream} (closed by {@link #close()}); packets without a timestamp get {@code clock}'s time. */
    public static PcapngWriter create(OutputStream stream, Clock clock) throws IOException {
        return new PcapngWriter(stream, clock);
    }

    /** Writes {@code ipPacket} stamped with the clock's current time; {@code comment} null or empty: none. */
    public synchronized void write(byte[] ipPacket, String comment) throws IOException {
        write(clock.instant(), ipPacket, ipPacket.length, comment);
    }

    /** Writes {@code ipPacket} stamped {@code timestamp} (the original frame's, say); {@code comment} null or empty: none. */
    public synchronized void write(Instant timestamp, byte[] ipPacket, String comment) throws IOException {
        write(timestamp, ipPacket, ipPacket.length, comment);
    }

    /**
     * Writes a decoded packet with its capture timestamp (the clock's time if it has none), its
     * original length and its direction, when known ({@code epb_flags}: Wireshark shows it, and
     * {@link CaptureRecord#direction()} reads it back).
     */
    public synchronized void write(IpPacket packet, String comment) throws IOException {
        writeBlock(packet.timestamp().orElseGet(clock::instant), packet.payloadBytes(), packet.originalLength(), comment,
                packet.direction());
    }

    /**
     * Writes {@code ipPacket}, a copy of a packet {@code originalLength} bytes long (more than its
     * length when it was cut short), stamped {@code timestamp}, with {@code comment} (null or empty: none).
     *
     * @throws IllegalArgumentException when the timestamp is before 1970 or after 2554 (pcapng counts
     *                                  unsigned nanoseconds), the original length is less than the
     *                                  packet's, the comment is over 65,535 bytes of UTF-8, or the
     *                                  block would be over {@link CaptureReader#MAX_BLOCK_BYTES}
     */
    public synchronized void write(Instant timestamp, byte[] ipPacket, int originalLength, String comment)
            throws IOException {
        writeBlock(timestamp, ipPacket, originalLength, comment, Direction.UNKNOWN);
    }

    private void writeBlock(Instant timestamp, byte[] ipPacket, int originalLength, String comment, Direction direction)
            throws IOException {
        if (closed) {
            throw new IllegalStateException("the pcapng writer is closed");
        }
        if (originalLength < ipPacket.length) {
            throw new IllegalArgumentException("original length " + originalLength + " is less than the packet's "
                    + ipPacket.length + " bytes");
        }
        long ticks = nanosSinceEpoch(timestamp);
        byte[] text = comment == null ? new byte[0] : comment.getBytes(StandardCharsets.UTF_8);
        if (text.length > MAX_OPTION) {
            throw new IllegalArgumentException("comment of " + text.length + " bytes: a pcapng option holds at most "
                    + MAX_OPTION);
        }
        int flags = direction == Direction.INBOUND ? 1 : direction == Direction.OUTBOUND ? 2 : 0;
        int options = (text.length == 0 ? 0 : optionLength(text)) + (flags == 0 ? 0 : 8);
        options += options == 0 ? 0 : 4;  // opt_endofopt
        long total = (long) EPB_OVERHEAD + pad4(ipPacket.length) + options;
        if (total > CaptureReader.MAX_BLOCK_BYTES) {
            throw new IllegalArgumentException("a packet of " + ipPacket.length + " bytes makes a block over "
                    + CaptureReader.MAX_BLOCK_BYTES + " bytes");
        }
        ByteBuffer b = block(EPB, (int) total);
        b.putInt(0);  // interface 0, the only one
        b.putInt((int) (ticks >>> 32)).putInt((int) ticks);
        b.putInt(ipPacket.length).putInt(originalLength);
        b.put(ipPacket).position(b.position() + pad4(ipPacket.length) - ipPacket.length);
        if (text.length > 0) {
            option(b, OPT_COMMENT, text);
        }
        if (flags != 0) {
            option(b, EPB_FLAGS, new byte[4]);
            b.putInt(b.position() - 4, flags);  // the flags word in the file's byte order
        }
        if (options > 0) {
            b.putInt(OPT_END);
        }
        out.write(end(b, (int) total));
        packets++;
    }

    /** Packets written so far. */
    public synchronized long packetCount() {
        return packets;
    }

    @Override
    public synchronized void flush() throws IOException {
        out.flush();
    }

    @Override
    public synchronized void close() throws IOException {
        if (!closed) {
            closed = true;
            out.close();
        }
    }

    private static byte[] sectionHeader() {
        byte[] app = APPLICATION.getBytes(StandardCharsets.UTF_8);
        int total = 12 + 16 + optionLength(app) + 4;
        ByteBuffer b = block(SHB, total);
        b.putInt(BYTE_ORDER_MAGIC).putShort((short) 1).putShort((short) 0);
        b.putLong(-1);  // section length: not known in advance
        option(b, SHB_USERAPPL, app);
        b.putInt(OPT_END);
        return end(b, total);
    }

    private static byte[] interfaceDescription() {
        byte[] name = INTERFACE.getBytes(StandardCharsets.UTF_8);
        byte[] description = INTERFACE_DESCRIPTION.getBytes(StandardCharsets.UTF_8);
        byte[] resolution = {NANOSECOND_RESOLUTION};
        int total = 12 + 8 + optionLength(name) + optionLength(description) + optionLength(resolution) + 4;
        ByteBuffer b = block(IDB, total);
        b.putShort((short) LinkTypes.RAW).putShort((short) 0);
        b.putInt(0);  // snap length 0: no limit (an NFQUEUE payload may be a 64 KiB GSO packet or larger)
        option(b, IF_NAME, name);
        option(b, IF_DESCRIPTION, description);
        option(b, IF_TSRESOL, resolution);
        b.putInt(OPT_END);
        return end(b, total);
    }

    /** Little-endian, as x86 tools write; readers take either order from the section header. */
    private static ByteBuffer block(int type, int total) {
        return ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN).putInt(type).putInt(total);
    }

    private static byte[] end(ByteBuffer b, int total) {
        b.putInt(total);
        if (b.position() != total) {
            throw new IllegalStateException("block layout: wrote " + b.position() + " of " + total + " bytes");
        }
        return b.array();
    }

    private static int optionLength(byte[] value) {
        return 4 + pad4(value.length);
    }

    private static void option(ByteBuffer b, int code, byte[] value) {
        b.putShort((short) code).putShort((short) value.length).put(value);
        b.position(b.position() + pad4(value.length) - value.length);  // padding: the buffer's zeros
    }

    /** pcapng counts unsigned 64-bit ticks: 1970 to 2554-07-21 in nanoseconds (past 2262 as a negative long). */
    private static long nanosSinceEpoch(Instant t) {
        long seconds = t.getEpochSecond();
        long maxSeconds = Long.divideUnsigned(-1L, NANOS_PER_SECOND);
        if (seconds < 0 || seconds > maxSeconds
                || seconds == maxSeconds && t.getNano() > Long.remainderUnsigned(-1L, NANOS_PER_SECOND)) {
            throw new IllegalArgumentException("timestamp " + t + " is outside what pcapng's nanosecond count holds"
                    + " (1970 to 2554)");
        }
        return seconds * NANOS_PER_SECOND + t.getNano();
    }

    private static int pad4(int n) {
        return (n + 3) & ~3;
    }
}
