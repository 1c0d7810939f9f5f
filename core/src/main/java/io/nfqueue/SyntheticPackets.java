package io.nfqueue;

import java.nio.ByteBuffer;

/**
 * The IP packets a synthetic queue ({@link BoundQueue#openSynthetic}) replays: UDP and TCP over
 * IPv4 and IPv6, between documentation addresses (RFC 5737, RFC 3849), once with complete
 * checksums (as received from a device) and once checksum-not-ready (as sent by this host: the
 * field holds the pseudo-header sum, and the kernel flags it in NFQA_SKB_INFO). A handler that
 * parses or checks them during a warm-up takes the paths it takes for real traffic, not its
 * error paths, and the library's decoding sees both kinds, so neither is new to the JIT later.
 */
final class SyntheticPackets {
    /** Transport payload of each packet: the size of bench/run's datagrams. */
    private static final int PAYLOAD = 64;
    private static final int UDP = 17;
    private static final int TCP = 6;
    private static final byte[] V4_SOURCE = {(byte) 192, 0, 2, 1};
    private static final byte[] V4_DESTINATION = {(byte) 198, 51, 100, 7};
    private static final byte[] V6_SOURCE = v6(1);
    private static final byte[] V6_DESTINATION = v6(7);

    private SyntheticPackets() {
    }

    /**
     * Eight packets: UDP/IPv4, TCP/IPv4, UDP/IPv6, TCP/IPv6, each with a 64-byte payload, first
     * with complete checksums, then checksum-not-ready (see {@link #skbInfo}).
     */
    static byte[][] mix() {
        return new byte[][] {ipv4(UDP, true), ipv4(TCP, true), ipv6(UDP, true), ipv6(TCP, true),
            ipv4(UDP, false), ipv4(TCP, false), ipv6(UDP, false), ipv6(TCP, false)};
    }

    /** The NFQA_SKB_INFO bits of each packet of {@link #mix()}: none, then checksum-not-ready. */
    static int[] skbInfo(int checksumNotReady) {
        return new int[] {0, 0, 0, 0, checksumNotReady, checksumNotReady, checksumNotReady, checksumNotReady};
    }

    private static byte[] v6(int last) {
        byte[] a = new byte[16];
        a[0] = 0x20;
        a[1] = 0x01;
        a[2] = 0x0d;
        a[3] = (byte) 0xb8;
        a[15] = (byte) last;
        return a;
    }

    private static byte[] ipv4(int protocol, boolean complete) {
        byte[] transport = transport(protocol);
        ByteBuffer b = ByteBuffer.allocate(20 + transport.length);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + transport.length)).putShort((short) 0x1234)
                .putShort((short) 0x4000).put((byte) 64).put((byte) protocol).putShort((short) 0).put(V4_SOURCE)
                .put(V4_DESTINATION).put(transport);
        byte[] p = b.array();
        putShort(p, 10, ~sum(p, 0, 20) & 0xFFFF);
        int pseudo = add(add(sum(p, 12, 8), protocol), transport.length);
        fillTransportChecksum(p, 20, protocol, transport.length, pseudo, complete);
        return p;
    }

    private static byte[] ipv6(int protocol, boolean complete) {
        byte[] transport = transport(protocol);
        ByteBuffer b = ByteBuffer.allocate(40 + transport.length);
        b.putInt(0x6000_0000).putShort((short) transport.length).put((byte) protocol).put((byte) 64).put(V6_SOURCE)
                .put(V6_DESTINATION).put(transport);
        byte[] p = b.array();
        int pseudo = add(add(sum(p, 8, 32), protocol), transport.length);
        fillTransportChecksum(p, 40, protocol, transport.length, pseudo, complete);
        return p;
    }

    /** A UDP datagram or a TCP segment (ACK|PSH, no options) from port 40000 to 5001, checksum 0. */
    private static byte[] transport(int protocol) {
        int header = protocol == UDP ? 8 : 20;
        ByteBuffer b = ByteBuffer.allocate(header + PAYLOAD);
        b.putShort((short) 40000).putShort((short) 5001);
        if (protocol == UDP) {
            b.putShort((short) (header + PAYLOAD)).putShort((short) 0);
        } else {
            b.putInt(1000).putInt(2000).put((byte) 0x50).put((byte) 0x18).putShort((short) 65535).putInt(0);
        }
        for (int i = 0; i < PAYLOAD; i++) {
            b.put((byte) i);
        }
        return b.array();
    }

    /** Complete: the checksum; else what a checksum-offloading sender leaves, the pseudo-header sum. */
    private static void fillTransportChecksum(byte[] p, int at, int protocol, int length, int pseudo, boolean complete) {
        int field = at + (protocol == UDP ? 6 : 16);
        if (!complete) {
            putShort(p, field, pseudo);
            return;
        }
        int total = add(pseudo, sum(p, at, length));
        int checksum = ~total & 0xFFFF;
        putShort(p, field, protocol == UDP && checksum == 0 ? 0xFFFF : checksum);
    }

    /*
     * The ones' complement sum (RFC 1071), here rather than io.nfqueue.packet.Checksums: this
     * package must not depend on that one, which depends on it (PackageCyclesTest). The tests
     * check the results with the packet package's parser.
     */
    private static int sum(byte[] data, int offset, int length) {
        int acc = 0;
        for (int i = 0; i < length; i += 2) {
            acc += (data[offset + i] & 0xFF) << 8 | (i + 1 < length ? data[offset + i + 1] & 0xFF : 0);
        }
        return add(acc, 0);
    }

    private static int add(int a, int b) {
        long s = (a & 0xFFFF_FFFFL) + (b & 0xFFFF_FFFFL);
        while ((s >>> 16) != 0) {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int) s;
    }

    private static void putShort(byte[] p, int at, int value) {
        p[at] = (byte) (value >>> 8);
        p[at + 1] = (byte) value;
    }
}
