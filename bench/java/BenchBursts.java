import io.nfqueue.Packet;
import io.nfqueue.reactor.PacketReceiver;
import io.nfqueue.reactor.QueueBackpressure;
import io.nfqueue.reactor.ReceiverOptions;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * The consumer of bench/run --bursts: one Reactor pipeline, written as a user would, with the
 * receiver's default options (only the namespace is set).
 *
 * <pre>java -cp nfqueue-samples.jar:classes BenchBursts PIPELINE QUEUE NETNS_PATH</pre>
 *
 * Every pipeline accepts every packet; they differ only in the operators between the receiver
 * and the verdict, and so in how they request: {@link #PIPELINES} lists them. For experiments
 * with the defaults: -Dbench.maxQueueDelayMs=N, -Dbench.floor=N, -Dbench.ceiling=N. Prints
 * "BOUND queue=N" once subscribed, runs until SIGTERM (dispose from a shutdown hook), then
 * prints the library's counters to stderr and one line "RESULT key=value ..." to stdout.
 */
public final class BenchBursts {
    static final List<String> PIPELINES = List.of("plain", "publishOn", "concatMap", "flatMap16",
            "flatMapSequential", "limitRate100", "bufferTimeout", "parallel");

    static Disposable run(String pipeline, Flux<Packet> packets) {
        switch (pipeline) {
            case "plain":
                return packets.subscribe(Packet::accept);
            case "publishOn":
                return packets.publishOn(Schedulers.parallel()).subscribe(Packet::accept);
            case "concatMap":
                return packets.concatMap(Mono::just).subscribe(Packet::accept);
            case "flatMap16":
                return packets.flatMap(Mono::just, 16).subscribe(Packet::accept);
            case "flatMapSequential":
                return packets.flatMapSequential(Mono::just).subscribe(Packet::accept);
            case "limitRate100":
                return packets.limitRate(100).subscribe(Packet::accept);
            case "bufferTimeout":
                return packets.bufferTimeout(64, Duration.ofMillis(10))
                        .subscribe(list -> list.forEach(Packet::accept));
            case "parallel":
                return packets.parallel().runOn(Schedulers.parallel()).subscribe(Packet::accept);
            default:
                throw new IllegalArgumentException("unknown pipeline " + pipeline + "; one of " + PIPELINES);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3 || !PIPELINES.contains(args[0])) {
            System.err.println("usage: BenchBursts PIPELINE QUEUE NETNS_PATH; PIPELINE one of " + PIPELINES);
            System.exit(2);
        }
        String pipeline = args[0];
        int queue = Integer.parseInt(args[1]);
        Path netns = Path.of(args[2]);
        ReceiverOptions options = ReceiverOptions.queue(queue).queueOptions(q -> q.networkNamespace(netns));
        Integer delay = Integer.getInteger("bench.maxQueueDelayMs");
        if (delay != null) {
            options = options.maxQueueDelay(Duration.ofMillis(delay));
        }
        int floor = Integer.getInteger("bench.floor", options.maxLengthFloor());
        int ceiling = Integer.getInteger("bench.ceiling", options.maxLengthCeiling());
        options = options.maxLengthBounds(floor, ceiling);
        PacketReceiver receiver = PacketReceiver.create(options);
        CountDownLatch stop = new CountDownLatch(1);
        Disposable running = run(pipeline, receiver.receive().doOnError(e -> {
            System.err.println("BenchBursts: error: " + e);
            e.printStackTrace();
            stop.countDown();
        }));
        // The library ends the subscription at JVM shutdown too, maybe before the hook below runs:
        // keep the last backpressure state seen, for the RESULT line.
        AtomicReference<List<QueueBackpressure>> last =
                new AtomicReference<>(List.of());
        Thread sampler = new Thread(() -> {
            while (stop.getCount() > 0) {
                List<QueueBackpressure> now = receiver.backpressure();
                if (!now.isEmpty()) {
                    last.set(now);
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "bench-sampler");
        sampler.setDaemon(true);
        sampler.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            String result = BenchBurstsReport.result(receiver, last.get());
            running.dispose();
            System.err.println("BenchBursts: " + receiver.counters());
            System.out.println("RESULT " + result);
            System.out.flush();
            stop.countDown();
        }, "bench-shutdown"));
        if (Boolean.getBoolean("bench.trace")) {
            // Diagnostics: every change of the kernel max-length, with the rate behind it.
            Thread trace = new Thread(() -> {
                long start = System.nanoTime();
                int lastLength = -1;
                while (stop.getCount() > 0) {
                    for (QueueBackpressure b : receiver.backpressure()) {
                        if (b.kernelMaxLength() != lastLength) {
                            lastLength = b.kernelMaxLength();
                            System.err.printf("TRACE %7.1f ms %s%n", (System.nanoTime() - start) / 1e6, b);
                        }
                    }
                    try {
                        Thread.sleep(1);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "bench-trace");
            trace.setDaemon(true);
            trace.start();
        }
        System.out.println("BOUND queue=" + queue + " pipeline=" + pipeline);
        System.out.flush();
        stop.await();
    }
}
