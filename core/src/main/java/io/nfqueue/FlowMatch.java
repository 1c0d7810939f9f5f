package io.nfqueue;

import java.util.List;
import java.util.Objects;

/**
 * Which packets of a hook the flow rules of {@link FlowRules} take in: the same condition in
 * iptables' and in nft's words. Packets that do not match never reach the rules, so they are
 * neither queued nor decided by a connection mark. Immutable.
 *
 * <pre>{@code
 * FlowRules.forQueue(0).hook(Hook.LOCAL_IN).offload(flows).match(FlowMatch.tcpDestinationPort(443))
 * }</pre>
 *
 * <p>Without a match the rules take every packet of the hook: with no program bound and no
 * bypass, that includes new SSH connections.
 */
public final class FlowMatch {
    private final List<String> iptables;
    private final List<String> nft;

    private FlowMatch(List<String> iptables, List<String> nft) {
        this.iptables = List.copyOf(iptables);
        this.nft = List.copyOf(nft);
    }

    /** TCP to this destination port (1..65535). */
    public static FlowMatch tcpDestinationPort(int port) {
        checkPort(port);
        return new FlowMatch(List.of("-p", "tcp", "--dport", Integer.toString(port)),
                List.of("tcp", "dport", Integer.toString(port)));
    }

    /** UDP to this destination port (1..65535). */
    public static FlowMatch udpDestinationPort(int port) {
        checkPort(port);
        return new FlowMatch(List.of("-p", "udp", "--dport", Integer.toString(port)),
                List.of("udp", "dport", Integer.toString(port)));
    }

    /**
     * A condition of your own, given once per tool as argument words, e.g.
     * {@code custom(List.of("-i", "eth0"), List.of("iifname", "eth0"))}: nothing checks that the two
     * say the same, and iptables' words must suit ip6tables too.
     *
     * @throws IllegalArgumentException when either is empty or a word is blank or holds a line break
     */
    public static FlowMatch custom(List<String> iptablesArgs, List<String> nftWords) {
        checkWords("iptables", iptablesArgs);
        checkWords("nft", nftWords);
        return new FlowMatch(iptablesArgs, nftWords);
    }

    private static void checkPort(int port) {
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port must be 1..65535: " + port);
        }
    }

    private static void checkWords(String tool, List<String> words) {
        Objects.requireNonNull(words, tool);
        if (words.isEmpty()) {
            throw new IllegalArgumentException("the " + tool + " match is empty: leave the match out to take every packet");
        }
        for (String w : words) {
            if (w == null || w.isBlank() || w.indexOf('\n') >= 0 || w.indexOf('\r') >= 0) {
                throw new IllegalArgumentException("the " + tool + " match has a blank word or a line break: " + words);
            }
        }
    }

    /** The iptables (and ip6tables) arguments. */
    public List<String> iptablesArgs() {
        return iptables;
    }

    /** The nft words. */
    public List<String> nftWords() {
        return nft;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FlowMatch m && m.iptables.equals(iptables) && m.nft.equals(nft);
    }

    @Override
    public int hashCode() {
        return Objects.hash(iptables, nft);
    }

    @Override
    public String toString() {
        return "FlowMatch[iptables " + String.join(" ", iptables) + "; nft " + String.join(" ", nft) + "]";
    }
}
