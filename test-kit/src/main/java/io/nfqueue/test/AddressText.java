package io.nfqueue.test;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Address literals for the builders. Only literals: a test that names a host would otherwise
 * wait on DNS, and InetAddress.getByName looks up anything that is not one.
 */
final class AddressText {
    private static final Pattern DOTTED_QUAD = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    private AddressText() {
    }

    /** The 4 or 16 bytes of an IPv4 or IPv6 literal; "::ffff:a.b.c.d" stays 16 bytes (an IPv6 packet's address). */
    static byte[] parse(String text) {
        Objects.requireNonNull(text, "address");
        boolean v6 = text.indexOf(':') >= 0;
        if (!v6 && !DOTTED_QUAD.matcher(text).matches()) {
            throw new IllegalArgumentException("not an IPv4 or IPv6 address literal: \"" + text + "\"");
        }
        InetAddress address;
        try {
            // With a colon, or as a dotted quad, getByName parses and never looks up.
            address = InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IPv4 or IPv6 address literal: \"" + text + "\"", e);
        }
        byte[] raw = address.getAddress();
        if (v6 && address instanceof Inet4Address) {
            // The JDK turns ::ffff:a.b.c.d into an Inet4Address; the caller wrote an IPv6 address.
            byte[] mapped = new byte[16];
            mapped[10] = (byte) 0xFF;
            mapped[11] = (byte) 0xFF;
            System.arraycopy(raw, 0, mapped, 12, 4);
            return mapped;
        }
        return raw;
    }

    /** A copy of 4 or 16 address bytes. */
    static byte[] check(byte[] address) {
        Objects.requireNonNull(address, "address");
        if (address.length != 4 && address.length != 16) {
            throw new IllegalArgumentException("an address has 4 or 16 bytes, not " + address.length);
        }
        return address.clone();
    }
}
