package io.nfqueue.test.pcap;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Capture files and frames built byte by byte, straight from the format specifications and
 * independently of the code under test, so the tests compare the reader with the formats and
 * not with itself.
 */
final class PcapTestFiles {
    static final int PCAPNG_SHB = 0x0A0D0D0A;
    static final int PCAPNG_IDB = 1;
    static final int PCAPNG_PB = 2;
    static final int PCAPNG_SPB = 3;
    static final int PCAPNG_NRB = 4;
    static final int PCAPNG_ISB = 5;
    static final int PCAPNG_EPB = 6;

    private PcapTestFiles() {
    }

    // ---- classic pcap ----

    /** A classic pcap file: 24-byte header, then the records added. */
    static final class Classic {
        private final ByteOrder order;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Classic(ByteOrder order, boolean nanos, int linkTypeField, int snapLength) {
            this.order = order;
            ByteBuffer h = ByteBuffer.allocate(24).order(order);
            h.putInt(nanos ? 0xa1b23c4d : 0xa1b2c3d4).putShort((short) 2).putShort((short) 4);
            h.putInt(0).putInt(0).putInt(snapLength).putInt(linkTypeField);
            out.writeBytes(h.array());
        }

        Classic record(long seconds, long fraction, byte[] data, int originalLength) {
            ByteBuffer h = ByteBuffer.allocate(16).order(order);
            h.putInt((int) seconds).putInt((int) fraction).putInt(data.length).putInt(originalLength);
            out.writeBytes(h.array());
            out.writeBytes(data);
            return this;
        }

