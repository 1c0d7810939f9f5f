package io.nfqueue;

import io.nfqueue.internal.DefaultVerdictLog;
import io.nfqueue.internal.ErrnoNames;
import io.nfqueue.internal.NativeConstants;
import io.nfqueue.internal.Transport;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The receive side of one bound queue: reads a batch of datagrams through the shim, decodes its
 * records into packets and holds them until their verdict. Its one job is that every packet the
 * kernel delivers is known (held and counted) before anyone sees it, and that kernel errors and
 * receive-buffer losses mixed in with the packets are counted, not lost.
 *
 * <p>Threads: the socket lock guards the native receive and the held packets against closing;
 * {@link #readBatch} and {@link #readOnceForClose} take it, {@link #forEachHeld} too.
 */
final class SocketReader {
    /** Room in each receive slot for the netlink and attribute headers around the payload. */
    private static final int SLOT_OVERHEAD = 8192;

    private final BoundQueue owner;
    private final Transport transport;
    private final NativeConstants k;
    private final Ticker ticker;
    private final PacketDecoder decoder;
    private final HeldPackets held;
    private final AtomicInteger unresolved;
    private final VerdictSender sender;
    private final DefaultVerdictLog errorLog;
    private final String name;
    private final ByteBuffer rx;
    private final ByteBuffer records;
    private final int slotSize;
    private final int slots;
    /** The packets of the batch just read, for dispatch; the reading thread's. */
    private final Packet[] batch;
    final ReentrantLock socketLock = new ReentrantLock();
    private final LongAdder received = new LongAdder();
    private final LongAdder receiveBufferDrops = new LongAdder();
    private final LongAdder kernelErrors = new LongAdder();

    SocketReader(BoundQueue owner, QueueOptions options, Transport transport, NativeConstants k, HeldPackets held,
                 AtomicInteger unresolved, VerdictSender sender, DefaultVerdictLog errorLog, String name) {
        this.owner = owner;
        this.transport = transport;
        this.k = k;
        this.decoder = new PacketDecoder(k);
        this.held = held;
        this.unresolved = unresolved;
        this.sender = sender;
        this.errorLog = errorLog;
        this.name = name;
        int payloadRoom = options.copyMode() == CopyMode.PACKET ? options.copyRange() : 0;
        this.slotSize = (payloadRoom + SLOT_OVERHEAD + 4095) & ~4095;
        this.slots = options.batchSize();
        this.ticker = options.ticker();
        this.rx = ByteBuffer.allocateDirect(slotSize * slots).order(ByteOrder.nativeOrder());
        // Two records per datagram: a datagram holds one message in practice, room for more is cheap.
        this.records = ByteBuffer.allocateDirect(k.recordSize * slots * 2).order(ByteOrder.nativeOrder());
        this.batch = new Packet[slots * 2];
    }

    ByteBuffer rxBuffer() {
        return rx;
    }

    ByteBuffer recordBuffer() {
        return records;
    }

    int slotSize() {
        return slotSize;
    }

    int slots() {
        return slots;
    }

    Packet[] batch() {
        return batch;
    }

    /**
     * Reads what the socket holds, up to {@code max} datagrams, without blocking: the packets go
     * to {@link #batch()} and are held.
     *
     * @return packets read, or -1 once the queue is closing
     */
    int readBatch(int max) {
        socketLock.lock();
        try {
            if (owner.isClosed()) {
                return -1; // checked under the lock: close() holds it while it closes the socket
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
            return decode(n, true);
        } finally {
            socketLock.unlock();
        }
    }

    /**
     * One read without waiting, its records decoded (packets held, errors counted), for close:
     * what the kernel already delivered must get a verdict too. Caller holds the socket lock.
     *
     * @return false once the socket is empty
     */
    boolean readOnceForClose() {
        int n = transport.receive(slots);
        if (n == -k.enobufs) {
            countReceiveBufferDrop();
            return true; // what is queued behind the loss is still there
        }
        if (n <= 0) {
            return false;
        }
        decode(n, false); // a truncated message is resolved in there
        return true;
    }

    /** Decodes n records; packets are held and, when {@code forDispatch}, put in the batch. */
    private int decode(int n, boolean forDispatch) {
        long now = ticker.read();
        int packets = 0;
        for (int i = 0; i < n; i++) {
            int base = i * k.recordSize;
            int type = decoder.type(records, base);
            if (type == k.typePacket) {
                Packet p = decoder.decode(owner, records, base, rx, now);
                hold(p);
                if (forDispatch) {
                    batch[packets] = p;
                }
                packets++;
            } else if (type == k.typeError) {
                onKernelError(decoder.error(records, base), decoder.errorMessageType(records, base),
                        decoder.id(records, base));
            } else if (type == k.typeTruncated) {
                Packet p = decoder.truncatedMessage(owner, records, base, now);
                hold(p);
                owner.resolveUnreadable(p);
            }
        }
        received.add(packets);
        return packets;
    }

    /** Records a packet just read as waiting for its verdict. Caller holds the socket lock. */
    private void hold(Packet p) {
        if (held.isFull()) {
            sender.withLock(held::compactOrGrow);
        }
        held.append(p);
        unresolved.incrementAndGet();
    }

    /** Visits every held packet not yet resolved, oldest first, under the socket lock. */
    void forEachHeld(Consumer<Packet> action) {
        socketLock.lock();
        try {
            held.forEach(action);
        } finally {
            socketLock.unlock();
        }
    }

    /** The oldest packet still without a verdict, or null. */
    Packet oldestUnresolved() {
        socketLock.lock();
        try {
            return held.oldestUnresolved();
        } finally {
            socketLock.unlock();
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

    long received() {
        return received.sum();
    }

    long receiveBufferDrops() {
        return receiveBufferDrops.sum();
    }

    long kernelErrors() {
        return kernelErrors.sum();
    }
}
