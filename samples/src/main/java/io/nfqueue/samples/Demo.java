package io.nfqueue.samples;

import io.nfqueue.FlowRules;
import io.nfqueue.NetfilterQueue;
import io.nfqueue.QueueCounters;
import io.nfqueue.QueueOptions;
import io.nfqueue.QueueStats;
import io.nfqueue.reactor.PacketReceiver;
import reactor.core.Disposable;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The self-contained demo. As root, with no network set-up from the user, it
 * <ol>
 *   <li>makes a client and a server network namespace joined by a veth pair, with four client
 *       addresses ({@link DemoNetwork}, {@link DemoScenario});</li>
 *   <li>adds, in the server's namespace, {@code iptables -A INPUT -i demo-s -p udp -j NFQUEUE
 *       --queue-num 7 --queue-bypass};</li>
 *   <li>binds queue 7 there through a Reactor {@link PacketReceiver}
 *       ({@code QueueOptions.networkNamespace}), without moving the process, and gives each
 *       packet the verdict of the {@link Firewall} (three rules) and then of the per-source
 *       {@link RateLimiter} ({@link FirewallThenLimiter});</li>
 *   <li>starts a UDP server ({@link UdpSink}) in the server namespace and a client
 *       ({@link UdpTrafficGenerator}) in the client namespace that sends five flows from four
 *       addresses, one of them over the rate limit;</li>
 *   <li>shows live counters every second (packets seen, accepted, dropped, per-rule hits,
 *       rate-limited, packets/s, the kernel's line for the queue), then a summary with what
 *       the client sent and the server received per flow and the kernel's and the library's
 *       counters;</li>
 *   <li>removes everything it made (child processes, the queue binding, both namespaces and with
 *       them the link and the rule) on a normal end, on failure, and on Ctrl-C
 *       ({@link Cleanup}).</li>
 * </ol>
 * No traffic leaves the demo's namespaces, and nothing is added to the host's.
 */
public final class Demo {
    static final Duration REFRESH = Duration.ofSeconds(1);
    /** Time allowed for a child JVM to start and bind its sockets. */
    private static final Duration START_LIMIT = Duration.ofSeconds(20);
    /** Time allowed, beyond the duration, for the client to finish sending on a busy machine. */
    private static final Duration FINISH_GRACE = Duration.ofSeconds(15);
    /** Time allowed for the server to report once it was told the client is done. */
    private static final Duration REPORT_LIMIT = Duration.ofSeconds(10);
    /** Time allowed for the last packets' verdicts to reach the kernel. */
    private static final Duration SETTLE_LIMIT = Duration.ofSeconds(2);

    private Demo() {
    }

    /**
     * Runs the demo, sending traffic for {@code duration}, and returns what it saw.
     *
     * @param ansi redraw the live display in place (stdout is a terminal)
     * @throws Privileges.MissingRootException without CAP_NET_ADMIN and CAP_SYS_ADMIN
     * @throws InterruptedException            when stopped by Ctrl-C (everything is removed first)
     */
    public static DemoSummary run(Duration duration, boolean ansi, PrintStream out) throws InterruptedException {
        return run(duration, ansi, out, false, () -> { });
    }

    /**
     * As {@link #run(Duration, boolean, PrintStream)}; with {@code flowOffload} the firewall decides
     * each connection on its first packet ({@code acceptFlow}/{@code dropFlow}), the server namespace
     * gets the flow offload rules of {@link io.nfqueue.FlowRules} instead of the plain queue rule,
     * the rate limiter is left out, and the display shows how many packets reached the queue
     * against how many the flows' rules passed or dropped without it (their iptables counters).
     */
    public static DemoSummary run(Duration duration, boolean ansi, PrintStream out, boolean flowOffload)
            throws InterruptedException {
        return run(duration, ansi, out, flowOffload, () -> { });
    }

    /**
     * As {@link #run(Duration, boolean, PrintStream)}; {@code onceRunning} runs once, after the
     * first refresh of the display, while traffic flows through the queue. Tests throw from it
     * to check that a failure part-way removes everything.
     */
    static DemoSummary run(Duration duration, boolean ansi, PrintStream out, Runnable onceRunning)
            throws InterruptedException {
        return run(duration, ansi, out, false, onceRunning);
    }

    static DemoSummary run(Duration duration, boolean ansi, PrintStream out, boolean flowOffload, Runnable onceRunning)
            throws InterruptedException {
        Privileges.require("CAP_NET_ADMIN and CAP_SYS_ADMIN, to make network namespaces and bind a queue",
                Privileges.CAP_NET_ADMIN, Privileges.CAP_SYS_ADMIN);
        try (Cleanup cleanup = new Cleanup(out)) {
            try {
                return runInside(cleanup, duration, ansi, out, flowOffload, onceRunning);
            } catch (RuntimeException e) {
                if (cleanup.stopping()) {
                    // Ctrl-C pulled the namespaces and processes from under a step: not a failure of its own.
                    throw new InterruptedException("stopped");
                }
                throw e;
            }
        }
    }

    /** The demo's steps; everything they make is registered with {@code cleanup}. */
    private static DemoSummary runInside(Cleanup cleanup, Duration duration, boolean ansi, PrintStream out,
                                         boolean flowOffload, Runnable onceRunning) throws InterruptedException {
        DemoNetwork net = cleanup.make("remove the demo's namespaces", () -> DemoNetwork.create(!flowOffload), n -> {
            n.delete();
            out.println("removed network namespaces " + n.describe() + ", and with them the link and the rule");
        });
        String server = net.server().name();
        printSetUp(net, flowOffload, out);
        if (flowOffload) {
            installFlowRules(net, out);
        }

        FirewallThenLimiter policy = DemoScenario.policy(System::nanoTime, flowOffload);
        DemoCounters counters = new DemoCounters();
        PacketReceiver receiver = PacketReceiver.create(DemoScenario.receiverOptions()
                .queueOptions(o -> flowOffload ? o.networkNamespace(net.server().path()).flowOffload(DemoScenario.FLOW_MARKS)
                        : o.networkNamespace(net.server().path())));
        AtomicReference<Throwable> failure = new AtomicReference<>();
        // Subscribing binds the queue on this thread; a failed bind arrives at once as an error.
        Disposable running = cleanup.make("unbind queue " + DemoScenario.QUEUE,
                () -> receiver.process(policy::decide).subscribe(counters::count, failure::set), Disposable::dispose);
        throwIfFailed(failure);
        out.println("bound queue " + DemoScenario.QUEUE + " in " + server + " through a Reactor PacketReceiver; "
                + (flowOffload ? "each connection's first packet: firewall, acceptFlow or dropFlow"
                : "each packet: firewall, then rate limiter"));

        long maxSeconds = duration.plus(START_LIMIT).plus(FINISH_GRACE).plus(REPORT_LIMIT).toSeconds();
        ChildJvm sink = cleanup.make("stop the server", () -> ChildJvm.start("server", net.server(), UdpSink.class,
                sinkArgs(maxSeconds)), ChildJvm::close);
        sink.awaitLine(UdpSink.LISTENING, START_LIMIT);
        ChildJvm client = cleanup.make("stop the client", () -> ChildJvm.start("client", net.client(),
                UdpTrafficGenerator.class, clientArgs(duration)), ChildJvm::close);
        client.awaitLine(UdpTrafficGenerator.SENDING, START_LIMIT);
        out.println("client sending " + DemoScenario.FLOWS.stream().mapToInt(DemoScenario.Flow::rate).sum()
                + " datagrams/s for " + duration.toSeconds() + " s; live counters every " + REFRESH.toSeconds()
                + " s:");
        out.println();

        DemoWatch watch = new DemoWatch(receiver, policy, counters, server, duration,
                flowOffload ? () -> flowCounts(net) : Optional::empty);
        DemoDisplay display = new DemoDisplay(out, ansi);
        long end = System.nanoTime() + duration.plus(FINISH_GRACE).toNanos();
        boolean first = true;
        while (!client.awaitExit(REFRESH) && System.nanoTime() - end < 0 && !cleanup.stopping()
                && failure.get() == null) {
            display.show(watch.frame(false));
            if (first) {
                first = false;
                onceRunning.run();
            }
        }
        watch.trafficOver();
        if (cleanup.stopping()) {
            throw new InterruptedException("stopped");
        }
        throwIfFailed(failure);
        if (client.isAlive()) {
            throw new IllegalStateException("the client did not finish within " + duration.plus(FINISH_GRACE)
                    .toSeconds() + " s: " + client.output());
        }

        sink.closeInput();   // "the client is done": the server reports once the last datagrams are in
        if (!sink.awaitExit(REPORT_LIMIT)) {
            throw new IllegalStateException("the server did not report: " + sink.output());
        }
        settle(receiver);
        DemoFrame last = watch.frame(true);
        display.show(last);
        QueueStats kernel = first(receiver.stats()).orElseThrow(() -> new IllegalStateException(
                "queue " + DemoScenario.QUEUE + " is no longer bound"));
        running.dispose();
        QueueCounters library = first(receiver.counters()).orElseThrow();
        DemoSummary summary = new DemoSummary(last, client.counts(UdpTrafficGenerator.SENT),
                sink.counts(UdpSink.ARRIVED), kernel, library, net.describe());
        summary.describe().forEach(out::println);
        return summary;
    }

    /**
     * Probes whether the kernel sets the connection mark from the verdict (binds the queue for a
     * moment) and installs the flow offload rules that answer needs, in the server namespace (they
     * go with it).
     */
    private static void installFlowRules(DemoNetwork net, PrintStream out) {
        boolean byVerdict;
        try (NetfilterQueue probe = NetfilterQueue.open(QueueOptions.queue(DemoScenario.QUEUE)
                .flowOffload(DemoScenario.FLOW_MARKS).networkNamespace(net.server().path()))) {
            byVerdict = probe.connmarkByVerdict();
        }
        out.println(FlowSetup.connmarkLine(byVerdict));
        FlowRules.RuleSet rules = DemoScenario.flowRules(byVerdict);
        FlowSetup.install(rules, net.server().path(), null);
        out.println("flow offload rules in " + net.server().name() + ": " + Main.count(rules.install().size(), "command")
                + " (see them: rules --flow-offload --queue " + DemoScenario.QUEUE + " --hook input --bypass"
                + (byVerdict ? " --connmark-by-verdict" : "") + ")");
    }

    /** The flow rules' counters, empty when they cannot be read (the namespace is going). */
    private static Optional<FlowSetup.Counts> flowCounts(DemoNetwork net) {
        try {
            return Optional.of(FlowSetup.counts(DemoScenario.QUEUE, DemoScenario.FLOW_MARKS, net.server().path()));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private static void printSetUp(DemoNetwork net, boolean flowOffload, PrintStream out) {
        out.println("made network namespaces " + net.describe() + ", linked by a veth pair "
                + DemoScenario.CLIENT_IF + " <-> " + DemoScenario.SERVER_IF);
        out.println("  client " + String.join(", ", DemoScenario.clientAddresses()) + "; server "
                + DemoScenario.SERVER + " (UDP ports " + DemoScenario.serverPorts().stream().map(String::valueOf)
                .reduce((a, b) -> a + ", " + b).orElse("") + ")");
        if (!flowOffload) {
            out.println("rule in " + net.server().name() + ": iptables " + String.join(" ", DemoScenario.queueRule()));
        }
        out.println("firewall rules, first match wins, else accept:");
        for (int i = 0; i < DemoScenario.RULES.size(); i++) {
            DemoScenario.Rule r = DemoScenario.RULES.get(i);
            out.println(String.format("  %d %-28s (%s)", i + 1, r.text(), r.why()));
        }
        if (flowOffload) {
            out.println("flow offload: each connection is decided on its first packet; no rate limit (it needs every "
                    + "packet)");
            return;
        }
        out.println("rate limit: " + DemoScenario.LIMIT_RATE + " packets/s per source address, burst "
                + DemoScenario.LIMIT_BURST + "; the excess is dropped");
    }

    private static List<String> sinkArgs(long maxSeconds) {
        List<String> args = new ArrayList<>(List.of(DemoScenario.SERVER, Long.toString(maxSeconds)));
        for (int port : DemoScenario.serverPorts()) {
            args.add(Integer.toString(port));
        }
        return args;
    }

    private static List<String> clientArgs(Duration duration) {
        List<String> args = new ArrayList<>(List.of(DemoScenario.SERVER, Long.toString(duration.toMillis())));
        for (DemoScenario.Flow f : DemoScenario.FLOWS) {
            args.add(f.source() + ":" + f.port() + ":" + f.rate());
        }
        return args;
    }

    /** Waits (bounded) until no packet waits for a verdict, in the library and in the kernel. */
    private static void settle(PacketReceiver receiver) throws InterruptedException {
        long end = System.nanoTime() + SETTLE_LIMIT.toNanos();
        while (System.nanoTime() - end < 0) {
            boolean kernelEmpty = first(receiver.stats()).map(s -> s.queued() == 0).orElse(true);
            boolean libraryEmpty = first(receiver.counters()).map(c -> c.unresolved() == 0).orElse(true);
            if (kernelEmpty && libraryEmpty) {
                return;
            }
            Thread.sleep(20);
        }
    }

    static <T> Optional<T> first(List<T> list) {
        return list.isEmpty() ? Optional.empty() : Optional.of(list.get(0));
    }

    private static void throwIfFailed(AtomicReference<Throwable> failure) {
        Throwable t = failure.get();
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t != null) {
            throw new IllegalStateException(t.toString(), t);
        }
    }
}
