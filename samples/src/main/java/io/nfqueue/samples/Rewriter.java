package io.nfqueue.samples;

import io.nfqueue.Packet;
import io.nfqueue.PacketHandler;
import io.nfqueue.QueueOptions;
import io.nfqueue.Verdict;
import io.nfqueue.packet.PacketEditRefusedException;
import io.nfqueue.packet.PacketEditor;
import io.nfqueue.packet.PacketParser;
import io.nfqueue.packet.UdpView;

import java.io.ByteArrayOutputStream;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Replaces every occurrence of a byte string in UDP payloads with another, through
 * {@link PacketEditor} (IP and UDP lengths and checksums follow). Everything else, and packets
 * the editor refuses (fragments, truncated copies, GSO), is accepted unchanged; the report says
 * how many the editor refused and why.
 */
final class Rewriter implements PacketHandler {
    private final byte[] from;
    private final byte[] to;
    private final PacketParser parser = new PacketParser();
    final AtomicLong rewritten = new AtomicLong();
    final AtomicLong unchanged = new AtomicLong();
    final AtomicLong refused = new AtomicLong();
    /** Refused by the editor, by reason ({@link PacketEditRefusedException#reason()}). */
    private final Map<PacketEditRefusedException.Reason, AtomicLong> refusals =
            new EnumMap<>(PacketEditRefusedException.Reason.class);
    private final AtomicLong malformed = new AtomicLong();

    Rewriter(byte[] from, byte[] to) {
        if (from.length == 0) {
            throw new IllegalArgumentException("the string to replace must not be empty");
        }
        for (PacketEditRefusedException.Reason r : PacketEditRefusedException.Reason.values()) {
            refusals.put(r, new AtomicLong());
        }
        this.from = from.clone();
        this.to = to.clone();
    }

    /** {@code data} with every non-overlapping occurrence of {@code from} replaced, or null if none. */
    static byte[] replace(byte[] data, byte[] from, byte[] to) {
        ByteArrayOutputStream out = null;
        int copied = 0;
        for (int i = 0; i + from.length <= data.length; ) {
            if (regionMatches(data, i, from)) {
                if (out == null) {
                    out = new ByteArrayOutputStream(data.length + Math.max(0, to.length - from.length) * 4);
                }
                out.write(data, copied, i - copied);
                out.write(to, 0, to.length);
                i += from.length;
                copied = i;
            } else {
                i++;
            }
        }
        if (out == null) {
            return null;
        }
        out.write(data, copied, data.length - copied);
        return out.toByteArray();
    }

    private static boolean regionMatches(byte[] data, int at, byte[] what) {
        for (int j = 0; j < what.length; j++) {
            if (data[at + j] != what[j]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void handle(Packet packet) {
        byte[] replaced = null;
        try {
            parser.parse(packet);
            if (parser.isUdp() && !parser.isTruncated()) {
                UdpView udp = parser.udp();
                byte[] payload = new byte[udp.payloadLength()];
                udp.buffer().get(udp.payloadOffset(), payload);
                replaced = replace(payload, from, to);
            }
            if (replaced == null) {
                unchanged.incrementAndGet();
                packet.accept();
                return;
            }
            packet.verdict(PacketEditor.of(packet).transportPayload(replaced).acceptVerdict());
            rewritten.incrementAndGet();
        } catch (PacketEditRefusedException e) {
            leave(packet, refusals.get(e.reason()));
        } catch (IllegalArgumentException e) {
            // Malformed (MalformedPacketException is an IllegalArgumentException): left as it was.
            leave(packet, malformed);
        }
    }

    private void leave(Packet packet, AtomicLong why) {
        refused.incrementAndGet();
        why.incrementAndGet();
        if (!packet.isResolved()) {
            packet.accept();
        }
    }

    /** "2 fragment, 1 truncated, 1 malformed": why packets were left as they were, or "" when none were. */
    String refusedReasons() {
        StringBuilder b = new StringBuilder();
        refusals.forEach((reason, n) -> {
            if (n.get() > 0) {
                b.append(b.length() == 0 ? "" : ", ").append(n.get()).append(' ')
                        .append(reason.name().toLowerCase(Locale.ROOT).replace('_', ' '));
            }
        });
        if (malformed.get() > 0) {
            b.append(b.length() == 0 ? "" : ", ").append(malformed.get()).append(" malformed");
        }
        return b.toString();
    }

    /** How the rewrite command binds: a packet it has not handled when it stops passes unchanged. */
    static QueueOptions queueOptions(int queue) {
        return QueueOptions.queue(queue).defaultVerdict(Verdict.accept());
    }

    String report() {
        String reasons = refusedReasons();
        return "rewritten " + rewritten.get() + ", unchanged " + unchanged.get() + ", left as they were "
                + refused.get() + (reasons.isEmpty() ? "" : " (" + reasons + ")");
    }
}
