package io.nfqueue.bench;

import io.nfqueue.BoundQueue;
import io.nfqueue.Packet;
import io.nfqueue.QueueOptions;
import io.nfqueue.Verdict;
import io.nfqueue.internal.access.TransportBinding;
import io.nfqueue.testing.ReplayTransport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The Java side of the receive-to-verdict path, per packet, without the kernel: decoding a batch
 * of 32 packet records into packets (payload copied), handing them to a consumer, and building
 * the verdict records (a run of accepts becomes one batch record; marked accepts do not).
 * {@code -prof gc} gives the allocation per packet (gc.alloc.rate.norm, B/op: ops are packets).
 *
 * <pre>
 * mvn -q -B -o -pl native,core test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=core/target/test-cp.txt -Dmdep.includeScope=test
 * java -cp core/target/test-classes:core/target/classes:$(cat core/target/test-cp.txt) \
 *     org.openjdk.jmh.Main ReceivePathBenchmark -prof gc
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ReceivePathBenchmark {
    private static final int BATCH = 32;
    /** A 92-byte IPv4/UDP packet: 64 bytes of data, the benchmark program's small size. */
    private static final byte[] PACKET = new byte[92];
    private static final Verdict MARKED = Verdict.accept().withMark(7);

    private BoundQueue queue;
    private final Consumer<Packet> accept = Packet::accept;
    private final Consumer<Packet> acceptMarked = p -> p.verdict(MARKED);

    static {
        PACKET[0] = 0x45;
        PACKET[3] = 92;
        PACKET[9] = 17;
    }

    @Setup
    public void setUp() {
        queue = TransportBinding.open(QueueOptions.queue(1).batchSize(BATCH).copyRange(2048),
                new ReplayTransport(BATCH, PACKET));
    }

    @TearDown
    public void tearDown() {
        queue.close();
    }

    /** Decode, hand out, accept: the accepts of a batch go out as one batch-verdict record. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int receiveAndAccept() {
        return queue.receive(accept, BATCH);
    }

    /** The same with a mark on every verdict: one verdict record per packet. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int receiveAndAcceptWithMark() {
        return queue.receive(acceptMarked, BATCH);
    }
}
