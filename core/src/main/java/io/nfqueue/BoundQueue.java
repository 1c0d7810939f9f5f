package io.nfqueue;

import io.nfqueue.internal.DefaultVerdictLog;
import io.nfqueue.internal.ErrnoException;
import io.nfqueue.internal.ErrnoNames;
import io.nfqueue.internal.ErrorMapper;
import io.nfqueue.internal.NativeConstants;
import io.nfqueue.internal.NativeTransport;
import io.nfqueue.internal.ProcNetfilterQueue;
import io.nfqueue.internal.Transport;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

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
 */
public final class BoundQueue implements AutoCloseable {
    /** Room in each receive slot for the netlink and attribute headers around the payload. */
    private static final int SLOT_OVERHEAD = 8192;
    /** Transmit buffer: several full-size replacement payloads per send. */
    private static final int TX_CAPACITY = 512 * 1024;
    private static final int SEND_BUFFER = 1 << 20;

    private final QueueOptions options;
    private final Transport transport;
    private final NativeConstants k;
    private final PacketDecoder decoder;
    private final VerdictWriter writer;
    private final ByteBuffer rx;
    private final ByteBuffer records;
    private final int slots;
    private final Packet[] batch;
    private final int portId;
    private final int fileDescriptor;
    private final String name;

    /** The thread running a batch through a consumer, per queue: its verdicts wait for the batch's end. */
    private static final ThreadLocal<BoundQueue> DISPATCHING = new ThreadLocal<>();

    private final HeldPackets held = new HeldPackets();
    private final AtomicInteger unresolvedCount = new AtomicInteger();
    /**
     * Verdicts waiting to be sent: a lock-free stack linked through the packets themselves (no
     * allocation per verdict). The flusher takes the whole stack at once and reverses it.
     */
    private final AtomicReference<Packet> pending = new AtomicReference<>();
    /** The verdicts of the send being built; used only under the send lock. */
    private Packet[] sendList = new Packet[64];
    /** Verdicts whose send failed, tried again at the next flush; used only under the send lock. */
    private final java.util.ArrayDeque<Packet> retry = new java.util.ArrayDeque<>();
    /** sendList indices of the packets in the records being written, for a retry if the send fails. */
    private int chunkStart;
    /** Guards the socket's send side and its closing. */
    private final ReentrantLock sendLock = new ReentrantLock();
    /** Guards the receive side (native receive, the held packets) against closing. */
    private final ReentrantLock socketLock = new ReentrantLock();
    /**
     * Guards the readiness wait against closing. Separate from the socket lock so that a thread
     * waiting for packets never delays a default verdict given by another thread.
     */
    private final ReentrantLock awaitLock = new ReentrantLock();
    /** Verdict submissions in progress: close waits for them before its final flush. */
    private final AtomicInteger submitters = new AtomicInteger();
    private final AtomicReference<Thread> receiver = new AtomicReference<>();
    private volatile boolean closing;
    /** Verdicts wait in {@code retry}: a flush has work even with nothing pending. */
    private volatile boolean retryWaiting;
    /** A failed send is tried again by the first flush after this (System.nanoTime), not at once. */
    private volatile long retryNotBefore;
    private static final long RETRY_DELAY_NANOS = 10_000_000L;
    /** The largest max-length this queue had: bounds how much close may find in the socket. */
    private volatile int maxLengthEver;
    private boolean transportClosed;
    private final AtomicBoolean closeStarted = new AtomicBoolean();
    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile long lastExpiryNanos;
    /** The verdict timeout in nanoseconds, 0 without one: read on every turn of a receive loop. */
    private final long verdictTimeoutNanos;
    private volatile ResolutionListener resolutionListener;
    private volatile int maxLength;

    private final LongAdder received = new LongAdder();
    private final LongAdder verdictsSent = new LongAdder();
    private final AtomicLongArray defaults = new AtomicLongArray(DefaultVerdictCause.values().length);
    private final LongAdder receiveBufferDrops = new LongAdder();
    private final LongAdder kernelErrors = new LongAdder();
    private final LongAdder sendFailures = new LongAdder();
    private final DefaultVerdictLog defaultLog;
    private final DefaultVerdictLog errorLog;

