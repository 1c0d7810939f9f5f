package io.nfqueue.samples;

import io.nfqueue.Packet;
import io.nfqueue.PacketHandler;
import io.nfqueue.packet.MalformedPacketException;
import io.nfqueue.packet.PacketParser;
import io.nfqueue.packet.UdpView;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Drops DNS queries (UDP to port 53) whose first question's name is a blocklisted name or ends
 * in "." plus one; accepts every other packet, including what does not parse.
 */
final class DnsBlocker implements PacketHandler {
    private final Set<String> blocked;
    private final PacketParser parser = new PacketParser();
    final AtomicLong queries = new AtomicLong();
    final AtomicLong dropped = new AtomicLong();
    final AtomicLong other = new AtomicLong();

    DnsBlocker(Set<String> blocked) {
        this.blocked = Set.copyOf(blocked);
    }

    static DnsBlocker load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new UsageException("no blocklist file at " + file);
        }
        try {
            return new DnsBlocker(parseBlocklist(Files.readAllLines(file)));
        } catch (IOException e) {
            throw new UsageException("cannot read blocklist " + file + ": " + e.getMessage());
        }
    }

    /** One name per line; '#' comments; case and a trailing dot ignored. */
    static Set<String> parseBlocklist(List<String> lines) {
        Set<String> names = new HashSet<>();
        for (String line : lines) {
            int hash = line.indexOf('#');
            String n = (hash >= 0 ? line.substring(0, hash) : line).trim().toLowerCase(Locale.ROOT);
            while (n.endsWith(".")) {
                n = n.substring(0, n.length() - 1);
            }
            if (!n.isEmpty()) {
                names.add(n);
            }
        }
        return names;
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

    String report() {
        return "queries " + queries.get() + ", blocked " + dropped.get() + ", other packets " + other.get()
                + " (blocklist: " + blocked.size() + " names)";
    }
}
