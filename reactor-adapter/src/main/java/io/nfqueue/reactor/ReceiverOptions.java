package io.nfqueue.reactor;

import io.nfqueue.QueueOptions;
import io.nfqueue.Verdict;
import reactor.core.scheduler.Scheduler;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * How a {@link PacketReceiver} binds and how it carries demand into the kernel: immutable, each
 * wither validates eagerly and returns a new instance.
 *
 * <pre>{@code
 * ReceiverOptions options = ReceiverOptions.queue(1)
 *         .maxInFlight(256)                       // stop reading at 256 unresolved packets
 *         .maxLengthBounds(16, 4096)              // kernel max-length follows demand inside these
 *         .overflow(OverflowPolicy.FAIL_OPEN)
 *         .verdictTimeout(Duration.ofSeconds(2))  // a packet forgotten downstream is not held forever
 *         .queueOptions(q -> q.copyRange(512));
 * }</pre>
 *
 * <p>Defaults: one queue, max-length between 1 and 1024 with a hysteresis of 8 packets, at most
 * 1024 packets in flight, overflow DROP, default verdict DROP, no verdict timeout, packets
 * emitted on the receive thread.
 */
public final class ReceiverOptions {
    private final QueueOptions base;
    private final int firstQueue;
    private final int lastQueue;
    private final int maxInFlight;
    private final int minMaxLength;
    private final int maxMaxLength;
    private final int hysteresis;
    private final OverflowPolicy overflow;
    private final Scheduler handoffScheduler;

    private ReceiverOptions(QueueOptions base, int firstQueue, int lastQueue, int maxInFlight, int minMaxLength,
                            int maxMaxLength, int hysteresis, OverflowPolicy overflow, Scheduler handoffScheduler) {
        this.base = base;
        this.firstQueue = firstQueue;
        this.lastQueue = lastQueue;
        this.maxInFlight = maxInFlight;
        this.minMaxLength = minMaxLength;
        this.maxMaxLength = maxMaxLength;
        this.hysteresis = hysteresis;
        this.overflow = overflow;
        this.handoffScheduler = handoffScheduler;
    }

    /** One queue, 0..65535. */
    public static ReceiverOptions queue(int number) {
        return queues(number, number);
    }

    /**
     * A range of queues (inclusive), as fed by {@code --queue-balance first:last} or nft
     * {@code queue num first-last}: one receive thread per queue.
     */
    public static ReceiverOptions queues(int first, int last) {
        QueueOptions base = QueueOptions.queue(first);
        QueueOptions.queue(last);
        if (last < first) {
            throw new IllegalArgumentException("queue range is empty: " + first + ".." + last);
        }
        if (last - first >= 64) {
            throw new IllegalArgumentException("queue range " + first + ".." + last
                    + " has more than 64 queues (one thread each)");
        }
        return new ReceiverOptions(base, first, last, 1024, 1, 1024, 8, OverflowPolicy.DROP, null);
    }

    /** Reading stops while this many packets (per queue) wait for their verdict, 1..1048576. */
    public ReceiverOptions maxInFlight(int packets) {
        if (packets < 1 || packets > QueueOptions.MAX_MAX_LENGTH) {
            throw new IllegalArgumentException("maxInFlight must be 1.." + QueueOptions.MAX_MAX_LENGTH + ": " + packets);
        }
        return new ReceiverOptions(base, firstQueue, lastQueue, packets, minMaxLength, maxMaxLength, hysteresis,
                overflow, handoffScheduler);
    }

    /**
     * The bounds of the kernel max-length, which follows demand + unresolved packets between
     * them. Unbounded demand ({@code Long.MAX_VALUE}) means {@code max}. The receive buffer is
     * sized for {@code max} packets of the copy range.
     */
    public ReceiverOptions maxLengthBounds(int min, int max) {
        if (min < 1 || max > QueueOptions.MAX_MAX_LENGTH || min > max) {
            throw new IllegalArgumentException("max-length bounds must satisfy 1 <= min <= max <= "
                    + QueueOptions.MAX_MAX_LENGTH + ": " + min + ".." + max);
        }
        return new ReceiverOptions(base, firstQueue, lastQueue, maxInFlight, min, max, hysteresis, overflow,
                handoffScheduler);
    }

    /** How far (in packets) the kernel max-length may lag its target before a config message is sent, 1..65536. */
    public ReceiverOptions maxLengthHysteresis(int packets) {
        if (packets < 1 || packets > 65536) {
            throw new IllegalArgumentException("hysteresis must be 1..65536: " + packets);
        }
        return new ReceiverOptions(base, firstQueue, lastQueue, maxInFlight, minMaxLength, maxMaxLength, packets,
                overflow, handoffScheduler);
    }

