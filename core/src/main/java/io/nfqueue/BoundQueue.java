package io.nfqueue;

import io.nfqueue.internal.DefaultVerdictLog;
import io.nfqueue.internal.NativeConstants;
import io.nfqueue.internal.NativeTransport;
import io.nfqueue.internal.Transport;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * The low-level handle on one bound queue: non-blocking batch receive with a limit, verdict
 * flush, max-length changes, a readiness wait. {@link NetfilterQueue} and the Reactor adapter are
 * built on this alone; another adapter (RxJava, coroutines, virtual threads) can be too.
 *
 * <pre>{@code
 * try (BoundQueue queue = BoundQueue.open(QueueOptions.queue(1))) {
 *     while (running) {
 *         if (queue.receive(Packet::accept, 64) == 0) {
 *             queue.awaitReadable(100);
 *         }
 *     }
 * }
 * }</pre>
 *
 * <h2>Threads</h2>
 * One thread at a time receives (a second concurrent {@link #receive} throws). Verdicts come from
 * any thread: they are queued, and sent in batches by whichever thread gets there first: the
 * receiving thread after each batch it dispatched (verdicts given inside the consumer wait for
 * that), any other thread at once, without waiting for the receiving thread. {@link #close} from
 * any thread; it waits only for a native receive in progress, not for a consumer.
 *
 * <h2>Exactly one verdict</h2>
 * Each packet is claimed by exactly one verdict (an atomic state change on the packet). Packets
 * still unresolved when the queue closes, when the consumer throws, or after the verdict timeout
 * get {@link QueueOptions#defaultVerdict()}; these are counted by cause ({@link #counters()}) and
 * logged once per burst. A packet belongs to its binding, so a late verdict can never reach a
 * packet of a later binding that reuses its id.
 *
 * <h2>Parts</h2>
 * This class binds, dispatches and coordinates; the receive side is {@link SocketReader}, the
 * send side {@link VerdictSender} (with the batch-verdict rule in {@link BatchVerdictRule}), and
 * close()'s wait for verdicts in flight {@link VerdictSubmitters}.
 */
public final class BoundQueue implements AutoCloseable {
    /** Transmit buffer: several full-size replacement payloads per send. */
    private static final int TX_CAPACITY = 512 * 1024;
    private static final int SEND_BUFFER = 1 << 20;

    private final QueueOptions options;
    private final Transport transport;
    private final NativeConstants k;
    private final String name;
    private final int portId;
    private final int fileDescriptor;
    private final HeldPackets held = new HeldPackets();
    private final AtomicInteger unresolvedCount = new AtomicInteger();
    private final VerdictSender sender;
    private final SocketReader reader;
    private final Resolutions resolutions;
    /**
     * Guards the socket's control calls (configure, wake-up, buffer size) against closing: its
     * own lock, so that a wake-up never waits behind a send of many verdicts.
     */
    private final ReentrantLock controlLock = new ReentrantLock();
    /**
     * Guards the readiness wait against closing. Separate from the socket lock so that a thread
     * waiting for packets never delays a default verdict given by another thread.
     */
    private final ReentrantLock awaitLock = new ReentrantLock();
    private final AtomicReference<Thread> receiver = new AtomicReference<>();
    private volatile boolean closing;
    /** Set with the socket's close, under the control lock and the sender's lock. */
    private volatile boolean transportClosed;
    private final AtomicBoolean closeStarted = new AtomicBoolean();
    private final CountDownLatch closed = new CountDownLatch(1);
    private static final System.Logger LOG = System.getLogger(BoundQueue.class.getName());
    /** Set once by bind(), before the queue is shared; see {@link #connmarkByVerdict()}. */
    private boolean connmarkByVerdict;
    private volatile int maxLength;
    /** The largest max-length this queue had: bounds how much close may find in the socket. */
    private volatile int maxLengthEver;

    private BoundQueue(QueueOptions options, Transport transport, NativeConstants k) {
        this.options = options;
        this.transport = transport;
        this.k = k;
        this.name = "queue " + options.queueNumber() + options.networkNamespace().map(p -> " in " + p).orElse("");
        DefaultVerdictLog errorLog = new DefaultVerdictLog(name);
        ByteBuffer tx = ByteBuffer.allocateDirect(TX_CAPACITY).order(ByteOrder.nativeOrder());
        this.sender = new VerdictSender(transport, new VerdictWriter(k, tx), held, options.queueNumber(), errorLog);
        this.reader = new SocketReader(this, options, transport, k, held, unresolvedCount, sender, errorLog, name);
        this.resolutions = new Resolutions(this, options, sender, reader, unresolvedCount, new DefaultVerdictLog(name),
                errorLog);
        transport.attach(reader.rxBuffer(), reader.slotSize(), reader.recordBuffer(), tx);
        this.portId = transport.portId();
        this.fileDescriptor = transport.fileDescriptor();
    }

    /**
     * Opens a netlink socket (in the options' network namespace, if any) and binds the queue
     * with copy mode, flags and max-length in one configuration message, so no packet meets a
     * half-configured queue.
     *
     * @throws MissingPrivilegeException        without CAP_NET_ADMIN (or CAP_SYS_ADMIN for a namespace)
     * @throws QueueAlreadyBoundException       when another process owns the queue
     * @throws UnsupportedKernelFeatureException when the kernel lacks a requested option
     * @throws NativeLibraryUnavailableException when the native library cannot load
     */
    public static BoundQueue open(QueueOptions options) {
        Objects.requireNonNull(options, "options");
        NativeAccess.ensureLoaded();
        // A path that certainly is no namespace file is refused before any native call.
        options.networkNamespace().ifPresent(NamespacePaths::check);
        Transport t = NativeAccess.call(() -> NativeTransport.open(options.networkNamespace().map(Path::toString).orElse(null),
                options.effectiveSocketBufferSize(), SEND_BUFFER), options.networkNamespace().orElse(null));
        return open(options, t);
    }

    /**
     * A queue bound to no kernel queue, for warming up a JVM before it binds the real one (see
     * {@link NetfilterQueue#warmUp}): {@link #receive} hands out {@code packets} synthetic
     * packets, laid out by the native library exactly as the kernel sends them and decoded by the
     * same code, and then none, like an idle queue; verdicts are checked and encoded as for a real
     * queue, then discarded. The packets are
     * UDP and TCP over IPv4 and IPv6 between documentation addresses (192.0.2.1 to 198.51.100.7,
     * 2001:db8::1 to 2001:db8::7, port 40000 to 5001), 64 bytes of payload, with complete
     * checksums and then {@linkplain Packet#isChecksumNotReady() checksum-not-ready}, queued at
     * FORWARD, every other one with mark 0x10, copied as {@code options} says (copy mode and
     * range), in reads of varying size as a real socket gives them (full batches, single packets,
     * none). Every option applies but the network namespace and flow offload,
     * which are left out: nothing is bound. Needs no privilege. It has no socket:
     * {@link #fileDescriptor()} is -1, {@link #portId()} 0, {@link #stats()} finds no queue, and
     * {@link #receiveBufferSize()} is what the receive slots hold.
     *
     * @throws IllegalArgumentException if {@code packets} is negative
     * @throws NativeLibraryUnavailableException when the native library cannot load
     */
    public static BoundQueue openSynthetic(QueueOptions options, long packets) {
        Objects.requireNonNull(options, "options");
        if (packets < 0) {
            throw new IllegalArgumentException("synthetic packets must not be negative: " + packets);
        }
        NativeAccess.ensureLoaded();
        NativeConstants k = NativeConstants.get();
        int copyRange = switch (options.copyMode()) {
            case PACKET -> options.copyRange();
            case META, NONE -> 0;
        };
        Transport t = NativeAccess.call(() -> NativeTransport.openSynthetic(options.queueNumber(), k.hookForward, copyRange,
                SyntheticPackets.mix(), SyntheticPackets.skbInfo(k.skbCsumNotReady), packets), null);
        return open(options.noFlowOffload().withoutNetworkNamespace(), t);
    }

    /**
     * Binds over a given transport instead of a netlink socket. Package-private, since
     * {@link Transport} is internal: the test kit (nfqueue-test's {@code TestQueue}) and tests in
     * other packages reach it through {@code io.nfqueue.internal.access.TransportBinding}, which
     * looks it up by this name and signature.
     */
    static BoundQueue open(QueueOptions options, Transport transport) {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(transport, "transport");
        BoundQueue q;
        try {
            q = new BoundQueue(options, transport, NativeConstants.get());
        } catch (RuntimeException | Error e) {
            transport.close();
            throw e;
        }
        q.bind();
        return q;
    }

    private void bind() {
        maxLength = options.maxLength();
        maxLengthEver = maxLength;
        int rc;
        if (options.flowOffload().isPresent() && !options.conntrack()) {
            // The probe: the kernel refuses the conntrack flag (EOPNOTSUPP) exactly when it lacks the
            // glue that would also apply a connection mark sent in a verdict. Kept on when taken,
            // since the glue is then in use.
            rc = BindRequest.send(transport, k, options.conntrack(true));
            connmarkByVerdict = rc == 0;
            if (rc == -k.eopnotsupp) {
                rc = BindRequest.send(transport, k, options);
            }
        } else {
            rc = BindRequest.send(transport, k, options);
            connmarkByVerdict = rc == 0 && options.flowOffload().isPresent();
        }
        if (options.flowOffload().isPresent() && rc == 0) {
            LOG.log(System.Logger.Level.INFO, name + ": flow offload with " + options.flowOffload().get() + "; "
                    + (connmarkByVerdict
                            ? "the kernel sets the connection mark from the verdict (GLUE_CT)"
                            : "the kernel cannot take the connection mark in the verdict (no "
                                    + "CONFIG_NETFILTER_NETLINK_GLUE_CT): the rules of FlowRules must copy the packet mark"));
        }
        if (rc < 0) {
            transport.close();
            transportClosed = true;
            closing = true;
            closed.countDown();
            throw ErrorMapper.bindFailure(options.queueNumber(), -rc, portId, options.networkNamespace().orElse(null),
                    BindRequest.optionalFeatures(options));
        }
    }

    public QueueOptions options() {
        return options;
    }

    /** The max-length last configured for this queue in the kernel. */
    public int maxLength() {
        return maxLength;
    }

    public int queueNumber() {
        return options.queueNumber();
    }

    /** The netlink socket's descriptor, for readiness selection; never read or close it directly. */
    public int fileDescriptor() {
        return fileDescriptor;
    }

    /** The socket's netlink port id, as in field 2 of {@link QueueStats}. */
    public int portId() {
        return portId;
    }

    /** The receive buffer the kernel granted (it doubles the requested value for its overhead). */
    public int receiveBufferSize() {
        controlLock.lock();
        try {
            requireOpen();
            return transport.receiveBufferSize();
        } finally {
            controlLock.unlock();
        }
    }

    private void requireOpen() {
        if (transportClosed) {
            throw new IllegalStateException(name + " is closed");
        }
    }

    /** Packets handed out and not yet resolved. */
    public int unresolvedCount() {
        return unresolvedCount.get();
    }

    /**
     * How long the oldest unresolved packet has waited for its verdict (zero when none waits):
     * for diagnostics, such as a warning that names a stuck packet's age. Walks the held packets
     * from the oldest, so call it now and then, not per packet.
     */
    public Duration oldestUnresolvedAge() {
        if (unresolvedCount.get() == 0) {
            return Duration.ZERO;
        }
        Packet p = reader.oldestUnresolved();
        return p == null ? Duration.ZERO : Duration.ofNanos(Math.max(0, options.ticker().read() - p.receivedNanos()));
    }

    public boolean isClosed() {
        return closing;
    }

    /**
     * Reads what the socket holds, without blocking, up to {@code limit} packets, and hands
     * each to {@code consumer} on the calling thread. Verdicts the consumer gives are sent when
     * the batch ends. If the consumer throws, that packet and the rest of the batch get the
     * default verdict ({@link DefaultVerdictCause#HANDLER_ERROR}) and the exception propagates.
     *
     * @return packets handed out (0 when nothing was ready), or -1 once the queue is closed
     * @throws IllegalStateException when another thread is receiving
     */
    public int receive(Consumer<? super Packet> consumer, int limit) {
        return receive(consumer, limit, null);
    }

    /**
     * Like {@link #receive(Consumer, int)}, telling {@code onRead} how many packets were read
     * before any is handed out: for adapters that account for demand per batch.
     */
    public int receive(Consumer<? super Packet> consumer, int limit, IntConsumer onRead) {
        Objects.requireNonNull(consumer, "consumer");
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be positive: " + limit);
        }
        Thread me = Thread.currentThread();
        if (!receiver.compareAndSet(null, me)) {
            throw new IllegalStateException(receiver.get() == me
                    ? "receive() called again from inside its own consumer on " + name
                    : "another thread is already receiving from " + name);
        }
        try {
            int count = reader.readBatch(Math.min(limit, reader.slots()));
            if (count > 0 && onRead != null) {
                onRead.accept(count);
            }
            return count > 0 ? BatchDispatch.run(this, resolutions, reader.batch(), count, consumer) : count;
        } finally {
            receiver.set(null);
        }
    }

    /**
     * Hands packets this queue received to {@code consumer} on the calling thread, sending the
     * verdicts given meanwhile in one batch at the end: for adapters that deliver a received batch
     * on another thread (the Reactor adapter's emitter, a hand-off). If the consumer throws, that
     * packet and the rest get the default verdict ({@link DefaultVerdictCause#HANDLER_ERROR}) and
     * the exception propagates.
     */
    public void dispatch(List<Packet> packets, Consumer<? super Packet> consumer) {
        BatchDispatch.run(this, resolutions, packets, consumer);
    }

    /**
     * Claims {@code p} for {@code verdict}; false if it already had one. {@code cause} is null
     * for the program's own verdicts.
     */
    boolean resolve(Packet p, Verdict verdict, DefaultVerdictCause cause) {
        if (verdict.isPendingFlowDecision()) {
            verdict = forFlows(verdict, p);
        }
        return resolutions.resolve(p, verdict, cause, true);
    }

    /** The kernel verdict of a flow decision on {@code p}; refused before anything is claimed on a queue without flows. */
    private Verdict forFlows(Verdict flowDecision, Packet p) {
        FlowOffload offload = options.flowOffload().orElseThrow(() -> new IllegalStateException(
                flowDecision + " on packet " + p.id() + " of " + name + ": flow decisions need "
                        + "QueueOptions.flowOffload(FlowOffload.mask(...)) and the rules of FlowRules"));
        return flowDecision.forFlows(offload, p.mark(), connmarkByVerdict);
    }

    /**
     * Whether this kernel also sets the connection mark from a flow verdict (it was built with
     * {@code CONFIG_NETFILTER_NETLINK_GLUE_CT}, probed at bind). When false, only the packet mark
     * carries a flow decision and the copying rules of {@link FlowRules} are required. Always false
     * without {@link QueueOptions#flowOffload(FlowOffload)}.
     */
    public boolean connmarkByVerdict() {
        return connmarkByVerdict;
    }

    /** A message the shim could read only the id of: it gets the default verdict at once. */
    void resolveUnreadable(Packet p) {
        resolutions.resolveWithDefault(p, DefaultVerdictCause.TRUNCATED_MESSAGE, true);
    }

    /**
     * Calls {@code listener} after each verdict, on the thread that gave it: an adapter that
     * stopped reading at its in-flight limit uses it to resume. One listener; null removes it.
     */
    public void onResolution(ResolutionListener listener) {
        resolutions.listener(listener);
    }

    /**
     * Resolves {@code packet} with the default verdict, counted under {@code cause}; false if it
     * already had a verdict. For adapters that end a packet's life (cancel, discard, ...).
     */
    public boolean resolveWithDefault(Packet packet, DefaultVerdictCause cause) {
        Objects.requireNonNull(cause, "cause");
        if (packet.owner() != this) {
            throw new IllegalArgumentException("packet " + packet.id() + " belongs to another binding");
        }
        return resolutions.resolveWithDefault(packet, cause, true);
    }

    /** Gives every unresolved packet the default verdict under {@code cause}; returns how many. */
    public int resolveAllWithDefault(DefaultVerdictCause cause) {
        return resolutions.resolveAll(cause);
    }

    /** Sends the verdicts given so far, unless another thread is sending them right now. */
    public void flush() {
        sender.flush();
    }

    /**
     * Waits until the socket is readable, {@link #wakeup()} is called, the queue closes or the
     * time passes.
     *
     * @return true when the socket has something to read
     */
    public boolean awaitReadable(long timeoutMillis) {
        if (timeoutMillis < 0) {
            throw new IllegalArgumentException("timeout must not be negative: " + timeoutMillis);
        }
        awaitLock.lock();
        try {
            if (closing) {
                return false;
            }
            int rc = transport.await((int) Math.min(timeoutMillis, Integer.MAX_VALUE));
            if (rc < 0) {
                throw ErrorMapper.map("wait for " + name, -rc);
            }
            return (rc & 1) != 0;
        } finally {
            awaitLock.unlock();
        }
    }

    /** Makes a thread blocked in {@link #awaitReadable} return now. */
    public void wakeup() {
        controlLock.lock();
        try {
            if (!transportClosed) {
                transport.wakeup();
            }
        } finally {
            controlLock.unlock();
        }
    }

    /**
     * Changes the kernel's max-length for this queue (no acknowledgement is awaited: an error
     * comes back through the receive path and is counted in {@link QueueCounters#kernelErrors()}).
     */
    public void setMaxLength(int packets) {
        if (packets < 1 || packets > QueueOptions.MAX_MAX_LENGTH) {
            throw new IllegalArgumentException("max length must be 1.." + QueueOptions.MAX_MAX_LENGTH + ": " + packets);
        }
        controlLock.lock();
        try {
            requireOpen();
            int rc = transport.configure(options.queueNumber(), -1, -1, 0, packets, 0, 0, false);
            if (rc < 0) {
                throw ErrorMapper.map("set max length of " + name, -rc);
            }
            maxLength = packets;
            maxLengthEver = Math.max(maxLengthEver, packets);
        } finally {
            controlLock.unlock();
        }
    }

    /**
     * Gives the default verdict to packets unresolved for longer than the verdict timeout
     * (no-op without one). Cheap to call often: it scans at most every quarter of the timeout.
     *
     * @return packets expired by this call
     */
    public int expireOverdue() {
        return resolutions.expireOverdue();
    }

    static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException tooLong) {
            return Long.MAX_VALUE;
        }
    }

    /** The kernel's line for this queue from {@code /proc/net/netfilter/nfnetlink_queue}. */
    public QueueStats stats() {
        return QueueStats.find(options.networkNamespace().orElse(null), options.queueNumber())
                .filter(s -> s.portId() == Integer.toUnsignedLong(portId))
                .orElseThrow(() -> new IllegalStateException(name + " is not bound (closed?)"));
    }

    public QueueCounters counters() {
        return new QueueCounters(reader.received(), sender.sent(), resolutions.defaultsByCause(), unresolvedCount.get(),
                reader.receiveBufferDrops(), reader.kernelErrors(), sender.failures(), sender.lostAtClose());
    }

    /**
     * Resolves every unresolved packet (and any the socket already holds) with the default
     * verdict, sends those verdicts, reads the kernel's answers to them, and closes the socket,
     * which unbinds the queue. Packets the kernel queues after that last read are dropped by the
     * kernel as it unbinds. Idempotent; a concurrent second call waits for the first.
     */
    @Override
    public void close() {
        if (!closeStarted.compareAndSet(false, true)) {
            awaitClosed();
            return;
        }
        closing = true;
        wakeup();
        reader.socketLock.lock();
        try {
            drainSocketForClose();
            resolveAllWithDefault(DefaultVerdictCause.CLOSE);
            // Every verdict claimed before this point is on the stack once its thread leaves.
            resolutions.awaitSubmitters();
            // The wake-up above made a waiting thread leave; later waits see closing and return.
            awaitLock.lock();
            controlLock.lock();
            try {
                sender.sendEverything();
                readAnswersBeforeClose();
                sender.closeSocket(() -> {
                    transport.close();
                    transportClosed = true;
                });
            } finally {
                controlLock.unlock();
                awaitLock.unlock();
            }
        } finally {
            reader.socketLock.unlock();
            resolutions.listener(null); // it may lead to a subscriber that must not outlive its subscription
            closed.countDown();
        }
    }

    /** Reads what the kernel already delivered, so those packets get the default verdict too. */
    private void drainSocketForClose() {
        // The socket holds at most what the kernel delivered, at most max-length packets.
        int rounds = maxLengthEver / reader.slots() + 4;
        for (int i = 0; i < rounds && reader.readOnceForClose(); i++) {
            // each round decodes one batch
        }
    }

    /**
     * The kernel handles a verdict inside the send call and queues its error answer, if any, on
     * this socket before the call returns; once the socket closes nobody could read it, and a
     * refused last verdict would go uncounted. So the socket is read once more: errors are
     * counted, and packets queued since the drain get the default verdict too rather than the
     * kernel's DROP at unbind. Bounded: a sender faster than this loop still has its later
     * packets dropped at unbind, as documented. Caller holds the socket lock.
     */
    private void readAnswersBeforeClose() {
        for (int round = 0; round < 4 && reader.readOnceForClose(); round++) {
            resolveAllWithDefault(DefaultVerdictCause.CLOSE);
            sender.sendEverything();
        }
    }

    private void awaitClosed() {
        boolean interrupted = false;
        while (true) {
            try {
                closed.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "BoundQueue{" + name + ", port " + Integer.toUnsignedString(portId) + ", unresolved "
                + unresolvedCount.get() + (closing ? ", closed" : "") + '}';
    }
}
