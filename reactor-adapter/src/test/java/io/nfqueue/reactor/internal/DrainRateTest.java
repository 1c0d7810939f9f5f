package io.nfqueue.reactor.internal;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The drain rate counts packets per second of busy time: idle waits for packets do not count, a
 * subscriber that stops decays toward zero, and nothing is guessed before enough work was seen.
 */
class DrainRateTest {
    private static final long MS = 1_000_000;
    private static final long TAU = 100 * MS;
    private static final long TAU_WALL = 1000 * MS;
    private static final long HOLD = 500 * MS;
    private static final long MIN_BUSY = 5 * MS;

    @Test
    void unknownUntilEnoughBusyTime() {
        DrainRate r = new DrainRate(TAU, TAU_WALL, MIN_BUSY, HOLD);
        r.sample(0, 0, 0);
        r.sample(1 * MS, 10, 0); // 1 ms busy, 10 packets
        assertTrue(Double.isNaN(r.perSecond()), "1 ms of work is not enough: " + r.perSecond());
        r.sample(10 * MS, 100, 0);
        assertEquals(10_000, r.perSecond(), 10, "100 packets in 10 ms busy");
    }

    @Test
    void idleTimeDoesNotCount() {
        DrainRate r = new DrainRate(TAU, TAU_WALL, MIN_BUSY, HOLD);
        r.sample(0, 0, 0);
        // 1 s passes, of which 990 ms idle waiting for packets: 500 packets in 10 ms of work.
        r.sample(1000 * MS, 500, 990 * MS);
        assertEquals(50_000, r.perSecond(), 50, "the pipeline's speed, not the arrival rate");
    }

    @Test
    void idlePeriodsForgetNothing() {
        DrainRate r = new DrainRate(TAU, TAU_WALL, MIN_BUSY, HOLD);
        r.sample(0, 0, 0);
        r.sample(20 * MS, 400, 0);
        double busy = r.perSecond();
        r.sample(10_000 * MS, 400, 9_980 * MS); // ten seconds idle, no packet
        assertEquals(busy, r.perSecond(), busy * 1e-9);
    }

    @Test
    void aStoppedSubscriberDecaysToNearZero() {
        DrainRate r = new DrainRate(TAU, TAU_WALL, MIN_BUSY, HOLD);
        r.sample(0, 0, 0);
        r.sample(100 * MS, 30_000, 0); // 300 000/s
        assertEquals(300_000, r.perSecond(), 300);
        long t = 100 * MS;
        for (int i = 0; i < 60; i++) { // 600 ms busy without a packet (no demand, or stuck in onNext)
            t += 10 * MS;
            r.sample(t, 30_000, 0);
        }
        assertTrue(r.perSecond() < 300_000 / 100.0, "fell a hundredfold: " + r.perSecond());
    }

    @Test
    void aSlowSubscriberShowsItsPace() {
        DrainRate r = new DrainRate(TAU, TAU_WALL, MIN_BUSY, HOLD);
        r.sample(0, 0, 0);
        long t = 0;
        for (int i = 1; i <= 100; i++) { // one packet every 5 ms, always busy
            t += 5 * MS;
            r.sample(t, i, 0);
        }
        assertEquals(200, r.perSecond(), 5);
    }

    /**
     * A fast subscriber that stalled for a second and then resumed, fed a trickle (10 us of work
     * per packet, 1000 packets/s): the stall's busy time fades with wall time, so within two
     * seconds the rate is back near its speed, though the trickle adds only 1 % of busy time.
     */
    @Test
    void aStallFadesOnceTheSubscriberResumes() {
        DrainRate r = new DrainRate(TAU, TAU_WALL, MIN_BUSY, HOLD);
        r.sample(0, 0, 0);
        long t = 0;
        long idle = 0;
        long delivered = 0;
        for (int i = 0; i < 100; i++) { // stalled: 1 s busy, nothing delivered
            t += 10 * MS;
            r.sample(t, delivered, idle);
        }
        assertTrue(r.perSecond() < 10, "stalled: " + r.perSecond());
        for (int i = 0; i < 200; i++) { // resumed: 10 packets per 10 ms, 100 us of it busy
            t += 10 * MS;
            idle += 10 * MS - 100_000;
            delivered += 10;
            r.sample(t, delivered, idle);
        }
        assertTrue(r.perSecond() > 20_000, "two seconds later, near its speed of 100 000/s: " + r.perSecond());
    }

    /** A pause of 50 ms (busy, nothing delivered) lowers the rate but not the held one. */
    @Test
    void aShortPauseDoesNotLowerTheHeldRate() {
        DrainRate r = new DrainRate(TAU, TAU_WALL, MIN_BUSY, HOLD);
        r.sample(0, 0, 0);
        long t = 0;
        long delivered = 0;
        for (int i = 0; i < 20; i++) { // 200 ms at 200 000/s
            t += 10 * MS;
            delivered += 2000;
            r.sample(t, delivered, 0);
        }
        double before = r.heldPerSecond();
        for (int i = 0; i < 5; i++) { // a 50 ms pause
            t += 10 * MS;
            r.sample(t, delivered, 0);
        }
        assertTrue(r.perSecond() < before * 0.8, "the rate itself dipped: " + r.perSecond());
        assertEquals(before, r.heldPerSecond(), before * 0.01, "the held rate did not");
        for (int i = 0; i < 10; i++) { // back to work
            t += 10 * MS;
            delivered += 2000;
            r.sample(t, delivered, 0);
        }
        assertTrue(r.heldPerSecond() >= before * 0.9, "still held high: " + r.heldPerSecond());
    }

    /** A subscriber that stops: the held rate follows the rate down within about a second. */
    @Test
    void aLastingStopLowersTheHeldRateWithinASecond() {
        DrainRate r = new DrainRate(TAU, TAU_WALL, MIN_BUSY, HOLD);
        r.sample(0, 0, 0);
        long t = 0;
        for (int i = 0; i < 20; i++) {
            t += 10 * MS;
            r.sample(t, (i + 1) * 2000L, 0);
        }
        long stoppedAt = t;
        while (r.heldPerSecond() > 2000 && t - stoppedAt < 5000 * MS) {
            t += 10 * MS;
            r.sample(t, 40_000, 0);
        }
        assertTrue(t - stoppedAt <= 1100 * MS, "held rate below 1 % after " + (t - stoppedAt) / MS + " ms");
    }
}
