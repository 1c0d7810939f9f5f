package io.nfqueue.samples;

import io.nfqueue.Hook;
import io.nfqueue.Verdict;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The firewall's rules: one per line,
 * <pre>
 * accept|drop|mark=0xNN [proto tcp|udp|icmp|any] [src CIDR] [dst CIDR] [dport N[-M]] [sport N[-M]] [dir in|out|any]
 * </pre>
 * {@code #} starts a comment; blank lines are skipped. A missing field matches anything. The
 * first rule that matches a packet decides; none matching, the default does. {@code mark}
 * accepts the packet with that netfilter mark. {@code dir in} is PREROUTING and INPUT,
 * {@code out} is OUTPUT and POSTROUTING; forwarded packets match only {@code any}. A port
 * condition never matches a packet without ports (not TCP/UDP, or a later fragment); with
 * {@code proto icmp} it is refused, since it could never match.
 */
final class FirewallRules {
    /** What a rule does. */
    enum Action { ACCEPT, DROP, MARK }

    enum Direction { IN, OUT, ANY }

    /** A CIDR block: an address and a prefix length. */
    record Cidr(byte[] address, int prefix) {
        static Cidr parse(String text) {
            int slash = text.indexOf('/');
            String host = slash < 0 ? text : text.substring(0, slash);
            if (host.isEmpty() || !(host.indexOf(':') >= 0 || host.chars().allMatch(c -> c == '.' || Character.isDigit(c)))) {
                throw new IllegalArgumentException("not an IP address: '" + host + "'");
            }
            byte[] a;
            try {
                a = InetAddress.getByName(host).getAddress();   // a literal: no name look-up
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("not an IP address: '" + host + "'");
            }
            int prefix = a.length * 8;
            if (slash >= 0) {
                try {
                    prefix = Integer.parseInt(text.substring(slash + 1));
                } catch (NumberFormatException e) {
                    prefix = -1;
                }
                if (prefix < 0 || prefix > a.length * 8) {
                    throw new IllegalArgumentException("bad prefix length in '" + text + "' (0.." + a.length * 8 + ")");
                }
            }
            return new Cidr(a, prefix);
        }

        boolean contains(byte[] addr, int len) {
            if (len != address.length) {
                return false;
            }
            int full = prefix / 8;
            for (int i = 0; i < full; i++) {
                if (addr[i] != address[i]) {
                    return false;
                }
            }
            int rest = prefix % 8;
            if (rest == 0) {
                return true;
            }
            int mask = (0xFF << (8 - rest)) & 0xFF;
            return (addr[full] & mask) == (address[full] & mask);
        }

        @Override
        public String toString() {
            try {
                return (address.length == 16 ? AddressText.ipv6(address) : InetAddress.getByAddress(address).getHostAddress())
                        + "/" + prefix;
            } catch (UnknownHostException e) {
                return Arrays.toString(address) + "/" + prefix;
            }
        }
    }

    /** A port range, both ends included. */
    record Ports(int from, int to) {
        static Ports parse(String text) {
            int dash = text.indexOf('-');
            try {
                int a = Integer.parseInt(dash < 0 ? text : text.substring(0, dash));
                int b = dash < 0 ? a : Integer.parseInt(text.substring(dash + 1));
                if (a < 0 || b > 65535 || a > b) {
                    throw new IllegalArgumentException("bad port range '" + text + "' (0..65535, low-high)");
                }
                return new Ports(a, b);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a port or port range: '" + text + "'");
            }
        }

        boolean contains(int port) {
            return port >= from && port <= to;
        }
    }

    /** One rule and its counter. {@code protocols} empty means any. */
    record Rule(int line, String text, Action action, int mark, int[] protocols, Cidr src, Cidr dst, Ports sport,
                Ports dport, Direction dir, AtomicLong hits) {

        boolean matches(Flow f) {
            if (protocols.length > 0 && Arrays.stream(protocols).noneMatch(p -> p == f.protocol())) {
                return false;
            }
            if (src != null && !src.contains(f.source(), f.addressLength())) {
                return false;
            }
            if (dst != null && !dst.contains(f.destination(), f.addressLength())) {
                return false;
            }
            if (sport != null && (f.sourcePort() < 0 || !sport.contains(f.sourcePort()))) {
                return false;
            }
            if (dport != null && (f.destinationPort() < 0 || !dport.contains(f.destinationPort()))) {
                return false;
            }
            return switch (dir) {
                case ANY -> true;
                case IN -> f.hook() == Hook.PRE_ROUTING || f.hook() == Hook.LOCAL_IN;
                case OUT -> f.hook() == Hook.LOCAL_OUT || f.hook() == Hook.POST_ROUTING;
            };
        }

        Verdict verdict() {
            return switch (action) {
                case ACCEPT -> Verdict.accept();
                case DROP -> Verdict.drop();
                case MARK -> Verdict.accept().withMark(mark);
            };
        }
    }

    /**
     * A packet's 5-tuple and hook. Addresses are {@code addressLength} bytes (4 or 16; 0 when the
     * packet could not be parsed); ports -1 when it has none.
     */
    record Flow(int protocol, byte[] source, byte[] destination, int addressLength, int sourcePort,
                int destinationPort, Hook hook) {
    }

    private final List<Rule> rules;

    private FirewallRules(List<Rule> rules) {
        this.rules = List.copyOf(rules);
    }

    List<Rule> rules() {
        return rules;
    }

    /** The first rule that matches, or null. Counts the hit. */
    Rule match(Flow flow) {
        for (Rule r : rules) {
            if (r.matches(flow)) {
                r.hits().incrementAndGet();
                return r;
            }
        }
        return null;
    }

    /** Reads the rules file: any readable text file ({@code /dev/null}: no rules, the default decides). */
    static FirewallRules load(Path file) {
        return parse(file.toString(), TextFiles.readLines(file, "rules file"));
    }

    /** Parses the lines; a bad one is a {@link UsageException} naming {@code source} and its line number. */
    static FirewallRules parse(String source, List<String> lines) {
        List<Rule> rules = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int hash = line.indexOf('#');
            String text = (hash >= 0 ? line.substring(0, hash) : line).trim();
            if (text.isEmpty()) {
                continue;
            }
            try {
                rules.add(parseRule(i + 1, text));
            } catch (IllegalArgumentException e) {
                throw new UsageException(source + " line " + (i + 1) + ": " + e.getMessage());
            }
        }
        return new FirewallRules(rules);
    }

    private static Rule parseRule(int lineNumber, String text) {
        String[] w = text.split("\\s+");
        String act = w[0].toLowerCase(Locale.ROOT);
        Action action;
        int mark = 0;
        if (act.equals("accept")) {
            action = Action.ACCEPT;
        } else if (act.equals("drop")) {
            action = Action.DROP;
        } else if (act.startsWith("mark=")) {
            action = Action.MARK;
            mark = parseMark(act.substring(5));
        } else {
            throw new IllegalArgumentException("expected accept, drop or mark=0xNN first, not '" + w[0] + "'");
        }
        int[] protocols = {};
        Cidr src = null;
        Cidr dst = null;
        Ports sport = null;
        Ports dport = null;
        Direction dir = Direction.ANY;
        Set<String> seen = new HashSet<>();
        for (int j = 1; j < w.length; j += 2) {
            String key = w[j].toLowerCase(Locale.ROOT);
            if (j + 1 >= w.length) {
                throw new IllegalArgumentException("'" + w[j] + "' needs a value");
            }
            if (!seen.add(key)) {
                throw new IllegalArgumentException("'" + key + "' given twice");
            }
            String v = w[j + 1];
            switch (key) {
                case "proto" -> protocols = switch (v.toLowerCase(Locale.ROOT)) {
                    case "tcp" -> new int[] {6};
                    case "udp" -> new int[] {17};
                    case "icmp" -> new int[] {1, 58};
                    case "any" -> new int[] {};
                    default -> throw new IllegalArgumentException("proto must be tcp, udp, icmp or any, not '" + v + "'");
                };
                case "src" -> src = v.equalsIgnoreCase("any") ? null : Cidr.parse(v);
                case "dst" -> dst = v.equalsIgnoreCase("any") ? null : Cidr.parse(v);
                case "sport" -> sport = Ports.parse(v);
                case "dport" -> dport = Ports.parse(v);
                case "dir" -> dir = switch (v.toLowerCase(Locale.ROOT)) {
                    case "in" -> Direction.IN;
                    case "out" -> Direction.OUT;
                    case "any" -> Direction.ANY;
                    default -> throw new IllegalArgumentException("dir must be in, out or any, not '" + v + "'");
                };
                default -> throw new IllegalArgumentException("unknown field '" + w[j]
                        + "' (expected proto, src, dst, sport, dport or dir)");
            }
        }
        if ((sport != null || dport != null) && protocols.length > 0 && protocols[0] != 6 && protocols[0] != 17) {
            throw new IllegalArgumentException((dport != null ? "dport" : "sport") + " needs proto tcp, udp or any: "
                    + "ICMP has no ports, so this rule would never match");
        }
        if (src != null && dst != null && src.address().length != dst.address().length) {
            throw new IllegalArgumentException("src and dst are of different IP versions");
        }
        return new Rule(lineNumber, text, action, mark, protocols, src, dst, sport, dport, dir, new AtomicLong());
    }

    private static int parseMark(String v) {
        try {
            long m = v.startsWith("0x") || v.startsWith("0X") ? Long.parseLong(v.substring(2), 16) : Long.parseLong(v);
            if (m < 0 || m > 0xFFFFFFFFL) {
                throw new NumberFormatException();
            }
            return (int) m;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("mark must be a 32-bit number like 0x10, not '" + v + "'");
        }
    }
}