        Classic record(long seconds, long fraction, byte[] data) {
            return record(seconds, fraction, data, data.length);
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    // ---- pcapng ----

    /** A pcapng file: blocks in the byte order of the current section. */
    static final class Pcapng {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private ByteOrder order;

        Pcapng(ByteOrder order) {
            section(order);
        }

        /** A Section Header Block (version 1.0, length unknown, a shb_userappl option). */
        Pcapng section(ByteOrder sectionOrder) {
            this.order = sectionOrder;
            ByteBuffer body = buf(64);
            body.putInt(0x1A2B3C4D).putShort((short) 1).putShort((short) 0).putLong(-1);
            option(body, 4, "test".getBytes(StandardCharsets.UTF_8));
            body.putInt(0);
            return block(PCAPNG_SHB, body);
        }

        /** An IDB; {@code tsresol} null: the default (microseconds); {@code name} and {@code tsoffset} null: none. */
        Pcapng idb(int linkType, int snapLength, Integer tsresol, String name, Long tsoffset) {
            ByteBuffer body = buf(128);
            body.putShort((short) linkType).putShort((short) 0).putInt(snapLength);
            if (name != null) {
                option(body, 2, name.getBytes(StandardCharsets.UTF_8));
            }
            if (tsresol != null) {
                option(body, 9, new byte[] {(byte) (int) tsresol});
            }
            if (tsoffset != null) {
                option(body, 14, ByteBuffer.allocate(8).order(order).putLong(tsoffset).array());
            }
            body.putInt(0);
            return block(PCAPNG_IDB, body);
        }

        Pcapng idb(int linkType) {
            return idb(linkType, 0, null, null, null);
        }

        /** An EPB; {@code flags} null: none; comments as opt_comment options. */
        Pcapng epb(int iface, long ticks, byte[] data, int originalLength, Integer flags, String... comments) {
            ByteBuffer body = buf(20 + data.length + 3 + 64 + Arrays.stream(comments).mapToInt(c -> c.length() * 4 + 8).sum());
            body.putInt(iface).putInt((int) (ticks >>> 32)).putInt((int) ticks).putInt(data.length).putInt(originalLength);
            body.put(data);
            pad(body);
            boolean options = flags != null || comments.length > 0;
            for (String c : comments) {
                option(body, 1, c.getBytes(StandardCharsets.UTF_8));
            }
            if (flags != null) {
                option(body, 2, ByteBuffer.allocate(4).order(order).putInt(flags).array());
            }
            if (options) {
                body.putInt(0);
            }
            return block(PCAPNG_EPB, body);
        }

        Pcapng epb(int iface, long ticks, byte[] data) {
            return epb(iface, ticks, data, data.length, null);
        }

        /** A Simple Packet Block: original length, then the data the writer kept. */
        Pcapng spb(int originalLength, byte[] data) {
            ByteBuffer body = buf(4 + data.length + 3);
            body.putInt(originalLength).put(data);
            pad(body);
            return block(PCAPNG_SPB, body);
        }

        /** The obsolete Packet Block: 16-bit interface id, drop count, then like an EPB. */
        Pcapng pb(int iface, long ticks, byte[] data, String comment) {
            ByteBuffer body = buf(20 + data.length + 3 + 16 + comment.length() * 4);
            body.putShort((short) iface).putShort((short) 0);
            body.putInt((int) (ticks >>> 32)).putInt((int) ticks).putInt(data.length).putInt(data.length);
            body.put(data);
            pad(body);
            option(body, 1, comment.getBytes(StandardCharsets.UTF_8));
            body.putInt(0);
            return block(PCAPNG_PB, body);
        }

        /** Any block with a body of {@code bodyLength} bytes of 0x5a (to be skipped). */
        Pcapng other(int type, int bodyLength) {
            ByteBuffer body = buf(bodyLength);
            Arrays.fill(body.array(), (byte) 0x5a);
            body.position(bodyLength);
            return block(type, body);
        }

        /** Raw bytes, for corrupt files. */
        Pcapng raw(byte[] bytes) {
            out.writeBytes(bytes);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }

        private ByteBuffer buf(int capacity) {
            return ByteBuffer.allocate(capacity).order(order);
        }

        private Pcapng block(int type, ByteBuffer body) {
            int bodyLength = body.position();
            if (bodyLength % 4 != 0) {
                throw new IllegalStateException("unpadded body");
            }
            ByteBuffer b = buf(12 + bodyLength);
            b.putInt(type).putInt(12 + bodyLength).put(body.array(), 0, bodyLength).putInt(12 + bodyLength);
            out.writeBytes(b.array());
            return this;
        }

        private static void option(ByteBuffer body, int code, byte[] value) {
            body.putShort((short) code).putShort((short) value.length).put(value);
            pad(body);
        }

        private static void pad(ByteBuffer body) {
            while (body.position() % 4 != 0) {
                body.put((byte) 0);
            }
        }
    }

    // ---- frames and IP packets ----

    /** A minimal IPv4/UDP packet (header checksum computed, UDP checksum 0: none). */
    static byte[] ipv4Udp(int sourcePort, int destinationPort, byte[] payload) {
        int total = 20 + 8 + payload.length;
        ByteBuffer b = ByteBuffer.allocate(total);
        b.put((byte) 0x45).put((byte) 0).putShort((short) total).putInt(0x12344000);
        b.put((byte) 64).put((byte) 17).putShort((short) 0);
        b.put(new byte[] {10, 0, 0, 1}).put(new byte[] {10, 0, 0, 2});
        b.putShort((short) sourcePort).putShort((short) destinationPort);
        b.putShort((short) (8 + payload.length)).putShort((short) 0);
        b.put(payload);
        byte[] p = b.array();
        int sum = 0;
        for (int i = 0; i < 20; i += 2) {
            sum += (p[i] & 0xff) << 8 | (p[i + 1] & 0xff);
        }
        sum = (sum & 0xffff) + (sum >>> 16);
        sum = (sum & 0xffff) + (sum >>> 16);
        int checksum = ~sum & 0xffff;
        p[10] = (byte) (checksum >>> 8);
        p[11] = (byte) checksum;
        return p;
    }

    /** A minimal IPv6/UDP packet (UDP checksum left 0: these tests never verify it). */
    static byte[] ipv6Udp(int sourcePort, int destinationPort, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(40 + 8 + payload.length);
        b.putInt(0x60000000).putShort((short) (8 + payload.length)).put((byte) 17).put((byte) 64);
        byte[] source = new byte[16];
        source[0] = (byte) 0xfd;
        source[15] = 1;
        byte[] destination = source.clone();
        destination[15] = 2;
        b.put(source).put(destination);
        b.putShort((short) sourcePort).putShort((short) destinationPort);
        b.putShort((short) (8 + payload.length)).putShort((short) 0);
        b.put(payload);
        return b.array();
    }

    static final byte[] MAC_A = {0x02, 0, 0, 0, 0, 0x0a};
    static final byte[] MAC_B = {0x02, 0, 0, 0, 0, 0x0b};

    /** Ethernet II: destination, source, then each tag (TPID, TCI) and the ethertype. */
    static byte[] ethernet(int ethertype, byte[] payload, int... tagTypes) {
        ByteBuffer b = ByteBuffer.allocate(14 + 4 * tagTypes.length + payload.length);
        b.put(MAC_B).put(MAC_A);
        for (int i = 0; i < tagTypes.length; i++) {
            b.putShort((short) tagTypes[i]).putShort((short) (100 + i));
        }
        b.putShort((short) ethertype).put(payload);
        return b.array();
    }

    /** LINUX_SLL: packet type, ARPHRD_ETHER, address length 6, address padded to 8, protocol. */
    static byte[] sll(int packetType, int protocol, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(16 + payload.length);
        b.putShort((short) packetType).putShort((short) 1).putShort((short) 6).put(MAC_A).putShort((short) 0);
        b.putShort((short) protocol).put(payload);
        return b.array();
    }

    /** LINUX_SLL2: protocol, reserved, interface index, ARPHRD_ETHER, packet type, address length 6, address. */
    static byte[] sll2(int protocol, int ifindex, int packetType, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(20 + payload.length);
        b.putShort((short) protocol).putShort((short) 0).putInt(ifindex).putShort((short) 1);
        b.put((byte) packetType).put((byte) 6).put(MAC_A).putShort((short) 0);
        b.put(payload);
        return b.array();
    }

    /** BSD loopback: the address family in {@code order}. */
    static byte[] loopback(int family, ByteOrder order, byte[] payload) {
        return ByteBuffer.allocate(4 + payload.length).order(order).putInt(family).put(payload).array();
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
