package io.nfqueue.testing;

import io.nfqueue.internal.NativeConstants;
import io.nfqueue.internal.Transport;
import io.nfqueue.internal.fake.FakeTransport;

import java.nio.ByteBuffer;

/**
 * A transport for benchmarks of the Java side alone: every receive hands out the same batch of
 * packet records again (ids rising from call to call, as the kernel's do), every send is
 * accepted and forgotten. Unlike {@link FakeTransport} it keeps no books, so it allocates
 * nothing and costs next to nothing: what a benchmark measures over it is the library.
 */
public final class ReplayTransport implements Transport {
    private final NativeConstants k = NativeConstants.get();
    private final int batch;
    private final byte[] payload;
    private ByteBuffer records;
    private int nextId = 1;
    private long verdictRecords;

    /** Replays {@code batch} packets of {@code payload} (an IPv4/UDP packet, say) per receive. */
    public ReplayTransport(int batch, byte[] payload) {
        this.batch = batch;
        this.payload = payload.clone();
    }

    @Override
    public void attach(ByteBuffer rx, int slotSize, ByteBuffer records, ByteBuffer tx) {
        this.records = records;
        if (rx.capacity() < slotSize * batch || records.capacity() < k.recordSize * batch) {
            throw new IllegalArgumentException("buffers too small for a batch of " + batch);
        }
        for (int i = 0; i < batch; i++) {
            int slot = i * slotSize;
            rx.put(slot + 64, payload);
            int base = i * k.recordSize;
            for (int b = 0; b < k.recordSize; b += 4) {
                records.putInt(base + b, 0);
            }
            records.putInt(base + k.recType, k.typePacket);
            records.putInt(base + k.recQueue, 0);
            records.putInt(base + k.recHwProtocol, 0x0800);
            records.putInt(base + k.recHook, k.hookLocalOut);
            records.putInt(base + k.recOutdev, 1);
            records.putInt(base + k.recPresent, k.hasOutdev | k.hasPayload);
            records.putInt(base + k.recPayloadOffset, slot + 64);
            records.putInt(base + k.recPayloadLength, payload.length);
            records.putInt(base + k.recOriginalLength, payload.length);
        }
    }

    @Override
    public int configure(int queue, int command, int copyMode, int copyRange, int maxLength, int flags, int mask,
                         boolean ack) {
        return 0;
    }

    @Override
    public int receive(int maxDatagrams) {
        int n = Math.min(maxDatagrams, batch);
        for (int i = 0; i < n; i++) {
            records.putInt(i * k.recordSize + k.recId, nextId++);
        }
        return n;
    }

    @Override
    public int sendVerdicts(int count) {
        verdictRecords += count;
        return count;
    }

    /** Verdict records "sent" so far (a batch record counts once). */
    public long verdictRecords() {
        return verdictRecords;
    }

    @Override
    public int await(int timeoutMillis) {
        return 1;
    }

    @Override
    public int wakeup() {
        return 0;
    }

    @Override
    public int fileDescriptor() {
        return -1;
    }

    @Override
    public int portId() {
        return 1;
    }

    @Override
    public int receiveBufferSize() {
        return 1 << 20;
    }

    @Override
    public void close() {
    }
}
