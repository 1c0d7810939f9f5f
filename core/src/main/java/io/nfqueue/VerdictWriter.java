package io.nfqueue;

import io.nfqueue.internal.NativeConstants;

import java.nio.ByteBuffer;

/**
 * Writes resolved packets' verdicts into the transmit buffer in the shim's verdict-record
 * layout: a fixed part, then the replacement payload, padded so each record starts 8-aligned.
 */
final class VerdictWriter {
    private final NativeConstants k;
    private final ByteBuffer tx;
    private int position;
    private int count;

    VerdictWriter(NativeConstants k, ByteBuffer tx) {
        this.k = k;
        this.tx = tx;
    }

    private int packets;

    /** Records written. */
    int count() {
        return count;
    }

    /** Packets those records give verdicts to (a batch record covers several). */
    int packets() {
        return packets;
    }

    void reset() {
        position = 0;
        count = 0;
        packets = 0;
    }

    /** One NFQNL_MSG_VERDICT_BATCH record: ACCEPT for every held id up to {@code topId}, covering {@code covered} packets. */
    void writeBatchAccept(int queue, int topId, int covered) {
        int base = position;
        tx.putInt(base + k.verId, topId);
        tx.putInt(base + k.verVerdict, k.nfAccept);
        tx.putInt(base + k.verFlags, k.verdictBatch);
        tx.putInt(base + k.verMark, 0);
        tx.putInt(base + k.verQueue, queue);
        tx.putInt(base + k.verPayloadLength, 0);
        tx.putInt(base + k.verConnmark, 0);
        tx.putInt(base + k.verConnmarkMask, 0);
        position += (k.verdictSize + 7) & ~7;
        count++;
        packets += covered;
    }

    /** Whether {@code p}'s verdict fits after what is written; an empty writer fits any verdict. */
    boolean fits(Packet p) {
        return position + size(p.resolvedVerdict()) <= tx.capacity();
    }

    int size(Verdict v) {
        byte[] payload = v.payloadUnsafe();
        int size = k.verdictSize + (payload == null ? 0 : payload.length);
        return (size + 7) & ~7;
    }

    void write(Packet p, int queue) {
        Verdict v = p.resolvedVerdict();
        int base = position;
        byte[] payload = v.payloadUnsafe();
        int flags = 0;
        if (v.hasMarkUnsafe()) {
            flags |= k.verdictHasMark;
        }
        if (payload != null) {
            flags |= k.verdictHasPayload;
        }
        if (v.hasConnmarkUnsafe()) {
            flags |= k.verdictHasConnmark;
        }
        tx.putInt(base + k.verId, p.id());
        tx.putInt(base + k.verVerdict, code(v));
        tx.putInt(base + k.verFlags, flags);
        tx.putInt(base + k.verMark, v.markUnsafe());
        tx.putInt(base + k.verQueue, queue);
        tx.putInt(base + k.verPayloadLength, payload == null ? 0 : payload.length);
        tx.putInt(base + k.verConnmark, v.connmarkUnsafe());
        tx.putInt(base + k.verConnmarkMask, v.connmarkMaskUnsafe());
        if (payload != null) {
            tx.put(base + k.verdictSize, payload);
        }
        position += size(v);
        count++;
        packets++;
    }

    int code(Verdict v) {
        switch (v.kind()) {
            case ACCEPT:
                return k.nfAccept;
            case DROP:
                return k.nfDrop;
            case REPEAT:
                return k.nfRepeat;
            case REQUEUE:
                return k.nfQueue | (v.targetQueue() << 16);
            default:
                throw new IllegalStateException("unknown verdict kind " + v.kind());
        }
    }
}