    public ReceiverOptions overflow(OverflowPolicy policy) {
        Objects.requireNonNull(policy, "overflow");
        return new ReceiverOptions(base, firstQueue, lastQueue, maxInFlight, minMaxLength, maxMaxLength, hysteresis,
                policy, handoffScheduler);
    }

    /** The verdict for packets left unresolved (cancel, error, discard, timeout, close). */
    public ReceiverOptions defaultVerdict(Verdict verdict) {
        return queueOptions(q -> q.defaultVerdict(verdict));
    }

    /** Packets unresolved for longer than this get the default verdict (a watchdog for forgotten packets). */
    public ReceiverOptions verdictTimeout(Duration timeout) {
        return queueOptions(q -> q.verdictTimeout(timeout));
    }

    /**
     * Adjusts the per-queue options (copy mode and range, GSO, uid/gid, namespace, ...). The
     * queue number, max-length and fail-open are set by the receiver from its own options.
     */
    public ReceiverOptions queueOptions(UnaryOperator<QueueOptions> change) {
        QueueOptions changed = Objects.requireNonNull(change.apply(base), "queueOptions result");
        return new ReceiverOptions(changed, firstQueue, lastQueue, maxInFlight, minMaxLength, maxMaxLength, hysteresis,
                overflow, handoffScheduler);
    }

    /**
     * Read and emit packets on a worker of {@code scheduler} instead of the receive thread, for
     * subscribers that must run there or may block. The receive thread waits until packets are
     * there and hands the reading over; the worker reads and emits batch after batch (handing
     * back every 64 batches, so its scheduler's other tasks get a turn) until the socket is empty, demand runs out or
     * {@code maxInFlight} is reached, then hands back: one hand-over per burst, never one per
     * packet. A subscriber that blocks stalls the reading, which is backpressure as without a
     * hand-off, but not the receive thread, which keeps the verdict timeout and the kernel
     * max-length going. Demand is claimed before reading, so this adds no prefetch.
     */
    public ReceiverOptions handoff(Scheduler scheduler) {
        Objects.requireNonNull(scheduler, "scheduler");
        return new ReceiverOptions(base, firstQueue, lastQueue, maxInFlight, minMaxLength, maxMaxLength, hysteresis,
                overflow, scheduler);
    }

    /** These options for queue {@code number} of the range alone (one rail of a parallel receive). */
    public ReceiverOptions onlyQueue(int number) {
        if (number < firstQueue || number > lastQueue) {
            throw new IllegalArgumentException("queue " + number + " is outside " + firstQueue + ".." + lastQueue);
        }
        return new ReceiverOptions(base, number, number, maxInFlight, minMaxLength, maxMaxLength, hysteresis, overflow,
                handoffScheduler);
    }

    public int firstQueue() {
        return firstQueue;
    }

    public int lastQueue() {
        return lastQueue;
    }

    public int queueCount() {
        return lastQueue - firstQueue + 1;
    }

    public int maxInFlight() {
        return maxInFlight;
    }

    public int minMaxLength() {
        return minMaxLength;
    }

    public int maxMaxLength() {
        return maxMaxLength;
    }

    public int maxLengthHysteresis() {
        return hysteresis;
    }

    public OverflowPolicy overflow() {
        return overflow;
    }

    public Optional<Scheduler> handoffScheduler() {
        return Optional.ofNullable(handoffScheduler);
    }

    public Verdict defaultVerdict() {
        return base.defaultVerdict();
    }

    public Optional<Duration> verdictTimeout() {
        return base.verdictTimeout();
    }

    /**
     * The options queue {@code number} is bound with: max-length starts at the lower bound (no
     * demand yet), the receive buffer is sized for the upper bound.
     */
    public QueueOptions queueOptionsFor(int number) {
        QueueOptions q = base.queueNumber(number).failOpen(overflow == OverflowPolicy.FAIL_OPEN);
        int buffer = q.socketBufferSize() != 0 ? q.socketBufferSize()
                : q.maxLength(maxMaxLength).effectiveSocketBufferSize();
        return q.socketBufferSize(buffer).maxLength(minMaxLength);
    }

    @Override
    public String toString() {
        return "ReceiverOptions{queues=" + firstQueue + ".." + lastQueue + ", maxInFlight=" + maxInFlight
                + ", maxLength=" + minMaxLength + ".." + maxMaxLength + ", hysteresis=" + hysteresis + ", overflow="
                + overflow + ", handoff=" + handoffScheduler + ", queue=" + base + '}';
    }
}
