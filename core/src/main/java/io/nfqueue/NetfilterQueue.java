package io.nfqueue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A bound NFQUEUE with a blocking loop: the Java form of python-netfilterqueue.
 *
 * <pre>{@code
 * try (NetfilterQueue queue = NetfilterQueue.open(QueueOptions.queue(1))) {
 *     queue.run(packet -> {
 *         System.out.println(packet);   // one line: id, hook, protocol, addresses, length
 *         packet.accept();
 *     });
 * }
 * }</pre>
 *
 * <p>The handler runs on the thread that calls {@link #run} or {@link #poll}. It may give the
 * verdict at once, or keep the packet and give it later from any thread. Packets left without a
 * verdict get {@link QueueOptions#defaultVerdict()} when the queue closes, when the handler
 * throws, or after {@link QueueOptions#verdictTimeout()}.
 */
public final class NetfilterQueue implements AutoCloseable {
    /** How long one wait lasts: bounds how late an interrupt or a verdict timeout is noticed. */
    private static final long WAIT_SLICE_MILLIS = 50;
    /**
     * The warm-up's handlers: three classes that accept, taken in turn. The call to the handler
     * inside run()'s loop has then seen more classes than the JIT inlines (two), so it is
     * compiled as a plain interface call, and the program's own handler, a class it has not
     * seen, does not undo the compiled loop (measured: with one warm-up class, the first real
     * packets deoptimized the loop and it was compiled again).
     */
    private static final PacketHandler[] WARM_UP_HANDLERS = {Packet::accept, p -> p.verdict(Verdict.accept()),
        new PacketHandler() {
            @Override
            public void handle(Packet p) {
                p.accept();
            }
        }};

    private final BoundQueue queue;

    private NetfilterQueue(BoundQueue queue) {
        this.queue = queue;
    }

    /**
     * Binds the queue described by {@code options}.
     *
     * @throws MissingPrivilegeException          without CAP_NET_ADMIN
     * @throws QueueAlreadyBoundException         when another process owns the queue
     * @throws UnsupportedKernelFeatureException  when the kernel lacks a requested option
     * @throws NativeLibraryUnavailableException  when the native library cannot load
     */
    public static NetfilterQueue open(QueueOptions options) {
        return new NetfilterQueue(BoundQueue.open(options));
    }

    /**
     * Runs {@link #run}'s receive path over {@code packets} synthetic packets, with
     * {@link Packet#accept()} as the handler, before the queue is bound: see
     * {@link #warmUp(QueueOptions, int, PacketHandler)}.
     */
    public static Duration warmUp(QueueOptions options, int packets) {
        return warmUp(options, packets, WARM_UP_HANDLERS);
    }

    /**
     * Runs {@link #run}'s receive path (decode, dispatch, verdicts, their encoding) over
     * {@code packets} synthetic packets before the real queue is bound, so that the JIT has
     * compiled it when the first real packet arrives. A fresh JVM otherwise spends about twice
     * the steady-state CPU on each of its first 100 000-200 000 packets, mostly in compiler
     * threads (docs/performance.md, "Warm-up").
     *
     * <pre>{@code
     * QueueOptions options = QueueOptions.queue(1);
     * NetfilterQueue.warmUp(options, 200_000);           // no queue bound yet: nothing waits
     * try (NetfilterQueue queue = NetfilterQueue.open(options)) {
     *     queue.run(handler);
     * }
     * }</pre>
     *
     * Binds nothing and needs no privilege: the packets come from {@link BoundQueue#openSynthetic}
     * (UDP and TCP over IPv4 and IPv6, documentation addresses), and the verdicts go nowhere. Warm
     * up before a restarted program's old instance stops, or while traffic bypasses the queue: the
     * time it takes (0.3-0.4 s for 200 000 packets on a 2-vCPU machine) is time the queue would be
     * unbound otherwise.
     *
     * <p>The default form's handlers accept, three classes in turn: the loop's call into the
     * handler is then compiled as a plain interface call, so a handler of yours is not inlined
     * into it (a few nanoseconds per packet), and its arrival does not make the JIT compile the
     * loop again. An interrupt ends the warm-up early, with the flag still set.
     *
     * @param handler a handler that is safe to run on made-up packets (one with side effects
     *                outside the packet, logging or counting traffic, should not be given here);
     *                it must give each packet a verdict, as in {@link #run}. Your own filter logic
     *                warms up with it; packets it leaves open get the default verdict at the end.
     *                If it throws, the warm-up ends and the exception is thrown here, as from
     *                {@link #run}.
     * @return how long the warm-up took
     * @throws IllegalArgumentException if {@code packets} is not positive
     * @throws NativeLibraryUnavailableException when the native library cannot load
     */
    public static Duration warmUp(QueueOptions options, int packets, PacketHandler handler) {
        Objects.requireNonNull(handler, "handler");
        return warmUp(options, packets, new PacketHandler[] {handler});
    }

    /** The warm-up with {@code handlers} taken in turn, one per batch. */
    private static Duration warmUp(QueueOptions options, int packets, PacketHandler[] handlers) {
        Objects.requireNonNull(options, "options");
        if (packets < 1) {
            throw new IllegalArgumentException("warm-up packets must be at least 1: " + packets);
        }
        long start = System.nanoTime();
        try (NetfilterQueue synthetic = new NetfilterQueue(BoundQueue.openSynthetic(options, packets))) {
            List<Consumer<Packet>> consumers = new ArrayList<>();
            for (PacketHandler h : handlers) {
                consumers.add(consumerOf(h));
            }
            int limit = options.batchSize();
            // runOnce itself, so that what gets compiled is the method run() calls.
            for (int turn = 0; synthetic.queue.counters().received() < packets && !Thread.currentThread().isInterrupted()
                    && synthetic.runOnce(consumers.get(turn % consumers.size()), limit); turn++) {
                // one batch per turn
            }
        }
        return Duration.ofNanos(System.nanoTime() - start);
    }

    /**
     * The consumer run() hands its batches to: one method reference, made here for run() and
     * warmUp() alike, so that the dispatch sees one class after a warm-up, not two.
     */
    private static Consumer<Packet> consumerOf(PacketHandler handler) {
        return handler::handle;
    }

    /** Wraps an already bound queue (for example one bound over a test transport). */
    public static NetfilterQueue of(BoundQueue queue) {
        return new NetfilterQueue(Objects.requireNonNull(queue, "queue"));
    }

    /**
     * Handles packets until {@link #close()} is called (from any thread, or from the handler)
     * or the thread is interrupted (it then returns within about 50 ms, with the interrupt flag
     * still set). A handler verdict that loses the race against {@code close()} (the packet got
     * the default verdict first) ends {@code run} normally too. If the handler throws, that
     * packet gets the default verdict if it has none, and the exception is rethrown; the queue
     * stays bound.
     */
    public void run(PacketHandler handler) {
        Objects.requireNonNull(handler, "handler");
        int limit = queue.options().batchSize();
        Consumer<Packet> consumer = consumerOf(handler);
        while (!Thread.currentThread().isInterrupted() && runOnce(consumer, limit)) {
            // runOnce does one batch
        }
    }

    /**
     * One turn of {@link #run}: a batch, then timeouts, retries and the wait when idle. Its own
     * method, called once per batch, so the JIT compiles it like any hot method; a loop body that
     * stays inside {@code run}, entered once, would wait for on-stack replacement.
     *
     * @return false once the queue is closed
     */
    private boolean runOnce(Consumer<Packet> consumer, int limit) {
        int n;
        try {
            n = queue.receive(consumer, limit);
        } catch (VerdictAlreadyGivenException e) {
            if (queue.isClosed() && e.defaultCause().orElse(null) == DefaultVerdictCause.CLOSE) {
                return false; // the handler's verdict lost the race against close(): a normal shutdown
            }
            throw e;
        }
        if (n < 0) {
            return false;
        }
        queue.expireOverdue();
        queue.flush(); // verdicts whose send failed are tried again
        if (n == 0) {
            queue.awaitReadable(WAIT_SLICE_MILLIS);
        }
        return true;
    }

    /**
     * Handles the packets that arrive within {@code timeout}, then returns.
     *
     * @return how many packets the handler was given
     */
    public int poll(PacketHandler handler, Duration timeout) {
        Objects.requireNonNull(handler, "handler");
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative: " + timeout);
        }
        int limit = queue.options().batchSize();
        long start = System.nanoTime();
        long budget = BoundQueue.saturatedNanos(timeout);
        int total = 0;
        while (!Thread.currentThread().isInterrupted()) {
            int n = queue.receive(handler::handle, limit);
            if (n < 0) {
                break;
            }
            total += n;
            queue.expireOverdue();
            long left = budget - (System.nanoTime() - start);
            if (left <= 0) {
                break;
            }
            if (n == 0) {
                queue.awaitReadable(Math.min(WAIT_SLICE_MILLIS, Math.max(1, left / 1_000_000)));
            }
        }
        return total;
    }

    /** The kernel's counters for this queue (packets held, drops, last id). */
    public QueueStats stats() {
        return queue.stats();
    }

    /** The library's counters (received, verdicts, default verdicts by cause, errors). */
    public QueueCounters counters() {
        return queue.counters();
    }

    /** See {@link BoundQueue#connmarkByVerdict()}. */
    public boolean connmarkByVerdict() {
        return queue.connmarkByVerdict();
    }

    /** The low-level handle this queue runs on. */
    public BoundQueue handle() {
        return queue;
    }

    public QueueOptions options() {
        return queue.options();
    }

    /** Resolves what is unresolved with the default verdict, sends it, and unbinds. Idempotent. */
    @Override
    public void close() {
        queue.close();
    }

    @Override
    public String toString() {
        return "NetfilterQueue{" + queue + '}';
    }
}
