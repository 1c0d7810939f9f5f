package io.nfqueue.test;

import io.nfqueue.CopyMode;
import io.nfqueue.Hook;
import io.nfqueue.QueueOptions;
import io.nfqueue.Verdict;
import io.nfqueue.internal.NativeConstants;
import io.nfqueue.internal.fake.FakePacket;
import io.nfqueue.internal.fake.SentVerdict;

import java.time.Instant;
import java.util.Arrays;

/**
 * What the kernel would make of things, for the test queue: the attributes a packet is
 * delivered with under the queue's bind options, and the {@link Verdict} a verdict record
 * stands for.
 */
final class KernelView {
    private final NativeConstants k = NativeConstants.get();
    private final int queueNumber;

    KernelView(int queueNumber) {
        this.queueNumber = queueNumber;
    }

    /**
     * The packet as the kernel sends it to a socket bound with {@code options}: uid/gid, the
     * security context and conntrack only when asked for, the copy cut to the copy range (META:
     * no payload), GSO cleared when the queue did not take GSO packets (the kernel would have
     * segmented them first).
     */
    FakePacket deliver(OfferedPacket offered, QueueOptions options) {
        QueuedPacket p = offered.packet();
        byte[] whole = p.bytes();
        FakePacket f = FakePacket.of(offered.id(), queueNumber)
                .hwProtocol(OfferedPacket.ipVersion(whole) == 6 ? 0x86dd : 0x0800)
                .hook(hookNumber(p.hook()))
                .mark(p.mark())
                .devices(p.inDevice(), p.outDevice(), p.physInDevice(), p.physOutDevice());
        Instant ts = p.timestamp();
        if (ts != null) {
            f.timestamp(ts.getEpochSecond(), ts.getNano() / 1000);
        }
        if (p.hwAddress() != null) {
            f.hwAddress(p.hwAddress());
        }
        if (options.uidGid()) {
            p.uid().ifPresent(f::uid);
            p.gid().ifPresent(f::gid);
        }
        if (options.securityContext() && p.securityContextBytes() != null) {
            f.securityContext(p.securityContextBytes());
        }
        if (options.conntrack()) {
            if (p.conntrackAttributesBytes() != null) {
                f.conntrack(p.conntrackAttributesBytes());
            }
            if (p.conntrackState() != null) {
                f.conntrackInfo(p.conntrackState());
            }
        }
        int skb = 0;
        if (p.isGso() && options.gso()) {
            skb |= k.skbGso;
        }
        if (p.isChecksumNotReady()) {
            skb |= k.skbCsumNotReady;
        }
        if (skb != 0) {
            f.skbInfo(skb);
        }
        byte[] copy = p.copiedBytes();
        if (options.copyMode() != CopyMode.PACKET) {
            copy = null;
        } else if (copy.length > options.copyRange() && options.copyRange() > 0) {
            copy = Arrays.copyOf(copy, options.copyRange());
        }
        f.payload(copy);
        // A packet known only by its first bytes (QueuedPacket.of(bytes, originalLength)) counts at its full length.
        if (copy == null || copy.length < p.originalLength()) {
            f.capturedLength(p.originalLength());
        }
        return f;
    }

    private int hookNumber(Hook hook) {
        switch (hook) {
            case PRE_ROUTING:
                return k.hookPreRouting;
            case LOCAL_IN:
                return k.hookLocalIn;
            case FORWARD:
                return k.hookForward;
            case LOCAL_OUT:
                return k.hookLocalOut;
            case POST_ROUTING:
                return k.hookPostRouting;
            default:
                throw new IllegalArgumentException("no hook number for " + hook);
        }
    }

    /** The verdict a record stands for (a batch record: ACCEPT, for each packet it covers). */
    Verdict verdict(SentVerdict s) {
        int base = s.baseVerdict();
        Verdict v;
        if (base == k.nfAccept) {
            v = Verdict.accept();
        } else if (base == k.nfDrop) {
            v = Verdict.drop();
        } else if (base == k.nfRepeat) {
            v = Verdict.repeat();
        } else if (base == k.nfQueue) {
            v = Verdict.requeue(s.targetQueue());
        } else {
            throw new IllegalStateException("a verdict code the library never sends: " + s.verdictCode());
        }
        if (s.mark().isPresent()) {
            v = v.withMark(s.mark().getAsInt());
        }
        if (s.payload().isPresent()) {
            v = v.withPayload(s.payloadBytes());
        }
        return v;
    }
}
