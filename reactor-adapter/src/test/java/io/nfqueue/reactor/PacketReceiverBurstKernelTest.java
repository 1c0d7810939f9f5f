package io.nfqueue.reactor;

import io.nfqueue.Packet;
import io.nfqueue.QueueStats;
import io.nfqueue.test.kernel.DatagramTally;
import io.nfqueue.test.kernel.KernelTest;
import io.nfqueue.test.kernel.NetNamespace;
import io.nfqueue.test.kernel.Udp;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Bursts through the pipelines users write, with the receiver's default options: every packet
 * of bursts of 100 and of 500, at an average rate the pipeline sustains, is delivered; the
 * kernel drops none, though each operator requests only a few at a time ({@code concatMap} one,
 * {@code flatMap(f, 16)} sixteen, {@code limitRate(100)} a hundred, {@code publishOn} 256). The
 * queue rule sits at the INPUT hook, where a queued packet no longer holds the sender's socket
 * buffer, so a burst arrives as from a network: nothing paces it but the kernel queue.
 */
@KernelTest
@Timeout(60)
class PacketReceiverBurstKernelTest {
    private static final int PORT = 9140;
    private static final int QUEUE = 14;
    private static final int BURSTS = 8;
    private static final long INTERVAL_MILLIS = 50;

    @RegisterExtension
    final NetNamespace ns = NetNamespace.create()
            .withIptables("-A INPUT -p udp --dport " + PORT + " -j NFQUEUE --queue-num " + QUEUE);

    /** A pipeline from the receiver's packets to their verdicts, as a user writes it. */
    private record Pipeline(String name, Function<Flux<Packet>, Disposable> run) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> pipelinesAndBursts() {
        List<Pipeline> pipelines = List.of(
                new Pipeline("subscribe(accept)", f -> f.subscribe(Packet::accept)),
                new Pipeline("publishOn", f -> f.publishOn(Schedulers.parallel()).subscribe(Packet::accept)),
                new Pipeline("concatMap", f -> f.concatMap(Mono::just).subscribe(Packet::accept)),
                new Pipeline("flatMap(f, 16)", f -> f.flatMap(Mono::just, 16).subscribe(Packet::accept)),
                new Pipeline("flatMapSequential", f -> f.flatMapSequential(Mono::just).subscribe(Packet::accept)),
                new Pipeline("limitRate(100)", f -> f.limitRate(100).subscribe(Packet::accept)),
                new Pipeline("bufferTimeout(64, 10 ms)", f -> f.bufferTimeout(64, Duration.ofMillis(10))
                        .subscribe(list -> list.forEach(Packet::accept))),
                new Pipeline("parallel().runOn()", f -> f.parallel().runOn(Schedulers.parallel())
                        .subscribe(Packet::accept)));
        return pipelines.stream().flatMap(p -> Stream.of(Arguments.of(p, 100), Arguments.of(p, 500)));
    }

    @ParameterizedTest(name = "{0}, bursts of {1}")
    @MethodSource("pipelinesAndBursts")
    void everyPacketOfEveryBurstIsDelivered(Pipeline pipeline, int burst) throws Exception {
        PacketReceiver receiver = PacketReceiver.create(ReceiverOptions.queue(QUEUE)
                .queueOptions(q -> q.networkNamespace(ns.path())));
        int sent = BURSTS * burst;
        long sinkDropsBefore = ns.udpReceiveBufferErrors();
        try (DatagramChannel sinkChannel = ns.udpSocket("127.0.0.1", PORT);
             DatagramTally sink = DatagramTally.start(sinkChannel);
             DatagramChannel sender = ns.udpSocket("127.0.0.1", 0)) {
            Disposable running = pipeline.run().apply(receiver.receive());
            try {
                KernelWait.until(() -> QueueStats.find(ns.path(), QUEUE).isPresent(), Duration.ofSeconds(5),
                        "queue bound");
                long start = System.nanoTime();
                for (int b = 0; b < BURSTS; b++) {
                    // Each burst as fast as the socket takes it, then wait for the next one's time.
                    for (int i = 0; i < burst; i++) {
                        Udp.send(sender, "127.0.0.1", PORT, "b" + b + "-" + i);
                    }
                    long due = start + (b + 1) * INTERVAL_MILLIS * 1_000_000L;
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000L, (int) (wait % 1_000_000L));
                    }
                }
                long sinkDrops = ns.udpReceiveBufferErrors() - sinkDropsBefore;
                KernelWait.until(() -> sink.total() + (ns.udpReceiveBufferErrors() - sinkDropsBefore) >= sent
                                || kernelDrops(ns) > 0, Duration.ofSeconds(10),
                        () -> pipeline + ": " + sink.total() + " of " + sent + " arrived; " + state(receiver));
                QueueStats stats = QueueStats.find(ns.path(), QUEUE).orElseThrow();
                assertEquals(0, stats.queueDropped(), pipeline + ", bursts of " + burst
                        + ": the kernel queue overflowed; " + state(receiver));
                assertEquals(0, stats.userDropped(), pipeline + ": the netlink socket overflowed; " + state(receiver));
                long received = receiver.counters().get(0).received();
                assertEquals(sent, received, pipeline + ": every packet reached the pipeline; " + state(receiver));
                KernelWait.until(() -> receiver.counters().get(0).verdictsSent() >= sent, Duration.ofSeconds(5),
                        () -> "every verdict sent: " + receiver.counters());
                assertEquals(0, receiver.counters().get(0).totalDefaultVerdicts(), receiver.counters().toString());
                // Every accepted packet reached the sink's socket; a sink that a loaded machine read
                // late may have overflowed its own buffer (the kernel counts that), which is the
                // test's sink, not the queue.
                assertEquals(sent, sink.total() + (ns.udpReceiveBufferErrors() - sinkDropsBefore),
                        pipeline + ": arrived + dropped by the sink's full buffer (" + sinkDrops + " so far)");
            } finally {
                running.dispose();
            }
        }
    }

    private static long kernelDrops(NetNamespace ns) {
        return QueueStats.find(ns.path(), QUEUE).map(s -> s.queueDropped() + s.userDropped()).orElse(0L);
    }

    private static String state(PacketReceiver receiver) {
        return receiver.backpressure() + " " + receiver.counters();
    }
}
