package io.nfqueue.testing;

import io.nfqueue.internal.NetworkNamespaces;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A network namespace made for a test: loopback up, rules and links added through it, and
 * removed (with everything inside it: links, rules, queues' packets) by {@link #close()}, by a
 * JVM shutdown hook if a test dies first, and by the next run if the JVM was killed.
 *
 * <pre>{@code
 * try (NetNamespace ns = NetNamespace.create()) {
 *     ns.iptables("-A OUTPUT -p udp --dport 9000 -j NFQUEUE --queue-num 1");
 *     DatagramChannel sink = ns.udpSocket("127.0.0.1", 9000);
 * }
 * }</pre>
 *
 * <p>In a test class, a field registered as an extension gives each test a namespace of its own
 * (JUnit makes a new instance per test) and removes it after the test:
 *
 * <pre>{@code
 * @RegisterExtension
 * final NetNamespace ns = NetNamespace.create()
 *         .withIptables("-A OUTPUT -p udp --dport 9000 -j NFQUEUE --queue-num 1");
 * }</pre>
 */
public final class NetNamespace implements AutoCloseable, AfterEachCallback {
    /** Every namespace the tests make starts with this, so leftovers can be found. */
    public static final String PREFIX = "nfqt-";
    private static final Set<String> LIVE = ConcurrentHashMap.newKeySet();

    static {
        removeLeftovers();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (String name : LIVE) {
                Commands.tryRun("ip", "netns", "del", name);
            }
        }, "nfqt-netns-cleanup"));
    }

    private final String name;
    private volatile boolean closed;

    private NetNamespace(String name) {
        this.name = name;
    }

    /** Makes a fresh namespace with loopback up. */
    public static NetNamespace create() {
        String name = PREFIX + ProcessHandle.current().pid() + "-"
                + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
        Commands.run("ip", "netns", "add", name);
        LIVE.add(name);
        NetNamespace ns = new NetNamespace(name);
        try {
            ns.ip("link", "set", "lo", "up");
        } catch (RuntimeException e) {
            ns.close();
            throw e;
        }
        return ns;
    }

    /** Namespaces left by a run that was killed (their owner pid is gone). */
    private static void removeLeftovers() {
        Path dir = Paths.get("/var/run/netns");
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (var files = Files.list(dir)) {
            files.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith(PREFIX))
                    .filter(n -> {
                        String[] parts = n.substring(PREFIX.length()).split("-");
                        try {
                            return ProcessHandle.of(Long.parseLong(parts[0])).isEmpty();
                        } catch (NumberFormatException e) {
                            return false;
                        }
                    })
                    .forEach(n -> Commands.tryRun("ip", "netns", "del", n));
        } catch (Exception ignored) {
            // Best effort: a leftover only costs a little memory.
        }
    }

    public String name() {
        return name;
    }

    /** The namespace file, for {@code QueueOptions.networkNamespace}. */
    public Path path() {
        return Paths.get("/var/run/netns", name);
    }

    /** Runs a command inside the namespace; throws with its output on failure. */
    public String exec(String... command) {
        String[] full = new String[command.length + 4];
        full[0] = "ip";
        full[1] = "netns";
        full[2] = "exec";
        full[3] = name;
        System.arraycopy(command, 0, full, 4, command.length);
        return Commands.run(full);
    }

    /** {@code ip ARGS} inside the namespace. */
    public String ip(String... args) {
        String[] full = new String[args.length + 3];
        full[0] = "ip";
        full[1] = "-n";
        full[2] = name;
        full[3] = args[0];
        System.arraycopy(args, 1, full, 4, args.length - 1);
        return Commands.run(full);
    }

    /** {@code iptables RULE} inside the namespace, e.g. "-A OUTPUT -p udp --dport 9000 -j NFQUEUE --queue-num 1". */
    public void iptables(String rule) {
        exec(concat("iptables", "-w", rule.trim().split("\\s+")));
    }

    /** {@code ip6tables RULE} inside the namespace. */
    public void ip6tables(String rule) {
        exec(concat("ip6tables", "-w", rule.trim().split("\\s+")));
    }

    private static String[] concat(String a, String b, String[] rest) {
        String[] all = new String[rest.length + 2];
        all[0] = a;
        all[1] = b;
        System.arraycopy(rest, 0, all, 2, rest.length);
        return all;
    }

    /** Runs {@code body} on this thread moved into the namespace; sockets it opens stay there. */
    public <T> T call(Callable<T> body) {
        return NetworkNamespaces.callUnchecked(path(), body);
    }

    /** A UDP socket inside the namespace bound to {@code address:port} (port 0: any). */
    public DatagramChannel udpSocket(String address, int port) {
        return call(() -> {
            StandardProtocolFamily family = address.contains(":") ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET;
            DatagramChannel ch = DatagramChannel.open(family);
            // A sink that a loaded machine reads late must not drop what the queue let through:
            // ask for 4 MiB (capped by net.core.rmem_max).
            ch.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
            ch.bind(new InetSocketAddress(address, port));
            return ch;
        });
    }

    /**
     * UDP datagrams this namespace dropped because a receiving socket's buffer was full
     * ({@code Udp: RcvbufErrors} of {@code /proc/net/snmp}, read from inside the namespace): what a
     * sink that was read too late lost, as opposed to what the queue lost.
     */
    public long udpReceiveBufferErrors() {
        return call(() -> {
            List<String> lines = Files.readAllLines(Paths.get("/proc/thread-self/net/snmp"));
            String[] names = null;
            for (String line : lines) {
                if (!line.startsWith("Udp: ")) {
                    continue;
                }
                String[] fields = line.substring(5).trim().split("\\s+");
                if (names == null) {
                    names = fields;
                    continue;
                }
                for (int i = 0; i < names.length; i++) {
                    if (names[i].equals("RcvbufErrors")) {
                        return Long.parseLong(fields[i]);
                    }
                }
            }
            throw new IllegalStateException("no Udp RcvbufErrors in /proc/net/snmp");
        });
    }

    /**
     * Links this namespace to {@code other} with a veth pair, {@code localIf} here with
     * {@code localCidr}, {@code otherIf} there with {@code otherCidr}, both up.
     */
    public void veth(String localIf, String localCidr, NetNamespace other, String otherIf, String otherCidr) {
        ip("link", "add", localIf, "type", "veth", "peer", "name", otherIf, "netns", other.name);
        ip("addr", "add", localCidr, "dev", localIf);
        ip("link", "set", localIf, "up");
        other.ip("addr", "add", otherCidr, "dev", otherIf);
        other.ip("link", "set", otherIf, "up");
    }

    /** The interface index of {@code ifname} in this namespace. */
    public int ifIndex(String ifname) {
        String out = ip("-o", "link", "show", "dev", ifname);
        return Integer.parseInt(out.substring(0, out.indexOf(':')).trim());
    }

    /** The MAC address of {@code ifname} in this namespace, as bytes. */
    public byte[] macAddress(String ifname) {
        String out = ip("-o", "link", "show", "dev", ifname);
        int at = out.indexOf("link/ether ");
        String mac = out.substring(at + "link/ether ".length()).split("\\s+")[0];
        String[] parts = mac.split(":");
        byte[] b = new byte[parts.length];
        for (int i = 0; i < parts.length; i++) {
            b[i] = (byte) Integer.parseInt(parts[i], 16);
        }
        return b;
    }

    /** Turns on IPv4 and IPv6 forwarding in this namespace (a router between two others). */
    public void enableForwarding() {
        exec("sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        exec("sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1");
    }

    /** Adds an iptables rule and returns this; if the rule is refused, removes the namespace. */
    public NetNamespace withIptables(String rule) {
        return with(() -> iptables(rule));
    }

    /** Adds an ip6tables rule and returns this; if the rule is refused, removes the namespace. */
    public NetNamespace withIp6tables(String rule) {
        return with(() -> ip6tables(rule));
    }

    private NetNamespace with(Runnable step) {
        try {
            step.run();
            return this;
        } catch (RuntimeException | Error e) {
            close(); // a field initializer that throws leaves nobody to close it
            throw e;
        }
    }

    /** As a registered extension: removes the namespace after each test. */
    @Override
    public void afterEach(ExtensionContext context) {
        close();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Commands.tryRun("ip", "netns", "del", name);
        LIVE.remove(name);
    }

    @Override
    public String toString() {
        return name;
    }
}
