package io.nfqueue.reactor;

import io.nfqueue.QueueOptions;
import io.nfqueue.ResolutionListener;
import io.nfqueue.Verdict;
import reactor.core.scheduler.Scheduler;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * How a {@link PacketReceiver} binds and how it carries backpressure into the kernel: immutable,
 * each wither validates eagerly and returns a new instance.
 *
 * <pre>{@code
 * ReceiverOptions options = ReceiverOptions.queue(1)
 *         .maxInFlight(256)                          // stop reading at 256 unresolved packets
 *         .maxQueueDelay(Duration.ofMillis(20))      // headroom: what the subscriber drains in 20 ms
 *         .maxLengthBounds(64, 8192)                 // ... at least 64 packets, the queue at most 8192
 *         .overflow(OverflowPolicy.FAIL_OPEN)
 *         .queueOptions(q -> q.copyRange(512));
 * }</pre>
 *
 * <h2>Backpressure</h2>
 * Reading follows demand: the socket is read only while the subscriber has unclaimed demand and
 * fewer than {@link #maxInFlight} packets wait for their verdict, so nothing is prefetched into
 * the JVM and the kernel queue is the only buffer. How long that buffer may be follows what the
 * subscriber <em>drains over time</em>, not one {@code request(n)}: the kernel max-length is
 * {@code unresolved + headroom}, where the headroom is the number of packets the subscriber takes
 * within {@link #maxQueueDelay} at its measured rate (its speed while it has work, not the arrival
 * rate), at least the floor of {@link #maxLengthBounds}, and the whole at most its ceiling.
 * Operators request in small batches ({@code concatMap} one at a time, {@code flatMap} its
 * concurrency, {@code limitRate(n)} n); a burst that such a pipeline drains in microseconds still
 * fits, while a subscriber that stops requesting, or blocks in {@code onNext}, sees its rate decay
 * and the kernel hold at most {@code unresolved + floor} packets, beyond which the
 * {@link #overflow} policy applies, counted by the kernel. Before the rate is known (the first
 * few milliseconds of work) the headroom is the ceiling.
 *
 * <p>Defaults: one queue; at most 1024 packets in flight; a queue delay budget of 50 ms; a
 * headroom of at least 128 packets and a kernel max-length of at most 4096, moved with a
 * hysteresis (a quarter of the length above its target, a third below before it shrinks);
 * overflow DROP; default verdict DROP; a verdict timeout of 5 s; packets emitted on the receive
 * thread. docs/guide.md says why these values.
 */
public final class ReceiverOptions {
    /** Default least headroom, in packets: a burst this size always fits, whatever the rate. */
    public static final int DEFAULT_MAX_LENGTH_FLOOR = 128;
    /** Default most packets the kernel holds for one queue. */
    public static final int DEFAULT_MAX_LENGTH_CEILING = 4096;
    /** Default queue delay budget. */
    public static final Duration DEFAULT_MAX_QUEUE_DELAY = Duration.ofMillis(50);
    /**
     * Default verdict timeout of a receiver: the last safety net for a packet a pipeline holds
     * and forgets. Longer than any verdict a pipeline computes on purpose (a lookup, a rate
     * limiter's wait), short enough that a forgotten packet cannot hold its sender (on the OUTPUT
     * hook a queued packet keeps the sender's socket memory) or the queue's in-flight room for
     * long; docs/guide.md says more. {@link #noVerdictTimeout()} turns it off.
     */
    public static final Duration DEFAULT_VERDICT_TIMEOUT = Duration.ofSeconds(5);

    /** Daemon threads: a receiver never keeps the JVM alive by itself. */
    private static final ThreadFactory DAEMON_THREADS = task -> {
        Thread t = new Thread(task);
        t.setDaemon(true);
        return t;
    };

    private final QueueOptions base;
    private final int firstQueue;
    private final int lastQueue;
    private final int maxInFlight;
    private final int maxLengthFloor;
    private final int maxLengthCeiling;
    private final int hysteresis;
    private final Duration maxQueueDelay;
    private final OverflowPolicy overflow;
    private final Scheduler handoffScheduler;
    private final ThreadFactory threadFactory;
    private final Scheduler timer;
    private final List<ResolutionListener> resolutionListeners;
    private final List<Consumer<QueueBinding>> boundHooks;
    private final List<Consumer<QueueBinding>> unboundHooks;

    private ReceiverOptions(Fields f) {
        this.base = f.base;
        this.firstQueue = f.firstQueue;
        this.lastQueue = f.lastQueue;
        this.maxInFlight = f.maxInFlight;
        this.maxLengthFloor = f.maxLengthFloor;
        this.maxLengthCeiling = f.maxLengthCeiling;
        this.hysteresis = f.hysteresis;
        this.maxQueueDelay = f.maxQueueDelay;
        this.overflow = f.overflow;
        this.handoffScheduler = f.handoffScheduler;
        this.threadFactory = f.threadFactory;
        this.timer = f.timer;
        this.resolutionListeners = List.copyOf(f.resolutionListeners);
        this.boundHooks = List.copyOf(f.boundHooks);
        this.unboundHooks = List.copyOf(f.unboundHooks);
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
        QueueOptions base = QueueOptions.queue(first).verdictTimeout(DEFAULT_VERDICT_TIMEOUT);
        QueueOptions.queue(last);
        if (last < first) {
            throw new IllegalArgumentException("queue range is empty: " + first + ".." + last);
        }
        if (last - first >= 64) {
            throw new IllegalArgumentException("queue range " + first + ".." + last
                    + " has more than 64 queues (one thread each)");
        }
        Fields f = new Fields();
        f.base = base;
        f.firstQueue = first;
        f.lastQueue = last;
        f.maxInFlight = 1024;
        f.maxLengthFloor = DEFAULT_MAX_LENGTH_FLOOR;
        f.maxLengthCeiling = DEFAULT_MAX_LENGTH_CEILING;
        f.hysteresis = 8;
        f.maxQueueDelay = DEFAULT_MAX_QUEUE_DELAY;
        f.overflow = OverflowPolicy.DROP;
        f.threadFactory = DAEMON_THREADS;
        return new ReceiverOptions(f);
    }

    /** A copy with {@code change} applied: each wither names only the field it sets. */
    private ReceiverOptions with(Consumer<Fields> change) {
        Fields f = new Fields(this);
        change.accept(f);
        return new ReceiverOptions(f);
    }

    /** The fields of one instance, mutable, for {@link #with}. */
    private static final class Fields {
        QueueOptions base;
        int firstQueue;
        int lastQueue;
        int maxInFlight;
        int maxLengthFloor;
        int maxLengthCeiling;
        int hysteresis;
        Duration maxQueueDelay;
        OverflowPolicy overflow;
        Scheduler handoffScheduler;
        ThreadFactory threadFactory;
        Scheduler timer;
        List<ResolutionListener> resolutionListeners = List.of();
        List<Consumer<QueueBinding>> boundHooks = List.of();
        List<Consumer<QueueBinding>> unboundHooks = List.of();

        Fields() {
        }

        Fields(ReceiverOptions o) {
            base = o.base;
            firstQueue = o.firstQueue;
            lastQueue = o.lastQueue;
            maxInFlight = o.maxInFlight;
            maxLengthFloor = o.maxLengthFloor;
            maxLengthCeiling = o.maxLengthCeiling;
            hysteresis = o.hysteresis;
            maxQueueDelay = o.maxQueueDelay;
            overflow = o.overflow;
            handoffScheduler = o.handoffScheduler;
            threadFactory = o.threadFactory;
            timer = o.timer;
            resolutionListeners = o.resolutionListeners;
            boundHooks = o.boundHooks;
            unboundHooks = o.unboundHooks;
        }
    }

    /** Reading stops while this many packets (per queue) wait for their verdict, 1..1048576. */
    public ReceiverOptions maxInFlight(int packets) {
        if (packets < 1 || packets > QueueOptions.MAX_MAX_LENGTH) {
            throw new IllegalArgumentException("maxInFlight must be 1.." + QueueOptions.MAX_MAX_LENGTH + ": " + packets);
        }
        return with(f -> f.maxInFlight = packets);
    }

    /**
     * The bounds of the kernel max-length control. {@code floor}: the least headroom of unread
     * packets the kernel keeps room for beyond the unresolved ones, whatever the measured rate (a
     * burst this size always fits; a subscriber that stopped still gets this much queued).
     * {@code ceiling}: the most packets the kernel holds for the queue, resolved or not. The
     * receive buffer is sized for {@code ceiling} packets of the copy range.
     */
    public ReceiverOptions maxLengthBounds(int floor, int ceiling) {
        if (floor < 1 || ceiling > QueueOptions.MAX_MAX_LENGTH || floor > ceiling) {
            throw new IllegalArgumentException("max-length bounds must satisfy 1 <= floor <= ceiling <= "
                    + QueueOptions.MAX_MAX_LENGTH + ": " + floor + ".." + ceiling);
        }
        return with(f -> {
            f.maxLengthFloor = floor;
            f.maxLengthCeiling = ceiling;
        });
    }

    /**
     * How long a packet may wait in the kernel queue behind the others, at the subscriber's
     * measured rate: the headroom is this much of the subscriber's work. 1 ms..60 s.
     */
    public ReceiverOptions maxQueueDelay(Duration budget) {
        Objects.requireNonNull(budget, "maxQueueDelay");
        if (budget.compareTo(Duration.ofMillis(1)) < 0 || budget.compareTo(Duration.ofSeconds(60)) > 0) {
            throw new IllegalArgumentException("maxQueueDelay must be 1 ms..60 s: " + budget);
        }
        return with(f -> f.maxQueueDelay = budget);
    }

    /**
     * The least change (in packets) of the kernel max-length worth a config message, 1..65536; a
     * shrink waits for the larger of this and 1/8 of the length.
     */
    public ReceiverOptions maxLengthHysteresis(int packets) {
        if (packets < 1 || packets > 65536) {
            throw new IllegalArgumentException("hysteresis must be 1..65536: " + packets);
        }
        return with(f -> f.hysteresis = packets);
    }

    public ReceiverOptions overflow(OverflowPolicy policy) {
        Objects.requireNonNull(policy, "overflow");
        return with(f -> f.overflow = policy);
    }

    /** The verdict for packets left unresolved (cancel, error, discard, timeout, close). */
    public ReceiverOptions defaultVerdict(Verdict verdict) {
        return queueOptions(q -> q.defaultVerdict(verdict));
    }

    /**
     * Packets unresolved for longer than this get the default verdict (a watchdog for forgotten
     * packets); default {@link #DEFAULT_VERDICT_TIMEOUT}.
     */
    public ReceiverOptions verdictTimeout(Duration timeout) {
        return queueOptions(q -> q.verdictTimeout(timeout));
    }

    /**
     * No verdict timeout: a packet waits for its verdict as long as the subscription lasts (for
     * programs that hold packets on purpose for long, such as one that asks a person). A packet
     * the pipeline forgets then waits until the subscription ends.
     */
    public ReceiverOptions noVerdictTimeout() {
        return queueOptions(QueueOptions::noVerdictTimeout);
    }

    /**
     * Adjusts the per-queue options (copy mode and range, GSO, uid/gid, namespace, ...). The
     * queue number, max-length and fail-open are set by the receiver from its own options.
     */
    public ReceiverOptions queueOptions(UnaryOperator<QueueOptions> change) {
        QueueOptions changed = Objects.requireNonNull(change.apply(base), "queueOptions result");
        return with(f -> f.base = changed);
    }

    /**
     * Read and emit packets on a worker of {@code scheduler} instead of the receive thread, for
     * subscribers that must run there or may block. The receive thread waits until packets are
     * there and hands the reading over; the worker reads and emits batch after batch (handing
     * back every 64 batches, so its scheduler's other tasks get a turn) until the socket is empty, demand runs out or
     * {@code maxInFlight} is reached, then hands back: one hand-over per burst, never one per
     * packet. A subscriber that blocks stalls the reading, which is backpressure as without a
     * hand-off. Demand is claimed before reading, so this adds no prefetch.
     */
    public ReceiverOptions handoff(Scheduler scheduler) {
        Objects.requireNonNull(scheduler, "scheduler");
        return with(f -> f.handoffScheduler = scheduler);
    }

    /**
     * Where the receiver's threads come from: one receive thread per queue and one watchdog per
     * subscription, made when a subscription starts and ended with it. The factory decides what a
     * thread is (daemon or not, priority, class loader, uncaught-exception handler, a virtual
     * thread); the receiver names each thread after its job ({@code nfqueue-<num>-rx},
     * {@code nfqueue-<num>-watchdog}) and starts it. Default: daemon platform threads.
     */
    public ReceiverOptions threadFactory(ThreadFactory factory) {
        Objects.requireNonNull(factory, "threadFactory");
        return with(f -> f.threadFactory = factory);
    }

    /**
     * Runs each subscription's watchdog on {@code scheduler} and takes its clock
     * ({@link Scheduler#now}) for everything the receiver times: the verdict timeout (it becomes
     * the queues' {@link QueueOptions#ticker ticker}), the drain rate behind the kernel
     * max-length, and the stall warnings. Meant for tests: with reactor-test's
     * {@code VirtualTimeScheduler}, a {@code StepVerifier} that advances virtual time fires
     * timeouts and warnings at once (the test kit, nfqueue-test, does this for you). Default: a
     * watchdog thread of its own per subscription (from the {@link #threadFactory}) and
     * {@link System#nanoTime()}. A shared scheduler in production would let busy tasks on it
     * delay timeouts and the max-length.
     */
    public ReceiverOptions timer(Scheduler scheduler) {
        Objects.requireNonNull(scheduler, "timer");
        return with(f -> f.timer = scheduler);
    }

    /**
     * Adds a listener told of every verdict of the receiver's queues, the program's and the
     * default ones, on the thread that gave it (metrics, audit logs, tests). Several may be
     * added; each must be short and must not throw (an exception is logged and ignored).
     */
    public ReceiverOptions onResolution(ResolutionListener listener) {
        Objects.requireNonNull(listener, "listener");
        return with(f -> f.resolutionListeners = appended(f.resolutionListeners, listener));
    }

    /**
     * Adds a hook run when a subscription has bound a queue, before the subscriber's
     * {@code onSubscribe}, on the subscribing thread: once per queue of the range. Several may be
     * added; an exception from one is logged and ignored (it cannot undo the bind).
     */
    public ReceiverOptions doOnBound(Consumer<QueueBinding> hook) {
        Objects.requireNonNull(hook, "hook");
        return with(f -> f.boundHooks = appended(f.boundHooks, hook));
    }

    /**
     * Adds a hook run when a subscription has unbound a queue (cancel, error, failed bind of a
     * later queue of the range), after every packet it held got its verdict; the final counters
     * are then in {@link PacketReceiver#counters()}. On the thread that ended the subscription.
     * Several may be added; an exception from one is logged and ignored.
     */
    public ReceiverOptions doOnUnbound(Consumer<QueueBinding> hook) {
        Objects.requireNonNull(hook, "hook");
        return with(f -> f.unboundHooks = appended(f.unboundHooks, hook));
    }

    /**
     * These options without listeners and bound/unbound hooks: for the warm-up's synthetic
     * queues, which the program's metrics, audit logs and "bound" signals must not hear of.
     */
    ReceiverOptions withoutListenersAndHooks() {
        return with(f -> {
            f.resolutionListeners = List.of();
            f.boundHooks = List.of();
            f.unboundHooks = List.of();
        });
    }

    private static <T> List<T> appended(List<T> list, T item) {
        List<T> copy = new ArrayList<>(list);
        copy.add(item);
        return copy;
    }

    /** These options for queue {@code number} of the range alone (one rail of a parallel receive). */
    public ReceiverOptions onlyQueue(int number) {
        if (number < firstQueue || number > lastQueue) {
            throw new IllegalArgumentException("queue " + number + " is outside " + firstQueue + ".." + lastQueue);
        }
        return with(f -> {
            f.firstQueue = number;
            f.lastQueue = number;
        });
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

    /** The least headroom, in packets (see {@link #maxLengthBounds}). */
    public int maxLengthFloor() {
        return maxLengthFloor;
    }

    /** The most packets the kernel holds for one queue (see {@link #maxLengthBounds}). */
    public int maxLengthCeiling() {
        return maxLengthCeiling;
    }

    public int maxLengthHysteresis() {
        return hysteresis;
    }

    public Duration maxQueueDelay() {
        return maxQueueDelay;
    }

    public OverflowPolicy overflow() {
        return overflow;
    }

    public Optional<Scheduler> handoffScheduler() {
        return Optional.ofNullable(handoffScheduler);
    }

    public ThreadFactory threadFactory() {
        return threadFactory;
    }

    /** The scheduler set by {@link #timer}, if any. */
    public Optional<Scheduler> timer() {
        return Optional.ofNullable(timer);
    }

    public List<ResolutionListener> resolutionListeners() {
        return resolutionListeners;
    }

    public List<Consumer<QueueBinding>> boundHooks() {
        return boundHooks;
    }

    public List<Consumer<QueueBinding>> unboundHooks() {
        return unboundHooks;
    }

    public Verdict defaultVerdict() {
        return base.defaultVerdict();
    }

    public Optional<Duration> verdictTimeout() {
        return base.verdictTimeout();
    }

    /**
     * The options queue {@code number} is bound with: max-length at the ceiling (no rate is known
     * yet: start generous), the receive buffer sized for the ceiling.
     */
    public QueueOptions queueOptionsFor(int number) {
        QueueOptions q = base.queueNumber(number).failOpen(overflow == OverflowPolicy.FAIL_OPEN)
                .maxLength(maxLengthCeiling);
        int buffer = q.socketBufferSize() != 0 ? q.socketBufferSize() : q.effectiveSocketBufferSize();
        q = q.socketBufferSize(buffer);
        Scheduler clock = timer;
        return clock == null ? q : q.ticker(() -> clock.now(TimeUnit.NANOSECONDS));
    }

    @Override
    public String toString() {
        return "ReceiverOptions{queues=" + firstQueue + ".." + lastQueue + ", maxInFlight=" + maxInFlight
                + ", maxLength=" + maxLengthFloor + ".." + maxLengthCeiling + ", maxQueueDelay=" + maxQueueDelay
                + ", hysteresis=" + hysteresis + ", overflow=" + overflow + ", handoff=" + handoffScheduler
                + (timer == null ? "" : ", timer=" + timer)
                + ", queue=" + base + '}';
    }
}
