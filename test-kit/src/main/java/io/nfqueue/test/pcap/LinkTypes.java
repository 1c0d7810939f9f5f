package io.nfqueue.test.pcap;

/**
 * The link-layer header types ({@code LINKTYPE_*} of tcpdump.org's list) that
 * {@link LinkLayerDecoder} turns into IP packets, and names for messages. The numbers are the
 * ones written in files, not the {@code DLT_*} values of a platform's headers.
 */
public final class LinkTypes {
    /** BSD loopback: a 4-byte address family in the byte order of the capturing host. */
    public static final int NULL = 0;
    /** Ethernet (also Linux's loopback device {@code lo}, with zero addresses). */
    public static final int ETHERNET = 1;
    /** Raw IP: no link header, IPv4 or IPv6 by the version nibble. What NFQUEUE delivers. */
    public static final int RAW = 101;
    /** OpenBSD loopback: like {@link #NULL} but the family is in network byte order. */
    public static final int LOOP = 108;
    /** Linux cooked capture v1, 16-byte header ({@code tcpdump -i any} before libpcap 1.10). */
    public static final int LINUX_SLL = 113;
    /** Raw IPv4, no link header. */
    public static final int IPV4 = 228;
    /** Raw IPv6, no link header. */
    public static final int IPV6 = 229;
    /** Linux cooked capture v2, 20-byte header with the interface index ({@code tcpdump -i any}). */
    public static final int LINUX_SLL2 = 276;

    private LinkTypes() {
    }

    /** The type's name and number, e.g. "ETHERNET (1)", or "LINKTYPE 105" for a type not listed here. */
    public static String name(int linkType) {
        String name = switch (linkType) {
            case NULL -> "NULL";
            case ETHERNET -> "ETHERNET";
            case RAW -> "RAW";
            case LOOP -> "LOOP";
            case LINUX_SLL -> "LINUX_SLL";
            case IPV4 -> "IPV4";
            case IPV6 -> "IPV6";
            case LINUX_SLL2 -> "LINUX_SLL2";
            default -> null;
        };
        return name == null ? "LINKTYPE " + linkType : name + " (" + linkType + ")";
    }
}
