package io.nfqueue.samples;

import io.nfqueue.Packet;
import io.nfqueue.PacketHandler;
import io.nfqueue.Verdict;
import io.nfqueue.packet.MalformedPacketException;
import io.nfqueue.packet.PacketParser;
import io.nfqueue.packet.UdpView;
import reactor.core.publisher.Flux;

import java.net.IDN;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Drops DNS queries (UDP to port 53) whose first question's name is a blocklisted name or ends
 * in "." plus one; accepts every other packet, including what does not parse.
 */
final class DnsBlocker implements PacketHandler {
    private final Set<String> blocked;
    private final String rejected;
    private final PacketParser parser = new PacketParser();
    final AtomicLong queries = new AtomicLong();
    final AtomicLong dropped = new AtomicLong();
    final AtomicLong other = new AtomicLong();

    DnsBlocker(Set<String> blocked) {
        this(blocked, "");
    }

    private DnsBlocker(Set<String> blocked, String rejected) {
        this.blocked = Set.copyOf(blocked);
        this.rejected = rejected;
    }

    /** Hosts-file entries for the machine itself, not names to block. */
    private static final Set<String> LOCAL_NAMES = Set.of("localhost", "localhost.localdomain", "local",
            "broadcasthost", "ip6-localhost", "ip6-loopback", "ip6-localnet", "ip6-mcastprefix", "ip6-allnodes",
            "ip6-allrouters", "ip6-allhosts", "0.0.0.0");
    private static final Pattern LABEL = Pattern.compile("[a-z0-9_-]{1,63}");
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    /**
     * A parsed blocklist: the names, and the lines that held something that is not a domain name
     * (how many, and the first of them, e.g. "line 3: '*.wild.test'").
     */
    record Blocklist(Set<String> names, int rejectedLines, String firstRejected) {
        /** "" or "; skipped 2 lines that are not domain names (first: line 3: '*.wild.test')". */
        String rejectedText() {
            return rejectedLines == 0 ? "" : "; skipped " + Main.count(rejectedLines, "line")
                    + " that " + (rejectedLines == 1 ? "is" : "are") + " not domain names (first: " + firstRejected + ")";
        }
    }

    /** Loads a blocklist file; refuses one that is not text or holds no name. */
    static DnsBlocker load(Path file) {
        return load(file, parseBlocklist(TextFiles.readLines(file, "blocklist")));
    }

    static DnsBlocker load(Path file, Blocklist list) {
        if (list.names().isEmpty()) {
            throw new UsageException("blocklist " + file + " holds no domain name" + list.rejectedText()
                    + ": expected one name a line (example.com) or hosts format (0.0.0.0 example.com)");
        }
        return new DnsBlocker(list.names(), list.rejectedText());
    }

    /**
     * One name a line (a plain domain list) or hosts format ({@code 0.0.0.0 example.com
     * www.example.com}: an IP address, then names); '#' starts a comment; case and a trailing dot
     * are ignored; international names are taken in their ASCII (punycode) form, as queries carry
     * them. A hosts file's entries for the machine itself (localhost, broadcasthost...) are left
     * out. What is not a name ({@code *.example.com}, {@code http://x.com}, {@code a b.com},
     * {@code example.com/path}, an address alone) is counted and skipped.
     */
    static Blocklist parseBlocklist(List<String> lines) {
        Set<String> names = new LinkedHashSet<>();
        int rejected = 0;
        String first = null;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int hash = line.indexOf('#');
            String text = (hash >= 0 ? line.substring(0, hash) : line).strip();
            if (text.isEmpty()) {
                continue;
            }
            String[] fields = text.split("\\s+");
            boolean hosts = isAddress(fields[0]);
            List<String> candidates = hosts ? Arrays.asList(fields).subList(1, fields.length) : Arrays.asList(fields);
            boolean bad = candidates.isEmpty() || (!hosts && fields.length > 1);
            if (!bad) {
                for (String c : candidates) {
                    String n = c.toLowerCase(Locale.ROOT);
                    if (hosts && LOCAL_NAMES.contains(n)) {
                        continue;
                    }
                    String name = domainName(n);
                    if (name == null) {
                        bad = true;
                    } else {
                        names.add(name);
                    }
                }
            }
            if (bad) {
                rejected++;
                if (first == null) {
                    first = "line " + (i + 1) + ": '" + text + "'";
                }
            }
        }
        return new Blocklist(names, rejected, first);
    }

    /** The name in the form queries carry it (lower case, ASCII, no trailing dot), or null when it is not one. */
    static String domainName(String text) {
        String n = text;
        while (n.endsWith(".")) {
            n = n.substring(0, n.length() - 1);
        }
        if (n.isEmpty()) {
            return null;
        }
        try {
            n = IDN.toASCII(n, IDN.ALLOW_UNASSIGNED).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (n.length() > 253) {
            return null;
        }
        String[] labels = n.split("\\.", -1);
        for (String label : labels) {
            if (!LABEL.matcher(label).matches()) {
                return null;
            }
        }
        // No top-level domain is all digits: "10.0.0.1" is an address, not a name.
        return labels[labels.length - 1].chars().allMatch(Character::isDigit) ? null : n;
    }

    private static boolean isAddress(String field) {
        if (IPV4.matcher(field).matches()) {
            return true;
        }
        if (field.indexOf(':') < 0 || !field.chars().allMatch(c -> c == ':' || c == '.' || Character.digit(c, 16) >= 0)) {
            return false;
        }
        try {
            InetAddress.getByName(field);   // a literal: no look-up
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** True when {@code name} or one of its parent domains is blocklisted. */
    boolean isBlocked(String name) {
        if (name == null) {
            return false;
        }
        String n = name;
        for (int i = 0; i < 128; i++) {   // at most 127 labels fit in 255 bytes
            if (blocked.contains(n)) {
                return true;
            }
            int dot = n.indexOf('.');
            if (dot < 0) {
                return false;
            }
            n = n.substring(dot + 1);
        }
        return false;
    }

    @Override
    public void handle(Packet packet) {
        String name = null;
        try {
            parser.parse(packet);
            if (parser.isUdp() && parser.destinationPort() == 53) {
                UdpView udp = parser.udp();
                name = DnsQuery.questionName(udp.buffer(), udp.payloadOffset(), udp.payloadLength());
            }
        } catch (MalformedPacketException e) {
            name = null;
        }
        if (name == null) {
            other.incrementAndGet();
            packet.accept();
            return;
        }
        queries.incrementAndGet();
        if (isBlocked(name)) {
            dropped.incrementAndGet();
            packet.drop();
        } else {
            packet.accept();
        }
    }

    /** What was skipped when the blocklist was read, for the banner: "" or "; skipped N lines ...". */
    String rejected() {
        return rejected;
    }

    /**
     * The blocker as a Reactor pipeline: each packet gets its verdict as it passes, on the receive
     * thread (one at a time, as the reused parser needs). The live command and its replay both run this.
     */
    Function<Flux<Packet>, Flux<Packet>> pipeline() {
        return packets -> packets.doOnNext(this::handle);
    }

    /** The dns-block command: its pipeline, default verdict (accept: what is not a blocked query passes), banner, counters. */
    SamplePipeline sample() {
        return new SamplePipeline("dns-block", pipeline(), Verdict.accept(), () -> report() + rejected, this::report);
    }

    String report() {
        return "queries " + queries.get() + ", blocked " + dropped.get() + ", other packets " + other.get()
                + " (blocklist: " + Main.count(blocked.size(), "name") + ")";
    }
}
