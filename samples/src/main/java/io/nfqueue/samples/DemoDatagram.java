package io.nfqueue.samples;

import java.nio.charset.StandardCharsets;

/** Reads the number out of a demo datagram ("demo-17") seen as a whole IPv4 packet. */
final class DemoDatagram {
    private static final String PREFIX = "demo-";
    private static final int UDP = 17;
    private static final int UDP_HEADER = 8;

    private DemoDatagram() {
    }

    /** The datagram's number, or -1 if the packet is not an IPv4 UDP demo datagram. */
    static int number(byte[] ip) {
        if (ip.length < 20 || (ip[0] & 0xf0) != 0x40 || (ip[9] & 0xff) != UDP) {
            return -1;
        }
        int data = (ip[0] & 0x0f) * 4 + UDP_HEADER;
        if (data >= ip.length) {
            return -1;
        }
        String text = new String(ip, data, ip.length - data, StandardCharsets.US_ASCII);
        if (!text.startsWith(PREFIX)) {
            return -1;
        }
        try {
            return Integer.parseInt(text.substring(PREFIX.length()));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
