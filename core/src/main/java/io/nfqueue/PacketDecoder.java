package io.nfqueue;

import io.nfqueue.internal.NativeConstants;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.OptionalInt;

/**
 * Turns one packet record (layout from the shim, {@link NativeConstants}) and the bytes it
 * points to in the receive buffer into a {@link Packet}. The payload is copied out, because the
 * receive buffer is reused by the next batch while the packet may wait for its verdict.
 */
final class PacketDecoder {
    private final NativeConstants k;
    private final Hook[] hooks;
    /** Attributes that need a {@link PacketExtras}; the cut-short length is among them. */
    private final int rareAttributes;

    PacketDecoder(NativeConstants k) {
        this.k = k;
        int max = Math.max(Math.max(Math.max(k.hookPreRouting, k.hookLocalIn), Math.max(k.hookForward, k.hookLocalOut)),
                k.hookPostRouting);
        hooks = new Hook[max + 1];
        Arrays.fill(hooks, Hook.UNKNOWN);
        hooks[k.hookPreRouting] = Hook.PRE_ROUTING;
        hooks[k.hookLocalIn] = Hook.LOCAL_IN;
        hooks[k.hookForward] = Hook.FORWARD;
        hooks[k.hookLocalOut] = Hook.LOCAL_OUT;
        hooks[k.hookPostRouting] = Hook.POST_ROUTING;
        rareAttributes = k.hasTimestamp | k.hasPhysIndev | k.hasPhysOutdev | k.hasHwAddr | k.hasUid | k.hasGid
                | k.hasSecctx | k.hasCt | k.hasCtInfo | k.hasCapLen;
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
        byte[] payload = null;
        if ((present & k.hasPayload) != 0) {
            payload = bytes(rx, records.getInt(base + k.recPayloadOffset), records.getInt(base + k.recPayloadLength));
        }
        PacketExtras extras = null;
        if ((present & rareAttributes) != 0 || payload == null) {
            extras = extras(records, base, rx, present, payload);
        }
        int skbInfo = (present & k.hasSkbInfo) != 0 ? records.getInt(base + k.recSkbInfo) : 0;
        return new Packet(owner,
                records.getInt(base + k.recId),
                records.getInt(base + k.recHwProtocol),
                hook(records.getInt(base + k.recHook)),
                records.getInt(base + k.recMark),
                records.getInt(base + k.recIndev),
                records.getInt(base + k.recOutdev),
                payload,
                extras,
                (present & k.hasCapLen) != 0,
                (skbInfo & k.skbGso) != 0,
                (skbInfo & k.skbCsumNotReady) != 0,
                nowNanos);
    }

    /** A record that carried only an id (its datagram was cut short): the packet gets the default verdict. */
    Packet truncatedMessage(BoundQueue owner, ByteBuffer records, int base, long nowNanos) {
        PacketExtras extras = new PacketExtras();
        extras.hasOriginalLength = true;
        return new Packet(owner, records.getInt(base + k.recId), records.getInt(base + k.recHwProtocol),
                hook(records.getInt(base + k.recHook)), 0, 0, 0, null, extras, true, false, false, nowNanos);
    }

    private PacketExtras extras(ByteBuffer records, int base, ByteBuffer rx, int present, byte[] payload) {
        PacketExtras x = new PacketExtras();
        if ((present & k.hasTimestamp) != 0) {
            x.timestamp = Instant.ofEpochSecond(records.getLong(base + k.recTsSec),
                    records.getLong(base + k.recTsUsec) * 1000L);
        }
        x.physInDevice = records.getInt(base + k.recPhysIndev);
        x.physOutDevice = records.getInt(base + k.recPhysOutdev);
        if ((present & k.hasHwAddr) != 0) {
            int len = records.getInt(base + k.recHwAddrLength);
            x.hwAddress = new byte[Math.max(0, Math.min(8, len))];
            records.get(base + k.recHwAddr, x.hwAddress);
        }
        if ((present & k.hasUid) != 0) {
            x.hasUid = true;
            x.uid = records.getInt(base + k.recUid);
        }
        if ((present & k.hasGid) != 0) {
            x.hasGid = true;
            x.gid = records.getInt(base + k.recGid);
        }
        if ((present & k.hasSecctx) != 0) {
            byte[] b = bytes(rx, records.getInt(base + k.recSecctxOffset), records.getInt(base + k.recSecctxLength));
            int end = b.length;
            while (end > 0 && b[end - 1] == 0) {
                end--; // the kernel sends the label with its terminating NUL
            }
            x.securityContext = new String(b, 0, end, StandardCharsets.UTF_8);
        }
        if ((present & (k.hasCt | k.hasCtInfo)) != 0) {
            byte[] attributes = (present & k.hasCt) != 0
                    ? bytes(rx, records.getInt(base + k.recCtOffset), records.getInt(base + k.recCtLength))
                    : new byte[0];
            OptionalInt state = (present & k.hasCtInfo) != 0
                    ? OptionalInt.of(records.getInt(base + k.recCtInfo)) : OptionalInt.empty();
            x.conntrack = new ConntrackInfo(state, attributes);
        }
        int original = records.getInt(base + k.recOriginalLength);
        if (payload == null || original != payload.length) {
            x.hasOriginalLength = true;
            x.originalLength = original;
        }
        return x;
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
