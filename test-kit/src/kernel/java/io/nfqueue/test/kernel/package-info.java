/**
 * Kernel-level tests with JUnit 5: a real NFQUEUE, real rules and real sockets, each test in a
 * network namespace of its own that is deleted afterwards, whether the test passed or failed.
 *
 * <pre>{@code
 * @KernelTest
 * class PortFilterKernelTest {
 *     @Test
 *     void dropsWhatTheFilterRefuses(NetNamespace ns) throws Exception {
 *         ns.iptables("-A OUTPUT -p udp --dport 9000 -j NFQUEUE --queue-num 1");
 *         try (NetfilterQueue queue = NetfilterQueue.open(ns.queueOptions(1));
 *              DatagramChannel sink = ns.udpSocket("127.0.0.1", 9000);
 *              DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
 *             Udp.send(sender, "127.0.0.1", 9000, "allowed");
 *             Udp.send(sender, "127.0.0.1", 9000, "refused");
 *             queue.poll(packet -> myFilter.decide(packet), Duration.ofSeconds(5));
 *             assertEquals(List.of("allowed"), texts(Udp.receive(sink, 2, Duration.ofMillis(500), Duration.ofSeconds(5))));
 *         }
 *     }
 * }
 * }</pre>
 *
 * <ul>
 *   <li>{@link io.nfqueue.test.kernel.KernelTest}: the annotation; runs as root, skips elsewhere
 *       with the reason, fails instead with {@code -Dnfqueue.requireKernelTests=true};</li>
 *   <li>{@link io.nfqueue.test.kernel.NetNamespace}: the namespace: commands, iptables and nft
 *       rules, queue options, UDP and TCP sockets, veth links;</li>
 *   <li>{@link io.nfqueue.test.kernel.Udp}, {@link io.nfqueue.test.kernel.Tcp},
 *       {@link io.nfqueue.test.kernel.DatagramTally}: senders and sinks with bounded waits;</li>
 *   <li>{@link io.nfqueue.test.kernel.RoutedNamespaces}: client, router and server namespaces, for
 *       traffic that is forwarded;</li>
 *   <li>{@link io.nfqueue.test.kernel.KernelQueues}: the kernel's own view of the bound queues;</li>
 *   <li>{@link io.nfqueue.test.kernel.Commands}: host commands with a time bound.</li>
 * </ul>
 *
 * <p>Needs Linux, root, iproute2 ({@code ip}) and, for rules, iptables or nftables. The project's
 * own kernel tests are built on these same classes.
 */
package io.nfqueue.test.kernel;