    private BoundQueue(QueueOptions options, Transport transport, NativeConstants k) {
        this.options = options;
        this.verdictTimeoutNanos = options.verdictTimeout().map(BoundQueue::saturatedNanos).orElse(0L);
        this.transport = transport;
        this.k = k;
        this.name = "queue " + options.queueNumber()
                + options.networkNamespace().map(p -> " in " + p).orElse("");
        int payloadRoom = options.copyMode() == CopyMode.PACKET ? options.copyRange() : 0;
        int slotSize = (payloadRoom + SLOT_OVERHEAD + 4095) & ~4095;
        this.slots = options.batchSize();
        this.rx = ByteBuffer.allocateDirect(slotSize * slots).order(ByteOrder.nativeOrder());
        // Two records per datagram: a datagram holds one message in practice, room for more is cheap.
        this.records = ByteBuffer.allocateDirect(k.recordSize * slots * 2).order(ByteOrder.nativeOrder());
        ByteBuffer tx = ByteBuffer.allocateDirect(TX_CAPACITY).order(ByteOrder.nativeOrder());
        this.decoder = new PacketDecoder(k);
        this.writer = new VerdictWriter(k, tx);
        this.batch = new Packet[slots * 2];
        transport.attach(rx, slotSize, records, tx);
        this.portId = transport.portId();
        this.fileDescriptor = transport.fileDescriptor();
        this.defaultLog = new DefaultVerdictLog(name);
        this.errorLog = new DefaultVerdictLog(name);
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
        NativeConstants.get();
        Transport t;
        try {
            t = NativeTransport.open(options.networkNamespace().map(Path::toString).orElse(null),
                    options.effectiveSocketBufferSize(), SEND_BUFFER);
        } catch (ErrnoException e) {
            throw ErrorMapper.map(e, options.networkNamespace().orElse(null));
        }
        return open(options, t);
    }

