package io.nfqueue.samples;

import io.nfqueue.NetfilterQueue;
import io.nfqueue.Packet;
import io.nfqueue.PacketHandler;
import io.nfqueue.QueueOptions;
import io.nfqueue.QueueStats;

import java.io.PrintStream;
import java.time.Duration;

/**
 * The self-contained demo: as root, with no network set-up from the user, it
 * <ol>
 *   <li>makes a network namespace {@code nfq-demo-<pid>-<n>} and brings its loopback up;</li>
 *   <li>adds, inside it, {@code iptables -A OUTPUT -p udp --dport 9999 -j NFQUEUE --queue-num 7 --queue-bypass};</li>
 *   <li>binds queue 7 in that namespace ({@link QueueOptions#networkNamespace}), without moving the process;</li>
 *   <li>starts a traffic generator inside the namespace, sending numbered datagrams to 127.0.0.1:9999;</li>
 *   <li>prints every packet with its verdict: every 5th datagram is dropped, the others accepted;</li>
 *   <li>prints a summary with the kernel's counters for the queue, and removes the namespace
 *       (on a normal end, on failure, and on Ctrl-C).</li>
 * </ol>
 * All traffic stays on the loopback of the demo's own namespace.
 */
public final class Demo {
    static final int QUEUE = 7;
    static final String HOST = "127.0.0.1";
    static final int PORT = 9999;
    /** Datagrams per second the generator sends. */
    static final int RATE = 20;
    /** Time allowed, beyond the duration, for the generator's JVM to start and finish. */
    private static final Duration GRACE = Duration.ofSeconds(15);
    private static final Duration SLICE = Duration.ofMillis(200);

    private Demo() {
    }

    /**
     * Runs the demo, sending traffic for about {@code duration}, and returns what it saw.
     *
     * @throws Privileges.MissingRootException without CAP_NET_ADMIN and CAP_SYS_ADMIN
     */
    public static DemoSummary run(Duration duration, PrintStream out) throws InterruptedException {
        Privileges.require("demo", "CAP_NET_ADMIN and CAP_SYS_ADMIN, to make a network namespace and bind a queue",
                Privileges.CAP_NET_ADMIN, Privileges.CAP_SYS_ADMIN);
        int count = (int) Math.max(1, duration.toMillis() * RATE / 1000);
        DemoSummary summary;
        String name;
        try (Cleanup cleanup = new Cleanup(out)) {
            DemoNamespace ns = DemoNamespace.create();
            name = ns.name();
            cleanup.add("delete namespace " + name, ns::delete);
            out.println("made network namespace " + name + " (loopback up)");

            String[] rule = {"-A", "OUTPUT", "-p", "udp", "--dport", Integer.toString(PORT), "-j", "NFQUEUE",
                "--queue-num", Integer.toString(QUEUE), "--queue-bypass"};
            ns.exec(concat(new String[] {"iptables", "-w"}, rule));
            out.println("rule in " + name + ": iptables " + String.join(" ", rule));

            NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(QUEUE).networkNamespace(ns.path()));
            cleanup.add("unbind queue " + QUEUE, queue::close);
            out.println("bound queue " + QUEUE + " in " + name + "; sending " + count + " datagrams to " + HOST + ":"
                    + PORT + " at " + RATE + "/s; every 5th is dropped");

            TrafficProcess traffic = TrafficProcess.start(ns, HOST, PORT, count, RATE, out);
            cleanup.add("stop the traffic generator", traffic::close);

            Verdicts verdicts = new Verdicts(out);
            long end = System.nanoTime() + duration.plus(GRACE).toNanos();
            while (traffic.isAlive() && System.nanoTime() < end && !cleanup.stopping()) {
                queue.poll(verdicts, SLICE);
            }
            boolean finished = !traffic.isAlive();
            traffic.close();
            traffic.awaitOutput(2000);
            if (!finished && !cleanup.stopping()) {
                out.println("the traffic generator did not finish in time; stopped it");
            }
            QueueStats kernel = cleanup.stopping() ? null : kernelStats(queue);
            queue.close();
            summary = new DemoSummary(verdicts.seen, verdicts.accepted, verdicts.dropped, traffic.sent(),
                    traffic.arrived(), kernel, name);
        }
        out.println(summary.describe());
        out.println("removed network namespace " + name);
        return summary;
    }

    /** The kernel's line for the queue; null if the queue is already gone (Ctrl-C). */
    private static QueueStats kernelStats(NetfilterQueue queue) {
        try {
            return queue.stats();
        } catch (IllegalStateException e) {
            return null;
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = new String[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    /** Prints each packet and gives it its verdict; runs on the thread that polls. */
    private static final class Verdicts implements PacketHandler {
        private final PrintStream out;
        int seen;
        int accepted;
        int dropped;

        Verdicts(PrintStream out) {
            this.out = out;
        }

        @Override
        public void handle(Packet packet) {
            seen++;
            int n = DemoDatagram.number(packet.payloadBytes());
            boolean drop = n > 0 && n % 5 == 0;
            if (drop) {
                packet.drop();
                dropped++;
            } else {
                packet.accept();
                accepted++;
            }
            out.println(packet + (n > 0 ? "  demo-" + n : "") + (drop ? "  DROP" : "  ACCEPT"));
        }
    }
}
