package io.nfqueue.internal.fake;

import io.nfqueue.internal.NativeConstants;
import io.nfqueue.internal.Transport;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * A {@link Transport} without a kernel, for tests of Java logic: a fake netlink socket plus the
 * fake kernel queue behind it. Thread-safe.
 *
 * <p>Tests queue what the kernel would send ({@link #offer} packets, {@link #offerError kernel
 * errors}, {@link #offerTruncated truncated datagrams}, an {@link #offerEnobufs ENOBUFS} result);
 * {@link #receive} writes them into the attached buffers in the shim's record layout (offsets
 * from {@link NativeConstants}, so a layout change is caught, not copied), one datagram per
 * slot. {@link #sendVerdicts} decodes the transmit buffer with the shim's checks into
 * {@link SentVerdict}s, and keeps, as the kernel does, the set of ids still waiting for a verdict.
 *
 * <pre>{@code
 * NativeConstants k = NativeConstants.get();
 * FakeTransport fake = new FakeTransport();
 * fake.offer(1, 7, new byte[] {0x45, 0, 0, 20});
 * fake.offer(FakePacket.of(2, 7).hook(k.hookLocalOut).mark(0x10).payload(bytes));
 * try (BoundQueue queue = TransportBinding.open(QueueOptions.queue(7), fake)) {
 *     queue.receive(Packet::accept, 16);
 * }
 * assertEquals(k.nfAccept, fake.verdictCodeFor(1));             // a batch record counts for each id it covers
 * assertEquals("", fake.exactlyOnceProblems());   // every offered id got exactly one verdict
 * assertEquals(List.of(), fake.violations());     // the Transport threading contract held
 * }</pre>
 *
 * <p>Contract checks: two threads in {@code receive} (or in {@code sendVerdicts}) at once,
 * {@code close} while either runs, and any call after {@code close} are recorded in
 * {@link #violations()}; calls after close also throw {@link IllegalStateException}, as the
 * shim does for a closed handle.
 */
public final class FakeTransport implements Transport {
    /** Not a real descriptor: the fake has none. */
    public static final int FILE_DESCRIPTOR = -1;

    private final NativeConstants k = NativeConstants.get();
    private final FakeRecordCodec codec = new FakeRecordCodec(k);
    private final int portId;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();

    // Guarded by lock.
    private final Deque<Object> socket = new ArrayDeque<>();
    private final LinkedHashSet<Integer> held = new LinkedHashSet<>();
    private final LinkedHashSet<Integer> offeredIds = new LinkedHashSet<>();
    private final List<Integer> duplicateOffers = new ArrayList<>();
    private final List<SentVerdict> sent = new ArrayList<>();
    private final Map<Integer, Integer> verdictCounts = new HashMap<>();
    /** Per id, the last record that applied to it (a batch record applies to several ids). */
    private final Map<Integer, SentVerdict> lastApplied = new HashMap<>();
    /** Ids in the order verdicts applied to them (an id twice if it got two). */
    private final List<Integer> appliedOrder = new ArrayList<>();
    private int applied;
    private final List<Integer> sendBatchSizes = new ArrayList<>();
    private final List<ConfigureCall> configureCalls = new ArrayList<>();
    private final List<String> violations = new ArrayList<>();
    private Set<Integer> heldAtClose = Set.of();
    private ByteBuffer rx;
    private int slotSize;
    private ByteBuffer records;
    private ByteBuffer tx;
    private int bindErrno;
    private boolean noConntrackGlue;
    private int configureErrno;
    private volatile Runnable configureHook;
    private int sendErrno;
    private int failedSends;
    private int receiveCalls;
    private int recordsDelivered;
    private int wakeups;
    private int waiting;
    private int longestAwait = -1;
    private boolean wakeupPending;
    private boolean closed;
    private int closeCalls;
    private int droppedWithoutListener;
    private int receiveBufferSize = 2 << 20;

    private final AtomicInteger inReceive = new AtomicInteger();
    private final AtomicInteger inSend = new AtomicInteger();
    private volatile Runnable onReceive = () -> { };
    private volatile IntConsumer onSend = n -> { };

    private record KernelError(int errno, int messageType, int seq) {
    }

    private record Truncated(int id, int queue) {
    }

    private record ReceiveFailure(int errno) {
    }

    /** A fake socket with netlink port id 4242. */
    public FakeTransport() {
        this(4242);
    }

    public FakeTransport(int portId) {
        this.portId = portId;
    }

    // ---- what the kernel sends ----

    /** Queues a packet with a payload (null: metadata only) and no optional attributes. */
    public FakeTransport offer(int id, int queue, byte[] payload) {
        return offer(FakePacket.of(id, queue).payload(payload));
    }

    /** Queues a packet described in full. */
    public FakeTransport offer(FakePacket packet) {
        FakePacket copy = packet.copy();
        return enqueue(copy, copy.id);
    }

    /** Queues {@code count} packets with ids {@code firstId, firstId+1, ...} and a 4-byte payload each. */
    public FakeTransport offerMany(int firstId, int count, int queue) {
        for (int i = 0; i < count; i++) {
            int id = firstId + i;
            offer(id, queue, new byte[] {(byte) (id >>> 24), (byte) (id >>> 16), (byte) (id >>> 8), (byte) id});
        }
        return this;
    }

    /** Queues a kernel error acknowledgement (positive errno, the failed message's type and seq). */
    public FakeTransport offerError(int errno, int messageType, int seq) {
        return enqueue(new KernelError(errno, messageType, seq), null);
    }

    /** Queues a packet whose datagram did not fit its slot: the record carries only its id. */
    public FakeTransport offerTruncated(int id, int queue) {
        return enqueue(new Truncated(id, queue), id);
    }

    /** Makes one receive call return -ENOBUFS when it reaches this point of the socket. */
    public FakeTransport offerEnobufs() {
        return offerReceiveFailure(k.enobufs);
    }

    /** Makes one receive call return {@code -errno} when it reaches this point of the socket. */
    public FakeTransport offerReceiveFailure(int errno) {
        return enqueue(new ReceiveFailure(errno), null);
    }

    private FakeTransport enqueue(Object item, Integer id) {
        lock.lock();
        try {
            if (closed) {
                droppedWithoutListener++; // no listener: the kernel drops (or bypasses) it
                return this;
            }
            if (id != null) {
                if (!offeredIds.add(id)) {
                    duplicateOffers.add(id);
                }
                held.add(id);
            }
            socket.addLast(item);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        return this;
    }

    // ---- configuration of the fake ----

    /** Makes the BIND configure call fail with {@code -errno} (0: succeed). */
    public FakeTransport failBind(int errno) {
        return set(() -> bindErrno = errno);
    }

    /**
     * Acts as a kernel without {@code CONFIG_NETFILTER_NETLINK_GLUE_CT}: a configure call that sets
     * the conntrack flag fails with EOPNOTSUPP, as the real one does.
     */
    public FakeTransport withoutConntrackGlue() {
        return set(() -> noConntrackGlue = true);
    }

    /** Makes every later non-bind configure call fail with {@code -errno} (0: succeed). */
    public FakeTransport failConfigure(int errno) {
        return set(() -> configureErrno = errno);
    }

    /**
     * Runs {@code hook} at the start of every later configure call, on the calling thread and
     * outside the fake's lock, so a test can hold a caller there (null: none).
     */
    public FakeTransport beforeConfigure(Runnable hook) {
        return set(() -> configureHook = hook);
    }

    /** Makes sendVerdicts fail with {@code -errno}, applying nothing (0: succeed again). */
    public FakeTransport failSends(int errno) {
        return set(() -> sendErrno = errno);
    }

    /** What {@link #receiveBufferSize()} reports. */
    public FakeTransport receiveBufferSize(int bytes) {
        return set(() -> receiveBufferSize = bytes);
    }

    /** Runs at the start of each receive call, outside the fake's lock (may block: a slow recvmmsg). */
    public FakeTransport onReceive(Runnable hook) {
        this.onReceive = hook;
        return this;
    }

    /**
     * Runs at the start of each sendVerdicts call with its count, before the transmit buffer is
     * read and outside the fake's lock: a test may block here to hold the send side busy.
     */
    public FakeTransport onSend(IntConsumer hook) {
        this.onSend = hook;
        return this;
    }

    private FakeTransport set(Runnable change) {
        lock.lock();
        try {
            change.run();
        } finally {
            lock.unlock();
        }
        return this;
    }

    // ---- Transport ----

    @Override
    public void attach(ByteBuffer rxBuffer, int slot, ByteBuffer recordBuffer, ByteBuffer txBuffer) {
        lock.lock();
        try {
            checkOpen("attach");
            if (!rxBuffer.isDirect() || !recordBuffer.isDirect() || !txBuffer.isDirect()) {
                throw new IllegalStateException("buffers must be direct ByteBuffers");
            }
            if (slot <= 0 || rxBuffer.capacity() < slot || recordBuffer.capacity() < k.recordSize
                    || txBuffer.capacity() < k.verdictSize) {
                throw new IllegalStateException("buffers are too small for one message");
            }
            // The shim reads and writes in the machine's order, whatever order Java set.
            this.rx = rxBuffer.duplicate().order(ByteOrder.nativeOrder());
            this.slotSize = slot;
            this.records = recordBuffer.duplicate().order(ByteOrder.nativeOrder());
            this.tx = txBuffer.duplicate().order(ByteOrder.nativeOrder());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int configure(int queue, int command, int copyMode, int copyRange, int maxLength, int flags, int mask,
                         boolean ack) {
        Runnable hook = configureHook;
        if (hook != null) {
            hook.run();
        }
        lock.lock();
        try {
            checkOpen("configure");
            configureCalls.add(new ConfigureCall(queue, command, copyMode, copyRange, maxLength, flags, mask, ack));
            if (noConntrackGlue && (flags & mask & k.flagConntrack) != 0) {
                return -k.eopnotsupp;
            }
            if (command == k.cmdBind && bindErrno != 0) {
                return -bindErrno;
            }
            if (command != k.cmdBind && configureErrno != 0) {
                return -configureErrno;
            }
            return 0;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int receive(int maxDatagrams) {
        enter(inReceive, "receive");
        try {
            onReceive.run();
            lock.lock();
            try {
                checkOpen("receive");
                checkAttached("receive");
                receiveCalls++;
                int slots = rx.capacity() / slotSize;
                int n = Math.min(maxDatagrams, Math.min(slots, records.capacity() / k.recordSize));
                int written = 0;
                while (written < n && !socket.isEmpty()) {
                    Object head = socket.peekFirst();
                    if (head instanceof ReceiveFailure) {
                        if (written > 0) {
                            break; // recvmmsg reports the error on the next call
                        }
                        socket.pollFirst();
                        return -((ReceiveFailure) head).errno;
                    }
                    socket.pollFirst();
                    writeRecord(head, written);
                    written++;
                }
                recordsDelivered += written;
                return written;
            } finally {
                lock.unlock();
            }
        } finally {
            inReceive.decrementAndGet();
        }
    }

    private void writeRecord(Object item, int index) {
        int base = index * k.recordSize;
        if (item instanceof FakePacket) {
            FakePacket p = (FakePacket) item;
            if (codec.slotBytes(p) <= slotSize) {
                codec.writePacket(records, base, rx, index * slotSize, p);
            } else {
                // MSG_TRUNC: the shim can still read the header attribute.
                codec.writeTruncated(records, base, p.id, p.queue, p.hwProtocol, p.hook);
            }
        } else if (item instanceof KernelError) {
            KernelError e = (KernelError) item;
            codec.writeError(records, base, e.errno, e.messageType, e.seq);
        } else {
            Truncated t = (Truncated) item;
            codec.writeTruncated(records, base, t.id, t.queue, 0x0800, 0);
        }
    }

    @Override
    public int sendVerdicts(int count) {
        enter(inSend, "sendVerdicts");
        try {
            onSend.accept(count);
            lock.lock();
            try {
                checkOpen("sendVerdicts");
                checkAttached("sendVerdicts");
                if (count < 0) {
                    violation("sendVerdicts(" + count + ")");
                    return -k.einval;
                }
                FakeRecordCodec.Verdicts v = codec.readVerdicts(tx, count);
                if (v.refusal() != null) {
                    violation("sendVerdicts refused by the shim's checks: " + v.refusal());
                    return -k.einval;
                }
                if (sendErrno != 0) {
                    failedSends++;
                    return -sendErrno;
                }
                sendBatchSizes.add(count);
                for (SentVerdict s : v.verdicts()) {
                    apply(s);
                }
                changed.signalAll();
                return count;
            } finally {
                lock.unlock();
            }
        } finally {
            inSend.decrementAndGet();
        }
    }

    /** As the kernel: a verdict takes its id out of the queue; a batch verdict every held id up to it. */
    private void apply(SentVerdict s) {
        sent.add(s);
        if (!s.batch()) {
            held.remove(s.id());
            count(s.id(), s);
            return;
        }
        // Held ids are in queue order; the kernel stops at the first one after the batch's id.
        Iterator<Integer> it = held.iterator();
        while (it.hasNext()) {
            int id = it.next();
            if (id - s.id() > 0) {
                break;
            }
            it.remove();
            count(id, s);
        }
    }

    private void count(int id, SentVerdict s) {
        verdictCounts.merge(id, 1, Integer::sum);
        lastApplied.put(id, s);
        appliedOrder.add(id);
        applied++;
    }

    @Override
    public int await(int timeoutMillis) {
        lock.lock();
        try {
            checkOpen("await");
            longestAwait = timeoutMillis < 0 ? Integer.MAX_VALUE : Math.max(longestAwait, timeoutMillis);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(0, timeoutMillis));
            waiting++;
            changed.signalAll();
            try {
                return awaitLocked(timeoutMillis, deadline);
            } finally {
                waiting--;
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * The wait itself, under the lock. poll(2) does not notice Thread.interrupt(), and neither
     * does the fake: it waits on, and restores the flag afterwards.
     */
    private int awaitLocked(int timeoutMillis, long deadline) {
        boolean interrupted = false;
        try {
            while (true) {
                int result = (socket.isEmpty() ? 0 : 1) | (wakeupPending ? 2 : 0);
                if (result != 0) {
                    wakeupPending = false; // the shim drains its eventfd
                    return result;
                }
                long left = timeoutMillis < 0 ? TimeUnit.SECONDS.toNanos(1) : deadline - System.nanoTime();
                if (left <= 0) {
                    return 0;
                }
                try {
                    changed.awaitNanos(left);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public int wakeup() {
        lock.lock();
        try {
            checkOpen("wakeup");
            wakeups++;
            wakeupPending = true;
            changed.signalAll();
            return 0;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int fileDescriptor() {
        lock.lock();
        try {
            checkOpen("fileDescriptor");
            return FILE_DESCRIPTOR;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int portId() {
        lock.lock();
        try {
            checkOpen("portId");
            return portId;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int receiveBufferSize() {
        lock.lock();
        try {
            checkOpen("receiveBufferSize");
            return receiveBufferSize;
        } finally {
            lock.unlock();
        }
    }

    /** Closing the socket unbinds: the kernel drops what it still held (recorded in {@link #heldAtClose()}). */
    @Override
    public void close() {
        lock.lock();
        try {
            closeCalls++;
            if (inReceive.get() > 0 || inSend.get() > 0) {
                violation("close while " + (inReceive.get() > 0 ? "receive" : "sendVerdicts") + " runs");
            }
            if (closed) {
                return; // the shim ignores a closed (0) handle
            }
            closed = true;
            heldAtClose = Collections.unmodifiableSet(new LinkedHashSet<>(held));
            held.clear();
            socket.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void enter(AtomicInteger counter, String call) {
        if (counter.incrementAndGet() > 1) {
            violation("two threads in " + call + " at once");
        }
    }

    private void checkOpen(String call) {
        if (closed) {
            violation(call + " after close");
            throw new IllegalStateException("nfqueue socket handle is closed (fake transport, " + call + ")");
        }
    }

    private void checkAttached(String call) {
        if (rx == null) {
            throw new IllegalStateException(call + " before attach");
        }
    }

    private void violation(String what) {
        lock.lock();
        try {
            violations.add(what + " [" + Thread.currentThread().getName() + "]");
        } finally {
            lock.unlock();
        }
    }

    // ---- what tests inspect ----

    /**
     * Every verdict record sent so far, in order. A batch record ({@link SentVerdict#batch()})
     * stands for several packets: count packets with {@link #verdictsApplied()} or
     * {@link #verdictCount}, not with the size of this list.
     */
    public List<SentVerdict> sent() {
        return read(() -> List.copyOf(sent));
    }

    /**
     * The last record that applied to {@code id}, or null: its own record, or the batch record
     * that covered it (then {@code id()} is the batch's top id and {@code batch()} is true).
     */
    public SentVerdict lastVerdictFor(int id) {
        return read(() -> lastApplied.get(id));
    }

    /** The kernel verdict code the packet got last (NF_ACCEPT for one covered by a batch), or null. */
    public Integer verdictCodeFor(int id) {
        return read(() -> lastApplied.containsKey(id) ? lastApplied.get(id).verdictCode() : null);
    }

    /** Ids in the order verdicts applied to them; an id that got two verdicts is there twice. */
    public List<Integer> appliedOrder() {
        return read(() -> List.copyOf(appliedOrder));
    }

    /** Verdicts applied to packets so far: one per id a record reached (a batch counts each id it covered). */
    public int verdictsApplied() {
        return read(() -> applied);
    }

    /** Verdicts the kernel applied to {@code id} (a batch verdict counts for each id it covers). */
    public int verdictCount(int id) {
        return read(() -> verdictCounts.getOrDefault(id, 0));
    }

    /** Verdicts applied per id. */
    public Map<Integer, Integer> verdictCounts() {
        return read(() -> Map.copyOf(verdictCounts));
    }

    /** Records per successful sendVerdicts call, in order. */
    public List<Integer> sendBatchSizes() {
        return read(() -> List.copyOf(sendBatchSizes));
    }

    /** Successful sendVerdicts calls. */
    public int sendCalls() {
        return read(sendBatchSizes::size);
    }

    /** sendVerdicts calls failed on purpose ({@link #failSends}). */
    public int failedSends() {
        return read(() -> failedSends);
    }

    /**
     * "" when every id offered so far got exactly one verdict and no verdict named an id never
     * offered; otherwise one line per problem (for an assertion message).
     */
    public String exactlyOnceProblems() {
        return read(() -> {
            Map<Integer, Integer> wrong = new LinkedHashMap<>();
            for (int id : offeredIds) {
                int n = verdictCounts.getOrDefault(id, 0);
                if (n != 1) {
                    wrong.put(id, n);
                }
            }
            for (Map.Entry<Integer, Integer> e : verdictCounts.entrySet()) {
                if (!offeredIds.contains(e.getKey())) {
                    wrong.put(e.getKey(), e.getValue());
                }
            }
            StringBuilder s = new StringBuilder();
            int shown = 0;
            for (Map.Entry<Integer, Integer> e : wrong.entrySet()) {
                if (shown++ == 20) {
                    s.append("... ").append(wrong.size() - 20).append(" more\n");
                    break;
                }
                s.append("id ").append(Integer.toUnsignedString(e.getKey())).append(": ").append(e.getValue())
                        .append(offeredIds.contains(e.getKey()) ? " verdicts\n" : " verdicts, never offered\n");
            }
            if (!duplicateOffers.isEmpty()) {
                s.append("test error: ids offered twice: ").append(duplicateOffers).append('\n');
            }
            return s.toString();
        });
    }

    /** Ids the fake kernel still holds: offered, not yet given a verdict. */
    public Set<Integer> held() {
        return read(() -> Set.copyOf(held));
    }

    /** Ids the kernel held when the socket closed (it drops them as it unbinds). */
    public Set<Integer> heldAtClose() {
        return read(() -> heldAtClose);
    }

    /** True while packet {@code id} waits in the socket, offered and not yet read. */
    public boolean isUnread(int id) {
        return read(() -> socket.stream().anyMatch(o -> o instanceof FakePacket && ((FakePacket) o).id == id
                || o instanceof Truncated && ((Truncated) o).id == id));
    }

    /** Items offered and not yet read by receive. */
    public int unread() {
        return read(socket::size);
    }

    /** Records written by receive calls so far. */
    public int recordsDelivered() {
        return read(() -> recordsDelivered);
    }

    public int receiveCalls() {
        return read(() -> receiveCalls);
    }

    public List<ConfigureCall> configureCalls() {
        return read(() -> List.copyOf(configureCalls));
    }

    public int wakeups() {
        return read(() -> wakeups);
    }

    public boolean isClosed() {
        return read(() -> closed);
    }

    public int closeCalls() {
        return read(() -> closeCalls);
    }

    /** Offers that came after close (no listener left). */
    public int droppedWithoutListener() {
        return read(() -> droppedWithoutListener);
    }

    /** Breaches of the Transport threading contract, each with the thread that made it. */
    public List<String> violations() {
        return read(() -> List.copyOf(violations));
    }

    /**
     * Waits until at least {@code packets} packets got a verdict ({@link #verdictsApplied()}: a
     * batch record counts once for each packet it covers); false on timeout. Same as
     * {@link #awaitVerdicts}.
     */
    public boolean awaitSent(int packets, Duration timeout) {
        return awaitVerdicts(packets, timeout);
    }

    /** Waits until at least {@code packets} verdicts were applied ({@link #verdictsApplied()}); false on timeout. */
    public boolean awaitVerdicts(int packets, Duration timeout) {
        return awaitState(f -> f.applied >= packets, timeout);
    }

    /** Waits until at least {@code records} verdict records were sent (see {@link #sent()}); false on timeout. */
    public boolean awaitRecords(int records, Duration timeout) {
        return awaitState(f -> f.sent.size() >= records, timeout);
    }

    /** Waits until {@code id} got a verdict; false on timeout. */
    public boolean awaitVerdictFor(int id, Duration timeout) {
        return awaitState(f -> f.verdictCounts.containsKey(id), timeout);
    }

    /** Threads inside {@link #await} right now. */
    public int waiting() {
        return read(() -> waiting);
    }

    /**
     * The longest timeout any {@link #await} call asked for, in ms ({@link Integer#MAX_VALUE} for
     * an infinite wait; -1 before the first). A test can bound how late a loop notices something
     * between waits (an interrupt, its deadline) from this, not from a clock a pause can stretch.
     */
    public int longestAwaitMillis() {
        return read(() -> longestAwait);
    }

    /** Waits until some thread is inside {@link #await} (blocked in its poll); false on timeout. */
    public boolean awaitWaiter(Duration timeout) {
        return awaitState(f -> f.waiting > 0, timeout);
    }

    /** Waits until the socket was read empty; false on timeout. */
    public boolean awaitDrained(Duration timeout) {
        return awaitState(f -> f.socket.isEmpty(), timeout);
    }

    private boolean awaitState(Predicate<FakeTransport> condition, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (!condition.test(this)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                // Signalled on sends and offers; the short slice also catches reads.
                changed.awaitNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(10)));
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            lock.unlock();
        }
    }

    private <T> T read(Supplier<T> s) {
        lock.lock();
        try {
            return s.get();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return read(() -> "FakeTransport{unread=" + socket.size() + ", held=" + held.size() + ", sent=" + sent.size()
                + (closed ? ", closed" : "") + '}');
    }
}
