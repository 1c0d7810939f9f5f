package io.nfqueue.test;

import io.nfqueue.Hook;
import io.nfqueue.QueueOptions;
import io.nfqueue.test.pcap.Direction;
import io.nfqueue.test.pcap.IpPacket;

import java.time.Instant;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * How a captured IP packet ({@link IpPacket}, from a {@link io.nfqueue.test.pcap.LinkLayerDecoder})
 * becomes a packet a queue delivers ({@link QueuedPacket}): which hook it is queued at, and the
 * metadata the kernel would report with it. {@link CaptureReplay} uses it; a test can too:
 *
 * <pre>{@code
 * CaptureMapping mapping = CaptureMapping.standard().hook(Hook.LOCAL_OUT);   // the rule sits in OUTPUT
 * for (CaptureRecord r : CaptureReader.readAll(path)) {
 *     decoder.decode(r).ifPresent(ip -> queue.offer(mapping.toQueuedPacket(ip)));
 * }
 * }</pre>
 *
 * <p>A capture does not say at which hook a rule queued the packet; it may say which way the
 * packet went ({@link IpPacket#direction()}: pcapng flags, the Linux cooked header of
 * {@code tcpdump -i any}). The standard choice is the hook of a host's own filter for that
 * direction: received packets at {@code LOCAL_IN} (the INPUT chain, where a host filters what
 * it receives; {@code PRE_ROUTING} sees the same packets earlier, but rules there are rarer),
 * sent ones at {@code LOCAL_OUT} (OUTPUT), and packets of unknown direction (a plain
 * {@code tcpdump -i eth0} capture) at {@code LOCAL_IN}, the kit's default hook. When the rule
 * that feeds the program is known, say so with {@link #hook(Hook)}: one rule in one chain
 * queues every packet at its hook.
 *
 * <p>Metadata, as the kernel reports it at that hook:
 * <ul>
 *   <li>the timestamp: the capture's (none for a pcapng Simple Packet Block);</li>
 *   <li>devices: the interface index the capture names (only {@code tcpdump -i any}'s
 *       LINUX_SLL2 header names one; 0, "none known", otherwise) becomes the in-device of a
 *       received packet and the out-device of a sent one; with the direction unknown, the hook
 *       decides (in-device at PRE_ROUTING, LOCAL_IN and FORWARD);</li>
 *   <li>the hardware address: the captured source address, for hooks where the packet came in
 *       on a device (the kernel reports none for packets the host sends);</li>
 *   <li>the mark 0, no uid/gid, security context or conntrack (a capture has none);</li>
 *   <li>a packet the capture's snap length cut arrives truncated: its first bytes with
 *       {@code Packet.originalLength()} the whole length ({@link QueuedPacket#of(byte[], int)}),
 *       as does one longer than a copy holds ({@link QueueOptions#MAX_COPY_RANGE}).</li>
 * </ul>
 *
 * <p>Immutable.
 */
public final class CaptureMapping {
    private final Map<Direction, Hook> hooks;

    private CaptureMapping(Map<Direction, Hook> hooks) {
        this.hooks = hooks;
    }

    /** Received packets at LOCAL_IN, sent ones at LOCAL_OUT, those of unknown direction at LOCAL_IN. */
    public static CaptureMapping standard() {
        Map<Direction, Hook> m = new EnumMap<>(Direction.class);
        m.put(Direction.INBOUND, Hook.LOCAL_IN);
        m.put(Direction.OUTBOUND, Hook.LOCAL_OUT);
        m.put(Direction.UNKNOWN, Hook.LOCAL_IN);
        return new CaptureMapping(m);
    }

    /** Every packet at {@code hook}, whichever way it went: a queue fed by one rule in one chain. */
    public CaptureMapping hook(Hook hook) {
        checkHook(hook);
        Map<Direction, Hook> m = new EnumMap<>(Direction.class);
        for (Direction d : Direction.values()) {
            m.put(d, hook);
        }
        return new CaptureMapping(m);
    }

    /** Packets that went {@code direction} at {@code hook}. */
    public CaptureMapping hook(Direction direction, Hook hook) {
        Objects.requireNonNull(direction, "direction");
        checkHook(hook);
        Map<Direction, Hook> m = new EnumMap<>(hooks);
        m.put(direction, hook);
        return new CaptureMapping(m);
    }

    private static void checkHook(Hook hook) {
        Objects.requireNonNull(hook, "hook");
        if (hook == Hook.UNKNOWN) {
            throw new IllegalArgumentException("Hook.UNKNOWN is no hook a rule can queue at: pick one of PRE_ROUTING, "
                    + "LOCAL_IN, FORWARD, LOCAL_OUT, POST_ROUTING");
        }
    }

    /** The hook a packet that went {@code direction} is queued at. */
    public Hook hookFor(Direction direction) {
        return hooks.get(Objects.requireNonNull(direction, "direction"));
    }

    /** The packet the queue delivers for {@code ip}. */
    public QueuedPacket toQueuedPacket(IpPacket ip) {
        Objects.requireNonNull(ip, "ip");
        Hook hook = hookFor(ip.direction());
        byte[] bytes = ip.payloadBytes();
        if (bytes.length > QueueOptions.MAX_COPY_RANGE) {
            bytes = Arrays.copyOf(bytes, QueueOptions.MAX_COPY_RANGE);
        }
        QueuedPacket q = ip.originalLength() > bytes.length ? QueuedPacket.of(bytes, ip.originalLength())
                : QueuedPacket.of(bytes);
        q = q.hook(hook);
        Optional<Instant> ts = ip.timestamp();
        if (ts.isPresent() && ts.get().getEpochSecond() >= 0) {
            q = q.timestamp(ts.get());
        }
        boolean cameIn = ip.direction() == Direction.INBOUND
                || ip.direction() == Direction.UNKNOWN && hasInDevice(hook);
        int device = ip.deviceIndex();
        q = cameIn ? q.inDevice(device).outDevice(0) : q.inDevice(0).outDevice(device);
        Optional<byte[]> hw = ip.hwAddress();
        if (hasInDevice(hook) && hw.isPresent() && hw.get().length >= 1 && hw.get().length <= 8) {
            q = q.hwAddress(hw.get());
        }
        return q;
    }

    /** Hooks a packet reaches after coming in on a device. */
    private static boolean hasInDevice(Hook hook) {
        return hook == Hook.PRE_ROUTING || hook == Hook.LOCAL_IN || hook == Hook.FORWARD;
    }

    @Override
    public String toString() {
        return "CaptureMapping" + hooks;
    }
}
