package io.nfqueue.test.pcap;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

/**
 * The IP packet inside a captured frame, as NFQUEUE would deliver it: from the IP header on,
 * without the link-layer header, VLAN tags, Ethernet padding or frame check sequence. Made by
 * {@link LinkLayerDecoder}; its accessors mirror {@code Packet}'s, so a replay can build the
 * queued packet from it field by field.
 *
 * <pre>{@code
 * IpPacket ip = decoder.decode(record).orElseThrow();
 * ip.hwProtocol();          // 0x0800 (IPv4) or 0x86DD (IPv6): Packet.hwProtocol()
 * ip.payloadBytes();        // the IP packet: Packet.payloadBytes()
 * ip.originalLength();      // Packet.originalLength(): more than payloadLength() when the snap length cut it
 * ip.direction();           // INBOUND / OUTBOUND / UNKNOWN: which hook it would have met
 * ip.timestamp();           // the capture's timestamp
 * }</pre>
 */
public final class IpPacket {
    /** Ethertype of IPv4. */
    public static final int IPV4 = 0x0800;
    /** Ethertype of IPv6. */
    public static final int IPV6 = 0x86DD;

    private final CaptureRecord record;
    private final int hwProtocol;
    private final byte[] payload;
    private final int originalLength;
    private final Direction direction;
    private final int deviceIndex;
    private final byte[] hwAddress;

    IpPacket(CaptureRecord record, int hwProtocol, byte[] payload, int originalLength, Direction direction, int deviceIndex,
             byte[] hwAddress) {
        this.record = record;
        this.hwProtocol = hwProtocol;
        this.payload = payload;
        this.originalLength = Math.max(originalLength, payload.length);
        this.direction = direction;
        this.deviceIndex = deviceIndex;
        this.hwAddress = hwAddress;
    }

    /** The record it came from (link type, interface, comments). */
    public CaptureRecord record() {
        return record;
    }

    /** When it was captured, if the file says. */
    public Optional<Instant> timestamp() {
        return record.timestamp();
    }

    /** The link-layer protocol, as {@code Packet.hwProtocol()} reports it: {@link #IPV4} or {@link #IPV6}. */
    public int hwProtocol() {
        return hwProtocol;
    }

    /** The IP packet, read-only, without a copy. */
    public ByteBuffer payload() {
        return ByteBuffer.wrap(payload).asReadOnlyBuffer();
    }

    /** A copy of the IP packet. */
    public byte[] payloadBytes() {
        return payload.clone();
    }

    /** Bytes of the IP packet that were captured. */
    public int payloadLength() {
        return payload.length;
    }

    /** The IP packet's full length: more than {@link #payloadLength()} when the capture's snap length cut it. */
    public int originalLength() {
        return originalLength;
    }

    /** The capture cut this packet short. */
    public boolean isTruncated() {
        return originalLength > payload.length;
    }

    /** Which way it went: from the Linux cooked header's packet type, else the pcapng record's flags. */
    public Direction direction() {
        return direction;
    }

    /**
     * The kernel's index of the interface it was captured on, from a {@link LinkTypes#LINUX_SLL2}
     * header ({@code tcpdump -i any}); 0 when the link type carries none (as {@code Packet} uses
     * 0 for no device). Not the capture file's interface number: that is {@code record().interfaceIndex()}.
     */
    public int deviceIndex() {
        return deviceIndex;
    }

    /** The source link-layer address (Ethernet or cooked header), as {@code Packet.hwAddress()}; empty when none. */
    public Optional<byte[]> hwAddress() {
        return hwAddress == null ? Optional.empty() : Optional.of(hwAddress.clone());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IpPacket p && record.equals(p.record) && hwProtocol == p.hwProtocol
                && Arrays.equals(payload, p.payload) && originalLength == p.originalLength && direction == p.direction
                && deviceIndex == p.deviceIndex && Arrays.equals(hwAddress, p.hwAddress);
    }

    @Override
    public int hashCode() {
        return Objects.hash(record, hwProtocol, Arrays.hashCode(payload), originalLength, direction, deviceIndex);
    }

    @Override
    public String toString() {
        return "IpPacket[" + (hwProtocol == IPV4 ? "IPv4" : "IPv6") + ", " + payload.length + "/" + originalLength + " bytes, "
                + direction + (deviceIndex == 0 ? "" : ", device " + deviceIndex) + ", "
                + record.timestamp().map(Instant::toString).orElse("no timestamp") + "]";
    }
}
