package io.nfqueue.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(30)
class PacketSummaryTest {
    private static final int TCP = 6;
    private static final int UDP = 17;
    private static final int ICMP = 1;
    private static final int ICMPV6 = 58;

    @Test
    void ipv4Udp() {
        byte[] p = ipv4(UDP, new byte[] {10, 0, 0, 1}, new byte[] {10, 0, 0, 2}, ports(40000, 53), 8);
        String s = PacketSummary.describe(7, 1, "LOCAL_OUT", 0x0800, p, p.length);
        assertEquals("#7 q1 LOCAL_OUT UDP 10.0.0.1:40000 -> 10.0.0.2:53 len=" + p.length, s);
    }

    @Test
    void ipv4TcpWithOptionsUsesTheHeaderLength() {
        byte[] p = ipv4(TCP, new byte[] {(byte) 192, (byte) 168, 1, 10}, new byte[] {1, 2, 3, 4}, ports(443, 51000), 20);
        // Grow the IP header to 24 bytes (IHL 6) with a NOP option in front of TCP.
        byte[] withOptions = new byte[p.length + 4];
        System.arraycopy(p, 0, withOptions, 0, 20);
        withOptions[0] = 0x46;
        withOptions[20] = 1;
        System.arraycopy(p, 20, withOptions, 24, p.length - 20);
        String s = PacketSummary.describe(1, 0, "PRE_ROUTING", 0x0800, withOptions, withOptions.length);
        assertTrue(s.contains("TCP 192.168.1.10:443 -> 1.2.3.4:51000"), s);
    }

    @Test
    void ipv4Icmp() {
        byte[] p = ipv4(ICMP, new byte[] {127, 0, 0, 1}, new byte[] {127, 0, 0, 2}, new byte[] {8, 0, 0, 0}, 8);
        String s = PacketSummary.describe(2, 3, "LOCAL_OUT", 0x0800, p, p.length);
        assertTrue(s.contains("ICMP 127.0.0.1 -> 127.0.0.2 type=8 code=0"), s);
    }

    @Test
    void ipv4LaterFragmentHasNoPorts() {
        byte[] p = ipv4(UDP, new byte[] {10, 0, 0, 1}, new byte[] {10, 0, 0, 2}, ports(1, 2), 8);
        p[6] = 0;
        p[7] = 10; // fragment offset 80 bytes: what follows is not a UDP header
        String s = PacketSummary.describe(2, 3, "LOCAL_OUT", 0x0800, p, p.length);
        assertTrue(s.contains("UDP 10.0.0.1 -> 10.0.0.2"), s);
    }

    @Test
    void ipv6Udp() {
        byte[] p = ipv6(UDP, ports(5000, 6000), 8);
        String s = PacketSummary.describe(9, 2, "LOCAL_OUT", 0x86DD, p, p.length);
        assertTrue(s.contains("UDP [2001:db8:0:0:0:0:0:1]:5000 -> [2001:db8:0:0:0:0:0:2]:6000"), s);
        assertTrue(s.endsWith("len=" + p.length), s);
    }

    @Test
    void ipv6Tcp() {
        byte[] p = ipv6(TCP, ports(22, 60000), 20);
        String s = PacketSummary.describe(9, 2, "FORWARD", 0x86DD, p, p.length);
        assertTrue(s.contains("TCP [2001:db8:0:0:0:0:0:1]:22 -> [2001:db8:0:0:0:0:0:2]:60000"), s);
    }

    @Test
    void ipv6Icmp() {
        byte[] p = ipv6(ICMPV6, new byte[] {(byte) 128, 0, 0, 0}, 8);
        String s = PacketSummary.describe(9, 2, "LOCAL_OUT", 0x86DD, p, p.length);
        assertTrue(s.contains("ICMPv6") && s.contains("type=128 code=0"), s);
    }

    @Test
    void metadataOnlyAndShortInputs() {
        assertTrue(PacketSummary.describe(1, 1, "LOCAL_IN", 0x0800, null, 60).contains("metadata only"));
        assertTrue(PacketSummary.describe(1, 1, "LOCAL_IN", 0x0800, new byte[0], 0).contains("non-IP"));
        assertTrue(PacketSummary.describe(1, 1, "LOCAL_IN", 0x0800, new byte[] {0x45, 0, 0}, 3).contains("short"));
        assertTrue(PacketSummary.describe(1, 1, "LOCAL_IN", 0x86DD, new byte[20], 20).contains("non-IP"));
        byte[] shortV6 = new byte[39];
        shortV6[0] = 0x60;
        assertTrue(PacketSummary.describe(1, 1, "LOCAL_IN", 0x86DD, shortV6, 39).contains("short"));
        // A header that promises ports the bytes do not hold.
        byte[] cut = ipv4(UDP, new byte[] {1, 1, 1, 1}, new byte[] {2, 2, 2, 2}, new byte[0], 0);
        String s = PacketSummary.describe(1, 1, "LOCAL_IN", 0x0800, cut, 40);
        assertTrue(s.contains("UDP 1.1.1.1 -> 2.2.2.2"), s);
    }

    @Test
    void garbageNeverThrows() {
        Random random = new Random(1234);
        for (int i = 0; i < 20_000; i++) {
            byte[] p = new byte[random.nextInt(80)];
            random.nextBytes(p);
            if (p.length > 0 && random.nextBoolean()) {
                // Make many of them look like IP to reach the header parsing.
                p[0] = (byte) ((random.nextBoolean() ? 0x40 : 0x60) | (p[0] & 0x0f));
            }
            String s = PacketSummary.describe(random.nextInt(), random.nextInt(65536), "LOCAL_IN",
                    random.nextInt(65536), p, random.nextInt());
            assertTrue(s.startsWith("#"), s);
        }
    }

    private static byte[] ports(int src, int dst) {
        return new byte[] {(byte) (src >> 8), (byte) src, (byte) (dst >> 8), (byte) dst};
    }

    /** An IPv4 header (no options) and a transport header of {@code l4Length} bytes starting with {@code l4Start}. */
    private static byte[] ipv4(int proto, byte[] src, byte[] dst, byte[] l4Start, int l4Length) {
        byte[] p = new byte[20 + Math.max(l4Length, l4Start.length)];
        p[0] = 0x45;
        p[2] = (byte) (p.length >> 8);
        p[3] = (byte) p.length;
        p[8] = 64;
        p[9] = (byte) proto;
        System.arraycopy(src, 0, p, 12, 4);
        System.arraycopy(dst, 0, p, 16, 4);
        System.arraycopy(l4Start, 0, p, 20, l4Start.length);
        return p;
    }

    /** 2001:db8::1 -> 2001:db8::2. */
    private static byte[] ipv6(int next, byte[] l4Start, int l4Length) {
        byte[] p = new byte[40 + Math.max(l4Length, l4Start.length)];
        p[0] = 0x60;
        p[4] = (byte) ((p.length - 40) >> 8);
        p[5] = (byte) (p.length - 40);
        p[6] = (byte) next;
        p[7] = 64;
        for (int base : new int[] {8, 24}) {
            p[base] = 0x20;
            p[base + 1] = 0x01;
            p[base + 2] = 0x0d;
            p[base + 3] = (byte) 0xb8;
        }
        p[23] = 1;
        p[39] = 2;
        System.arraycopy(l4Start, 0, p, 40, l4Start.length);
        return p;
    }
}
