import io.nfqueue.NetfilterQueue;
import io.nfqueue.Packet;
import io.nfqueue.QueueOptions;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Consumer (c) of bench/run: the blocking API, as a user writes it.
 *
 * <pre>java -cp nfqueue-samples.jar:classes BenchBlocking QUEUE NETNS_PATH</pre>
 *
 * Binds QUEUE inside the namespace at NETNS_PATH (QueueOptions.networkNamespace: the JVM itself
 * stays where it is) with the library's defaults (-Dbench.batchSize=N changes the receive batch,
 * for experiments; -Dbench.syntheticWarmUp=N first runs NetfilterQueue.warmUp over N synthetic
 * packets), prints "BOUND queue=N", then runs
 * {@code queue.run(Packet::accept)} on the main thread until SIGTERM, which closes the queue
 * from a shutdown hook; the library's counters then go to stderr.
 */
public final class BenchBlocking {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: BenchBlocking QUEUE NETNS_PATH");
            System.exit(2);
        }
        int number = Integer.parseInt(args[0]);
        QueueOptions options = QueueOptions.queue(number).networkNamespace(Path.of(args[1]));
        Integer batch = Integer.getInteger("bench.batchSize");
        if (batch != null) {
            options = options.batchSize(batch); // an experiment; the benchmark uses the default
        }
        // bench/drain: a queue and a socket buffer that hold everything sent while the JVM is stopped.
        Integer maxLength = Integer.getInteger("bench.maxLength");
        if (maxLength != null) {
            options = options.maxLength(maxLength);
        }
        Integer socketBuffer = Integer.getInteger("bench.socketBufferSize");
        if (socketBuffer != null) {
            options = options.socketBufferSize(socketBuffer);
        }
        // Consumer cw: the library's warm-up over synthetic packets, before binding, as a user would.
        Integer syntheticWarmUp = Integer.getInteger("bench.syntheticWarmUp");
        if (System.getProperty("bench.syntheticWarmUp") != null && (syntheticWarmUp == null || syntheticWarmUp < 1)) {
            throw new IllegalArgumentException("bench.syntheticWarmUp must be a positive number: "
                    + System.getProperty("bench.syntheticWarmUp"));
        }
        if (syntheticWarmUp != null) {
            Duration took = NetfilterQueue.warmUp(options, syntheticWarmUp);
            System.err.println("BenchBlocking: synthetic warm-up of " + syntheticWarmUp + " packets took " + took.toMillis() + " ms");
        }
        NetfilterQueue queue = NetfilterQueue.open(options);
        CountDownLatch finished = new CountDownLatch(1);
        long allocatedAtBind = BenchAlloc.allocatedBytes();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            // Before close: the counters of threads that end with it would be gone.
            String allocation = BenchAlloc.perPacket(allocatedAtBind, queue.counters().received());
            queue.close();
            try {
                finished.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            System.err.println("BenchBlocking: " + queue.counters());
            System.err.println("BenchBlocking: " + allocation);
        }, "bench-shutdown"));
        System.out.println("BOUND queue=" + number);
        System.out.flush();
        try {
            queue.run(Packet::accept);
        } finally {
            finished.countDown();
        }
    }
}
