package io.nfqueue.test.pcap;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One packet of a capture file, as captured: the link-layer frame (Ethernet, cooked, raw IP...
 * as {@link #linkType()} says), not yet the IP packet NFQUEUE would deliver; for that, give it
 * to a {@link LinkLayerDecoder}.
 *
 * <pre>{@code
 * CaptureRecord r = reader.next();
 * r.linkType();            // LinkTypes.ETHERNET
 * r.capturedLength();      // 74: bytes in the file
 * r.originalLength();      // 1514: bytes on the wire (more when the snap length cut it)
 * r.timestamp();           // Optional[2024-05-01T10:00:00.123456789Z]
 * }</pre>
 *
 * <p>Immutable; the bytes are a private copy, read through {@link #data()} (read-only, no copy)
 * or {@link #dataBytes()} (a copy).
 */
public final class CaptureRecord {
    private final Instant timestamp;
    private final int interfaceIndex;
    private final int linkType;
    private final byte[] data;
    private final int originalLength;
    private final Direction direction;
    private final List<String> comments;

    /**
     * @param timestamp      when it was captured; null when the file does not say (a pcapng
     *                       Simple Packet Block has no timestamp)
     * @param interfaceIndex the interface's number in its pcapng section; 0 in a classic pcap file
     * @param linkType       the link-layer header type of {@code data} ({@link LinkTypes})
     * @param data           the captured bytes (copied)
     * @param originalLength the length on the wire; raised to {@code data.length} when smaller
     *                       (some writers put 0 there)
     * @param direction      which way it went, {@link Direction#UNKNOWN} when the file does not say
     * @param comments       the packet's comments (pcapng {@code opt_comment}), in file order
     */
    public CaptureRecord(Instant timestamp, int interfaceIndex, int linkType, byte[] data, int originalLength,
                         Direction direction, List<String> comments) {
        this.timestamp = timestamp;
        this.interfaceIndex = interfaceIndex;
        this.linkType = linkType;
        this.data = data.clone();
        this.originalLength = Math.max(originalLength, data.length);
        this.direction = Objects.requireNonNull(direction, "direction");
        this.comments = List.copyOf(comments);
    }

    /** A record without direction or comments. */
    public CaptureRecord(Instant timestamp, int interfaceIndex, int linkType, byte[] data, int originalLength) {
        this(timestamp, interfaceIndex, linkType, data, originalLength, Direction.UNKNOWN, List.of());
    }

    /** When it was captured; empty for a pcapng Simple Packet Block, which has no timestamp. */
    public Optional<Instant> timestamp() {
        return Optional.ofNullable(timestamp);
    }

    /** The interface's number in its pcapng section ({@link CaptureReader#interfaces()}); 0 in classic pcap. */
    public int interfaceIndex() {
        return interfaceIndex;
    }

    /** The link-layer header type of the bytes ({@link LinkTypes}). */
    public int linkType() {
        return linkType;
    }

    /** The captured bytes, read-only, without a copy. */
    public ByteBuffer data() {
        return ByteBuffer.wrap(data).asReadOnlyBuffer();
    }

    /** A copy of the captured bytes. */
    public byte[] dataBytes() {
        return data.clone();
    }

    /** Bytes captured (in the file). */
    public int capturedLength() {
        return data.length;
    }

    /** Bytes the frame had on the wire: more than {@link #capturedLength()} when the snap length cut it. */
    public int originalLength() {
        return originalLength;
    }

    /** The snap length cut this frame short. */
    public boolean isTruncated() {
        return originalLength > data.length;
    }

    /** Which way the packet went, when the file says ({@code epb_flags}). */
    public Direction direction() {
        return direction;
    }

    /** The packet's comments (pcapng {@code opt_comment}), e.g. the verdicts {@link PcapngWriter} wrote. */
    public List<String> comments() {
        return comments;
    }

    /** The captured bytes, shared, for this package's decoder (which copies what it keeps). */
    byte[] rawData() {
        return data;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CaptureRecord r && Objects.equals(timestamp, r.timestamp) && interfaceIndex == r.interfaceIndex
                && linkType == r.linkType && Arrays.equals(data, r.data) && originalLength == r.originalLength
                && direction == r.direction && comments.equals(r.comments);
    }

    @Override
    public int hashCode() {
        return Objects.hash(timestamp, interfaceIndex, linkType, Arrays.hashCode(data), originalLength, direction, comments);
    }

    @Override
    public String toString() {
        return "CaptureRecord[" + (timestamp == null ? "no timestamp" : timestamp) + ", interface " + interfaceIndex + ", "
                + LinkTypes.name(linkType) + ", " + data.length + "/" + originalLength + " bytes"
                + (direction == Direction.UNKNOWN ? "" : ", " + direction)
                + (comments.isEmpty() ? "" : ", comments " + comments) + "]";
    }
}
