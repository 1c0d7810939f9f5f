package io.nfqueue;

import io.nfqueue.internal.NativeConstants;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.OptionalInt;

/**
 * Turns one packet record (layout from the shim, {@link NativeConstants}) and the bytes it
 * points to in the receive buffer into a {@link Packet}. The payload is copied out, because the
 * receive buffer is reused by the next batch while the packet may wait for its verdict.
 */
final class PacketDecoder {
    private final NativeConstants k;
    private final Hook[] hooks;

    PacketDecoder(NativeConstants k) {
        this.k = k;
        int max = Math.max(Math.max(Math.max(k.hookPreRouting, k.hookLocalIn), Math.max(k.hookForward, k.hookLocalOut)),
                k.hookPostRouting);
        hooks = new Hook[max + 1];
        java.util.Arrays.fill(hooks, Hook.UNKNOWN);
        hooks[k.hookPreRouting] = Hook.PRE_ROUTING;
        hooks[k.hookLocalIn] = Hook.LOCAL_IN;
        hooks[k.hookForward] = Hook.FORWARD;
        hooks[k.hookLocalOut] = Hook.LOCAL_OUT;
        hooks[k.hookPostRouting] = Hook.POST_ROUTING;
    }

    int type(ByteBuffer records, int base) {
        return records.getInt(base + k.recType);
    }

    int id(ByteBuffer records, int base) {
        return records.getInt(base + k.recId);
    }

    int queue(ByteBuffer records, int base) {
        return records.getInt(base + k.recQueue);
    }

    int error(ByteBuffer records, int base) {
        return records.getInt(base + k.recError);
    }

    int errorMessageType(ByteBuffer records, int base) {
        return records.getInt(base + k.recErrorMsgType);
    }

    Hook hook(int number) {
        return number >= 0 && number < hooks.length ? hooks[number] : Hook.UNKNOWN;
    }

    Packet decode(BoundQueue owner, ByteBuffer records, int base, ByteBuffer rx, long nowNanos) {
        int present = records.getInt(base + k.recPresent);
        int hookNumber = records.getInt(base + k.recHook);
        Instant timestamp = null;
        if ((present & k.hasTimestamp) != 0) {
            timestamp = Instant.ofEpochSecond(records.getLong(base + k.recTsSec),
                    records.getLong(base + k.recTsUsec) * 1000L);
        }
        byte[] hw = null;
        if ((present & k.hasHwAddr) != 0) {
            int len = records.getInt(base + k.recHwAddrLength);
            hw = new byte[Math.max(0, Math.min(8, len))];
            records.get(base + k.recHwAddr, hw);
        }
        String secctx = null;
        if ((present & k.hasSecctx) != 0) {
            byte[] b = bytes(rx, records.getInt(base + k.recSecctxOffset), records.getInt(base + k.recSecctxLength));
            int end = b.length;
            while (end > 0 && b[end - 1] == 0) {
                end--; // the kernel sends the label with its terminating NUL
            }
            secctx = new String(b, 0, end, StandardCharsets.UTF_8);
        }
        ConntrackInfo ct = null;
        if ((present & (k.hasCt | k.hasCtInfo)) != 0) {
            byte[] attributes = (present & k.hasCt) != 0
                    ? bytes(rx, records.getInt(base + k.recCtOffset), records.getInt(base + k.recCtLength))
                    : new byte[0];
            OptionalInt state = (present & k.hasCtInfo) != 0
                    ? OptionalInt.of(records.getInt(base + k.recCtInfo)) : OptionalInt.empty();
            ct = new ConntrackInfo(state, attributes);
        }
        byte[] payload = null;
        if ((present & k.hasPayload) != 0) {
            payload = bytes(rx, records.getInt(base + k.recPayloadOffset), records.getInt(base + k.recPayloadLength));
        }
        int skbInfo = (present & k.hasSkbInfo) != 0 ? records.getInt(base + k.recSkbInfo) : 0;
        return new Packet(owner,
                records.getInt(base + k.recId),
                records.getInt(base + k.recQueue),
                records.getInt(base + k.recHwProtocol),
                hook(hookNumber),
                records.getInt(base + k.recMark),
                timestamp,
                records.getInt(base + k.recIndev),
                records.getInt(base + k.recOutdev),
                records.getInt(base + k.recPhysIndev),
                records.getInt(base + k.recPhysOutdev),
                hw,
                (present & k.hasUid) != 0 ? OptionalInt.of(records.getInt(base + k.recUid)) : OptionalInt.empty(),
                (present & k.hasGid) != 0 ? OptionalInt.of(records.getInt(base + k.recGid)) : OptionalInt.empty(),
                secctx,
                ct,
                payload,
                records.getInt(base + k.recOriginalLength),
                (present & k.hasCapLen) != 0,
                (skbInfo & k.skbGso) != 0,
                (skbInfo & k.skbCsumNotReady) != 0,
                nowNanos);
    }

    private static byte[] bytes(ByteBuffer rx, int offset, int length) {
        if (offset < 0 || length < 0 || offset > rx.capacity() - length) {
            throw new IllegalStateException("record points outside the receive buffer: offset " + offset
                    + ", length " + length + ", capacity " + rx.capacity());
        }
        byte[] b = new byte[length];
        rx.get(offset, b);
        return b;
    }
}
