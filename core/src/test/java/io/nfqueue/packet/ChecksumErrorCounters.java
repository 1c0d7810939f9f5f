package io.nfqueue.packet;

import io.nfqueue.test.kernel.NetNamespace;

import java.util.List;

/**
 * A namespace's checksum error counters (UdpInCsumErrors, TcpInCsumErrors, Udp6InCsumErrors),
 * read from /proc/net/snmp and /proc/net/snmp6 inside it: the same numbers {@code nstat -az}
 * shows, without nstat's history file.
 */
record ChecksumErrorCounters(long udp, long tcp, long udp6) {
    static ChecksumErrorCounters read(NetNamespace ns) {
        List<String> snmp = ns.exec("cat", "/proc/net/snmp").lines().toList();
        String snmp6 = ns.exec("cat", "/proc/net/snmp6");
        return new ChecksumErrorCounters(field(snmp, "Udp:", "InCsumErrors"), field(snmp, "Tcp:", "InCsumErrors"),
                snmp6Field(snmp6, "Udp6InCsumErrors"));
    }

    /** /proc/net/snmp has a header line of names and a line of values per protocol. */
    private static long field(List<String> lines, String prefix, String name) {
        for (int i = 0; i + 1 < lines.size(); i++) {
            if (lines.get(i).startsWith(prefix) && lines.get(i + 1).startsWith(prefix)) {
                String[] names = lines.get(i).split("\\s+");
                String[] values = lines.get(i + 1).split("\\s+");
                for (int k = 1; k < names.length; k++) {
                    if (names[k].equals(name)) {
                        return Long.parseLong(values[k]);
                    }
                }
            }
        }
        throw new IllegalStateException(prefix + name + " not in /proc/net/snmp");
    }

    private static long snmp6Field(String text, String name) {
        return text.lines().map(l -> l.split("\\s+")).filter(f -> f[0].equals(name))
                .mapToLong(f -> Long.parseLong(f[1])).findFirst()
                .orElseThrow(() -> new IllegalStateException(name + " not in /proc/net/snmp6"));
    }

    ChecksumErrorCounters minus(ChecksumErrorCounters before) {
        return new ChecksumErrorCounters(udp - before.udp, tcp - before.tcp, udp6 - before.udp6);
    }
}
