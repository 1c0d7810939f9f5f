package io.nfqueue.internal.fake;

import io.nfqueue.Verdict;
import io.nfqueue.internal.NativeConstants;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The byte layouts of the native shim, for {@link FakeTransport}: writes packet, error and
 * truncation records as {@code nfqueue_jni_receive.c} does, and reads verdict records with the
 * checks of {@code nfqueue_jni_verdict.c}. Every offset comes from {@link NativeConstants}.
 */
final class FakeRecordCodec {
    /** Where variable data starts in a slot: room for the netlink, nfgenmsg and header attributes. */
    static final int SLOT_HEADER = 64;
    /** Netlink attribute header in front of each variable-length attribute. */
    private static final int ATTR_HEADER = 4;
    /** Bytes a stale or misplaced offset would read: never a plausible packet byte pattern. */
    private static final byte FILLER = (byte) 0xA5;

    private final NativeConstants k;

    FakeRecordCodec(NativeConstants k) {
        this.k = k;
    }

    /** Slot bytes {@code p} needs: header room plus each variable attribute, 4-aligned. */
    int slotBytes(FakePacket p) {
        return SLOT_HEADER + attr(p.payload) + attr(p.securityContext) + attr(p.conntrack);
    }

    private static int attr(byte[] b) {
        return b == null ? 0 : ATTR_HEADER + ((b.length + 3) & ~3);
    }

    private void clearRecord(ByteBuffer rec, int base) {
        for (int i = 0; i < k.recordSize; i++) {
            rec.put(base + i, (byte) 0);
        }
    }

    /** Writes a packet record at {@code base}; its variable data goes into the slot at {@code slotBase}. */
    void writePacket(ByteBuffer rec, int base, ByteBuffer rx, int slotBase, FakePacket p) {
        clearRecord(rec, base);
        int end = slotBase + slotBytes(p);
        for (int i = slotBase; i < end; i++) {
            rx.put(i, FILLER);
        }
        rec.putInt(base + k.recType, k.typePacket);
        rec.putInt(base + k.recId, p.id);
        rec.putInt(base + k.recQueue, p.queue);
        rec.putInt(base + k.recHwProtocol, p.hwProtocol);
        rec.putInt(base + k.recHook, p.hook);
        int present = 0;
        if (p.mark != null) {
            rec.putInt(base + k.recMark, p.mark);
            present |= k.hasMark;
        }
        if (p.tsSec != null) {
            rec.putLong(base + k.recTsSec, p.tsSec);
            rec.putLong(base + k.recTsUsec, p.tsUsec);
            present |= k.hasTimestamp;
        }
        present |= putOptional(rec, base + k.recIndev, p.inDevice, k.hasIndev);
        present |= putOptional(rec, base + k.recOutdev, p.outDevice, k.hasOutdev);
        present |= putOptional(rec, base + k.recPhysIndev, p.physInDevice, k.hasPhysIndev);
        present |= putOptional(rec, base + k.recPhysOutdev, p.physOutDevice, k.hasPhysOutdev);
        present |= putOptional(rec, base + k.recUid, p.uid, k.hasUid);
        present |= putOptional(rec, base + k.recGid, p.gid, k.hasGid);
        present |= putOptional(rec, base + k.recCtInfo, p.conntrackInfo, k.hasCtInfo);
        present |= putOptional(rec, base + k.recSkbInfo, p.skbInfo, k.hasSkbInfo);
        if (p.hwAddress != null) {
            int len = Math.min(8, p.hwAddress.length); // the shim's hwaddr field holds 8 bytes
            rec.putInt(base + k.recHwAddrLength, len);
            rec.put(base + k.recHwAddr, p.hwAddress, 0, len);
            present |= k.hasHwAddr;
        }
        int cursor = slotBase + SLOT_HEADER;
        if (p.securityContext != null) {
            cursor = putVariable(rec, base + k.recSecctxOffset, base + k.recSecctxLength, rx, cursor, p.securityContext);
            present |= k.hasSecctx;
        }
        if (p.conntrack != null) {
            cursor = putVariable(rec, base + k.recCtOffset, base + k.recCtLength, rx, cursor, p.conntrack);
            present |= k.hasCt;
        }
        int payloadLength = 0;
        if (p.payload != null) {
            putVariable(rec, base + k.recPayloadOffset, base + k.recPayloadLength, rx, cursor, p.payload);
            payloadLength = p.payload.length;
            present |= k.hasPayload;
        }
        if (p.capturedLength != null) {
            rec.putInt(base + k.recOriginalLength, p.capturedLength);
            present |= k.hasCapLen;
        } else {
            rec.putInt(base + k.recOriginalLength, payloadLength);
        }
        rec.putInt(base + k.recPresent, present);
    }

