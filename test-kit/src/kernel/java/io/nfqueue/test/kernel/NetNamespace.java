package io.nfqueue.test.kernel;

import io.nfqueue.QueueOptions;
import io.nfqueue.internal.NetworkNamespaces;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A network namespace of a test's own: loopback up and nothing else, so the rules a test adds,
 * the queues it binds and the packets it sends touch nothing of the host's. {@link #close()}
 * deletes it with everything in it (links, rules, routes, sockets' addresses).
 *
 * <p>In a {@link KernelTest}, take one as a parameter; it is deleted after the test, passed or failed:
 *
 * <pre>{@code
 * @KernelTest
 * class MyFilterKernelTest {
 *     @Test
 *     void dropsPort9001(NetNamespace ns) throws Exception {
 *         ns.iptables("-A OUTPUT -p udp --dport 9001 -j NFQUEUE --queue-num 1");
 *         try (NetfilterQueue queue = NetfilterQueue.open(ns.queueOptions(1));
 *              DatagramChannel sink = ns.udpSocket("127.0.0.1", 9001);
 *              DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
 *             Udp.send(sender, "127.0.0.1", 9001, "hello");
 *             queue.poll(MyFilter::decide, Duration.ofSeconds(5));
 *             assertNull(Udp.receiveOne(sink, Duration.ofMillis(500)));
 *         }
 *     }
 * }
 * }</pre>
 *
 * or register one as a field (a new one per test, deleted after it):
 *
 * <pre>{@code
 * @RegisterExtension
 * final NetNamespace ns = NetNamespace.create()
 *         .withIptables("-A OUTPUT -p udp --dport 9000 -j NFQUEUE --queue-num 1");
 * }</pre>
 *
 * or make one anywhere and close it yourself: {@code try (NetNamespace ns = NetNamespace.create()) { ... }}.
 *
 * <p>What runs inside: commands ({@link #exec}, {@link #ip}), rules ({@link #iptables},
 * {@link #ip6tables}, {@link #nft}), a queue ({@link #queueOptions}, or {@link #path()} for
 * {@code QueueOptions.networkNamespace}), and sockets: {@link #udpSocket}, {@link #tcpServer},
 * {@link #tcpConnect}, or any code through {@link #call}. The sockets are opened by the test JVM
 * itself, by a thread that enters the namespace for the moment it creates them ({@code setns}
 * moves only the calling thread); they stay in the namespace and may be used from any thread.
 *
 * <p>Needs root (see {@link KernelTest}), the {@code ip} command (iproute2), and for rules
 * {@code iptables}/{@code ip6tables} or {@code nft}. Namespaces are named {@value #PREFIX}{@code PID-RANDOM}
 * ({@code ip netns list} shows them while they exist). Those still open when the JVM exits are
 * deleted by a shutdown hook; those left by a JVM that was killed are deleted when this class is
 * next loaded (their pid is gone).
 */
public final class NetNamespace implements AutoCloseable, AfterEachCallback {
    /** The start of every namespace's name, so that leftovers can be recognised. */
    public static final String PREFIX = "nfqt-";
    private static final Path NETNS_DIR = Path.of("/var/run/netns");
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

    /**
     * Makes a fresh namespace with loopback up.
     *
     * @throws IllegalStateException with the output of {@code ip} if it cannot be made (not root, ...)
     */
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
        if (!Files.isDirectory(NETNS_DIR)) {
            return;
        }
        try (var files = Files.list(NETNS_DIR)) {
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
        } catch (IOException | RuntimeException ignored) {
            // Best effort: a leftover only costs a little memory.
        }
    }

    /** The namespace's name, as {@code ip netns} knows it. */
    public String name() {
        return name;
    }

    /** The namespace file, {@code /var/run/netns/NAME}: what {@code QueueOptions.networkNamespace} takes. */
    public Path path() {
        return NETNS_DIR.resolve(name);
    }

    /**
     * Options of queue {@code number} bound inside this namespace, to refine further:
     * {@code QueueOptions.queue(number).networkNamespace(path())}. With the Reactor receiver:
     * {@code ReceiverOptions.queue(n).queueOptions(q -> q.networkNamespace(ns.path()))}.
     */
    public QueueOptions queueOptions(int number) {
        return QueueOptions.queue(number).networkNamespace(path());
    }

    /**
     * Runs a command inside the namespace ({@code ip netns exec NAME COMMAND...}) and returns its output.
     *
     * @throws IllegalStateException with the output if it fails or takes longer than 30 s
     */
    public String exec(String... command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(Arrays.asList(command));
        return Commands.run(full.toArray(new String[0]));
    }

    /** {@code ip ARGS} inside the namespace, e.g. {@code ns.ip("addr", "add", "10.0.0.1/24", "dev", "lo")} */
    public String ip(String... args) {
        List<String> full = new ArrayList<>(List.of("ip", "-n", name));
        full.addAll(Arrays.asList(args));
        return Commands.run(full.toArray(new String[0]));
    }

    /**
     * Adds an iptables rule inside the namespace: {@code RULE} as {@code iptables} takes it,
     * split at spaces, e.g. {@code "-A OUTPUT -p udp --dport 9000 -j NFQUEUE --queue-num 1"}.
     * The iptables {@code NFQUEUE} target works on every kernel with NFQUEUE, also with
     * Debian's nft-based iptables.
     */
    public void iptables(String rule) {
        Prerequisites.requireCommand("iptables", "iptables");
        exec(concat("iptables", "-w", rule.trim().split("\\s+")));
    }

    /** Adds an ip6tables rule inside the namespace (IPv6; see {@link #iptables}). */
    public void ip6tables(String rule) {
        Prerequisites.requireCommand("ip6tables", "iptables");
        exec(concat("ip6tables", "-w", rule.trim().split("\\s+")));
    }

    /**
     * Loads an nft script inside the namespace ({@code nft -f -}): whole tables, or single
     * commands, one per line.
     *
     * <pre>{@code
     * ns.nft("""
     *         table inet test {
     *             chain output {
     *                 type filter hook output priority 0; policy accept;
     *                 udp dport 9000 queue num 1
     *             }
     *         }
     *         """);
     * }</pre>
     *
     * nft's {@code queue} statement needs a kernel built with {@code CONFIG_NFT_QUEUE}; where it
     * is missing nft answers "Could not process rule: No such file or directory", and the
     * iptables {@code NFQUEUE} target ({@link #iptables}) is the way.
     */
    public void nft(String script) {
        Prerequisites.requireCommand("nft", "nftables");
        Commands.Result r = Commands.tryRunWithInput(List.of("ip", "netns", "exec", name, "nft", "-f", "-"), script);
        if (r.exitCode() != 0) {
            String hint = script.contains("queue") && r.output().contains("No such file or directory")
                    ? "\n(if the rule with 'queue' is the one refused: this kernel lacks CONFIG_NFT_QUEUE; "
                            + "use iptables' NFQUEUE target instead)"
                    : "";
            throw new IllegalStateException("nft failed (exit " + r.exitCode() + ") in " + name + " on:\n" + script
                    + "\n" + r.output() + hint);
        }
    }

    private static String[] concat(String a, String b, String[] rest) {
        String[] all = new String[rest.length + 2];
        all[0] = a;
        all[1] = b;
        System.arraycopy(rest, 0, all, 2, rest.length);
        return all;
    }

    /**
     * Runs {@code body} on this thread moved into the namespace, then moves the thread back.
     * Sockets it opens stay in the namespace; use them from any thread.
     */
    public <T> T call(Callable<T> body) {
        return NetworkNamespaces.callUnchecked(path(), body);
    }

    /**
     * A UDP socket inside the namespace bound to {@code address:port} (port 0: any free port),
     * IPv6 when the address has a colon; a receive buffer of 4 MiB (capped by
     * {@code net.core.rmem_max}) so that a sink read late does not drop what a queue let through.
     */
    public DatagramChannel udpSocket(String address, int port) {
        return call(() -> {
            StandardProtocolFamily family = address.contains(":") ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET;
            DatagramChannel ch = DatagramChannel.open(family);
            try {
                ch.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
                ch.bind(new InetSocketAddress(address, port));
                return ch;
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
        });
    }

    /**
     * A listening TCP socket inside the namespace bound to {@code address:port} (port 0: any free
     * port); accept with {@link Tcp#accept}.
     */
    public ServerSocketChannel tcpServer(String address, int port) {
        return call(() -> {
            ServerSocketChannel server = ServerSocketChannel.open();
            try {
                server.bind(new InetSocketAddress(address, port));
                return server;
            } catch (IOException | RuntimeException e) {
                server.close();
                throw e;
            }
        });
    }

    /**
     * A TCP connection from inside the namespace to {@code host:port}, in blocking mode.
     *
     * @throws IllegalStateException if it is not established within {@code timeout} (a queued
     *     SYN that got no verdict, or was dropped, is retried by the kernel for minutes otherwise)
     */
    public SocketChannel tcpConnect(String host, int port, Duration timeout) {
        return call(() -> {
            SocketChannel ch = SocketChannel.open();
            try (Selector selector = Selector.open()) {
                ch.configureBlocking(false);
                if (!ch.connect(new InetSocketAddress(host, port))) {
                    SelectionKey key = ch.register(selector, SelectionKey.OP_CONNECT);
                    long deadline = System.nanoTime() + timeout.toNanos();
                    while (!ch.finishConnect()) {
                        long left = (deadline - System.nanoTime()) / 1_000_000;
                        if (left <= 0) {
                            throw new IllegalStateException("no TCP connection to " + host + ":" + port + " in " + name
                                    + " within " + timeout);
                        }
                        selector.select(left);
                        selector.selectedKeys().clear();
                    }
                    key.cancel();
                    selector.selectNow();
                }
                ch.configureBlocking(true);
                return ch;
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
        });
    }

    /**
     * UDP datagrams this namespace dropped because a receiving socket's buffer was full
     * ({@code Udp: RcvbufErrors} of {@code /proc/net/snmp}, read from inside the namespace): what a
     * sink that was read too late lost, as opposed to what a queue lost.
     */
    public long udpReceiveBufferErrors() {
        return call(() -> {
            List<String> lines = Files.readAllLines(Path.of("/proc/thread-self/net/snmp"));
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
     * {@code localCidr}, {@code otherIf} there with {@code otherCidr}, both up; e.g.
     * {@code client.veth("c0", "10.0.0.1/24", server, "s0", "10.0.0.2/24")}.
     */
    public void veth(String localIf, String localCidr, NetNamespace other, String otherIf, String otherCidr) {
        ip("link", "add", localIf, "type", "veth", "peer", "name", otherIf, "netns", other.name);
        ip("addr", "add", localCidr, "dev", localIf);
        ip("link", "set", localIf, "up");
        other.ip("addr", "add", otherCidr, "dev", otherIf);
        other.ip("link", "set", otherIf, "up");
    }

    /** The interface index of {@code ifname} in this namespace (what {@code Packet.inDevice()} reports). */
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

    /** Adds an iptables rule and returns this; if the rule is refused, deletes the namespace and throws. */
    public NetNamespace withIptables(String rule) {
        return with(() -> iptables(rule));
    }

    /** Adds an ip6tables rule and returns this; if the rule is refused, deletes the namespace and throws. */
    public NetNamespace withIp6tables(String rule) {
        return with(() -> ip6tables(rule));
    }

    /** Loads an nft script ({@link #nft}) and returns this; if it is refused, deletes the namespace and throws. */
    public NetNamespace withNft(String script) {
        return with(() -> nft(script));
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

    /** As a registered extension ({@code @RegisterExtension} field): deletes the namespace after each test. */
    @Override
    public void afterEach(ExtensionContext context) {
        close();
    }

    /**
     * Deletes the namespace ({@code ip netns del}); what is inside goes with it once no socket
     * holds it any more. Closing again does nothing.
     *
     * @throws IllegalStateException if the namespace is still there afterwards
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Commands.Result r = Commands.tryRun("ip", "netns", "del", name);
        if (r.exitCode() != 0 && Files.exists(path())) {
            throw new IllegalStateException("cannot delete network namespace " + name + " (a JVM shutdown hook tries "
                    + "again): " + r.output());
        }
        LIVE.remove(name);
    }

    @Override
    public String toString() {
        return name;
    }
}
