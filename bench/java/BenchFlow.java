import io.nfqueue.NetfilterQueue;
import io.nfqueue.QueueOptions;
import io.nfqueue.Verdict;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The consumer of bench/long-flow (issue 15): the blocking API, one of two policies.
 *
 * <pre>java -cp nfqueue-samples.jar:classes BenchFlow perpacket|offload QUEUE NETNS_PATH MASK</pre>
 *
 * <ul>
 * <li>{@code perpacket}: {@code packet.accept()} for every packet, as bench/run's consumer (c).
 * <li>{@code offload}: the flow is decided on the first packet the queue sees: accept, and set
 *     the accept value (the lowest bit of MASK) under MASK in the packet's mark, keeping the bits
 *     outside MASK; bench/long-flow's rules copy it to the connection mark and then skip the
 *     queue for the rest of the flow.
 * </ul>
 *
 * Binds QUEUE inside the namespace at NETNS_PATH, prints "BOUND queue=N", runs until SIGTERM,
 * then prints "RESULT seen=N" (packets handed to the handler) and the library's counters.
 */
public final class BenchFlow {
    public static void main(String[] args) throws Exception {
        if (args.length != 4 || !(args[0].equals("perpacket") || args[0].equals("offload"))) {
            System.err.println("usage: BenchFlow perpacket|offload QUEUE NETNS_PATH MASK");
            System.exit(2);
        }
        boolean offload = args[0].equals("offload");
        int number = Integer.parseInt(args[1]);
        int mask = Integer.parseUnsignedInt(args[3].replaceFirst("^0[xX]", ""), 16);
        int acceptValue = Integer.lowestOneBit(mask);
        QueueOptions options = QueueOptions.queue(number).networkNamespace(Path.of(args[2]));
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
                    p.verdict(Verdict.accept().withMark((p.mark() & ~mask) | acceptValue));
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