    private static int putOptional(ByteBuffer rec, int at, Integer value, int bit) {
        if (value == null) {
            return 0;
        }
        rec.putInt(at, value);
        return bit;
    }

    private static int putVariable(ByteBuffer rec, int offsetAt, int lengthAt, ByteBuffer rx, int cursor, byte[] data) {
        int start = cursor + ATTR_HEADER;
        rx.put(start, data);
        rec.putInt(offsetAt, start);
        rec.putInt(lengthAt, data.length);
        return start + ((data.length + 3) & ~3);
    }

    /** A kernel error acknowledgement: positive errno, the failed message's type and sequence. */
    void writeError(ByteBuffer rec, int base, int errno, int messageType, int seq) {
        clearRecord(rec, base);
        rec.putInt(base + k.recType, k.typeError);
        rec.putInt(base + k.recId, seq);
        rec.putInt(base + k.recError, errno);
        rec.putInt(base + k.recErrorMsgType, messageType);
    }

    /** A datagram cut short by its slot: only the header attribute was readable. */
    void writeTruncated(ByteBuffer rec, int base, int id, int queue, int hwProtocol, int hook) {
        clearRecord(rec, base);
        rec.putInt(base + k.recType, k.typeTruncated);
        rec.putInt(base + k.recId, id);
        rec.putInt(base + k.recQueue, queue);
        rec.putInt(base + k.recHwProtocol, hwProtocol);
        rec.putInt(base + k.recHook, hook);
    }

    /** Decoded verdict records, or the reason the shim would refuse the batch (-EINVAL). */
    record Verdicts(List<SentVerdict> verdicts, String refusal) {
    }

    /** Reads {@code count} verdict records with the shim's checks: all valid or none sent. */
    Verdicts readVerdicts(ByteBuffer tx, int count) {
        List<SentVerdict> out = new ArrayList<>(Math.max(0, count));
        int offset = 0;
        for (int i = 0; i < count; i++) {
            if (offset + k.verdictSize > tx.capacity()) {
                return new Verdicts(List.of(), "verdict record " + i + " starts beyond the tx buffer");
            }
            int length = tx.getInt(offset + k.verPayloadLength);
            int queue = tx.getInt(offset + k.verQueue);
            int flags = tx.getInt(offset + k.verFlags);
            if (length < 0 || length > Verdict.MAX_PAYLOAD || queue < 0 || queue > 65535) {
                return new Verdicts(List.of(), "verdict record " + i + " has payload length " + length
                        + " or queue " + queue + " out of range");
            }
            boolean batch = (flags & k.verdictBatch) != 0;
            boolean hasPayload = (flags & k.verdictHasPayload) != 0;
            if (batch && hasPayload) {
                return new Verdicts(List.of(), "verdict record " + i + " is a batch verdict with a payload");
            }
            int size = (k.verdictSize + length + 7) & ~7;
            if (offset + size > tx.capacity()) {
                return new Verdicts(List.of(), "verdict record " + i + " ends beyond the tx buffer");
            }
            Optional<byte[]> payload = Optional.empty();
            if (hasPayload) {
                byte[] b = new byte[length];
                tx.get(offset + k.verdictSize, b);
                payload = Optional.of(b);
            }
            OptionalInt mark = (flags & k.verdictHasMark) != 0
                    ? OptionalInt.of(tx.getInt(offset + k.verMark)) : OptionalInt.empty();
            OptionalInt connmark = (flags & k.verdictHasConnmark) != 0
                    ? OptionalInt.of(tx.getInt(offset + k.verConnmark)) : OptionalInt.empty();
            out.add(new SentVerdict(tx.getInt(offset + k.verId), tx.getInt(offset + k.verVerdict), mark, queue,
                    payload, batch, connmark, connmark.isPresent() ? tx.getInt(offset + k.verConnmarkMask) : 0));
            offset += size;
        }
        return new Verdicts(out, null);
    }
}
