package io.nfqueue.test.pcap;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Turns captured link-layer frames into the IP packets NFQUEUE delivers (from the IP header on),
 * with the hardware protocol a queued packet reports ({@code Packet.hwProtocol()}). Frames that
 * carry no IP packet (ARP, LLDP, 802.3 LLC, unknown link types, headers cut short) are skipped and
 * counted by reason.
 *
 * <p>Link types: {@link LinkTypes#ETHERNET} (802.1Q and QinQ tags skipped), {@link LinkTypes#RAW},
 * {@link LinkTypes#IPV4}, {@link LinkTypes#IPV6}, {@link LinkTypes#LINUX_SLL} and
 * {@link LinkTypes#LINUX_SLL2} (what {@code tcpdump -i any} writes: direction and interface index
 * come along), {@link LinkTypes#NULL} and {@link LinkTypes#LOOP} (BSD loopback).
 *
 * <pre>{@code
 * LinkLayerDecoder decoder = new LinkLayerDecoder();
 * for (CaptureRecord record : CaptureReader.readAll(path)) {
 *     Optional<IpPacket> ip = decoder.decode(record);
 *     if (ip.isPresent()) {
 *         queue.offer(ip.get().hwProtocol(), ip.get().payloadBytes());
 *     } else {
 *         log.info("skipped: {}", decoder.lastSkipReason().orElseThrow());
 *     }
 * }
 * decoder.skippedByReason();   // {ethertype 0x0806 (ARP)=2}
 * }</pre>
 *
 * <p>The IP packet ends where its own length field says: Ethernet pads short frames to 60 bytes
 * and some captures keep the 4-byte frame check sequence, and neither reaches NFQUEUE (the
 * kernel trims the packet to its IP length before netfilter sees it).
 *
 * <p>Not thread-safe (it counts): one decoder per reading thread.
 */
public final class LinkLayerDecoder {
    private static final int ETHERNET_HEADER = 14;
    private static final int SLL_HEADER = 16;
    private static final int SLL2_HEADER = 20;
    private static final int LOOPBACK_HEADER = 4;
    /** Cooked headers have room for 8 address bytes whatever length they announce. */
    private static final int SLL_ADDRESS_ROOM = 8;
    private static final int VLAN = 0x8100;
    private static final int QINQ = 0x88A8;
    /** The pre-standard QinQ outer tag some switches still send. */
    private static final int QINQ_OLD = 0x9100;
    /** Values below are 802.3 lengths, not ethertypes. */
    private static final int FIRST_ETHERTYPE = 0x0600;
    private static final int SLL_OUTGOING = 4;
    private static final int AF_INET = 2;

    /** The link types {@link #decode} reads; frames of any other are skipped as unsupported. */
    private static final List<Integer> SUPPORTED = List.of(LinkTypes.NULL, LinkTypes.ETHERNET, LinkTypes.RAW,
            LinkTypes.LOOP, LinkTypes.LINUX_SLL, LinkTypes.IPV4, LinkTypes.IPV6, LinkTypes.LINUX_SLL2);

    private final Map<String, Long> skipped = new LinkedHashMap<>();
    private long decoded;
    private String lastSkipReason;

    /** A decoder with nothing decoded or skipped yet. */
    public LinkLayerDecoder() {
    }

    /** The IP packet inside {@code record}, or empty (counted, {@link #lastSkipReason()}) when it holds none. */
    public Optional<IpPacket> decode(CaptureRecord record) {
        lastSkipReason = null;
        byte[] f = record.rawData();
        IpPacket packet = switch (record.linkType()) {
            case LinkTypes.ETHERNET -> ethernet(record, f);
            case LinkTypes.RAW -> raw(record, f);
            case LinkTypes.IPV4 -> ip(record, f, 0, IpPacket.IPV4, record.direction(), 0, null);
            case LinkTypes.IPV6 -> ip(record, f, 0, IpPacket.IPV6, record.direction(), 0, null);
            case LinkTypes.LINUX_SLL -> cooked(record, f);
            case LinkTypes.LINUX_SLL2 -> cooked2(record, f);
            case LinkTypes.NULL, LinkTypes.LOOP -> loopback(record, f);
            default -> skip("unsupported link type " + LinkTypes.name(record.linkType()));
        };
        if (packet != null) {
            decoded++;
        }
        return Optional.ofNullable(packet);
    }

    /** The link types this decoder reads ({@link LinkTypes}); it skips frames of any other. */
    public static List<Integer> supportedLinkTypes() {
        return SUPPORTED;
    }

    /** Frames turned into IP packets so far. */
    public long decodedCount() {
        return decoded;
    }

    /** Frames skipped so far. */
    public long skippedCount() {
        return skipped.values().stream().mapToLong(Long::longValue).sum();
    }

    /** Frames skipped so far by reason, in the order the reasons first occurred, e.g. {@code {ethertype 0x0806 (ARP)=3}}. */
    public Map<String, Long> skippedByReason() {
        return new LinkedHashMap<>(skipped);
    }

    /** Why the last {@link #decode} returned empty; empty when it returned a packet. */
    public Optional<String> lastSkipReason() {
        return Optional.ofNullable(lastSkipReason);
    }

    private IpPacket ethernet(CaptureRecord record, byte[] f) {
        if (f.length < ETHERNET_HEADER) {
            return skip("Ethernet header cut short");
        }
        byte[] source = Arrays.copyOfRange(f, 6, 12);
        return afterProtocol(record, f, ETHERNET_HEADER, u16(f, 12), record.direction(), 0, source);
    }

    private IpPacket raw(CaptureRecord record, byte[] f) {
        int version = f.length == 0 ? -1 : (f[0] & 0xff) >>> 4;
        if (version == 4) {
            return ip(record, f, 0, IpPacket.IPV4, record.direction(), 0, null);
        }
        if (version == 6) {
            return ip(record, f, 0, IpPacket.IPV6, record.direction(), 0, null);
        }
        return skip(version < 0 ? "empty frame" : "raw frame with IP version " + version);
    }

    /** LINUX_SLL: packet type, ARPHRD type, address length, 8 address bytes, protocol. */
    private IpPacket cooked(CaptureRecord record, byte[] f) {
        if (f.length < SLL_HEADER) {
            return skip("LINUX_SLL header cut short");
        }
        byte[] address = address(f, 6, u16(f, 4));
        return afterProtocol(record, f, SLL_HEADER, u16(f, 14), direction(u16(f, 0), record), 0, address);
    }

    /** LINUX_SLL2: protocol, reserved, interface index, ARPHRD type, packet type, address length, 8 address bytes. */
    private IpPacket cooked2(CaptureRecord record, byte[] f) {
        if (f.length < SLL2_HEADER) {
            return skip("LINUX_SLL2 header cut short");
        }
        int device = u16(f, 4) << 16 | u16(f, 6);
        byte[] address = address(f, 12, f[11] & 0xff);
        return afterProtocol(record, f, SLL2_HEADER, u16(f, 0), direction(f[10] & 0xff, record), device, address);
    }

    /**
     * The payload at {@code o} of protocol {@code type} (an ethertype): past any VLAN tags (tag
     * control, then the next ethertype, 4 bytes each; libpcap also puts a tag the NIC stripped
     * back after a cooked header), an IP packet or a skip.
     */
    private IpPacket afterProtocol(CaptureRecord record, byte[] f, int offset, int protocol, Direction direction,
                                   int device, byte[] source) {
        int o = offset;
        int type = protocol;
        while (type == VLAN || type == QINQ || type == QINQ_OLD) {
            if (f.length < o + 4) {
                return skip("VLAN tag cut short");
            }
            type = u16(f, o + 2);
            o += 4;
        }
        if (type != IpPacket.IPV4 && type != IpPacket.IPV6) {
            return skip(type < FIRST_ETHERTYPE ? String.format("802.3 or non-IP protocol 0x%04x", type) : ethertypeName(type));
        }
        return ip(record, f, o, type, direction, device, source);
    }

    /** NULL and LOOP: a 4-byte address family; NULL's is in the capturing host's order, so both orders are tried. */
    private IpPacket loopback(CaptureRecord record, byte[] f) {
        if (f.length < LOOPBACK_HEADER) {
            return skip("loopback header cut short");
        }
        int family = (f[0] & 0xff) | (f[1] & 0xff) << 8 | (f[2] & 0xff) << 16 | (f[3] & 0xff) << 24;
        if ((family & 0xffff) == 0) {
            family = Integer.reverseBytes(family);  // families are small: big-endian when the low half is empty
        }
        int type;
        if (family == AF_INET) {
            type = IpPacket.IPV4;
        } else if (family == 10 || family == 23 || family == 24 || family == 28 || family == 30) {
            // AF_INET6 differs by system: Linux 10, Windows 23, NetBSD/OpenBSD 24, FreeBSD 28, macOS 30.
            type = IpPacket.IPV6;
        } else {
            return skip("loopback address family " + family);
        }
        return ip(record, f, LOOPBACK_HEADER, type, record.direction(), 0, null);
    }

    /** The IP packet from {@code o}: its version must match the link layer's protocol; it ends at its own length. */
    private IpPacket ip(CaptureRecord record, byte[] f, int o, int hwProtocol, Direction direction, int device,
                       byte[] source) {
        int available = f.length - o;
        if (available <= 0) {
            return skip("no IP header after the link-layer header");
        }
        int version = (f[o] & 0xff) >>> 4;
        if (version != (hwProtocol == IpPacket.IPV4 ? 4 : 6)) {
            return skip(String.format("protocol 0x%04x but IP version %d", hwProtocol, version));
        }
        int declared = declaredLength(f, o, version, available);
        byte[] payload;
        int original;
        if (declared > 0 && declared <= available) {
            payload = Arrays.copyOfRange(f, o, o + declared);
            original = declared;
        } else {
            payload = Arrays.copyOfRange(f, o, f.length);
            // Cut by the snap length: the IP header knows the full length better than the frame, which counts padding.
            original = !record.isTruncated() ? available : declared > available ? declared : record.originalLength() - o;
        }
        return new IpPacket(record, hwProtocol, payload, original, direction, device, source);
    }

    /** The IP packet's length from its header, or -1 when the header does not say (cut short, IPv6 jumbogram). */
    private static int declaredLength(byte[] f, int o, int version, int available) {
        if (version == 4 && available >= 4) {
            int total = u16(f, o + 2);
            return total >= 20 ? total : -1;
        }
        if (version == 6 && available >= 6) {
            int payloadLength = u16(f, o + 4);
            return payloadLength == 0 ? -1 : 40 + payloadLength;
        }
        return -1;
    }

    private static Direction direction(int packetType, CaptureRecord record) {
        if (packetType == SLL_OUTGOING) {
            return Direction.OUTBOUND;
        }
        // host, broadcast, multicast, other host: all received
        return packetType < SLL_OUTGOING ? Direction.INBOUND : record.direction();
    }

    private static byte[] address(byte[] f, int at, int length) {
        int n = Math.min(length, SLL_ADDRESS_ROOM);
        return n == 0 ? null : Arrays.copyOfRange(f, at, at + n);
    }

    private IpPacket skip(String reason) {
        lastSkipReason = reason;
        skipped.merge(reason, 1L, Long::sum);
        return null;
    }

    private static String ethertypeName(int type) {
        String name = switch (type) {
            case 0x0806 -> "ARP";
            case 0x8035 -> "RARP";
            case 0x88CC -> "LLDP";
            case 0x888E -> "EAPOL";
            case 0x8863, 0x8864 -> "PPPoE";
            case 0x8847, 0x8848 -> "MPLS";
            case 0x88F7 -> "PTP";
            default -> null;
        };
        return String.format("ethertype 0x%04x", type) + (name == null ? "" : " (" + name + ")");
    }

    private static int u16(byte[] f, int at) {
        return (f[at] & 0xff) << 8 | (f[at + 1] & 0xff);
    }
}
