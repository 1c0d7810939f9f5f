package io.nfqueue.samples;

import io.nfqueue.Packet;
import io.nfqueue.Verdict;
import io.nfqueue.packet.MalformedPacketException;
import io.nfqueue.packet.PacketParser;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A token bucket per source address: each address may send {@code burst} packets at once and
 * {@code rate} packets per second after that. A packet over the limit is dropped or, with a
 * mark, accepted with that mark (for a later rule or tc to act on). Packets that do not parse
 * are accepted. At most {@link #MAX_SOURCES} addresses are tracked; the least recently seen is
 * forgotten first (it starts again with a full bucket).
 */
final class RateLimiter {
    static final int MAX_SOURCES = 65536;

    private final double rate;
    private final double burst;
    private final Integer mark;
    private final LongSupplier nanoClock;
    private final PacketParser parser = new PacketParser();
    private final byte[] addr = new byte[16];
    private final Map<ByteBuffer, double[]> buckets = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ByteBuffer, double[]> eldest) {
            return size() > MAX_SOURCES;
        }
    };
    final AtomicLong passed = new AtomicLong();
    final AtomicLong limited = new AtomicLong();

    /**
     * @param rate  tokens per second, positive
     * @param burst bucket size, at least 1
     * @param mark  null: drop the excess; otherwise accept it with this mark
     */
    RateLimiter(double rate, int burst, Integer mark, LongSupplier nanoClock) {
        if (!(rate > 0) || burst < 1) {
            throw new IllegalArgumentException("rate must be positive and burst at least 1");
        }
        this.rate = rate;
        this.burst = burst;
        this.mark = mark;
        this.nanoClock = nanoClock;
    }

    /** The verdict for {@code packet}: accept while its source has a token. */
    Verdict decide(Packet packet) {
        int len;
        try {
            parser.parse(packet);
            len = parser.copySourceAddress(addr, 0);
        } catch (MalformedPacketException e) {
            passed.incrementAndGet();
            return Verdict.accept();
        }
        return take(ByteBuffer.wrap(Arrays.copyOf(addr, len)))
                ? pass() : over();
    }

    private Verdict pass() {
        passed.incrementAndGet();
        return Verdict.accept();
    }

    private Verdict over() {
        limited.incrementAndGet();
        return mark == null ? Verdict.drop() : Verdict.accept().withMark(mark);
    }

    /** Takes a token from {@code source}'s bucket; false when it is empty. */
    synchronized boolean take(ByteBuffer source) {
        long now = nanoClock.getAsLong();
        double[] b = buckets.get(source);   // {tokens, last refill time in ns}
        if (b == null) {
            b = new double[] {burst, now};
            buckets.put(source, b);
        } else {
            b[0] = Math.min(burst, b[0] + (now - (long) b[1]) * rate / 1e9);
            b[1] = now;
        }
        if (b[0] >= 1) {
            b[0] -= 1;
            return true;
        }
        return false;
    }

    synchronized int sources() {
        return buckets.size();
    }

    String report() {
        return "passed " + passed.get() + ", " + (mark == null ? "dropped " : "marked ") + limited.get()
                + ", sources " + sources();
    }
}
