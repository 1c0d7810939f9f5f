package io.nfqueue.packet;

/**
 * IP protocol numbers (IANA "Assigned Internet Protocol Numbers"): the IPv4 protocol field and
 * the IPv6 next-header values this package knows.
 */
public final class IpProtocols {
    /** IPv6 hop-by-hop options header (only directly after the IPv6 header). */
    public static final int HOP_BY_HOP = 0;
    public static final int ICMP = 1;
    public static final int TCP = 6;
    public static final int UDP = 17;
    /** IPv6 routing header. */
    public static final int ROUTING = 43;
    /** IPv6 fragment header. */
    public static final int FRAGMENT = 44;
    /** Encapsulating security payload: opaque, parsing stops here. */
    public static final int ESP = 50;
    /** Authentication header. */
    public static final int AH = 51;
    public static final int ICMPV6 = 58;
    /** IPv6 "no next header": nothing follows. */
    public static final int NO_NEXT_HEADER = 59;
    /** IPv6 destination options header. */
    public static final int DESTINATION_OPTIONS = 60;

    private IpProtocols() {
    }

    /** A short name for logs: "TCP", "UDP", ..., or the number. */
    public static String name(int protocol) {
        switch (protocol) {
            case HOP_BY_HOP: return "HOPOPT";
            case ICMP: return "ICMP";
            case TCP: return "TCP";
            case UDP: return "UDP";
            case ROUTING: return "IPv6-Route";
            case FRAGMENT: return "IPv6-Frag";
            case ESP: return "ESP";
            case AH: return "AH";
            case ICMPV6: return "ICMPv6";
            case NO_NEXT_HEADER: return "IPv6-NoNxt";
            case DESTINATION_OPTIONS: return "IPv6-Opts";
            default: return Integer.toString(protocol);
        }
    }
}
