import io.nfqueue.Packet;
import io.nfqueue.QueueCounters;
import io.nfqueue.QueueOptions;
import io.nfqueue.reactor.PacketReceiver;
import io.nfqueue.reactor.ReceiverOptions;
import reactor.core.Disposable;
import reactor.core.scheduler.Schedulers;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * Consumers (d), (d') and (e) of bench/run: the Reactor receiver, as a user writes it.
 *
 * <pre>java -cp nfqueue-samples.jar:classes BenchFlux emit|handoff FIRST_QUEUE LAST_QUEUE NETNS_PATH</pre>
 *
 * {@code PacketReceiver.create(ReceiverOptions.queues(first, last)...).receive().subscribe(Packet::accept)}
 * with the library's defaults (-Dbench.batchSize=N changes the receive batch, for experiments;
 * -Dbench.syntheticWarmUp=N first runs receiver.warmUp(N), over synthetic packets);
 * {@code handoff} adds {@code .handoff(Schedulers.single())} (packets
 * emitted on a Reactor worker, one hand-off per receive batch). The queues are bound inside the
 * namespace at NETNS_PATH. Prints "BOUND queue=..." once subscribed (binding, and the kernel
 * max-length following the unbounded demand, happen inside subscribe()), runs until SIGTERM (dispose from a shutdown
 * hook), then prints the library's
 * counters to stderr.
 */
public final class BenchFlux {
    public static void main(String[] args) throws Exception {
        if (args.length != 4 || !(args[0].equals("emit") || args[0].equals("handoff"))) {
            System.err.println("usage: BenchFlux emit|handoff FIRST_QUEUE LAST_QUEUE NETNS_PATH");
            System.exit(2);
        }
        int first = Integer.parseInt(args[1]);
        int last = Integer.parseInt(args[2]);
        Path netns = Path.of(args[3]);
        Integer batch = Integer.getInteger("bench.batchSize");
        // bench/drain sets bench.maxLength and bench.socketBufferSize: a queue and a socket buffer
        // that hold everything sent while the JVM is stopped.
        Integer maxLength = Integer.getInteger("bench.maxLength");
        Integer socketBuffer = Integer.getInteger("bench.socketBufferSize");
        ReceiverOptions options = ReceiverOptions.queues(first, last)
                .queueOptions(q -> {
                    QueueOptions o = q.networkNamespace(netns);
                    o = batch == null ? o : o.batchSize(batch);
                    o = maxLength == null ? o : o.maxLength(maxLength);
                    return socketBuffer == null ? o : o.socketBufferSize(socketBuffer);
                });
        if (args[0].equals("handoff")) {
            options = options.handoff(Schedulers.single());
        }
        PacketReceiver receiver = PacketReceiver.create(options);
        // Consumer dw: the library's warm-up over synthetic packets, before binding, as a user would.
        Integer syntheticWarmUp = Integer.getInteger("bench.syntheticWarmUp");
        if (System.getProperty("bench.syntheticWarmUp") != null && (syntheticWarmUp == null || syntheticWarmUp < 1)) {
            throw new IllegalArgumentException("bench.syntheticWarmUp must be a positive number: "
                    + System.getProperty("bench.syntheticWarmUp"));
        }
        if (syntheticWarmUp != null) {
            Duration took = receiver.warmUp(syntheticWarmUp).block();
            System.err.println("BenchFlux: synthetic warm-up of " + syntheticWarmUp + " packets took " + took.toMillis() + " ms");
        }
        CountDownLatch stop = new CountDownLatch(1);
        long allocatedAtStart = BenchAlloc.allocatedBytes();
        Disposable running = receiver.receive().subscribe(Packet::accept,
                e -> {
                    System.err.println("BenchFlux: error: " + e);
                    e.printStackTrace();
                    stop.countDown();
                });
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            // Before dispose: the counters of the receive threads, which end with it, would be gone.
            long received = receiver.counters().stream().mapToLong(QueueCounters::received).sum();
            String allocation = BenchAlloc.perPacket(allocatedAtStart, received);
            running.dispose();
            System.err.println("BenchFlux: " + receiver.counters());
            System.err.println("BenchFlux: " + allocation);
            stop.countDown();
        }, "bench-shutdown"));
        System.out.println("BOUND queue=" + (first == last ? String.valueOf(first) : first + ".." + last));
        System.out.flush();
        stop.await();
    }
}
