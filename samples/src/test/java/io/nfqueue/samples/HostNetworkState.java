package io.nfqueue.samples;

import io.nfqueue.test.kernel.Commands;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a demo must leave as it found it in the host's own network namespace: the names of its
 * links and its whole ruleset (iptables, ip6tables, nft), with the counters and timestamps that
 * change on their own taken out, and the demo namespaces of one process.
 */
record HostNetworkState(Set<String> links, String ruleset) {

    static HostNetworkState read() {
        Set<String> links = new TreeSet<>();
        for (String line : Commands.run("ip", "-o", "link", "show").lines().toList()) {
            // "4: eth0@if5: <...>" -> "eth0"
            String name = line.split(":\\s+", 3)[1];
            links.add(name.contains("@") ? name.substring(0, name.indexOf('@')) : name);
        }
        String ruleset = normalize(Commands.run("iptables-save")) + "\n" + normalize(Commands.run("ip6tables-save"))
                + "\n" + normalize(Commands.run("nft", "list", "ruleset"));
        return new HostNetworkState(links, ruleset);
    }

    /** Drops "# Generated ... on <date>" lines and packet/byte counters, which change by themselves. */
    private static String normalize(String rules) {
        StringBuilder b = new StringBuilder();
        for (String line : rules.lines().toList()) {
            if (!line.startsWith("#")) {
                b.append(line.replaceAll("\\[\\d+:\\d+]", "[]").replaceAll("packets \\d+ bytes \\d+", "")).append('\n');
            }
        }
        return b.toString();
    }

    /** The demo namespaces of process {@code pid} that exist now. */
    static List<String> demoNamespacesOf(long pid) {
        String ours = DemoNamespace.PREFIX + pid + "-";
        return DemoNamespace.existing().stream().filter(n -> n.startsWith(ours)).toList();
    }
}