    /**
     * Binds over a given transport. Internal: for tests of Java logic over a fake transport;
     * {@link io.nfqueue.internal.Transport} may change without notice.
     */
    public static BoundQueue open(QueueOptions options, Transport transport) {
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
        int flags = 0;
        StringBuilder features = new StringBuilder();
        if (options.failOpen()) {
            flags |= k.flagFailOpen;
        }
        if (options.gso()) {
            flags |= k.flagGso;
        }
        if (options.conntrack()) {
            flags |= k.flagConntrack;
            features.append("conntrack ");
        }
        if (options.uidGid()) {
            flags |= k.flagUidGid;
        }
        if (options.securityContext()) {
            flags |= k.flagSecctx;
            features.append("securityContext ");
        }
        int mask = k.flagFailOpen | k.flagGso | k.flagConntrack | k.flagUidGid | k.flagSecctx;
        int mode;
        switch (options.copyMode()) {
            case NONE:
                mode = k.copyNone;
                break;
            case META:
                mode = k.copyMeta;
                break;
            default:
                mode = k.copyPacket;
        }
        maxLength = options.maxLength();
        maxLengthEver = maxLength;
        int rc = transport.configure(options.queueNumber(), k.cmdBind, mode, options.copyRange(),
                options.maxLength(), flags, mask, true);
        if (rc < 0) {
            transport.close();
            transportClosed = true;
            closing = true;
            closed.countDown();
            throw ErrorMapper.bindFailure(options.queueNumber(), -rc, portId, options.networkNamespace().orElse(null),
                    features.length() == 0 ? "the requested flags" : features.toString().trim());
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
        sendLock.lock();
        try {
            if (transportClosed) {
                throw new IllegalStateException(name + " is closed");
            }
            return transport.receiveBufferSize();
        } finally {
            sendLock.unlock();
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
        socketLock.lock();
        try {
            Packet p = held.oldestUnresolved();
            return p == null ? Duration.ZERO : Duration.ofNanos(Math.max(0, System.nanoTime() - p.receivedNanos()));
        } finally {
            socketLock.unlock();
        }
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
    public int receive(Consumer<? super Packet> consumer, int limit, java.util.function.IntConsumer onRead) {
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
            int count = readBatch(Math.min(limit, slots));
            if (count > 0 && onRead != null) {
                onRead.accept(count);
            }
            return count > 0 ? dispatch(consumer, count) : count;
        } finally {
            receiver.set(null);
        }
    }

    private int readBatch(int max) {
        socketLock.lock();
        try {
            if (closing) {
                return -1;
            }
            int n = transport.receive(max);
            if (n == -k.enobufs) {
                // The kernel dropped messages for want of buffer; what is queued is still there.
                countReceiveBufferDrop();
                n = transport.receive(max);
                if (n == -k.enobufs) {
                    countReceiveBufferDrop();
                    n = 0;
                }
            }
            if (n < 0) {
                throw ErrorMapper.map("receive from " + name, -n);
            }
            return decodeRecords(n, true);
        } finally {
            socketLock.unlock();
        }
    }

    /** Decodes n records; packets go to the unresolved set and, when {@code forDispatch}, to the batch. */
    private int decodeRecords(int n, boolean forDispatch) {
        long now = System.nanoTime();
        int packets = 0;
        for (int i = 0; i < n; i++) {
            int base = i * k.recordSize;
            int type = decoder.type(records, base);
            if (type == k.typePacket) {
                Packet p = decoder.decode(this, records, base, rx, now);
                hold(p);
                if (forDispatch) {
                    batch[packets] = p;
                }
                packets++;
            } else if (type == k.typeError) {
                onKernelError(decoder.error(records, base), decoder.errorMessageType(records, base),
                        decoder.id(records, base));
            } else if (type == k.typeTruncated) {
                Packet p = decoder.truncatedMessage(this, records, base, now);
                hold(p);
                resolve(p, options.defaultVerdict(), DefaultVerdictCause.TRUNCATED_MESSAGE);
            }
        }
        received.add(packets);
        return packets;
    }

    /** Records a packet just read as waiting for its verdict. Caller holds the socket lock. */
    private void hold(Packet p) {
        if (held.isFull()) {
            sendLock.lock();
            try {
                held.compactOrGrow();
            } finally {
                sendLock.unlock();
            }
        }
        held.append(p);
        unresolvedCount.incrementAndGet();
    }

    /** Hands out the batch; returns how many packets the consumer was given. */
    private int dispatch(Consumer<? super Packet> consumer, int count) {
        BoundQueue outer = DISPATCHING.get();
        DISPATCHING.set(this);
        int i = 0;
        try {
            for (; i < count; i++) {
                if (closing) {
                    // close() gave the rest the default verdict; don't hand out resolved packets.
                    java.util.Arrays.fill(batch, i, count, null);
                    break;
                }
                consumer.accept(batch[i]);
                batch[i] = null;
            }
            return i;
        } catch (RuntimeException | Error e) {
            // The packet in hand and those the consumer never saw must not wait forever.
            int n = 0;
            for (int j = i; j < count; j++) {
                Packet p = batch[j];
                batch[j] = null;
                if (p != null && resolve(p, options.defaultVerdict(), DefaultVerdictCause.HANDLER_ERROR, false)) {
                    n++;
                }
            }
            logBurst(n, DefaultVerdictCause.HANDLER_ERROR);
            throw e;
        } finally {
            DISPATCHING.set(outer);
            flush();
        }
    }

    /**
     * Hands packets this queue received to {@code consumer} on the calling thread, sending the
     * verdicts given meanwhile in one batch at the end: for adapters that move a received batch
     * to another thread (one wake per batch). If the consumer throws, that packet and the rest get
     * the default verdict ({@link DefaultVerdictCause#HANDLER_ERROR}) and the exception propagates.
     */
    public void dispatch(java.util.List<Packet> packets, Consumer<? super Packet> consumer) {
        BoundQueue outer = DISPATCHING.get();
        DISPATCHING.set(this);
        int i = 0;
        try {
            for (; i < packets.size(); i++) {
                consumer.accept(packets.get(i));
            }
        } catch (RuntimeException | Error e) {
            int n = 0;
            for (int j = i; j < packets.size(); j++) {
                if (resolve(packets.get(j), options.defaultVerdict(), DefaultVerdictCause.HANDLER_ERROR, false)) {
                    n++;
                }
            }
            logBurst(n, DefaultVerdictCause.HANDLER_ERROR);
            throw e;
        } finally {
            DISPATCHING.set(outer);
            flush();
        }
    }

    private void countReceiveBufferDrop() {
        receiveBufferDrops.increment();
        errorLog.record(1, "receive-buffer overflows (ENOBUFS): the kernel dropped packets; "
                + "raise QueueOptions.socketBufferSize or read faster");
    }

    private void onKernelError(int errno, int messageType, int seq) {
        kernelErrors.increment();
        String about = messageType == k.msgVerdict || messageType == k.msgVerdictBatch
                ? "verdict for packet " + Integer.toUnsignedString(seq)
                : messageType == k.msgConfig ? "configuration message" : "message type " + messageType;
        errorLog.record(1, "kernel errors, last: " + about + " failed with " + ErrnoNames.describe(errno));
    }

    /**
     * Claims {@code p} for {@code verdict}; false if it already had one. {@code cause} is null
     * for the program's own verdicts.
     */
    boolean resolve(Packet p, Verdict verdict, DefaultVerdictCause cause) {
        return resolve(p, verdict, cause, true);
    }

    /** {@code logSingle}: false when the caller logs a whole burst itself. */
    private boolean resolve(Packet p, Verdict verdict, DefaultVerdictCause cause, boolean logSingle) {
        submitters.incrementAndGet();
        try {
            if (!p.claim(verdict, cause)) {
                return false;
            }
            unresolvedCount.decrementAndGet();
            if (cause != null) {
                defaults.incrementAndGet(cause.ordinal());
                if (logSingle) {
                    defaultLog.record(1, "packets got the default verdict " + verdict + " (last cause: " + cause + ")");
                }
            }
            Packet top;
            do {
                top = pending.get();
                p.nextPending = top;
            } while (!pending.compareAndSet(top, p));
        } finally {
            submitters.decrementAndGet();
        }
        if (DISPATCHING.get() != this) {
            flush();
        }
        ResolutionListener listener = resolutionListener;
        if (listener != null) {
            try {
                listener.resolved(p, verdict, cause);
            } catch (RuntimeException e) {
                errorLog.record(1, "resolution listener failures, last: " + e);
            }
        }
        return true;
    }

    /**
     * Calls {@code listener} after each verdict, on the thread that gave it: an adapter that
     * stopped reading at its in-flight limit uses it to resume. One listener; null removes it.
     */
    public void onResolution(ResolutionListener listener) {
        this.resolutionListener = listener;
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
        return resolve(packet, options.defaultVerdict(), cause);
    }

    /** Gives every unresolved packet the default verdict under {@code cause}; returns how many. */
    public int resolveAllWithDefault(DefaultVerdictCause cause) {
        int[] n = {0};
        socketLock.lock();
        try {
            held.forEach(p -> {
                if (resolve(p, options.defaultVerdict(), cause, false)) {
                    n[0]++;
                }
            });
        } finally {
            socketLock.unlock();
        }
        logBurst(n[0], cause);
        return n[0];
    }

    private void logBurst(int n, DefaultVerdictCause cause) {
        defaultLog.burst(n, "unresolved packets got the default verdict " + options.defaultVerdict() + " because of " + cause);
    }

    /** Sends the verdicts given so far, unless another thread is sending them right now. */
    public void flush() {
        // Failed sends get one more try per flush at most, once their delay has passed.
        boolean retryNow = retryDue();
        while (pending.get() != null || retryNow) {
            if (!sendLock.tryLock()) {
                return; // the holder re-checks the queue after it unlocks
            }
            try {
                drainAndSend(retryNow);
                retryNow = false;
            } finally {
                sendLock.unlock();
            }
        }
    }

    private boolean retryDue() {
        return retryWaiting && System.nanoTime() - retryNotBefore >= 0;
    }

    /**
     * Sends every queued verdict. A run of plain accepts becomes one {@code NFQNL_MSG_VERDICT_BATCH}
     * when that is exactly equivalent: the kernel applies a batch verdict to every held id up to
     * its own, so its top must lie below the oldest packet still waiting for a verdict (not in
     * this send), and below every id in this send that has another verdict (or a mark, or a
     * payload). Every held id at or below the top is then a plain accept of this very send, and
     * no other message of the send touches those ids, so message order does not matter.
     * Caller holds the send lock.
     */
    private void drainAndSend(boolean withRetries) {
        if (transportClosed) {
            pending.set(null);
            return;
        }
        int n = 0;
        Packet p;
        while (withRetries && (p = retry.poll()) != null) {
            n = addToSend(n, p);
        }
        // The stack holds the newest first; reversed, verdicts go out in the order given.
        Packet reversed = null;
        for (p = pending.getAndSet(null); p != null; ) {
            Packet next = p.nextPending;
            p.nextPending = reversed;
            reversed = p;
            p = next;
        }
        for (p = reversed; p != null; ) {
            Packet next = p.nextPending;
            p.nextPending = null;
            n = addToSend(n, p);
            p = next;
        }
        retryWaiting = !retry.isEmpty();
        if (n == 0) {
            return;
        }
        Packet oldestWaiting = held.oldestUnsent();
        int top = batchTop(n, oldestWaiting);
        writer.reset();
        chunkStart = 0;
        int topId = 0;
        if (top >= 0) {
            topId = sendList[top].id();
            int covered = 0;
            for (int i = 0; i < n; i++) {
                if (isPlainAccept(sendList[i]) && sendList[i].id() - topId <= 0) {
                    covered++;
                }
            }
            writer.writeBatchAccept(options.queueNumber(), topId, covered);
        }
        for (int i = 0; i < n; i++) {
            Packet q = sendList[i];
            if (top >= 0 && isPlainAccept(q) && q.id() - topId <= 0) {
                continue;
            }
            if (writer.count() > 0 && !writer.fits(q)) {
                send(i);
                writer.reset();
            }
            writer.write(q);
        }
        if (writer.count() > 0) {
            send(n);
        }
        java.util.Arrays.fill(sendList, 0, n, null);
        held.releaseSent();
    }

    private int addToSend(int n, Packet p) {
        if (n == sendList.length) {
            sendList = java.util.Arrays.copyOf(sendList, n * 2);
        }
        sendList[n] = p;
        p.sent(true);
        return n + 1;
    }

    /** Index in sendList of the batch verdict's top packet, or -1 when a batch would not pay. */
    private int batchTop(int n, Packet oldestWaiting) {
        boolean anyOther = false;
        int lowestOther = 0;
        for (int i = 0; i < n; i++) {
            Packet q = sendList[i];
            if (!isPlainAccept(q) && (!anyOther || q.id() - lowestOther < 0)) {
                lowestOther = q.id();
                anyOther = true;
            }
        }
        int top = -1;
        int candidates = 0;
        for (int i = 0; i < n; i++) {
            Packet q = sendList[i];
            int id = q.id();
            if (isPlainAccept(q) && (oldestWaiting == null || id - oldestWaiting.id() < 0)
                    && (!anyOther || id - lowestOther < 0)) {
                candidates++;
                if (top < 0 || sendList[top].id() - id < 0) {
                    top = i;
                }
            }
        }
        return candidates >= 2 ? top : -1;
    }

    private static boolean isPlainAccept(Packet p) {
        Verdict v = p.resolvedVerdict();
        return v.kind() == Verdict.Kind.ACCEPT && !v.hasMarkUnsafe() && v.payloadUnsafe() == null;
    }

    /**
     * Sends what the writer holds: the verdicts of sendList[chunkStart, end) (the first chunk
     * also carries the batch record, whose packets lie in that range too). If the send fails, those
     * verdicts are kept and tried again by the first flush after a short delay, until one
     * succeeds or the queue closes. The shim may have sent part of a failed chunk; a verdict sent twice only earns an
     * ENOENT from the kernel, counted in {@link QueueCounters#kernelErrors()}.
     */
    private void send(int end) {
        int rc = transport.sendVerdicts(writer.count());
        if (rc < 0) {
            sendFailures.increment();
            // Never given up: a verdict that is not known to be sent must stay "unsent", or a
            // later batch verdict could cover its packet and accept what was meant to be dropped.
            for (int i = chunkStart; i < end; i++) {
                Packet q = sendList[i];
                q.failedSend();
                q.sent(false);
                retry.add(q);
            }
            retryNotBefore = System.nanoTime() + RETRY_DELAY_NANOS;
            retryWaiting = true;
            errorLog.record(1, "verdict sends failed, last: " + writer.packets() + " verdicts, "
                    + ErrnoNames.describe(-rc) + "; they are tried again every "
                    + RETRY_DELAY_NANOS / 1_000_000 + " ms");
        } else {
            verdictsSent.add(writer.packets());
        }
        chunkStart = end;
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
        sendLock.lock();
        try {
            if (!transportClosed) {
                transport.wakeup();
            }
        } finally {
            sendLock.unlock();
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
        sendLock.lock();
        try {
            if (transportClosed) {
                throw new IllegalStateException(name + " is closed");
            }
            int rc = transport.configure(options.queueNumber(), -1, -1, 0, packets, 0, 0, false);
            if (rc < 0) {
                throw ErrorMapper.map("set max length of " + name, -rc);
            }
            maxLength = packets;
            maxLengthEver = Math.max(maxLengthEver, packets);
        } finally {
            sendLock.unlock();
        }
    }

    /**
     * Gives the default verdict to packets unresolved for longer than the verdict timeout
     * (no-op without one). Cheap to call often: it scans at most every quarter of the timeout.
     *
     * @return packets expired by this call
     */
    public int expireOverdue() {
        long limit = verdictTimeoutNanos;
        if (limit == 0 || unresolvedCount.get() == 0) {
            return 0;
        }
        long now = System.nanoTime();
        if (now - lastExpiryNanos < Math.min(limit / 4, 50_000_000L)) {
            return 0;
        }
        lastExpiryNanos = now;
        int[] n = {0};
        socketLock.lock();
        try {
            held.forEach(p -> {
                if (now - p.receivedNanos() >= limit
                        && resolve(p, options.defaultVerdict(), DefaultVerdictCause.TIMEOUT, false)) {
                    n[0]++;
                }
            });
        } finally {
            socketLock.unlock();
        }
        logBurst(n[0], DefaultVerdictCause.TIMEOUT);
        return n[0];
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
        return ProcNetfilterQueue.find(options.networkNamespace().orElse(null), options.queueNumber())
                .filter(s -> s.portId() == Integer.toUnsignedLong(portId))
                .orElseThrow(() -> new IllegalStateException(name + " is not bound (closed?)"));
    }

    public QueueCounters counters() {
        Map<DefaultVerdictCause, Long> byCause = new EnumMap<>(DefaultVerdictCause.class);
        for (DefaultVerdictCause c : DefaultVerdictCause.values()) {
            long n = defaults.get(c.ordinal());
            if (n != 0) {
                byCause.put(c, n);
            }
        }
        return new QueueCounters(received.sum(), verdictsSent.sum(), byCause, unresolvedCount.get(),
                receiveBufferDrops.sum(), kernelErrors.sum(), sendFailures.sum());
    }

    /**
     * Resolves every unresolved packet (and any the socket already holds) with the default
     * verdict, sends those verdicts, reads the kernel's answers to them, and closes the socket,
     * which unbinds the queue. Packets the kernel queues after that last read are dropped by the
     * kernel as it unbinds. Idempotent;
     * a concurrent second call waits for the first.
     */
    @Override
    public void close() {
        if (!closeStarted.compareAndSet(false, true)) {
            awaitClosed();
            return;
        }
        closing = true;
        wakeup();
        socketLock.lock();
        try {
            drainSocketForClose();
            resolveAllWithDefault(DefaultVerdictCause.CLOSE);
            awaitSubmitters();
            // The wake-up above made a waiting thread leave; later waits see closing and return.
            awaitLock.lock();
            sendLock.lock();
            try {
                drainAndSend(true);
                if (!retry.isEmpty()) {
                    drainAndSend(true); // one more try for verdicts whose send failed
                }
                readAnswersBeforeClose();
                transport.close();
                transportClosed = true;
            } finally {
                sendLock.unlock();
                awaitLock.unlock();
            }
        } finally {
            socketLock.unlock();
            resolutionListener = null; // it may lead to a subscriber that must not outlive its subscription
            closed.countDown();
        }
    }

    /** Reads what the kernel already delivered, so those packets get the default verdict too. */
    private void drainSocketForClose() {
        // The socket holds at most what the kernel delivered, at most max-length packets.
        int rounds = maxLengthEver / slots + 4;
        for (int i = 0; i < rounds && readOnceForClose(); i++) {
            // each round decodes one batch
        }
    }

    /** One read without waiting, its records decoded (packets held, errors counted); false once the socket is empty. */
    private boolean readOnceForClose() {
        int n = transport.receive(slots);
        if (n == -k.enobufs) {
            countReceiveBufferDrop();
            return true; // what is queued behind the loss is still there
        }
        if (n <= 0) {
            return false;
        }
        decodeRecords(n, false); // a truncated message is resolved in there
        return true;
    }

    /**
     * The kernel handles a verdict inside the send call and queues its error answer, if any, on
     * this socket before the call returns; once the socket closes nobody could read it, and a
     * refused last verdict would go uncounted. So the socket is read once more: errors are
     * counted, and packets queued since the drain get the default verdict too rather than the
     * kernel's DROP at unbind. Bounded: a sender faster than this loop still has its later
     * packets dropped at unbind, as documented. Caller holds the socket and send locks.
     */
    private void readAnswersBeforeClose() {
        for (int round = 0; round < 4 && readOnceForClose(); round++) {
            resolveAllWithDefault(DefaultVerdictCause.CLOSE);
            drainAndSend(true);
        }
    }

    /** Verdict submissions are short and never block; wait for those in progress. */
    private void awaitSubmitters() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (submitters.get() != 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
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
