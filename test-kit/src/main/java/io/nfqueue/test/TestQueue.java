package io.nfqueue.test;

import io.nfqueue.BoundQueue;
import io.nfqueue.DefaultVerdictCause;
import io.nfqueue.NetfilterQueue;
import io.nfqueue.Packet;
import io.nfqueue.QueueOptions;
import io.nfqueue.ResolutionListener;
import io.nfqueue.Verdict;
import io.nfqueue.internal.access.TransportBinding;
import io.nfqueue.internal.fake.FakeTransport;
import io.nfqueue.reactor.PacketReceiver;
import io.nfqueue.reactor.QueueBackpressure;
import io.nfqueue.reactor.ReceiverOptions;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.test.scheduler.VirtualTimeScheduler;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * One NFQUEUE without a kernel: the library's real receive path ({@link BoundQueue},
 * {@link PacketReceiver}, verdict batching, timeouts, backpressure) runs over an in-memory
 * socket and kernel queue instead of netlink. No native library, no root, any OS with Java 17.
 * A test offers packets, subscribes its pipeline, and asserts what each packet got.
 *
 * <pre>{@code
 * TestQueue queue = TestQueue.create();
 * queue.offer(Packets.udp().to("10.0.0.2", 53).build(),     // a DNS query
 *             Packets.tcp().to("10.0.0.2", 23).syn().build());  // telnet
 * StepVerifier.create(queue.receive(packets -> firewall.apply(packets)))
 *         .then(() -> queue.expectVerdicts(accepted(), dropped()))
 *         .thenCancel()
 *         .verify();
 * }</pre>
 *
 * <p>With {@code StepVerifier.withVirtualTime}, the receiver's clock and watchdog run on the
 * virtual-time scheduler, so {@code thenAwait} fires verdict timeouts and stall warnings at once
 * (see {@link #receive(Function)}).
 *
 * <p>Like the kernel, the queue numbers packets 1, 2, 3, ..., holds each until it gets a verdict,
 * applies a batch verdict to every packet it covers, reports uid/gid, security context and
 * conntrack only to a queue bound with those options, cuts the copy to the copy range, and, when
 * the socket closes, forgets (drops) what it still held. Unlike it, it holds every packet
 * offered (no max-length overflow), and packets offered while nothing is bound wait for the next
 * binding instead of being dropped: a test offers them for the pipeline it is about to
 * subscribe. One binding at a time, as the kernel allows one socket per queue.
 *
 * <p>Thread-safe: packets may be offered from any thread.
 */
public final class TestQueue implements AutoCloseable {
    /** How long the waiting assertions wait, in real time, unless {@link #waitAtMost} says otherwise. */
    public static final Duration DEFAULT_WAIT = Duration.ofSeconds(5);
    /** How many packets the error of {@link #expectVerdicts} shows at most. */
    private static final int REPORT_ROWS = 30;

    private final int queueNumber;
    private final Object lock = new Object();
    private boolean noConntrackGlue;
    private final KernelView kernel;
    // Guarded by lock.
    private final List<OfferedPacket> offered = new ArrayList<>();
    private final Map<Integer, OfferedPacket> byId = new HashMap<>();
    private final Deque<OfferedPacket> unbound = new ArrayDeque<>();
    private final List<Binding> bindings = new ArrayList<>();
    private Binding current;
    private int nextId = 1;
    private Duration wait = DEFAULT_WAIT;
    private final List<BoundQueue> opened = new ArrayList<>();

    /** Who gave each packet's verdict: the cause of a default one, or PROGRAM. */
    private final Map<Integer, Object> givenBy = new ConcurrentHashMap<>();
    /** Ids whose onNext into a pipeline of {@link #receive} has returned. */
    private final Set<Integer> delivered = ConcurrentHashMap.newKeySet();
    private static final Object PROGRAM = new Object();
    /**
     * The flow decisions among the verdicts, as the queue sent them (kernel verdict and mark, and
     * the decision): the kernel's record alone cannot tell acceptFlow from accept with a mark.
     */
    private final Map<Integer, Verdict> flowVerdicts = new ConcurrentHashMap<>();
    private final ResolutionListener listener = this::resolved;
    private volatile PacketReceiver lastReceiver;

    /** One socket bound to the queue, and how it was bound. */
    private record Binding(FakeTransport transport, QueueOptions options) {
    }

    private TestQueue(int queueNumber) {
        this.queueNumber = queueNumber;
        this.kernel = new KernelView(queueNumber);
    }

    /** Queue 0. */
    public static TestQueue create() {
        return create(0);
    }

    /** Queue {@code queueNumber} (0..65535): receivers and bindings must name it. */
    public static TestQueue create(int queueNumber) {
        QueueOptions.queue(queueNumber); // validates
        return new TestQueue(queueNumber);
    }

    public int queueNumber() {
        return queueNumber;
    }

    /**
     * Acts from the next bind on as a kernel without {@code CONFIG_NETFILTER_NETLINK_GLUE_CT} (as
     * some do): it refuses the conntrack option, and a queue with flow offload then sends flow
     * decisions in the packet mark only ({@code BoundQueue.connmarkByVerdict()} false). By
     * default the test queue has the glue, as most distribution kernels do.
     */
    public TestQueue withoutConntrackGlue() {
        synchronized (lock) {
            noConntrackGlue = true;
        }
        return this;
    }

    /** How long {@link #expectVerdicts} and {@link #awaitRead} wait in real time (default 5 s). */
    public TestQueue waitAtMost(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("a wait is not negative: " + timeout);
        }
        synchronized (lock) {
            wait = timeout;
        }
        return this;
    }

    // ---- offering packets ----

    /** Offers IP packets (each from its IP header on) with the default metadata of {@link QueuedPacket}. */
    public List<OfferedPacket> offer(byte[]... ipPackets) {
        Objects.requireNonNull(ipPackets, "ipPackets");
        QueuedPacket[] packets = new QueuedPacket[ipPackets.length];
        for (int i = 0; i < ipPackets.length; i++) {
            packets[i] = QueuedPacket.of(Objects.requireNonNull(ipPackets[i], "ipPackets[" + i + "]"));
        }
        return offer(packets);
    }

    /** Offers packets with their metadata, in this order. */
    public List<OfferedPacket> offer(QueuedPacket... packets) {
        Objects.requireNonNull(packets, "packets");
        for (int i = 0; i < packets.length; i++) {
            Objects.requireNonNull(packets[i], "packets[" + i + "]");
        }
        List<OfferedPacket> out = new ArrayList<>(packets.length);
        synchronized (lock) {
            for (QueuedPacket p : packets) {
                OfferedPacket o = new OfferedPacket(nextId++, offered.size() + 1, p);
                offered.add(o);
                byId.put(o.id(), o);
                out.add(o);
                Binding b = live();
                if (b == null) {
                    unbound.add(o);
                } else {
                    b.transport().offer(kernel.deliver(o, b.options()));
                }
            }
        }
        return out;
    }

    /** The binding still open, or null. */
    private Binding live() {
        Binding b = current;
        if (b != null && b.transport().isClosed()) {
            current = null;
            return null;
        }
        return b;
    }

    /** Every packet offered so far, in order. */
    public List<OfferedPacket> offered() {
        synchronized (lock) {
            return List.copyOf(offered);
        }
    }

    // ---- binding: reactive and blocking ----

    /**
     * A receiver of this queue with the default {@link ReceiverOptions}. Made inside
     * {@code StepVerifier.withVirtualTime(...)}, it runs on virtual time.
     */
    public PacketReceiver receiver() {
        return receiver(ReceiverOptions.queue(queueNumber));
    }

    /**
     * A receiver of this queue with {@code options} (which must name this queue alone). When
     * reactor-test's virtual-time scheduler is installed as this is called, and the options set
     * no {@link ReceiverOptions#timer timer}, the receiver's watchdog and clock use it.
     */
    public PacketReceiver receiver(ReceiverOptions options) {
        Objects.requireNonNull(options, "options");
        if (options.firstQueue() != queueNumber || options.lastQueue() != queueNumber) {
            throw new IllegalArgumentException("this test queue is queue " + queueNumber + "; the options name queues "
                    + options.firstQueue() + ".." + options.lastQueue());
        }
        ReceiverOptions o = options.onResolution(listener);
        if (o.timer().isEmpty() && VirtualTimeScheduler.isFactoryEnabled()) {
            o = o.timer(VirtualTimeScheduler.get());
        }
        PacketReceiver r = PacketReceiver.create(o, this::bindForReceiver);
        lastReceiver = r;
        return r;
    }

    /** {@code receiver().receive()}, made at subscription (so virtual time is seen when there is any). */
    public Flux<Packet> receive() {
        return Flux.defer(() -> DeliveryCounter.count(receiver().receive(), delivered::add));
    }

    /**
     * {@code receiver().receive(pipeline)}, the safe form: packets that the pipeline drops or
     * errors on get the default verdict at once. Made at subscription, so that inside
     * {@code StepVerifier.withVirtualTime(() -> queue.receive(...))} the receiver runs on
     * virtual time.
     */
    public <R> Flux<R> receive(Function<? super Flux<Packet>, ? extends Publisher<R>> pipeline) {
        Objects.requireNonNull(pipeline, "pipeline");
        return Flux.defer(() -> receiver().receive(packets -> pipeline.apply(DeliveryCounter.count(packets,
                delivered::add))));
    }

    /** {@code receiver(options).receive(pipeline)}, made at subscription. */
    public <R> Flux<R> receive(ReceiverOptions options, Function<? super Flux<Packet>, ? extends Publisher<R>> pipeline) {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(pipeline, "pipeline");
        return Flux.defer(() -> receiver(options).receive(packets -> pipeline.apply(DeliveryCounter.count(packets,
                delivered::add))));
    }

    /** Binds for the blocking API: {@code NetfilterQueue} over this queue with default options. */
    public NetfilterQueue open() {
        return open(QueueOptions.queue(queueNumber));
    }

    /** Binds for the blocking API with {@code options} (which must name this queue). */
    public NetfilterQueue open(QueueOptions options) {
        return NetfilterQueue.of(bind(options));
    }

    /** Binds a {@link BoundQueue} (the low-level API) with {@code options}; {@link #close()} closes it if the test did not. */
    public BoundQueue bind(QueueOptions options) {
        BoundQueue q = bindTransport(options);
        q.onResolution(listener);
        synchronized (lock) {
            opened.add(q);
        }
        return q;
    }

    private BoundQueue bindForReceiver(QueueOptions options) {
        return bindTransport(options);
    }

    private BoundQueue bindTransport(QueueOptions options) {
        Objects.requireNonNull(options, "options");
        if (options.queueNumber() != queueNumber) {
            throw new IllegalArgumentException("this test queue is queue " + queueNumber + "; the options name queue "
                    + options.queueNumber());
        }
        if (options.networkNamespace().isPresent()) {
            throw new IllegalArgumentException("a test queue lives in no network namespace: leave networkNamespace "
                    + "unset (it is " + options.networkNamespace().get() + ")");
        }
        FakeTransport transport = new FakeTransport();
        synchronized (lock) {
            if (noConntrackGlue) {
                transport.withoutConntrackGlue();
            }
            if (live() != null) {
                throw new IllegalStateException("test queue " + queueNumber + " is already bound: the kernel lets one "
                        + "socket bind a queue at a time, so end the other subscription (or close the other queue) first");
            }
            BoundQueue q = TransportBinding.open(options, transport);
            Binding b = new Binding(transport, options);
            bindings.add(b);
            current = b;
            while (!unbound.isEmpty()) {
                transport.offer(kernel.deliver(unbound.poll(), options));
            }
            return q;
        }
    }

    /** True while a receiver's subscription (or a queue from {@link #bind}) holds the queue. */
    public boolean isBound() {
        synchronized (lock) {
            return live() != null;
        }
    }

    /**
     * The backpressure of the subscription of the receiver made last, while it lasts: kernel
     * max-length, drain rate, unresolved packets, demand, and {@code readingStalls}, the stall
     * warnings it logged.
     */
    public Optional<QueueBackpressure> backpressure() {
        PacketReceiver r = lastReceiver;
        return r == null ? Optional.empty() : r.backpressure().stream().findFirst();
    }

    // ---- what the packets got ----

    private void resolved(Packet packet, Verdict verdict, DefaultVerdictCause cause) {
        if (verdict != null && verdict.isFlowDecision()) {
            flowVerdicts.putIfAbsent(packet.id(), verdict);
        }
        givenBy.putIfAbsent(packet.id(), cause == null ? PROGRAM : cause);
    }

    /** The verdicts the kernel applied so far, in the order it applied them. */
    public List<GivenVerdict> verdicts() {
        synchronized (lock) {
            List<GivenVerdict> out = new ArrayList<>();
            for (Binding b : bindings) {
                for (int id : b.transport().appliedOrder()) {
                    GivenVerdict g = given(b, id);
                    if (g != null) {
                        out.add(g);
                    }
                }
            }
            return out;
        }
    }

    /** What {@code packet} got, if it got a verdict yet. */
    public Optional<GivenVerdict> verdictOf(OfferedPacket packet) {
        Objects.requireNonNull(packet, "packet");
        synchronized (lock) {
            for (Binding b : bindings) {
                if (b.transport().verdictCount(packet.id()) > 0) {
                    return Optional.ofNullable(given(b, packet.id()));
                }
            }
            return Optional.empty();
        }
    }

    /** Null until both the kernel's record and the listener's word are in. */
    private GivenVerdict given(Binding b, int id) {
        Object by = givenBy.get(id);
        OfferedPacket o = byId.get(id);
        if (by == null || o == null) {
            return null;
        }
        Verdict v = kernel.verdict(b.transport().lastVerdictFor(id));
        Verdict flow = flowVerdicts.get(id);
        if (flow != null && flow.kind() == v.kind() && flow.mark().equals(v.mark())) {
            v = flow;
        }
        return new GivenVerdict(o, v, by == PROGRAM ? Optional.empty() : Optional.of((DefaultVerdictCause) by));
    }

    /**
     * Asserts that the packets offered got these verdicts, one expectation per packet in the
     * order offered, each exactly once. Waits (in real time, up to {@link #waitAtMost}) until
     * every packet has its verdict, then compares; the error lists every packet with what was
     * expected and what it got (past 30 packets, only those that differ, the first 30 of them).
     *
     * @throws AssertionError when a packet got another verdict, none, or more than one, or when
     *                        the number of packets offered is not the number of expectations
     */
    public void expectVerdicts(VerdictExpectation... expected) {
        Objects.requireNonNull(expected, "expected");
        Duration timeout;
        synchronized (lock) {
            timeout = wait;
        }
        boolean complete = awaitCondition(() -> settledCount() >= expected.length, timeout);
        List<OfferedPacket> packets = offered();
        StringBuilder report = new StringBuilder();
        boolean ok = complete && packets.size() == expected.length;
        int rows = Math.max(packets.size(), expected.length);
        int wrong = 0;
        for (int i = 0; i < rows; i++) {
            OfferedPacket p = i < packets.size() ? packets.get(i) : null;
            VerdictExpectation e = i < expected.length ? expected[i] : null;
            String got = p == null ? "(no such packet: only " + packets.size() + " offered)" : state(p);
            String problem = null;
            if (p == null) {
                problem = "never offered";
            } else if (e == null) {
                problem = "not expected";
            } else {
                Optional<GivenVerdict> g = verdictOf(p);
                int count = countFor(p);
                if (count > 1) {
                    problem = count + " verdicts";
                } else if (g.isEmpty()) {
                    problem = "no verdict";
                } else {
                    problem = e.mismatch(g.get());
                }
            }
            ok &= problem == null;
            if (problem != null) {
                wrong++;
            }
            // Many packets: the ones that differ, up to a screenful; a few: every one, for context.
            if (rows <= REPORT_ROWS || (problem != null && wrong <= REPORT_ROWS)) {
                report.append(String.format("  %s%n      expected %s%n      got      %s%s%n",
                        p == null ? "#" + (i + 1) : p.toString(), e == null ? "(nothing)" : e, got,
                        problem == null ? "" : "   <-- " + problem));
            }
        }
        if (rows > REPORT_ROWS) {
            report.append(wrong > REPORT_ROWS ? "  ... and " + (wrong - REPORT_ROWS) + " more that differ\n" : "")
                    .append("  (").append(rows - wrong).append(" packets got what was expected; not shown)\n");
        }
        if (!ok) {
            throw new AssertionError("verdicts differ from the expected ones (" + packets.size() + " offered, "
                    + expected.length + " expected, " + wrong + " differ" + (complete ? "" : "; waited "
                    + timeout.toMillis() + " ms for the missing ones") + "):\n" + report);
        }
    }

    /**
     * {@link #expectVerdicts(VerdictExpectation...)} with the expectation of each packet offered
     * so far computed from it: for many packets, or when what a packet must get follows from
     * what it is.
     *
     * <pre>{@code
     * queue.expectVerdicts(p -> p.index() % 2 == 0 ? accepted() : defaultVerdict(DISCARD));
     * }</pre>
     */
    public void expectVerdicts(Function<? super OfferedPacket, VerdictExpectation> expected) {
        Objects.requireNonNull(expected, "expected");
        List<OfferedPacket> packets = offered();
        VerdictExpectation[] each = new VerdictExpectation[packets.size()];
        for (int i = 0; i < each.length; i++) {
            each[i] = Objects.requireNonNull(expected.apply(packets.get(i)), "the expectation for " + packets.get(i));
        }
        expectVerdicts(each);
    }

    /** What {@code p} has now, in words ("no verdict: ..." when it has none); for reports. */
    String state(OfferedPacket p) {
        Optional<GivenVerdict> g = verdictOf(p);
        if (g.isPresent()) {
            return g.get().describe();
        }
        synchronized (lock) {
            for (Binding b : bindings) {
                if (b.transport().heldAtClose().contains(p.id())) {
                    return "no verdict: the queue was still holding it when its socket closed, so the kernel dropped it";
                }
            }
            if (unbound.contains(p)) {
                return "no verdict: nothing has bound the queue since it was offered";
            }
            Binding b = live();
            if (b != null && b.transport().held().contains(p.id())) {
                return b.transport().isUnread(p.id()) ? "no verdict yet: not read by the library (no demand, or "
                        + "maxInFlight packets wait for their verdict)" : "no verdict yet: read, waiting for its verdict";
            }
        }
        return "no verdict";
    }

    private int countFor(OfferedPacket p) {
        int n = 0;
        synchronized (lock) {
            for (Binding b : bindings) {
                n += b.transport().verdictCount(p.id());
            }
        }
        return n;
    }

    /** Packets offered while nothing was bound, still waiting for a binding. */
    int unboundCount() {
        synchronized (lock) {
            return unbound.size();
        }
    }

    /** Packets with a verdict whose giver is known, or that the kernel dropped at close. */
    int settledCount() {
        synchronized (lock) {
            int n = 0;
            for (Binding b : bindings) {
                for (int id : b.transport().appliedOrder()) {
                    if (givenBy.containsKey(id)) {
                        n++;
                    }
                }
                n += b.transport().heldAtClose().size();
            }
            return n;
        }
    }

    /**
     * Waits until the library has read every packet offered so far. Tests on virtual time call
     * it before they advance the clock, so that the packets' ages start where the test thinks.
     *
     * @throws AssertionError when they are not all read within {@link #waitAtMost}: the pipeline
     *                        requested no more, {@code maxInFlight} packets wait for verdicts, or
     *                        nothing bound the queue
     */
    public TestQueue awaitRead() {
        Duration timeout;
        synchronized (lock) {
            timeout = wait;
        }
        if (!awaitCondition(this::allRead, timeout)) {
            throw new AssertionError("the packets offered were not all read within " + timeout.toMillis() + " ms: "
                    + (isBound() ? "the pipeline has not requested them, or maxInFlight packets wait for their verdict"
                    : "nothing has bound the queue"));
        }
        return this;
    }

    /**
     * How many of the packets offered the library has not read yet: they wait in the queue, as in
     * the kernel's, because the pipeline has not requested them, because {@code maxInFlight}
     * packets wait for their verdict, or because nothing has bound the queue. The receiver reads
     * only what the pipeline requested (no prefetch of its own), so a test of backpressure reads
     * its pipeline's demand here: offered 20, requested 5, 15 unread.
     */
    public int unread() {
        synchronized (lock) {
            Binding b = live();
            return unbound.size() + (b == null ? 0 : b.transport().unread());
        }
    }

    /**
     * Breaches of the contract between the library and its transport seen so far, over every
     * binding: two threads receiving (or sending verdicts) at once, a close while either runs, a
     * call after close. Always empty unless nfqueue-java itself has a bug (please report it with
     * the test); the library's own tests assert that it is.
     */
    public List<String> transportViolations() {
        synchronized (lock) {
            List<String> all = new ArrayList<>();
            for (Binding b : bindings) {
                all.addAll(b.transport().violations());
            }
            return all;
        }
    }

    private boolean allRead() {
        synchronized (lock) {
            Binding b = live();
            return unbound.isEmpty() && (b == null || b.transport().unread() == 0);
        }
    }

    /**
     * Waits until every packet offered so far has gone through {@code onNext} into the pipeline
     * of a {@link #receive} flux (or was resolved or dropped before it could be), so that what the
     * pipeline does on the receive thread, such as scheduling a {@code Mono.delay}, has happened.
     * Tests on virtual time call it before they advance the clock: the pipeline runs on real
     * threads, and a clock moved on before a packet reached it would move on without it.
     *
     * @throws AssertionError when that takes longer than {@link #waitAtMost}: the pipeline
     *                        requested no more (a {@code concatMap} asks for one packet at a time),
     *                        {@code maxInFlight} packets wait for verdicts, or nothing bound the queue
     */
    public TestQueue awaitDelivered() {
        Duration timeout;
        synchronized (lock) {
            timeout = wait;
        }
        if (!awaitCondition(this::allDelivered, timeout)) {
            List<OfferedPacket> missing = new ArrayList<>();
            for (OfferedPacket p : offered()) {
                if (!isDeliveredOrSettled(p.id())) {
                    missing.add(p);
                }
            }
            throw new AssertionError(missing.size() + " packets offered did not reach the pipeline within "
                    + timeout.toMillis() + " ms (" + missing + "): " + (isBound() ? "the pipeline has not "
                    + "requested them (concatMap asks for one at a time), or maxInFlight packets wait for their verdict"
                    : "nothing has bound the queue") + "; only pipelines of TestQueue.receive are seen");
        }
        return this;
    }

    private boolean allDelivered() {
        for (OfferedPacket p : offered()) {
            if (!isDeliveredOrSettled(p.id())) {
                return false;
            }
        }
        return true;
    }

    private boolean isDeliveredOrSettled(int id) {
        if (delivered.contains(id) || givenBy.containsKey(id)) {
            return true;
        }
        synchronized (lock) {
            for (Binding b : bindings) {
                if (b.transport().heldAtClose().contains(id)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Waits until {@code count} packets have their verdict (or were dropped by the kernel at
     * close); false when {@code timeout} (real time) passed first.
     */
    public boolean awaitVerdicts(int count, Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        return awaitCondition(() -> settledCount() >= count, timeout);
    }

    private static boolean awaitCondition(BooleanSupplier done, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            try {
                TimeUnit.MILLISECONDS.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /**
     * "" when every packet offered got exactly one verdict; otherwise one line per packet with
     * none or several (for an assertion message). Packets the kernel dropped at close count as
     * having none.
     */
    public String exactlyOnceProblems() {
        StringBuilder s = new StringBuilder();
        for (OfferedPacket p : offered()) {
            int n = countFor(p);
            if (n != 1) {
                s.append(p).append(": ").append(n).append(" verdicts\n");
            }
        }
        return s.toString();
    }

    /** Closes the queues bound with {@link #bind} or {@link #open} that are still open. */
    @Override
    public void close() {
        List<BoundQueue> toClose;
        synchronized (lock) {
            toClose = new ArrayList<>(opened);
            opened.clear();
        }
        for (BoundQueue q : toClose) {
            q.close();
        }
    }

    @Override
    public String toString() {
        synchronized (lock) {
            return "TestQueue{queue=" + queueNumber + ", offered=" + offered.size() + ", bound=" + (live() != null)
                    + ", bindings=" + bindings.size() + '}';
        }
    }
}
