import io.nfqueue.FlowOffload;
import io.nfqueue.FlowRules;
import io.nfqueue.Hook;
import io.nfqueue.NetfilterQueue;
import io.nfqueue.QueueOptions;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The consumer of bench/long-flow (issue 15): the blocking API, one of two policies.
 *
 * <pre>
 * java -cp nfqueue-samples.jar:classes BenchFlow perpacket|offload QUEUE NETNS_PATH MASK MODE
 * java -cp nfqueue-samples.jar:classes BenchFlow rules QUEUE - MASK MODE
 * </pre>
 *
 * <ul>
 * <li>{@code perpacket}: {@code packet.accept()} for every packet, as bench/run's consumer (c).
 * <li>{@code offload}: the queue has {@code QueueOptions.flowOffload(FlowOffload.mask(MASK).mode(MODE))}
 *     and the handler decides the flow on the first packet the queue sees: {@code packet.acceptFlow()}.
 *     The rules then let the rest of the connection bypass the queue.
 * <li>{@code rules}: prints the commands of {@code FlowRules} for that queue and offload on the
 *     LOCAL_IN hook (iptables), one a line, for bench/long-flow to run inside the namespace, and
 *     the commented script to stderr.
 * </ul>
 *
 * MODE is ACCEPT or REPEAT ({@code FlowOffload.Mode}). Binds QUEUE inside the namespace at
 * NETNS_PATH, prints "BOUND queue=N", runs until SIGTERM, then prints "RESULT seen=N" (packets
 * handed to the handler) and the library's counters.
 */
public final class BenchFlow {
    public static void main(String[] args) throws Exception {
        if (args.length != 5 || !(args[0].equals("perpacket") || args[0].equals("offload") || args[0].equals("rules"))) {
            System.err.println("usage: BenchFlow perpacket|offload|rules QUEUE NETNS_PATH MASK ACCEPT|REPEAT");
            System.exit(2);
        }
        boolean offload = args[0].equals("offload");
        int number = Integer.parseInt(args[1]);
        int mask = Integer.parseUnsignedInt(args[3].replaceFirst("^0[xX]", ""), 16);
        FlowOffload flows = FlowOffload.mask(mask).mode(FlowOffload.Mode.valueOf(args[4]));
        if (args[0].equals("rules")) {
            FlowRules.RuleSet rules = FlowRules.forQueue(number).hook(Hook.LOCAL_IN).offload(flows).iptables();
            rules.install().forEach(r -> System.out.println(r.command()));
            System.err.print(rules.script());
            return;
        }
        QueueOptions options = QueueOptions.queue(number).networkNamespace(Path.of(args[2]));
        if (offload) {
            options = options.flowOffload(flows);
        }
        NetfilterQueue queue = NetfilterQueue.open(options);
        AtomicLong seen = new AtomicLong();
        CountDownLatch finished = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            queue.close();
            try {
                finished.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            System.out.println("RESULT seen=" + seen.get());
            System.err.println("BenchFlow: " + queue.counters());
        }, "bench-shutdown"));
        System.out.println("BOUND queue=" + number + " mode=" + args[0]);
        System.out.flush();
        try {
            if (offload) {
                queue.run(p -> {
                    seen.incrementAndGet();
                    p.acceptFlow();
                });
            } else {
                queue.run(p -> {
                    seen.incrementAndGet();
                    p.accept();
                });
            }
        } finally {
            finished.countDown();
        }
    }
}
