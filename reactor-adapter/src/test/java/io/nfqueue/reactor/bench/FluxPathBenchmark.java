package io.nfqueue.reactor.bench;

import io.nfqueue.Packet;
import io.nfqueue.internal.access.TransportBinding;
import io.nfqueue.reactor.PacketReceiver;
import io.nfqueue.reactor.ReceiverOptions;
import io.nfqueue.testing.ReplayTransport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import reactor.core.Disposable;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The Reactor path without the kernel: packets replayed by a transport, emitted by the receive
 * thread (or handed to a scheduler a batch at a time), accepted by the subscriber; time and
 * allocation per packet, all threads included ({@code -prof gc}). Each invocation subscribes,
 * takes {@link #PACKETS} packets and cancels, so the receiver's set-up is part of the cost but
 * spread over 1 000 000 packets (about 0.3 bytes each of the 176-180 measured).
 *
 * <pre>
 * mvn -q -B -o -pl native,core,reactor-adapter test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=reactor-adapter/target/test-cp.txt -Dmdep.includeScope=test
 * java -cp reactor-adapter/target/test-classes:reactor-adapter/target/classes:$(cat reactor-adapter/target/test-cp.txt) \
 *     org.openjdk.jmh.Main FluxPathBenchmark -prof gc
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5)
@Measurement(iterations = 10)
@Fork(1)
public class FluxPathBenchmark {
    static final int PACKETS = 1_000_000;
    private static final byte[] PACKET = new byte[92];

    /** "rx": emitted on the receive thread; "handoff": one batch at a time on a single-thread scheduler. */
    @Param({"rx", "handoff"})
    public String mode;

    static {
        PACKET[0] = 0x45;
        PACKET[3] = 92;
        PACKET[9] = 17;
    }

    @Benchmark
    @OperationsPerInvocation(PACKETS)
    public long receiveAndAccept() throws InterruptedException {
        Scheduler scheduler = "handoff".equals(mode) ? Schedulers.newSingle("bench-handoff") : null;
        ReceiverOptions options = ReceiverOptions.queue(1).queueOptions(q -> q.copyRange(2048).batchSize(32));
        if (scheduler != null) {
            options = options.handoff(scheduler);
        }
        PacketReceiver receiver = PacketReceiver.create(options, q -> TransportBinding.open(q, new ReplayTransport(32, PACKET)));
        CountDownLatch done = new CountDownLatch(PACKETS);
        Disposable running = receiver.receive().subscribe(p -> {
            p.accept();
            done.countDown();
        });
        try {
            if (!done.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("only " + (PACKETS - done.getCount()) + " packets in 60 s");
            }
        } finally {
            running.dispose();
            if (scheduler != null) {
                scheduler.dispose();
            }
        }
        return done.getCount();
    }

    /** Keeps Packet referenced for the class loader of the generated code. */
    static Packet unused() {
        return null;
    }
}
